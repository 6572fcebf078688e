"""Measures 3 and 4: cold start of the HTTP service, and the service under load on loopback.

The service is started exactly as ``make run`` does (``regiomatch serve``: one uvicorn worker,
info logging), on a free port with a throw-away state directory.

* Cold start: wall time from ``subprocess.Popen`` to the first 200 of ``/api/v1/overlay``
  (polled every 10 ms), repeated; plus an in-process breakdown (imports, loading the catalog
  and the database, first request) and a profile of start-up listing any geometry work done.
* Load: ``wrk`` (one thread, 4 connections, ``--latency``) from a second process for
  ``duration`` seconds per target, after a warm-up; requests/s, p50/p90/p99 and errors; the
  server's peak RSS (VmHWM) is read from /proc. Targets: the overlay JSON, the overlay map
  (``/maps/overlay``, a Folium page) and the zones of a layer as GeoJSON (the map's data).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from benchmarks.common import peak_rss_mib, process_memory

OVERLAY_PATH = "/api/v1/overlay?a=samenwerkingsverband&b=eerstelijnszone"
MAP_PATH = "/maps/overlay?a=samenwerkingsverband&b=eerstelijnszone"
GEOJSON_PATH = "/api/v1/layers/eerstelijnszone/geojson?simplify=200"
WRK_CONNECTIONS = 4
# On a machine shared with other test suites (load 15+ on 2 cores) a start-up can take a minute,
# and uvicorn restarts a --workers child that is slow to answer its supervisor.
READY_TIMEOUT_S = 180
REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_command(port: int, workers: int = 1, repo: Path = REPO) -> list[str]:
    """``regiomatch serve`` as ``python -m <its entry module>``: run from a checkout (``cwd``), it
    serves that checkout's code (the ``regiomatch`` script of an editable install imports the
    installed one). The entry module is ``api.launch`` (the collector paused while modules load,
    api/startup.py) where the checkout has it, else ``api.cli``."""
    return [sys.executable, "-m", _entry(repo), "serve", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers)]


def _entry(repo: Path) -> str:
    """The module of a checkout's ``regiomatch`` command (``api.launch`` since it has one)."""
    return "api.launch" if (Path(repo) / "api" / "launch.py").exists() else "api.cli"


def prepare(repo: Path = REPO) -> None:
    """What ``make run`` builds before serving (templates, catalog, outlines: ``regiomatch
    prepare``), where the checkout has the command (it came with ``api.launch``)."""
    if _entry(repo) == "api.launch":
        subprocess.run([sys.executable, "-m", "api.launch", "prepare"], cwd=repo, check=True,
                       stdout=subprocess.DEVNULL)


def status(url: str, timeout: float = 10.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, ConnectionError, OSError):
        return 0


@contextmanager
def server(log: Path, env: dict[str, str] | None = None, workers: int = 1, ready_path: str = OVERLAY_PATH,
           warm: bool = True, repo: Path = REPO, command: list[str] | None = None):
    """A running service; yields ``(process, base_url, seconds_to_first_answer_of_ready_path)``.

    ``warm``: before yielding, wait until ``/health`` says the warm-up thread (api/warmup.py) is
    done, so its few seconds of CPU do not fall into what is measured next. ``repo``: the checkout
    whose code is served (another commit, for a before/after in one run). ``command``: another
    server to start instead (``{port}`` is replaced)."""
    port = free_port()
    state = tempfile.mkdtemp(prefix="regiomatch-bench-")
    env = {**os.environ, "REGIOMATCH_STATE_DIR": state, **(env or {})}
    for key in ("REGIOMATCH_API_TOKEN", "REGIOMATCH_DATABASE_URL", "DATABASE_URL"):
        env.pop(key, None)
    base = f"http://127.0.0.1:{port}"
    with open(log, "ab") as out:
        t0 = time.perf_counter()
        argv = (server_command(port, workers, repo) if command is None
                else [a.replace("{port}", str(port)) for a in command])
        process = subprocess.Popen(argv, cwd=repo, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            while True:
                if status(base + ready_path, timeout=5.0) == 200:
                    ready = time.perf_counter() - t0
                    break
                if process.poll() is not None:
                    raise RuntimeError(f"the server exited with {process.returncode}; see {log}")
                if time.perf_counter() - t0 > READY_TIMEOUT_S:
                    raise RuntimeError(f"no answer from the server within {READY_TIMEOUT_S} s; see {log}")
                time.sleep(0.01)
            if warm and command is None:
                _wait_warm(base)
            yield process, base, ready
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            shutil.rmtree(state, ignore_errors=True)


def _wait_warm(base: str, timeout: float = 120.0) -> float:
    """Seconds until ``/health`` says the warm-up is done (NaN after ``timeout``)."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        try:
            with urllib.request.urlopen(base + "/health", timeout=10) as response:
                if json.loads(response.read()).get("warm_up", {}).get("warm"):
                    return time.perf_counter() - t0
        except (urllib.error.URLError, ConnectionError, OSError, ValueError):
            pass
        time.sleep(0.05)
    return float("nan")


STARTUP_SCRIPT = r"""
import cProfile, io, json, os, pstats, sys, time
t0 = time.perf_counter()
profile = cProfile.Profile()
profile.enable()
import api.main
t1 = time.perf_counter()
from api.settings import get_settings, workspace_for
workspace_for(get_settings())
t2 = time.perf_counter()
from fastapi.testclient import TestClient
client = TestClient(api.main.app)
t3 = time.perf_counter()
assert client.get(sys.argv[1]).status_code == 200
t4 = time.perf_counter()
profile.disable()
stats = pstats.Stats(profile)
geometry = sorted({f"{os.path.basename(f)}:{name}" for (f, _, name) in stats.stats
                   if ("geo/geometry/polygons.py" in f and not name.startswith("<")) or name in ("dissolve", "overlay")
                   and "geopandas" in f})
print(json.dumps({"import_app_s": t1 - t0, "load_catalog_and_database_s": t2 - t1,
                  "test_client_s": t3 - t2, "first_overlay_s": t4 - t3,
                  "geometry_functions_called_at_startup": geometry}))
"""


def startup_breakdown() -> dict:
    """Where start-up time goes, in a fresh interpreter (under cProfile, so a little slower)."""
    state = tempfile.mkdtemp(prefix="regiomatch-bench-")
    try:
        env = {**os.environ, "REGIOMATCH_STATE_DIR": state}
        out = subprocess.run([sys.executable, "-c", STARTUP_SCRIPT, OVERLAY_PATH], cwd=REPO, env=env,
                             capture_output=True, text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(state, ignore_errors=True)


def cold_start(runs: int, log: Path) -> dict:
    times = []
    memory = []
    for _ in range(runs):
        with server(log) as (process, _, ready):
            times.append(ready)
            memory.append(process_memory(process.pid)["peak_rss_mib"])
    return {"runs_s": times, "median_s": sorted(times)[len(times) // 2], "server_peak_rss_mib_after_start": max(memory),
            "breakdown": startup_breakdown()}


_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * _UNIT[unit]


def parse_wrk(output: str) -> dict:
    latency = {f"p{p}_ms": _ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", output, re.M)}
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = ((sum(int(x) for x in socket_errors.groups()) if socket_errors else 0)
              + (int(non_2xx.group(1)) if non_2xx else 0))
    return {"tool": "wrk", "requests": requests, "errors": errors,
            "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
            **latency, "connections": WRK_CONNECTIONS}


def load(url: str, duration: float) -> dict:
    if shutil.which("wrk"):
        out = subprocess.run(["wrk", "-t1", f"-c{WRK_CONNECTIONS}", f"-d{duration:g}s", "--latency", "--timeout", "10s",
                              url], capture_output=True, text=True, check=True).stdout
        return parse_wrk(out)
    out = subprocess.run([sys.executable, "-m", "benchmarks.loadgen", url, "--duration", str(duration),
                          "--connections", str(WRK_CONNECTIONS)], cwd=REPO, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def tree_memory(pid: int) -> dict[str, float]:
    """RSS of a server and its worker processes (uvicorn ``--workers N`` forks N children), summed."""
    pids = [pid]
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            pids += [int(c) for c in (task / "children").read_text().split()]
    except OSError:
        pass
    memory = [process_memory(p) for p in pids]
    return {"processes": len(pids), "rss_mib": sum(m["rss_mib"] for m in memory),
            "peak_rss_mib": sum(m["peak_rss_mib"] for m in memory),
            "worker_rss_mib": [round(m["rss_mib"], 1) for m in memory[1:]]}


def load_test(duration: float, log: Path, workers: int = 1) -> dict:
    """Wrk against the overlay JSON, the overlay map and the zones as GeoJSON on one server with
    ``workers`` worker processes; memory of the whole process tree before and after each target."""
    results: dict = {}
    with server(log, workers=workers) as (process, base, _):
        targets = [("overlay", OVERLAY_PATH), ("map", MAP_PATH), ("geojson", GEOJSON_PATH)]
        if status(base + MAP_PATH) != 200:
            targets = [("overlay", OVERLAY_PATH), ("map", GEOJSON_PATH)]
        for name, path in targets:
            for _ in range(3 * workers):  # warm-up of every worker: caches, first-request imports
                status(base + path)
        results["memory_before_mib"] = tree_memory(process.pid)
        for name, path in targets:
            t0 = time.perf_counter()
            body = urllib.request.urlopen(base + path, timeout=30).read()
            single_ms = (time.perf_counter() - t0) * 1e3
            results[name] = {"path": path, "response_bytes": len(body), "single_request_ms": single_ms,
                             **load(base + path, duration), "memory_after_mib": tree_memory(process.pid)}
        results["server_memory_mib"] = tree_memory(process.pid)
    results["workers"] = workers
    results["duration_s"] = duration
    results["map_note"] = ("/maps/overlay was served" if results["map"]["path"] == MAP_PATH else
                           "/maps/overlay did not exist at run time: the zones of a layer as GeoJSON "
                           "(dissolved per request, simplified 200 m) stand in for a map")
    results["targets"] = [name for name, _ in targets]
    return results


def _latency(url: str, runs: int) -> dict:
    """p50/p90 of ``runs`` GETs over one keep-alive connection, without ``Accept-Encoding`` (the
    same bytes from every server), after 20 unmeasured ones."""
    import http.client
    from urllib.parse import urlsplit

    from benchmarks.common import percentiles

    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    target = parts.path + ("?" + parts.query if parts.query else "")
    samples = []
    size = 0
    try:
        for i in range(runs + 20):
            t0 = time.perf_counter()
            connection.request("GET", target)
            response = connection.getresponse()
            size = len(response.read())
            if i >= 20:
                samples.append(time.perf_counter() - t0)
    finally:
        connection.close()
    return {**percentiles(samples), "bytes": size}


BARE_COMMAND = [sys.executable, "-m", "uvicorn", "benchmarks.bare_app:app", "--host", "127.0.0.1", "--port", "{port}",
                "--workers", "1", "--no-access-log", "--log-level", "warning"]


def bare_comparison(duration: float, log: Path, baseline: Path | None = None, runs: int = 500) -> dict:
    """Issue 25, target 2: the cached ``/api/v1/overlay`` against a bare FastAPI app answering the
    same bytes (:mod:`benchmarks.bare_app`), one worker each, in the same run: latency over one
    keep-alive connection and wrk throughput; with ``baseline`` (another checkout) the same for
    the old code."""
    out: dict = {"path": OVERLAY_PATH, "duration_s": duration}
    servers = [("regiomatch", {}, REPO, None)]
    if baseline is not None:
        servers.append(("regiomatch_baseline", {}, baseline, None))
    body_file = Path(tempfile.mkdtemp(prefix="regiomatch-bare-")) / "body.json"
    for name, env, repo, command in servers:
        with server(log, env=env, repo=repo, command=command) as (_, base, _ready):
            body_file.write_bytes(urllib.request.urlopen(base + OVERLAY_PATH, timeout=30).read())
            out[name] = {"latency": _latency(base + OVERLAY_PATH, runs), "wrk": load(base + OVERLAY_PATH, duration)}
        if name == "regiomatch":  # the bare app serves the bytes the service answered
            with server(log, env={"REGIOMATCH_BARE_BODY": str(body_file)}, command=BARE_COMMAND) as (_, base, _r):
                out["bare_fastapi"] = {"latency": _latency(base + OVERLAY_PATH, runs),
                                       "wrk": load(base + OVERLAY_PATH, duration)}
    ours, bare = out["regiomatch"], out["bare_fastapi"]
    out["latency_ratio"] = ours["latency"]["median_ms"] / bare["latency"]["median_ms"]
    out["throughput_ratio"] = bare["wrk"]["requests_per_s"] / ours["wrk"]["requests_per_s"]
    if baseline is not None:
        old = out["regiomatch_baseline"]
        out["baseline_latency_ratio"] = old["latency"]["median_ms"] / bare["latency"]["median_ms"]
        out["baseline_throughput_ratio"] = bare["wrk"]["requests_per_s"] / old["wrk"]["requests_per_s"]
    out["target"] = "within 2x of the bare app in latency and in throughput"
    return out


def _or_error(run) -> dict:  # noqa: ANN001 - a zero-argument measure
    """The measure's result, or the error it ended with (recorded, so the rest of the run is kept)."""
    try:
        return run()
    except Exception as exc:  # noqa: BLE001
        return {"error": repr(exc)[:500]}


def measure(quick: bool = False, duration: float = 30.0, baseline: Path | None = None) -> dict:
    log = Path(tempfile.gettempdir()) / "regiomatch-bench-server.log"
    log.write_bytes(b"")
    return {"cold_start": cold_start(1 if quick else 3, log), "load": load_test(duration, log),
            "bare_fastapi": _or_error(lambda: bare_comparison(min(duration, 10.0), log, baseline)),
            "load_2_workers": _or_error(lambda: load_test(duration, log, workers=2)),
            "server_log": str(log), "peak_rss_mib": peak_rss_mib()}
