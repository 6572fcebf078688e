"""The upload sandbox as it was before the pool (issue 22 item 5): a child forked per upload from
the fork server, which says "started", sets its limits and reads. Kept here only so that
``benchmarks/bench_libs.py`` measures it beside :mod:`geo.uploads.sandbox` in one run.
"""

from __future__ import annotations

import threading
from dataclasses import asdict
from typing import Any

from geo import errors
from geo.uploads import sandbox
from geo.uploads.sandbox import ImportLimits

_slots: dict[int, threading.BoundedSemaphore] = {}
_lock = threading.Lock()


def _child(connection, job: str, content: bytes, filename: str, limits: dict, extra: dict) -> None:
    import resource

    chosen = ImportLimits(**limits)
    connection.send(("started",))  # the wall time counts from here, not from the fork server's start
    resource.setrlimit(resource.RLIMIT_CPU, (chosen.cpu_seconds, chosen.cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (chosen.memory_bytes, chosen.memory_bytes))
    result: tuple[Any, ...]
    try:
        if job == "build":
            result = ("ok", sandbox.build_limited(content, filename, chosen, **extra))
        else:
            result = ("ok", sandbox.read_limited(content, filename, chosen))
    except errors.RegiomatchError as exc:
        result = ("error", type(exc).__name__, exc.detail)
    except MemoryError:
        result = ("error", "LimitExceeded", sandbox._memory_message(filename, chosen))
    except Exception as exc:  # noqa: BLE001
        reason = (str(exc).splitlines() or [type(exc).__name__])[0][:300]
        result = ("error", "InvalidInput", f"{filename!r} kon niet gelezen worden: {reason}")
    connection.send(result)
    connection.close()


def parse_upload(content: bytes, filename: str, limits: ImportLimits | None = None):
    return _limited("parse", content, filename, limits or ImportLimits(), {})


def build_upload(content: bytes, filename: str, catalog, limits: ImportLimits | None = None):  # noqa: ANN001
    extra = {"data_dir": str(catalog.data_dir), "population_year": int(catalog.atoms.population_year),
             "layer_id": "voorbeeld", "options": {}, "preview": False}
    return _limited("build", content, filename, limits or ImportLimits(), extra)


def _limited(job: str, content: bytes, filename: str, limits: ImportLimits, extra: dict):
    with _lock:
        slot = _slots.setdefault(limits.parallel, threading.BoundedSemaphore(limits.parallel))
    if not slot.acquire(blocking=False):
        raise errors.Busy("busy")
    try:
        return _run_child(job, content, filename, limits, extra)
    finally:
        slot.release()


def _run_child(job: str, content: bytes, filename: str, limits: ImportLimits, extra: dict):
    context = sandbox._process_context()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(sender, job, content, filename, asdict(limits), extra),
                              daemon=True)
    process.start()
    sender.close()
    try:
        try:
            started = receiver.poll(120) and receiver.recv() == ("started",)
        except (EOFError, OSError):
            started = False
        if not started:
            process.join(5)
            raise sandbox._death(process.exitcode, filename, limits)
        if not receiver.poll(limits.wall_seconds):
            raise errors.LimitExceeded(f"het inlezen van {filename!r} duurde langer dan {limits.wall_seconds:g} s "
                                       "(import_wall_seconds)")
        try:
            result = receiver.recv()
        except (EOFError, OSError):
            process.join(5)
            raise sandbox._death(process.exitcode, filename, limits) from None
    finally:
        if process.is_alive():
            process.kill()
        process.join(5)
        receiver.close()
    if result[0] == "ok":
        return result[1]
    _, kind, detail = result
    raise getattr(errors, kind, errors.InvalidInput)(detail)
