"""Steady concurrent reads and writes against a real server lose nothing and answer every request
(the figures, latency and memory over a longer run, are ``benchmarks/bench_soak.py``).

Six clients loop over the everyday mix for ``REGIOMATCH_SOAK_SECONDS`` (default 20 s) on two
workers: every response is the expected 2xx and what was created and deleted in step is all there.
"""

from __future__ import annotations

import os

import pytest

from benchmarks.bench_soak import CLIENTS, run_slow_import, run_soak

pytestmark = [pytest.mark.soak, pytest.mark.server]

SECONDS = float(os.environ.get("REGIOMATCH_SOAK_SECONDS", "20"))


def test_steady_load_gives_no_error_and_loses_nothing(tmp_path):
    run = run_soak(tmp_path / "state", SECONDS)
    assert not run["errors"], run["errors"][:10]
    assert run["samples"], "no request was answered"
    assert len(run["scenarios"]) == CLIENTS and len(run["layers"]) == 15  # created and deleted in step


def test_other_requests_are_answered_while_one_worker_reads_a_big_upload(tmp_path):
    run = run_slow_import(tmp_path / "state")
    assert run["status"] == 201
    during = [t for t in run["answered"] if run["started"] < t < run["ended"]]
    assert during, "no other request was answered while the upload was read"
