"""Soak: steady concurrent reads and writes against a real server on loopback, measured.

Six clients loop over the everyday mix (overlays of shipped layers, of their own scenario and of a
freshly imported layer; members, look-ups, CSV, GeoJSON; PATCHes with versions; create-and-delete
of scenarios and layers) for ``duration`` seconds on two workers. Reported: requests per second,
errors, and early-vs-late (after a warm-up quarter) median and 95th percentile latency and resident
memory, as ratios: a leak or a slowdown that grows with the run shows as a ratio well above 1.
Also: how long other requests wait while one worker reads a big upload.

``python -m benchmarks.run --only soak --duration 75``; the functional side (no errors, nothing
lost) is ``tests/test_soak.py``.
"""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from geo.reference.catalog import load_catalog
from tests.server import Server

CLIENTS = 6
WORKERS = 2


def _rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (the uvicorn workers), from /proc."""
    pids = [pid]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            pids.append(int(stat.parent.name))
    total = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


@dataclass
class Client:
    number: int
    url: str
    stop: threading.Event
    samples: list = field(default_factory=list)  # (started at, seconds, route)
    errors: list = field(default_factory=list)

    def call(self, client: httpx.Client, method: str, route: str, url: str, expected: int = 200, **kwargs):
        started = time.monotonic()
        for attempt in range(3):
            try:
                response = client.request(method, url, **kwargs)
            except httpx.HTTPError as exc:
                self.errors.append((route, repr(exc)))
                self.stop.set()  # the server is gone or stuck: end the run and say why below
                return None
            # A heavy route sheds load with 503 "busy" and Retry-After by design (issue 14); a
            # well-behaved client waits and tries again. Still busy after that is an error.
            if response.status_code != 503 or response.headers.get("retry-after") is None:
                break
            time.sleep(min(float(response.headers["retry-after"]), 5.0))
        self.samples.append((started, time.monotonic() - started, route))
        if response.status_code != expected:
            self.errors.append((route, response.status_code, response.text[:300]))
            return None
        return response

    def run(self) -> None:
        catalog = load_catalog()
        nis = [int(n) for n in catalog.atoms.nis_codes]
        zones = list(catalog.layer("eerstelijnszone").zone_codes)
        with httpx.Client(base_url=self.url, timeout=60) as client:
            created = self.call(client, "POST", "create scenario", "/api/v1/scenarios", 201,
                                json={"name": f"soak {self.number}", "base_layer": "eerstelijnszone"})
            if created is None:
                return
            sid, version, i = created.json()["id"], 1, 0
            while not self.stop.is_set():
                muni = nis[(self.number * 41 + i) % len(nis)]
                body = ({"add_moves": [{"nis_code": muni, "to_zone": zones[i % len(zones)]}]} if i % 2 == 0
                        else {"undo": [nis[(self.number * 41 + i - 1) % len(nis)]]})
                patched = self.call(client, "PATCH", "patch scenario", f"/api/v1/scenarios/{sid}",
                                    json={**body, "version": version})
                if patched is not None:
                    version = patched.json()["version"]
                self.call(client, "GET", "overlay scenario", "/api/v1/overlay",
                          params={"a": "samenwerkingsverband", "b": f"scenario:{sid}"})
                self.call(client, "GET", "overlay", "/api/v1/overlay",
                          params={"a": "politiezone", "b": "eerstelijnszone", "direction": "b"})
                self.call(client, "GET", "overlay csv", "/api/v1/overlay",
                          params={"a": "referentieregio", "b": "vervoerregio", "format": "csv"})
                self.call(client, "GET", "members", "/api/v1/layers/eerstelijnszone/members")
                self.call(client, "GET", "municipality", f"/api/v1/municipalities/{muni}")
                self.call(client, "GET", "search", "/api/v1/municipalities", params={"q": "sint"})
                self.call(client, "GET", "scenario", f"/api/v1/scenarios/{sid}")
                if i % 5 == 0:
                    self.call(client, "GET", "geojson", "/api/v1/layers/referentieregio/geojson",
                              params={"simplify": 500})
                if i % 4 == 0:
                    layer_id = f"soak{self.number}x{i}"
                    csv = f"nis_code,zone_code\n{muni},A\n{nis[(i + 7) % len(nis)]},B\n".encode()
                    if self.call(client, "POST", "import layer", "/api/v1/layers", 201, data={"id": layer_id},
                                 files={"file": ("s.csv", csv)}) is not None:
                        self.call(client, "GET", "overlay imported", "/api/v1/overlay",
                                  params={"a": layer_id, "b": "eerstelijnszone"})
                        self.call(client, "DELETE", "delete layer", f"/api/v1/layers/{layer_id}", 204)
                if i % 4 == 2:
                    extra = self.call(client, "POST", "create scenario", "/api/v1/scenarios", 201,
                                      json={"name": "kort", "base_layer": "provincie"})
                    if extra is not None:
                        self.call(client, "DELETE", "delete scenario", f"/api/v1/scenarios/{extra.json()['id']}", 204)
                i += 1


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]




def run_soak(state_dir: Path, seconds: float, clients: int = CLIENTS, workers: int = WORKERS) -> dict:
    """Run the mix for ``seconds``; returns errors, samples, memory and what is left in the store."""
    with Server({"REGIOMATCH_STATE_DIR": str(state_dir)}, workers=workers) as server:
        stop = threading.Event()
        running = [Client(n, server.url, stop) for n in range(clients)]
        threads = [threading.Thread(target=c.run, daemon=True) for c in running]
        begin = time.monotonic()
        for thread in threads:
            thread.start()
        memory: list[tuple[float, float]] = []
        while time.monotonic() - begin < seconds and not stop.is_set():
            memory.append((time.monotonic() - begin, _rss_mb(server.process.pid)))
            time.sleep(1.0)
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
        if server.process.poll() is not None:
            raise AssertionError(f"the server died (exit {server.process.returncode}) after "
                                 f"{time.monotonic() - begin:.0f} s: {server.process.stderr.read().decode()[-3000:]}")
        scenarios = httpx.get(server.url + "/api/v1/scenarios", timeout=30).json()
        layers = httpx.get(server.url + "/api/v1/layers", timeout=30).json()
    return {"errors": [e for c in running for e in c.errors],
            "samples": sorted((start - begin, s, route) for c in running for start, s, route in c.samples),
            "memory": memory, "scenarios": scenarios, "layers": layers}


def measure(quick: bool, duration: float = 75.0) -> dict:
    """The soak's figures: early vs late latency and memory after a warm-up quarter, as ratios."""
    import tempfile

    seconds = 20.0 if quick else max(duration, 30.0)
    with tempfile.TemporaryDirectory() as tmp:
        run = run_soak(Path(tmp) / "state", seconds)
    samples, memory = run["samples"], run["memory"]
    warm = seconds / 4
    third = (seconds - warm) / 3
    early = [s for t, s, _ in samples if warm <= t < warm + third]
    late = [s for t, s, _ in samples if t >= seconds - third]
    mem_early = [m for t, m in memory if warm <= t < warm + third]
    mem_late = [m for t, m in memory if t >= seconds - third]
    p50 = (statistics.median(early), statistics.median(late))
    p95 = (_percentile(early, 0.95), _percentile(late, 0.95))
    with tempfile.TemporaryDirectory() as tmp:
        slow_import = measure_slow_import(Path(tmp) / "state")
    return {
        "seconds": seconds, "clients": CLIENTS, "workers": WORKERS, "requests": len(samples),
        "errors": len(run["errors"]), "requests_per_second": round(len(samples) / seconds, 1),
        "p50_ms_early_late": [round(v * 1000, 1) for v in p50], "p50_late_over_early": round(p50[1] / p50[0], 2),
        "p95_ms_early_late": [round(v * 1000, 1) for v in p95], "p95_late_over_early": round(p95[1] / p95[0], 2),
        "rss_mb_early_late_max": [round(statistics.median(mem_early), 1), round(statistics.median(mem_late), 1),
                                  round(max(m for _, m in memory), 1)],
        "rss_mb_late_minus_early": round(statistics.median(mem_late) - statistics.median(mem_early), 1),
        "slow_import": slow_import,
    }


def _big_table_upload(rows: int = 150_000) -> bytes:
    """A membership table of 2 MB with 150,000 zones (well under the upload limit): seconds of
    reading, carrying forward and saving."""
    nis = [int(n) for n in load_catalog().atoms.nis_codes]
    return ("nis_code,zone_code\n" + "".join(f"{nis[i % len(nis)]},Z{i}\n" for i in range(rows))).encode()


def run_slow_import(state_dir: Path) -> dict:
    """One worker reads and saves a big upload while a client keeps asking for a small answer:
    the upload's status, when it started and ended, and when each small answer came."""
    content = _big_table_upload()
    # The table is bigger than the default import limits (rows, zones per municipality): raise them.
    env = {"REGIOMATCH_STATE_DIR": str(state_dir), "REGIOMATCH_IMPORT_ROWS": "200000",
           "REGIOMATCH_IMPORT_ZONES_PER_MUNICIPALITY": "1000"}
    with Server(env, workers=1) as server:
        result: dict = {}
        done = threading.Event()

        def upload() -> None:
            started = time.monotonic()
            response = httpx.post(server.url + "/api/v1/layers", data={"id": "groot"},
                                  files={"file": ("groot.csv", content)}, timeout=300)
            result.update(status=response.status_code, started=started, ended=time.monotonic())
            done.set()

        answered = [time.monotonic()]
        thread = threading.Thread(target=upload)
        with httpx.Client(base_url=server.url, timeout=300) as client:
            thread.start()
            while not done.is_set():
                assert client.get("/api/v1/layers/provincie").status_code == 200
                answered.append(time.monotonic())
        thread.join()
    return {**result, "answered": answered}


def measure_slow_import(state_dir: Path) -> dict:
    """Seconds of the big import and the longest wait of another request meanwhile (as a share)."""
    run = run_slow_import(state_dir)
    seconds = run["ended"] - run["started"]
    answered = run["answered"]
    gaps = [b - a for a, b in zip(answered, answered[1:]) if b >= run["started"] and a <= run["ended"]]
    return {"status": run["status"], "import_s": round(seconds, 2), "longest_wait_s": round(max(gaps), 3),
            "longest_wait_share_of_import": round(max(gaps) / seconds, 3)}
