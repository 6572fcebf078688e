r"""Parse an uploaded file in a separate, limited process, so no file can exhaust the server.

An upload is untrusted: a 4.7 KB XLSX can ask for gigabytes, a GeoPackage view can run an endless
query, a zip can inflate a thousandfold. :func:`parse_upload` reads the file (with the same readers
as :mod:`geo.uploads.importing`) in a worker process of a ``ProcessPoolExecutor``, forked ahead
from a fork server and ended after one upload (``max_tasks_per_child=1``: no upload runs in a
process another one touched), with

* ``RLIMIT_CPU`` (CPU seconds) and ``RLIMIT_AS`` (address space) set in the worker for its task,
* a wall-time timeout after which the server kills the worker (a new one takes its place),
* checks before anything is unpacked: the zip central directory (XLSX and zipped shapefiles),
  the sheet dimension of an XLSX, JSON nesting depth, and GeoPackage feature tables being real
  tables (a view, or anything that is not a plain table, is refused: it could run any query),
* checks on what was read: rows, features and vertices.

Over a limit: :class:`geo.errors.LimitExceeded` naming it (the API answers 413). A file that
cannot be read: :class:`geo.errors.InvalidInput` (422). Never anything else. The server's own
threads only wait, so other requests are answered as fast as before while a bomb is parsed.

Examples
--------
>>> frame = parse_upload(b"nis_code,zone_code\n34022,K\n", "k.csv")
>>> frame.to_dict("records")
[{'nis_code': '34022', 'zone_code': 'K'}]
"""

from __future__ import annotations

import io
import multiprocessing
import os
import re
import signal
import sqlite3
import tempfile
import threading
import time
import zipfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geo import errors

if TYPE_CHECKING:  # the pool's module is loaded with the first upload, not at the server's start
    from concurrent.futures import ProcessPoolExecutor

MB = 1024 * 1024


@dataclass(frozen=True)
class ImportLimits:
    """What one upload may cost. Every field is a setting ``REGIOMATCH_IMPORT_<FIELD>`` (see
    ``api/settings.py`` and the README)."""

    cpu_seconds: int = 30
    memory_bytes: int = 2048 * MB
    wall_seconds: float = 60.0
    unpacked_bytes: int = 200 * MB
    rows: int = 100_000
    columns: int = 200
    features: int = 10_000
    vertices: int = 2_000_000
    zones_per_municipality: int = 50
    json_depth: int = 64
    parallel: int = 2

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> "ImportLimits":
        """Limits from a mapping; unknown keys and None values are left at their defaults."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names and v is not None})


# -- checks run in the child before and after reading ------------------------------------------------
def check_zip(content: bytes, filename: str, limits: ImportLimits) -> None:
    """Refuse an archive whose central directory declares more than ``unpacked_bytes`` (Python's
    zipfile never inflates a member beyond its declared size, so the declaration binds)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            declared = sum(member.file_size for member in archive.infolist())
            count = len(archive.infolist())
    except (zipfile.BadZipFile, ValueError, EOFError):
        return  # the reader will say it is not a readable archive
    if count > 10_000:
        raise errors.LimitExceeded(f"{filename!r} bevat {count} bestanden; hoogstens 10000 worden gelezen")
    if declared > limits.unpacked_bytes:
        raise errors.LimitExceeded(f"{filename!r} wordt uitgepakt {declared} bytes groot, meer dan de grens van "
                                   f"{limits.unpacked_bytes} bytes (import_unpacked_bytes)")


_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


def json_depth(content: bytes) -> int:
    """The deepest nesting of arrays and objects in a JSON text (strings ignored).

    Examples
    --------
    >>> json_depth(b'{"a": [[1, "]]]]"], {"b": {}}]}')  # {, [, then [ or { and {}: four levels
    4
    """
    import numpy as np

    skeleton = np.frombuffer(_STRINGS.sub(b"", content), dtype=np.uint8)
    steps = (np.isin(skeleton, (ord("["), ord("{"))).astype(np.int32)
             - np.isin(skeleton, (ord("]"), ord("}"))).astype(np.int32))
    return int(np.cumsum(steps).max(initial=0))


def check_json(content: bytes, filename: str, limits: ImportLimits) -> None:
    depth = json_depth(content)
    if depth > limits.json_depth:
        raise errors.LimitExceeded(f"{filename!r} is {depth} niveaus diep genest; hoogstens {limits.json_depth} "
                                   "niveaus worden gelezen (import_json_depth)")


def check_xlsx(content: bytes, filename: str, limits: ImportLimits) -> None:
    """Refuse a workbook whose first sheet declares more rows or columns than the limits (the
    dimension decides how much pandas allocates, whatever the cells hold)."""
    check_zip(content, filename, limits)
    try:
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        rows, columns = sheet.max_row, sheet.max_column
    except Exception:
        return  # the reader says what is wrong with it
    if columns is not None and columns > limits.columns:
        raise errors.LimitExceeded(f"{filename!r}: het eerste werkblad beslaat {columns} kolommen; hoogstens "
                                   f"{limits.columns} kolommen worden gelezen (import_columns)")
    if rows is not None and rows > limits.rows + 1:
        raise errors.LimitExceeded(f"{filename!r}: het eerste werkblad beslaat {rows} rijen; hoogstens "
                                   f"{limits.rows} rijen worden gelezen (import_rows)")


def check_geopackage(path: Path, filename: str) -> None:
    """A GeoPackage is read as data only: each feature table it lists must be a plain table
    (not a view, virtual table or anything that runs code when read)."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            listed = [row[0] for row in db.execute("SELECT table_name FROM gpkg_contents")]
            kinds = dict(db.execute("SELECT name, type FROM sqlite_master"))
            sql = dict(db.execute("SELECT name, coalesce(sql, '') FROM sqlite_master"))
    except sqlite3.Error as exc:
        raise errors.InvalidInput(f"{filename!r} is not a readable GeoPackage: {exc}") from None
    if not listed:
        raise errors.InvalidInput(f"{filename!r} lists no layers in gpkg_contents")
    for table in listed:
        if kinds.get(table) != "table" or sql[table].lstrip().upper().startswith("CREATE VIRTUAL"):
            kind = "virtual table" if kinds.get(table) == "table" else (kinds.get(table) or "missing table")
            raise errors.InvalidInput(f"{filename!r}: layer {table!r} is a {kind}, not a table of features; "
                                      "only plain tables are read")


def check_frame(frame, filename: str, limits: ImportLimits) -> None:
    """Rows of a table; features and vertices of polygons."""
    if len(frame) > limits.rows:
        raise errors.LimitExceeded(f"{filename!r} heeft {len(frame)} rijen; hoogstens {limits.rows} rijen worden "
                                   "gelezen (import_rows)")
    if len(frame.columns) > limits.columns:
        raise errors.LimitExceeded(f"{filename!r} heeft {len(frame.columns)} kolommen; hoogstens {limits.columns} "
                                   "kolommen worden gelezen (import_columns)")
    if hasattr(frame, "geometry"):
        if len(frame) > limits.features:
            raise errors.LimitExceeded(f"{filename!r} heeft {len(frame)} vormen (features); hoogstens "
                                       f"{limits.features} worden gelezen (import_features)")
        import shapely

        vertices = int(shapely.get_num_coordinates(frame.geometry.values).sum())
        if vertices > limits.vertices:
            raise errors.LimitExceeded(f"{filename!r} heeft {vertices} hoekpunten; hoogstens {limits.vertices} "
                                       "worden gelezen (import_vertices)")


def check_zones_per_municipality(members, limits: ImportLimits) -> None:
    """At most ``zones_per_municipality`` zones of one layer per municipality (maps and pages draw
    every zone of a municipality, so this bounds their work)."""
    import pandas as pd

    members = pd.DataFrame(members, columns=["zone_code", "nis_code"]) if isinstance(members, list) else members
    if len(members) == 0:
        return
    counts = members.groupby("nis_code")["zone_code"].nunique()
    worst = counts.idxmax()
    if counts[worst] > limits.zones_per_municipality:
        from geo.uploads.importing import too_many_zones

        raise too_many_zones(int(worst), int(counts[worst]), limits.zones_per_municipality)


# -- the child --------------------------------------------------------------------------------------
def read_limited(content: bytes, filename: str, limits: ImportLimits):
    """Read ``content`` as :mod:`geo.uploads.importing` would, with every check above (no process limits:
    :func:`parse_upload` runs this in the limited child)."""
    from geo.uploads import importing

    suffix = Path(filename).suffix.lower()
    if suffix in (".xlsx", ".xls"):
        check_xlsx(content, filename, limits)
    elif suffix in (".zip", ".shp"):
        check_zip(content, filename, limits)
    elif suffix in (".geojson", ".json"):
        check_json(content, filename, limits)
    elif suffix == ".gpkg":
        with tempfile.TemporaryDirectory(prefix="regiomatch-check-") as tmp:
            path = Path(tmp) / "upload.gpkg"
            path.write_bytes(content)
            check_geopackage(path, filename)
    importing.MAX_UNZIPPED_BYTES = limits.unpacked_bytes  # this process is thrown away afterwards
    if suffix in importing.TABLE_SUFFIXES:
        frame = importing.read_table(content, filename)
    else:
        frame = importing.read_polygons(content, filename)
    check_frame(frame, filename, limits)
    return frame


@dataclass
class BuiltUpload:
    """What the child made of an upload: the layer's parts, or the problem rows of a table
    (preview only). :meth:`layer` assembles the layer in the server (cheap: no geometry work)."""

    members: object = None  # pandas DataFrame zone_code, zone_name, nis_code, share
    options: dict = field(default_factory=dict)  # Layer.from_members keywords (name, polygons, ...)
    problems: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # features left out, each with its likely cause (Dutch)

    def layer(self, layer_id: str, atoms):  # noqa: ANN001, ANN201
        """The uploaded members as a :class:`Layer` with id ``layer_id`` on ``atoms``."""
        from geo.engine.layer import Layer

        return Layer.from_members(layer_id, self.members, atoms, **self.options)


def build_limited(content: bytes, filename: str, limits: ImportLimits, data_dir: str, population_year: int,
                  layer_id: str, options: dict, preview: bool = False) -> BuiltUpload:
    """Everything an import (or its preview) does with an upload, in order of cost, with the
    limits: read the file (:func:`read_limited`), for a preview list a table's problem rows, count
    zones per municipality before the polygons are cut with the municipalities, build the layer,
    count again. Runs in the limited child (:func:`build_upload`)."""
    from geo.reference.catalog import load_catalog
    from geo.uploads import importing

    catalog = load_catalog(data_dir, population_year)
    frame = read_limited(content, filename, limits)
    suffix = Path(filename).suffix.lower()
    polygons = suffix in importing.POLYGON_SUFFIXES
    if preview:  # every problem at once, in Dutch, each row or feature named
        from geo.uploads.preview import polygon_problems, table_problems

        if suffix in importing.TABLE_SUFFIXES:
            problems = table_problems(frame, catalog, options.get("vintage"))
        elif polygons:
            problems = polygon_problems(frame, catalog, options.get("code_column"), options.get("name_column"))
        else:
            problems = []
        if problems:
            return BuiltUpload(problems=problems)
    importing.MAX_ZONES_PER_MUNICIPALITY = limits.zones_per_municipality  # this process is thrown away
    layer = importing.import_layer(layer_id, content, filename, catalog, parsed=frame, **options)
    members = layer.members()[["zone_code", "zone_name", "nis_code", "share"]]
    check_zones_per_municipality(members, limits)
    dropped: list[str] = []
    if polygons:
        from geo.uploads.preview import dropped_features

        dropped = dropped_features(frame, layer, catalog, options.get("code_column"))
    return BuiltUpload(members.reset_index(drop=True), dropped=dropped, options={
        "name": layer.name, "kind": layer.kind, "vintage": layer.vintage, "source": layer.source,
        "description": layer.description, "polygons": layer.polygons, "weighting": layer.weighting,
        "left_out": tuple(layer.left_out)})


def _task(job: str, content: bytes, filename: str, limits: dict, extra: dict) -> tuple[Any, ...]:
    """In a pool worker: the upload's limits on this process, then the reading (or building).
    Every outcome is a picklable tuple; a limit the kernel enforces ends the worker instead."""
    import resource

    chosen = ImportLimits(**limits)
    # RLIMIT_CPU counts the worker's whole life: its start-up is not the upload's to pay for.
    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = int(used.ru_utime + used.ru_stime)
    resource.setrlimit(resource.RLIMIT_CPU, (spent + chosen.cpu_seconds, spent + chosen.cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (chosen.memory_bytes, chosen.memory_bytes))
    try:
        if job == "build":
            return ("ok", build_limited(content, filename, chosen, **extra))
        return ("ok", read_limited(content, filename, chosen))
    except errors.RegiomatchError as exc:
        return ("error", type(exc).__name__, exc.detail)
    except MemoryError:
        return ("error", "LimitExceeded", _memory_message(filename, chosen))
    except RecursionError:
        return ("error", "LimitExceeded", f"{filename!r} is te diep genest om te lezen")
    except Exception as exc:  # any reader failure is the file's fault, said as a 422
        reason = (str(exc).splitlines() or [type(exc).__name__])[0][:300]
        return ("error", "InvalidInput", f"{filename!r} kon niet gelezen worden: {reason}")


def _memory_message(filename: str, limits: ImportLimits) -> str:
    return (f"{filename!r} vraagt meer dan {limits.memory_bytes // MB} MB geheugen om te lezen "
            "(import_memory_bytes)")


def _ready() -> bool:
    return True


_context_lock = threading.Lock()
_context = None


def _process_context():
    """A fork server started once with the readers imported: workers start in milliseconds and
    never inherit the server's threads."""
    global _context
    with _context_lock:
        if _context is None:
            if "forkserver" in multiprocessing.get_all_start_methods():
                _context = multiprocessing.get_context("forkserver")
                # The shipped catalog too (geo.uploads.preload): each worker starts with it
                # loaded instead of spending 2 s of its CPU budget reading it.
                _context.set_forkserver_preload(["geo.uploads.sandbox", "geo.uploads.importing",
                                                 "geo.uploads.preview", "geo.uploads.preload"])
            else:
                _context = multiprocessing.get_context("spawn")
        return _context


class _Slots:
    """``parallel`` slots, each a pool of one pre-forked worker that reads one upload and ends
    (``max_tasks_per_child=1``): the pool forks the next worker as soon as one ends, so an
    upload finds a worker waiting, and no upload ever runs in a process another one used. A pool
    of its own per slot: a worker killed by a limit breaks its pool, and only its own upload's."""

    def __init__(self, parallel: int):
        self.parallel = parallel
        self.free: list[ProcessPoolExecutor] = []
        self.made = 0

    def take(self) -> ProcessPoolExecutor | None:
        """A free slot's pool, or None when ``parallel`` uploads are being read."""
        with _context_lock:
            if self.free:
                return self.free.pop()
            if self.made >= self.parallel:
                return None
            self.made += 1
        try:
            return _new_pool()
        except BaseException:
            with _context_lock:
                self.made -= 1
            raise

    def give_back(self, pool: ProcessPoolExecutor) -> None:
        with _context_lock:
            self.free.append(pool)


def _new_pool() -> ProcessPoolExecutor:
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(1, mp_context=_process_context(), max_tasks_per_child=1,
                               initializer=_end_with, initargs=(os.getpid(),))
    # The first worker, waited for here (the fork server's first start reads the catalog: seconds,
    # not counted in an upload's wall time); every later one is forked when its predecessor ends.
    pool.submit(_ready).result(timeout=STARTUP_SECONDS)
    return pool


STARTUP_SECONDS = 120
PARENT_CHECK_SECONDS = 1.0


def _end_with(parent: int) -> None:
    """In a pool worker: end when ``parent`` (the process reading uploads) has ended.

    A waiting worker reads its task queue, whose writing end it holds itself, and it holds the
    fork server's "alive" pipe: when the parent ended without shutting its pools down (killed,
    or ``os._exit`` as a test runner's worker ends), the worker waited for ever and kept the fork
    server alive too, 100 MB each (65 of them after a day of test runs)."""
    born = _started(parent)
    if born is None:  # a worker forked to replace one that ended after its parent had ended
        os._exit(0)

    def watch() -> None:
        while True:
            time.sleep(PARENT_CHECK_SECONDS)
            if _started(parent) != born:  # ended (or its number reused)
                os._exit(0)

    threading.Thread(target=watch, name="regiomatch-parent-watch", daemon=True).start()


def _started(pid: int) -> str | None:
    """When process ``pid`` started (``/proc``), "" where that cannot be read, None once it has
    ended: gone, or a zombie its own parent has not reaped yet (it answers ``kill(pid, 0)``)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):  # PermissionError: the number is another user's now
        return None
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return ""  # no /proc: alive is all that can be known
    return None if fields[0] == "Z" else fields[19]
_slots: dict[int, _Slots] = {}


def parse_upload(content: bytes, filename: str, limits: ImportLimits | None = None):
    """Read an uploaded table or polygon file in a limited child process; the parsed frame.

    Raises :class:`geo.errors.LimitExceeded` over a limit, :class:`geo.errors.InvalidInput` for a
    file that cannot be read, :class:`geo.errors.Busy` when ``parallel`` uploads are already parsed.
    """
    return _limited("parse", content, filename, limits or ImportLimits(), {})


def build_upload(content: bytes, filename: str, catalog, limits: ImportLimits | None = None, *,  # noqa: ANN001
                 layer_id: str = "voorbeeld", options: dict | None = None, preview: bool = False) -> BuiltUpload:
    r"""Read an upload and build its layer, all of it in the limited child process
    (:func:`build_limited`): the overlay with the municipalities is bounded like the reading.
    An import and its preview call this with the same file and give the same verdict; the
    preview also gets every problem row of a table at once (``BuiltUpload.problems``).

    Examples
    --------
    >>> built = build_upload(b"nis_code,zone_code\n34022,K\n", "k.csv", load_catalog())  # doctest: +SKIP
    >>> built.layer("k", load_catalog().atoms).zone_codes  # doctest: +SKIP
    ['K']
    """
    options = {k: v for k, v in (options or {}).items() if v is not None}
    extra = {"data_dir": str(catalog.data_dir), "population_year": int(catalog.atoms.population_year),
             "layer_id": layer_id, "options": options, "preview": preview}
    return _limited("build", content, filename, limits or ImportLimits(), extra)


def _limited(job: str, content: bytes, filename: str, limits: ImportLimits, extra: dict):
    with _context_lock:
        slots = _slots.setdefault(limits.parallel, _Slots(limits.parallel))
    pool = slots.take()
    if pool is None:
        raise errors.Busy(f"er worden al {limits.parallel} bestanden ingelezen; probeer het over enkele seconden "
                          "opnieuw")
    broken = True
    try:
        result, broken = _run_in(pool, job, content, filename, limits, extra)
    finally:
        if broken:  # a worker killed (by us or by a limit): its pool is done for, the slot gets a new one
            pool.shutdown(wait=False, cancel_futures=True)
            with _context_lock:
                slots.made -= 1
        else:
            slots.give_back(pool)
    if result[0] == "ok":
        return result[1]
    _, kind, detail = result
    raise getattr(errors, kind, errors.InvalidInput)(detail)


def _run_in(pool: ProcessPoolExecutor, job: str, content: bytes, filename: str, limits: ImportLimits,
            extra: dict) -> tuple[tuple[Any, ...], bool]:
    """The task's result and whether the pool broke. The pool's worker is reached through the
    executor's ``_processes`` (the standard library has no public way to kill a task's worker or
    read how it ended); a worker of its own per pool makes it the one running this task."""
    from concurrent.futures import TimeoutError as FuturesTimeout
    from concurrent.futures.process import BrokenProcessPool

    future = pool.submit(_task, job, content, filename, asdict(limits), extra)
    try:
        return future.result(timeout=limits.wall_seconds), False
    except FuturesTimeout:
        for worker in list(pool._processes.values()):  # type: ignore[attr-defined]
            worker.kill()
        raise errors.LimitExceeded(f"het inlezen van {filename!r} duurde langer dan {limits.wall_seconds:g} s "
                                   "(import_wall_seconds)") from None
    except BrokenProcessPool:
        workers = list(pool._processes.values())  # type: ignore[attr-defined]
        # The executor's own thread reaps the dead worker after it fails the future: a second
        # thread reading the worker's status beside it (join) can find it already read and take
        # exit code 255 (seen under load: a CPU-limit death said as "stopte met code 255"). So its
        # thread ends first; the status is then read once and kept.
        pool.shutdown(wait=True, cancel_futures=True)
        for worker in workers:
            worker.join(5)
        codes = [w.exitcode for w in workers if w.exitcode not in (None, -signal.SIGTERM)]
        raise _death(codes[0] if codes else None, filename, limits) from None
    except MemoryError:  # raised in the worker outside the task (sending its result back)
        raise errors.LimitExceeded(_memory_message(filename, limits)) from None
    except Exception as exc:  # noqa: BLE001 - the same: the worker could not hand back what it read
        raise errors.InvalidInput(f"{filename!r} kon niet gelezen worden: {type(exc).__name__}") from None


def _death(exitcode: int | None, filename: str, limits: ImportLimits) -> errors.RegiomatchError:
    """What a child that died without answering ran into."""
    if exitcode == -signal.SIGXCPU:
        return errors.LimitExceeded(f"het inlezen van {filename!r} vroeg meer dan {limits.cpu_seconds} s "
                                    "rekentijd (import_cpu_seconds)")
    if exitcode in (-signal.SIGKILL, -signal.SIGSEGV, -signal.SIGABRT):  # the kernel's or a library's end
        return errors.LimitExceeded(_memory_message(filename, limits))
    return errors.InvalidInput(f"{filename!r} kon niet gelezen worden (de lezer stopte met code {exitcode})")


__all__ = ["ImportLimits", "BuiltUpload", "build_upload", "parse_upload", "read_limited",
           "check_zones_per_municipality", "json_depth"]
