"""The garbage collector is paused while regiomatch starts, and only then (api.startup, api.launch).

Each check runs in a fresh interpreter: the collector is process-wide, and in a test process
other threads (a subprocess being forked) pause it for a moment too.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.server import REPO

pytestmark = pytest.mark.server  # each check starts an interpreter (left out of `make check`)


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


def test_pause_and_resume_keep_what_start_up_made_out_of_the_collectors_sight():
    out = _run("import gc; from api import startup\n"
               "startup.pause(); paused = gc.isenabled()\n"
               "startup.resume(); resumed = gc.isenabled(); frozen = gc.get_freeze_count()\n"
               "startup.resume(); again = gc.isenabled()\n"
               "print(paused, resumed, frozen > 1000, again)")
    assert out == "False True True True"


def test_a_collector_switched_off_by_someone_else_stays_off():
    out = _run("import gc; from api import startup\n"
               "gc.disable(); startup.pause(); startup.resume(); print(gc.isenabled())")
    assert out == "False"


def test_every_command_but_serve_runs_with_the_collector_on():
    # the regiomatch command pauses it before loading anything; `layers` runs with it on again
    out = _run("import gc, io, contextlib; from api.launch import main\n"
               "with contextlib.redirect_stdout(io.StringIO()):\n"
               "    code = main(['layers'])\n"
               "print(code, gc.isenabled())")
    assert out == "0 True"
