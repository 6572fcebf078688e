"""A whole ensemble: ``spec.chains`` chains on an executor (a local process pool, or Dask), then
every measure of every plan. Apart from :mod:`geo.ensemble.sampler` (one chain), which the
executors run, so neither imports the other's caller.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from geo.ensemble.executors import run_chains
from geo.ensemble.measures import plan_measures
from geo.ensemble.sampler import EnsembleResult

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from geo.ensemble.problem import Problem


def run_ensemble(problem: Problem, executor: Executor | None = None,
                 progress: Callable[[float], None] | None = None,
                 cancelled: Callable[[], bool] | None = None, *, workers: int | None = None) -> EnsembleResult:
    """Run ``spec.chains`` chains and measure every plan.

    Parameters
    ----------
    problem : Problem
        From :func:`geo.ensemble.problem.prepare`.
    executor : concurrent.futures.Executor, optional
        Where chains run. None: :func:`geo.ensemble.executors.default_executor` (a Dask cluster when
        ``REGIOMATCH_DASK_SCHEDULER`` is set, else a local process pool), closed afterwards.
    progress : callable, optional
        Called with the fraction done (0 to 1).
    cancelled : callable, optional
        Polled; when it returns true the run stops with :class:`~geo.errors.Cancelled`.
    workers : int, optional
        At most this many local processes (default: one per chain, up to the cores); they run at
        a lower priority (``os.nice``) than the caller.

    Returns
    -------
    EnsembleResult

    Examples
    --------
    >>> from geo.storage.workspace import open_workspace
    >>> from geo.ensemble.problem import prepare
    >>> from geo.ensemble.spec import EnsembleSpec
    >>> problem = prepare(open_workspace(None, "sqlite://"),
    ...                   EnsembleSpec("eerstelijnszone", plans=20, chains=2, seed=3))
    >>> result = run_ensemble(problem)
    >>> result.plans.shape, result.measures["zones_touched"].shape
    ((20, 304), (20, 4))
    """
    began = time.monotonic()
    chains, kind = run_chains(problem, executor, progress, cancelled, workers)
    plans = np.concatenate([c.plans for c in chains], axis=0)
    chain_of = np.concatenate([np.full(len(c.plans), c.chain, dtype=np.int32) for c in chains])
    measures = plan_measures(problem.measures, plans, problem.n_zones)
    return EnsembleResult(tuple(chains), plans, chain_of, measures, time.monotonic() - began, kind)
