"""Timing, memory and machine facts shared by the benchmark measures."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path

import numpy as np

PACKAGES = ["numpy", "scipy", "pandas", "shapely", "geopandas", "pyogrio", "pyproj", "fastapi", "uvicorn",
            "starlette", "pydantic", "sqlalchemy", "httptools", "uvloop"]


def percentiles(samples: Sequence[float]) -> dict[str, float]:
    """Median, p90, p99, min, max and mean of timings in seconds, reported in milliseconds."""
    ms = np.asarray(samples, dtype=float) * 1e3
    return {"n": int(len(ms)), "median_ms": float(np.median(ms)), "p90_ms": float(np.percentile(ms, 90)),
            "p99_ms": float(np.percentile(ms, 99)), "min_ms": float(ms.min()), "max_ms": float(ms.max()),
            "mean_ms": float(ms.mean())}


def repeat(fn: Callable[[], object], *, min_runs: int = 5, min_seconds: float = 0.2,
           max_runs: int = 10_000) -> list[float]:
    """Call ``fn`` until both ``min_runs`` calls and ``min_seconds`` have passed; seconds per call."""
    samples: list[float] = []
    started = time.perf_counter()
    while len(samples) < max_runs and (len(samples) < min_runs or time.perf_counter() - started < min_seconds):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return samples


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far (Linux ru_maxrss is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def rss_mib() -> float:
    """Current resident set size of this process."""
    return process_memory(os.getpid())["rss_mib"]


def process_memory(pid: int) -> dict[str, float]:
    """Current (VmRSS) and peak (VmHWM) resident memory of a running process, from /proc."""
    out = {"rss_mib": float("nan"), "peak_rss_mib": float("nan")}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                out["rss_mib"] = int(line.split()[1]) / 1024.0
            elif line.startswith("VmHWM:"):
                out["peak_rss_mib"] = int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return out


def machine() -> dict:
    """What the numbers were measured on."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    memory_gib = float("nan")
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gib = int(line.split()[1]) / 1024.0 / 1024.0
    except OSError:
        pass
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    wrk = None
    try:
        wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        pass
    try:
        load = os.getloadavg()
    except OSError:
        load = (float("nan"),) * 3
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu,
        "memory_gib": round(memory_gib, 1),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "packages": versions,
        "wrk": wrk,
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
        "load_average_at_start": [round(x, 2) for x in load],
    }


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=_plain) + "\n", encoding="utf-8")


def _plain(value: object) -> object:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value)}")


def fit_exponent(sizes: Sequence[float], seconds: Sequence[float]) -> float:
    """Slope of log(time) against log(size): cost grows as size ** slope."""
    x, y = np.log(np.asarray(sizes, dtype=float)), np.log(np.asarray(seconds, dtype=float))
    return float(np.polyfit(x, y, 1)[0])
