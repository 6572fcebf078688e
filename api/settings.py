"""Settings from the environment (prefix ``REGIOMATCH_``), with documented defaults.

Plain pydantic-settings, no web framework: the API and the CLI read the same settings.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from geo.paths import SHIPPED_DATA
from geo.reference.catalog import default_population_year
from geo.storage.workspace import Workspace, open_workspace
from geo.uploads.sandbox import ImportLimits

REPO_ROOT = Path(__file__).resolve().parent.parent
# The cookie holding the population year a browser chose with the selector on every page.
YEAR_COOKIE = "bevolkingsjaar"
_LIMITS = ImportLimits()  # the upload limits' defaults, written once in geo.uploads.sandbox


class ImportSettings(BaseSettings):
    """Limits on reading one upload (``REGIOMATCH_IMPORT_<FIELD>``); the file is read in a child
    process. The defaults are :class:`geo.uploads.sandbox.ImportLimits`'s, written there once."""

    model_config = SettingsConfigDict(env_prefix="REGIOMATCH_IMPORT_", extra="ignore")

    cpu_seconds: int = Field(_LIMITS.cpu_seconds, ge=1, description="CPU seconds one upload may take to read.")
    memory_bytes: int = Field(_LIMITS.memory_bytes, ge=256 * 1024 * 1024,
                              description="Address space of the process that reads one upload.")
    wall_seconds: float = Field(_LIMITS.wall_seconds, gt=0,
                                description="Wall time after which reading an upload is stopped.")
    unpacked_bytes: int = Field(_LIMITS.unpacked_bytes, ge=1, description="Largest unpacked size of an XLSX or zip.")
    rows: int = Field(_LIMITS.rows, ge=1, description="Most rows of a membership table.")
    columns: int = Field(_LIMITS.columns, ge=1, description="Most columns of a membership table or attribute table.")
    features: int = Field(_LIMITS.features, ge=1, description="Most polygon features.")
    vertices: int = Field(_LIMITS.vertices, ge=1, description="Most polygon vertices, all features together.")
    zones_per_municipality: int = Field(_LIMITS.zones_per_municipality, ge=1,
                                        description="Most zones of one layer per municipality.")
    json_depth: int = Field(_LIMITS.json_depth, ge=2, description="Deepest nesting of a GeoJSON file.")
    parallel: int = Field(_LIMITS.parallel, ge=1, description="Uploads read at the same time (more: 503, retry).")

    def limits(self) -> ImportLimits:
        """These limits as the sandbox takes them."""
        return ImportLimits.from_mapping(dict(self))


class CacheSettings(BaseSettings):
    """What the process keeps and prepares, and how much work of each kind runs at once."""

    model_config = SettingsConfigDict(env_prefix="REGIOMATCH_", extra="ignore")

    max_parallel_suggest: int = Field(2, ge=1, description="Suggestions computed at once per process (more: 503).")
    max_parallel_reports: int = Field(2, ge=1,
                                      description="Reports (HTML/PDF) rendered at once per process (more: 503).")
    max_parallel_maps: int = Field(4, ge=1, description="Maps and layer GeoJSON built at once per process (more: 503).")
    warm_up: bool = Field(True, description="After start-up, prepare every shipped layer's map geometry and load "
                          "the map, image and PDF libraries in a background thread (a few seconds of one core).")
    render_cache_bytes: int = Field(64 * 1024 * 1024, ge=0, description="Memory per process for rendered "
                                    "pages, maps, PDFs and overlay bodies (least recently used out first); 0 = off.")


class Settings(BaseSettings):
    """The server's own settings, plus the import limits and the caches by concern (as tipg splits
    its settings). Every setting can be given as an environment variable, e.g.
    ``REGIOMATCH_API_TOKEN``, ``REGIOMATCH_IMPORT_ROWS``, ``REGIOMATCH_RENDER_CACHE_BYTES``."""

    model_config = SettingsConfigDict(env_prefix="REGIOMATCH_", extra="ignore")

    data_dir: Path = Field(SHIPPED_DATA, description="The shipped data (read-only).")
    state_dir: Path = Field(REPO_ROOT / "var", description="Where the SQLite database with saved "
                            "scenarios and imported layers lives.")
    database_url: str | None = Field(
        None, validation_alias=AliasChoices("REGIOMATCH_DATABASE_URL", "DATABASE_URL"),
        description="SQLAlchemy URL; default sqlite:///<state_dir>/regiomatch.sqlite3. "
                    "PostgreSQL: postgresql+psycopg://user@host/db")
    api_token: str | None = Field(None, description="When set, writes need 'Authorization: Bearer <token>'.")
    host: str = "127.0.0.1"
    port: int = 8000
    max_upload_bytes: int = Field(10 * 1024 * 1024, description="Largest accepted upload or request body.")
    cors_origins: list[str] = Field(default_factory=list, description="Allowed CORS origins; empty = CORS off.")
    allowed_hosts: str = Field("", description="Host names this service answers to, comma-separated (e.g. "
                               "'regiomatch.vlaanderen.be'); '*' = any. Default: the address it is bound to. "
                               "localhost, 127.0.0.1 and [::1] are always served. Other Host headers get a 400 "
                               "(DNS rebinding).")
    header_seconds: float = Field(10.0, gt=0, description="Time a client has to send a request's headers "
                                  "(regiomatch serve, or uvicorn --http api.serving:HttpToolsProtocol).")
    body_seconds: float = Field(60.0, gt=0, description="Time a client has to send a request's body; "
                                "slower: 408 and the connection is closed.")
    population_year: int = Field(default_factory=default_population_year, description="Statbel population year: "
                                 "one of the years in data/population.csv (default the latest).")
    access_log: bool = Field(False, description="Log one line per request (regiomatch serve; also --access-log).")
    as_of: date | None = Field(None, description="Date (YYYY-MM-DD) the association layer is served on: the "
                               "memberships the dated history counts then (default today).")
    imports: ImportSettings = Field(default_factory=ImportSettings)
    caches: CacheSettings = Field(default_factory=CacheSettings)

    def import_limits(self) -> ImportLimits:
        """The upload limits as ``geo.uploads.sandbox.ImportLimits``."""
        return self.imports.limits()

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.state_dir / 'regiomatch.sqlite3').resolve()}"


def workspace_for(settings: Settings, data_dir: Path | None = None, population_year: int | None = None) -> Workspace:
    """The workspace these settings point at (the API and the CLI share it); the CLI may override
    the data folder and the population year."""
    return open_workspace(data_dir or settings.data_dir, settings.resolved_database_url(),
                          population_year or settings.population_year, settings.as_of)


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(settings: Settings, host: str) -> None:
    """Refuse to serve writes to a network without a token."""
    if not is_loopback(host) and not settings.api_token:
        raise SystemExit(f"refusing to listen on {host}: set REGIOMATCH_API_TOKEN before serving beyond "
                         "this machine (writes would be open to anyone)")


def _listening_sockets(about_to_listen: bool = False):
    """``(duplicated socket, bound address)`` of every listening TCP socket of this process (the
    caller closes each socket). ``about_to_listen``: also the sockets bound to a port and not
    connected, that do not listen yet (a ``uvicorn --workers N`` worker inherits its socket bound,
    and listens only after the app's start-up)."""
    fd_dir = Path("/proc/self/fd") if Path("/proc/self/fd").is_dir() else Path("/dev/fd")
    try:
        fds = [int(name) for name in os.listdir(fd_dir) if name.isdigit()]
    except OSError:
        return
    for fd in fds:
        try:
            if not stat.S_ISSOCK(os.fstat(fd).st_mode):
                continue
            sock = socket.socket(fileno=os.dup(fd))
        except OSError:
            continue
        try:
            if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.type != socket.SOCK_STREAM:
                continue
            if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) or (about_to_listen and _bound_alone(sock)):
                yield sock, sock.getsockname()
        except OSError:
            pass
        finally:
            sock.close()


def _bound_alone(sock: socket.socket) -> bool:
    """Bound to a port and connected to nothing."""
    if sock.getsockname()[1] == 0:
        return False
    try:
        sock.getpeername()
    except OSError:
        return True
    return False


def listening_hosts() -> list[str]:
    """Addresses of the TCP sockets this process listens on (empty if none or unknown).

    ``uvicorn --workers N`` and gunicorn bind before the app starts; a single uvicorn process
    binds after the app's startup, so this is checked again on the first request (which cannot
    arrive before the bind).
    """
    return [str(address[0]) for _, address in _listening_sockets()]


def no_delay_on_listeners() -> int:
    """Set ``TCP_NODELAY`` on the sockets this process already listens on; connections accepted
    from them inherit it (Linux). Returns how many were set.

    ``uvicorn --workers N`` binds its socket without naming the TCP protocol, so asyncio does not
    turn Nagle's algorithm off for the connections, and a small answer written in two parts (head,
    then body) waited 40 ms for the client's delayed acknowledgement: 90 instead of 900 overlays a
    second. Such a worker's socket is bound but listens only after start-up; a single uvicorn
    process binds after start-up, and asyncio sets it there itself.
    """
    count = 0
    for sock, _ in _listening_sockets(about_to_listen=True):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            count += 1
        except OSError:
            continue
    return count


def command_line_hosts(argv: list[str] | None = None) -> list[str]:
    """Hosts named by ``uvicorn --host H`` / ``gunicorn --bind H:P`` on this process's command line
    (uvicorn also reads ``UVICORN_HOST``).

    Examples
    --------
    >>> command_line_hosts(["gunicorn", "-b", "[::]:80", "--bind=10.1.2.3:8000"])
    ['::', '10.1.2.3']
    """
    argv = sys.argv if argv is None else argv
    hosts = [os.environ["UVICORN_HOST"]] if os.environ.get("UVICORN_HOST") else []
    for i, arg in enumerate(argv):
        name, _, value = arg.partition("=")
        if name not in ("--host", "--bind", "-b"):
            continue
        if not value and i + 1 < len(argv):
            value = argv[i + 1]
        if not value or value.startswith(("unix:", "fd://")):
            continue
        if name != "--host":  # gunicorn: HOST:PORT, [IPV6]:PORT or HOST
            value = value[1:value.index("]")] if value.startswith("[") else value.split(":")[0]
        hosts.append(value)
    return hosts


def exposed_hosts(settings: Settings, hosts: list[str]) -> list[str]:
    """The non-loopback hosts among ``hosts`` when no token is configured (else none).

    Examples
    --------
    >>> exposed_hosts(Settings(api_token=None), ["127.0.0.1", "0.0.0.0"])
    ['0.0.0.0']
    """
    if settings.api_token:
        return []
    return sorted({h for h in hosts if not is_loopback(h)})


def refuse_exposure_at_startup(settings: Settings) -> None:
    """Raise (so the server exits at startup) when this process listens, or was told to listen,
    beyond loopback without ``REGIOMATCH_API_TOKEN``: holds for ``uvicorn api.main:app --host 0.0.0.0``
    and gunicorn as well as for ``regiomatch serve``."""
    exposed = exposed_hosts(settings, command_line_hosts() + listening_hosts())
    if exposed:
        raise RuntimeError(f"refusing to serve on {', '.join(exposed)}: set REGIOMATCH_API_TOKEN before "
                           "serving beyond this machine (writes would be open to anyone)")


def _environment() -> tuple[tuple[str, str], ...]:
    return tuple(sorted((name, value) for name, value in os.environ.items()
                        if name.startswith("REGIOMATCH_") or name == "DATABASE_URL"))


@lru_cache(maxsize=8)
def _settings_of(environment: tuple[tuple[str, str], ...]) -> Settings:
    return Settings()


def get_settings() -> Settings:
    """The settings of this process's environment (the CLI, ``uvicorn api.main:app``), read once
    per set of ``REGIOMATCH_*`` variables: keyed by them, so a changed variable is seen without
    clearing anything. An app made by :func:`api.main.create_app` answers with its own settings
    (:func:`current_settings`); its routes' ``Depends(get_settings)`` are overridden to those.

    Examples
    --------
    >>> get_settings() is get_settings()
    True
    """
    return _settings_of(_environment())


_CURRENT: ContextVar[Settings | None] = ContextVar("regiomatch_settings", default=None)


def current_settings() -> Settings:
    """The settings of the app answering the current request (set by :func:`api.main.create_app`'s
    app for the whole request, also in the thread that runs a synchronous route); outside a
    request, :func:`get_settings`. For code that has no request at hand: the render cache, the
    busy limits, the middleware.

    Examples
    --------
    >>> with settings_in_use(Settings(population_year=2020)):
    ...     current_settings().population_year
    2020
    >>> current_settings() is get_settings()
    True
    """
    return _CURRENT.get() or get_settings()


@contextmanager
def settings_in_use(settings: Settings) -> Iterator[Settings]:
    """Make ``settings`` :func:`current_settings` inside the block (the app does it per request)."""
    token = _CURRENT.set(settings)
    try:
        yield settings
    finally:
        _CURRENT.reset(token)
