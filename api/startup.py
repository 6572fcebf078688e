"""Python's cyclic garbage collector paused while ``regiomatch`` starts.

Loading the libraries and our modules, building the app's routes and rendering the first report
create a few million objects, none of them garbage; the collector, triggered every 700 new
container objects, walks them again and again: 0.15-0.2 s of CPU of a start-up of about 1.3 s
(``benchmarks/README.md``, "First answers"). The ``regiomatch`` command (:mod:`api.launch`) pauses
it before anything is imported; ``regiomatch serve`` keeps it paused until the warm-up has
rendered the first report (:mod:`api.warmup`); every other command resumes it before it runs.
On resuming, what start-up made is moved out of the collector's sight (:func:`gc.freeze`): it
lives as long as the process, and later collections no longer walk it.

Pausing and resuming are idempotent and only resume what this module paused: an app made in a
test process (where nothing paused the collector) leaves it alone.

Examples
--------
What this module paused, it resumes once (``tests/test_startup.py`` checks the collector itself,
in a fresh interpreter: in a test process other threads may pause it for a moment too):

>>> pause(); resume(); _paused
False
"""

from __future__ import annotations

import gc
import threading

_lock = threading.Lock()
_paused = False


def pause() -> None:
    """Pause the collector, if it runs (a no-op when it is already off)."""
    global _paused
    with _lock:
        if gc.isenabled():
            gc.disable()
            _paused = True


def resume() -> None:
    """Resume the collector paused by :func:`pause`, keeping what exists now out of its sight."""
    global _paused
    with _lock:
        if _paused:
            gc.freeze()
            gc.enable()
            _paused = False


def settle() -> None:
    """Once the warm-up is done: collect what it left, then keep everything it prepared (render
    cache, outlines, libraries) out of later collections' sight, so a later collection (during
    a first print, say) walks only what requests make."""
    gc.collect()
    gc.freeze()

