"""Where chains run: a local process pool by default, a Dask cluster when there is one.

When the environment variable ``REGIOMATCH_DASK_SCHEDULER`` names a Dask scheduler (for example
``tcp://10.0.0.5:8786``), each chain is one task on that cluster (``distributed``); otherwise the
chains run in a local :class:`~concurrent.futures.ProcessPoolExecutor` with one process per chain,
up to the number of cores. A chain is deterministic for its seed, so both give the same plans.

Progress and cancelling: in the local pool every chain reports its fraction through shared memory
and polls a shared cancel flag; on Dask through ``distributed.Variable`` objects on the scheduler
(one per chain, and one cancel flag), so a running chain on a worker stops too. With any other
executor a caller passes, progress counts finished chains and only pending chains are cancelled.

Examples
--------
>>> import os
>>> os.environ.pop(DASK_ENV, None) is None or True
True
>>> kind_of_default()
'local'
"""

from __future__ import annotations

import multiprocessing
import os
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Executor, ProcessPoolExecutor, wait
from typing import TYPE_CHECKING

from geo.errors import Cancelled, InvalidInput

if TYPE_CHECKING:
    from geo.ensemble.problem import Problem
    from geo.ensemble.sampler import ChainResult

DASK_ENV = "REGIOMATCH_DASK_SCHEDULER"
POLL_SECONDS = 0.2

# Set in each local worker process by _init: (shared progress per chain, shared cancel flag).
_SHARED: tuple | None = None


def kind_of_default() -> str:
    """``"dask"`` when ``REGIOMATCH_DASK_SCHEDULER`` is set, else ``"local"``."""
    return "dask" if os.environ.get(DASK_ENV, "").strip() else "local"


def _context() -> multiprocessing.context.BaseContext:
    # fork is fastest (no re-import of numpy and GerryChain per worker) but unsafe in a process with
    # other threads (a web server): there, forkserver.
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("forkserver")


# Chain processes run at a lower priority than the process that started them: a web server next to
# a running ensemble keeps answering (its /health stays fast) while the chains use what is left.
NICE = 10


def _init(progress, flag) -> None:  # noqa: ANN001 - multiprocessing shared objects
    global _SHARED
    _SHARED = (progress, flag)
    try:
        os.nice(NICE)
    except (AttributeError, OSError):  # pragma: no cover - not on this platform
        pass


def _local_chain(problem: Problem, chain: int) -> ChainResult:
    from geo.ensemble.sampler import run_chain

    progress, flag = _SHARED  # type: ignore[misc]

    def report(fraction: float) -> None:
        progress[chain] = fraction

    return run_chain(problem, chain, report, lambda: bool(flag.value))


def local_executor(workers: int) -> tuple[ProcessPoolExecutor, object, object]:
    """A process pool of ``workers`` processes with the shared progress array and cancel flag."""
    context = _context()
    progress = context.Array("d", max(workers, 1) * 64, lock=False)
    flag = context.Value("b", 0, lock=False)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init, initargs=(progress, flag))
    return pool, progress, flag


def dask_executor(address: str | None = None) -> Executor:
    """A :class:`concurrent.futures.Executor` on the Dask cluster at ``address`` (default: the
    ``REGIOMATCH_DASK_SCHEDULER`` variable)."""
    address = (address or os.environ.get(DASK_ENV, "")).strip()
    if not address:
        raise InvalidInput(f"Geen Dask-cluster opgegeven ({DASK_ENV} is leeg).")
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - distributed is a dependency
        raise InvalidInput("Dask (pakket 'distributed') is niet geïnstalleerd; "
                           "installeer 'dask[distributed]'.") from None
    client = Client(address, timeout=10, set_as_default=False)
    executor = client.get_executor(pure=False)
    executor._regiomatch_client = client  # closed with the executor (see run_chains)
    return executor


def default_executor(chains: int) -> tuple[Executor, str]:
    """The executor :func:`geo.ensemble.run.run_ensemble` uses when none is given."""
    if kind_of_default() == "dask":
        return dask_executor(), "dask"
    return ProcessPoolExecutor(max_workers=local_workers(chains), mp_context=_context()), "local"


def _dask_chain(problem: Problem, chain: int, token: str) -> ChainResult:
    """A chain on a Dask worker, reporting progress and reading the cancel flag through the
    scheduler's ``distributed.Variable`` objects named after ``token``."""
    from distributed import Variable

    from geo.ensemble.sampler import run_chain

    cancel, progress = Variable(f"{token}-cancel"), Variable(f"{token}-progress-{chain}")
    return run_chain(problem, chain, progress.set, lambda: bool(cancel.get(timeout=10)))


class _Channel:
    """How the parent reads the chains' progress and tells them to stop."""

    def __init__(self, chains: int):
        self.chains = chains

    def fractions(self, done: int) -> float:
        return done / self.chains

    def cancel(self) -> None:
        """Nothing to tell running chains: pending ones are cancelled by their futures."""

    def close(self) -> None:
        """Nothing to release."""


class _SharedMemory(_Channel):
    def __init__(self, chains: int, progress, flag):  # noqa: ANN001 - multiprocessing shared objects
        super().__init__(chains)
        self.progress, self.flag = progress, flag
        for i in range(chains):
            progress[i] = 0.0

    def fractions(self, done: int) -> float:
        return sum(min(max(self.progress[i], 0.0), 1.0) for i in range(self.chains)) / self.chains

    def cancel(self) -> None:
        self.flag.value = 1


class _DaskVariables(_Channel):
    def __init__(self, chains: int, client):  # noqa: ANN001 - distributed.Client
        from distributed import Variable

        super().__init__(chains)
        self.token = f"regiomatch-ensemble-{secrets.token_hex(8)}"
        self.cancel_flag = Variable(f"{self.token}-cancel", client=client)
        self.cancel_flag.set(False)
        self.progress = [Variable(f"{self.token}-progress-{c}", client=client) for c in range(chains)]
        for variable in self.progress:
            variable.set(0.0)

    def fractions(self, done: int) -> float:
        try:
            return sum(min(max(float(v.get(timeout=2)), 0.0), 1.0) for v in self.progress) / self.chains
        except Exception:  # noqa: BLE001 - a slow scheduler: fall back to finished chains
            return done / self.chains

    def cancel(self) -> None:
        self.cancel_flag.set(True)

    def close(self) -> None:
        for variable in [self.cancel_flag, *self.progress]:
            try:
                variable.delete()
            except Exception:  # noqa: BLE001, S110 - the cluster may be gone already
                pass


def _client_of(executor: Executor):  # noqa: ANN202 - distributed.Client or None
    return getattr(executor, "_regiomatch_client", None) or getattr(executor, "_client", None)


def local_workers(chains: int, workers: int | None = None) -> int:
    """Processes of the local pool: one per chain, at most ``workers`` (default: the cores)."""
    return max(1, min(chains, workers or os.cpu_count() or 1))


def run_chains(problem: Problem, executor: Executor | None, progress: Callable[[float], None] | None,
               cancelled: Callable[[], bool] | None, workers: int | None = None) -> tuple[list[ChainResult], str]:
    """Run every chain of the problem; results in chain order, and which kind of executor ran them.
    ``workers`` caps the local pool's processes (a server may keep a core for requests)."""
    from geo.ensemble.sampler import run_chain

    chains = problem.spec.chains
    close: Callable[[], None] | None = None
    channel: _Channel
    if executor is None and kind_of_default() == "local":
        pool, shared_progress, flag = local_executor(local_workers(chains, workers))
        executor, kind, channel = pool, "local", _SharedMemory(chains, shared_progress, flag)
        close = lambda: pool.shutdown(wait=True, cancel_futures=True)  # noqa: E731
        futures = [executor.submit(_local_chain, problem, c) for c in range(chains)]
    else:
        if executor is None:
            executor, kind = default_executor(chains)
            close = lambda: _close(executor)  # noqa: E731
        else:
            kind = "dask" if _client_of(executor) is not None else "executor"
        if kind == "dask":
            variables = _DaskVariables(chains, _client_of(executor))
            channel = variables
            futures = [executor.submit(_dask_chain, problem, c, variables.token) for c in range(chains)]
        else:
            channel = _Channel(chains)
            futures = [executor.submit(run_chain, problem, c) for c in range(chains)]
    try:
        while True:
            done, pending = wait(futures, timeout=POLL_SECONDS, return_when=FIRST_EXCEPTION)
            for future in done:
                failure = future.exception()
                if failure is not None:
                    raise failure
            if cancelled is not None and cancelled():
                channel.cancel()
                for future in pending:
                    future.cancel()
                raise Cancelled("De berekening werd geannuleerd.")
            if progress is not None:
                fraction = channel.fractions(len(done))
                progress(min(fraction, 0.99) if pending else 1.0)
            if not pending:
                break
        return [f.result() for f in futures], kind
    finally:
        channel.close()
        if close is not None:
            close()


def _close(executor: Executor) -> None:
    executor.shutdown(wait=False)
    client = getattr(executor, "_regiomatch_client", None)
    if client is not None:
        client.close()
