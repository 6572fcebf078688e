"""Chains on a real Dask cluster equal the local run for the same seed (issue 28, item 5).

Starts ``dask scheduler`` and two ``dask worker`` processes on loopback with random free ports,
points ``REGIOMATCH_DASK_SCHEDULER`` at the scheduler and runs a small ensemble through the
default executor. Skipped with one line where Dask's command-line tools are missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from geo.ensemble.problem import prepare
from geo.ensemble.run import run_ensemble
from geo.ensemble.sampler import run_chain
from geo.ensemble.spec import EnsembleSpec
from geo.storage.workspace import open_workspace

ROOT = Path(__file__).resolve().parents[1]
DASK = shutil.which("dask") or str(Path(sys.executable).with_name("dask"))

pytestmark = [pytest.mark.server,
              pytest.mark.skipif(not Path(DASK).exists(),
                                 reason="needs the dask command line: pip install 'dask[distributed]'")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("dask")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    # Workers import this checkout's geo (not whatever the environment's editable install points at).
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    common = {"cwd": ROOT, "env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    processes = [subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                   "--no-dashboard"], **common)]
    try:
        for _ in range(2):
            processes.append(subprocess.Popen([DASK, "worker", address, "--nthreads", "1", "--nworkers", "1",
                                               "--no-dashboard", "--host", "127.0.0.1",
                                               "--local-directory", str(tmp_path)], **common))
        from distributed import Client

        deadline = time.monotonic() + 90
        while True:
            try:
                with Client(address, timeout=5) as client:
                    client.wait_for_workers(2, timeout=max(1.0, deadline - time.monotonic()))
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def test_dask_chains_equal_the_local_run(cluster, monkeypatch):
    problem = prepare(open_workspace(None, "sqlite://"), EnsembleSpec("eerstelijnszone", plans=60, chains=3, seed=5))
    monkeypatch.setenv("REGIOMATCH_DASK_SCHEDULER", cluster)
    seen = []
    result = run_ensemble(problem, progress=seen.append)
    assert result.executor == "dask"
    local = np.concatenate([run_chain(problem, c).plans for c in range(3)])
    assert np.array_equal(result.plans, local)
    assert seen[-1] == 1.0


def test_a_running_dask_chain_is_cancelled(cluster, monkeypatch):
    from geo.errors import Cancelled

    problem = prepare(open_workspace(None, "sqlite://"), EnsembleSpec("eerstelijnszone", plans=20_000, chains=2, seed=5))
    monkeypatch.setenv("REGIOMATCH_DASK_SCHEDULER", cluster)
    seen: list[float] = []
    began = time.monotonic()
    with pytest.raises(Cancelled):
        run_ensemble(problem, progress=seen.append, cancelled=lambda: len(seen) > 0 and seen[-1] > 0.0)
    # The chains report progress while running (not only when finished), and stop when told.
    assert 0.0 < seen[-1] < 0.99
    assert time.monotonic() - began < 60
