"""The Markov chains: GerryChain's ReCom inside each nest zone, seeded, with progress and cancel.

One chain is one :class:`gerrychain.MarkovChain` over the chain graph of the problem
(:mod:`geo.ensemble.graph`: units of the same nest zone, no edge across a nest-zone line), with
GerryChain's ``recom`` proposal and its ``contiguous`` and ``Bounds`` constraints. Each step
merges two adjacent zones of one nest zone and re-splits them along a random spanning tree into
two zones within the population bounds, so every kept plan is valid by construction; the
validator (:func:`geo.ensemble.validate.validate_plan`) checks that in the tests, for every plan.

* **Bounds**: ReCom's ``pop_target`` and ``epsilon`` are set so that ``pop_target * (1 - epsilon)``
  is the lower bound and ``pop_target * (1 + epsilon)`` the upper one (without an upper bound:
  the whole territory's population, i.e. none).
* **Never stalls**: a spanning tree without a cut within the bounds is redrawn a bounded number of
  times, then another pair of zones is tried; when no pair can be re-split the step keeps the
  current plan (a rejected step, counted in the acceptance rate) instead of searching forever.
* **Fixed municipalities** keep their zone's label: a re-split that puts a fixed municipality
  under the other label of the pair is relabelled (the same plan), one that separates two fixed
  municipalities of different zones is rejected.
* **Reproducible**: chain ``c`` draws from ``random.Random(seed * 1_000_003 + c)``; nodes are
  integers, so nothing depends on string hashing. Same problem and seed: the same plans, in any
  process (local pool or Dask).

Every step is kept (one plan per step, ``spec.plans`` over all chains); a plan differs from the one
before in two zones of one nest zone, as in any ReCom chain.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from geo import dutch
from geo.errors import Cancelled, LimitExceeded

if TYPE_CHECKING:

    from geo.ensemble.problem import Problem

POLL_EVERY = 50
# Spanning trees drawn for one pair before trying another pair (GerryChain's default is 100,000).
MAX_TREE_ATTEMPTS = 200


@dataclass(frozen=True, eq=False)
class ChainResult:
    """One chain's plans and figures.

    Attributes
    ----------
    chain : int
    plans : numpy.ndarray
        ``(steps, n)`` int32: zone index per municipality (order ``problem.nis``).
    accepted : numpy.ndarray
        Per step: did the plan change (the first plan, the start, counts as not)?
    seconds : float
    """

    chain: int
    plans: np.ndarray
    accepted: np.ndarray
    seconds: float

    @property
    def acceptance_rate(self) -> float:
        """Share of steps after the first that were accepted (0.0 without steps)."""
        steps = len(self.accepted) - 1
        return float(self.accepted[1:].sum() / steps) if steps > 0 else 0.0

    def to_dict(self) -> dict:
        """The chain's summary as a JSON-ready dict."""
        return {"chain": self.chain, "plans": len(self.plans), "acceptance_rate": self.acceptance_rate,
                "seconds": round(self.seconds, 3)}


@dataclass(frozen=True, eq=False)
class EnsembleResult:
    """All chains' plans (chain by chain) and their per-plan measures.

    Attributes
    ----------
    chains : tuple of ChainResult
    plans : numpy.ndarray
        ``(spec.plans, n)`` int32, chain 0's plans first.
    chain_of : numpy.ndarray
        The chain of each plan.
    measures : dict of str to numpy.ndarray
        :func:`geo.ensemble.measures.plan_measures` of every plan.
    seconds : float
        Wall time of the run, measures included.
    """

    chains: tuple[ChainResult, ...]
    plans: np.ndarray
    chain_of: np.ndarray
    measures: dict[str, np.ndarray]
    seconds: float
    executor: str = "local"

    def to_dict(self) -> dict:
        """The run's summary as a JSON-ready dict."""
        return {"plans": len(self.plans), "chains": [c.to_dict() for c in self.chains],
                "seconds": round(self.seconds, 3), "executor": self.executor}


@dataclass
class _Step:
    """What a proposal function needs besides the partition (picklable, bound with partial)."""

    lower: float
    upper: float
    fixed_label: dict = field(default_factory=dict)  # node -> the zone it must keep


class _Bipartition:
    """GerryChain's ``bipartition_tree`` with a bounded number of trees per pair.

    A class with a plain ``(*args, **kwargs)`` call rather than a ``functools.partial``: GerryChain
    inspects the signature of the bipartition function on every step (its pre-1.0 adapter), and
    for a partial of ``bipartition_tree`` that inspection took a third of a step.
    """

    __gerrychain_legacy_adapter__ = True

    def __call__(self, *args, **kwargs):
        from gerrychain.tree import bipartition_tree

        return bipartition_tree(*args, max_attempts=MAX_TREE_ATTEMPTS, warn_attempts=10 * MAX_TREE_ATTEMPTS,
                                allow_pair_reselection=True, **kwargs)


def _proposal(partition, rng, *, step: _Step):
    from gerrychain.proposals import recom
    from gerrychain.proposals.tree_proposals import MetagraphError

    target = (step.lower + step.upper) / 2.0
    epsilon = (step.upper - step.lower) / (step.upper + step.lower) if step.upper + step.lower else 0.0
    try:
        proposed = recom(partition, pop_col="population", pop_target=target, epsilon=epsilon,
                         bipartition_tree_fn=_Bipartition(), rng=rng)
    except (MetagraphError, RuntimeError):
        return partition  # no pair can be re-split within the bounds: keep the plan (a rejected step)
    if not step.fixed_label:
        return proposed
    flips = cast("dict[int, int]", proposed.flips)  # a step's partition carries its flips
    pair = sorted(set(flips.values()))
    wrong = [node for node, label in step.fixed_label.items() if node in flips and flips[node] != label]
    if not wrong:
        return proposed
    right = [node for node, label in step.fixed_label.items() if node in flips and flips[node] == label]
    if right or len(pair) != 2:
        return partition  # fixed municipalities of both zones on one side: not a valid re-split
    swap = {pair[0]: pair[1], pair[1]: pair[0]}
    swapped = {node: swap[label] for node, label in flips.items()}
    if any(swapped[node] != label for node, label in step.fixed_label.items() if node in swapped):
        return partition
    return partition.flip(swapped)


def _fixed_ok(partition, *, fixed_label: dict) -> bool:
    assignment = partition.assignment
    return all(assignment[node] == label for node, label in fixed_label.items())


def chain_partition(problem: Problem):
    """The start as a GerryChain partition of the chain graph (node ``u`` is unit ``u``)."""
    import networkx as nx
    from gerrychain import Partition
    from gerrychain.updaters import Tally

    graph = nx.Graph()
    n_units = len(problem.unit_population)
    labels = np.zeros(n_units, dtype=np.int64)
    labels[problem.units[problem.in_chain]] = problem.start[problem.in_chain]
    for u in range(n_units):
        graph.add_node(u, population=float(problem.unit_population[u]))
    graph.add_edges_from((int(a), int(b)) for a, b in problem.unit_edges.tolist())
    return Partition(graph, {u: int(labels[u]) for u in range(n_units)},
                     {"population": Tally("population", alias="population")})


def _node_units(partition) -> np.ndarray:
    """Unit of each node id of the partition's (rustworkx) graph."""
    mapping = partition.graph.nx_to_rx_node_id_map if hasattr(partition.graph, "nx_to_rx_node_id_map") else None
    if not mapping:
        mapping = getattr(partition.graph, "_graph", partition.graph).nx_to_rx_node_id_map
    out = np.zeros(max(mapping.values()) + 1 if mapping else 0, dtype=np.int64)
    for unit, node in mapping.items():
        out[node] = unit
    return out


def chain_seed(seed: int, chain: int) -> int:
    """The random seed of chain ``chain`` of a run seeded with ``seed``."""
    return int(seed) * 1_000_003 + int(chain)


def run_chain(problem: Problem, chain: int, progress: Callable[[float], None] | None = None,
              cancelled: Callable[[], bool] | None = None) -> ChainResult:
    """Run chain ``chain`` of the problem: ``problem.plans_per_chain(chain)`` plans.

    Deterministic for ``(problem, problem.spec.seed, chain)``; top-level and picklable, so a
    process pool or a Dask worker can run it. ``progress(fraction)`` is called every
    :data:`POLL_EVERY` steps; ``cancelled()`` is polled as often and, when true, the chain stops
    with :class:`~geo.errors.Cancelled`. Beyond ``spec.max_seconds`` it stops with
    :class:`~geo.errors.LimitExceeded` naming the cap.

    Examples
    --------
    >>> from geo.storage.workspace import open_workspace
    >>> from geo.ensemble.problem import prepare
    >>> from geo.ensemble.spec import EnsembleSpec
    >>> problem = prepare(open_workspace(None, "sqlite://"),
    ...                   EnsembleSpec("eerstelijnszone", plans=20, chains=2, seed=3))
    >>> chain = run_chain(problem, 0)
    >>> chain.plans.shape
    (10, 304)
    >>> bool((run_chain(problem, 0).plans == chain.plans).all())  # same seed, same plans
    True
    """
    from gerrychain import MarkovChain
    from gerrychain.accept import always_accept
    from gerrychain.constraints import Bounds, contiguous

    began = time.monotonic()
    steps = problem.plans_per_chain(chain)
    n = len(problem.nis)
    plans = np.empty((steps, n), dtype=np.int32)
    accepted = np.zeros(steps, dtype=bool)
    base = problem.start.astype(np.int32).copy()
    if not len(problem.unit_population) or steps == 0:
        plans[:] = base
        return ChainResult(chain, plans, accepted, time.monotonic() - began)
    partition = chain_partition(problem)
    node_unit = _node_units(partition)
    unit_node = np.empty(len(node_unit), dtype=np.int64)
    unit_node[node_unit] = np.arange(len(node_unit))
    upper = problem.upper if problem.upper is not None else float(problem.population.sum())
    fixed_label = {int(unit_node[u]): int(partition.assignment[int(unit_node[u])])
                   for u in np.nonzero(problem.unit_fixed)[0].tolist()}
    proposal = partial(_proposal, step=_Step(problem.lower, upper, fixed_label))
    constraints: list[Callable[[Any], bool]] = [contiguous, Bounds(lambda p: p["population"].values(),
                                                                   (problem.lower, upper))]
    if fixed_label:
        constraints.append(partial(_fixed_ok, fixed_label=fixed_label))
    markov = MarkovChain(proposal, constraints, always_accept, partition, steps,
                         rng=random.Random(chain_seed(problem.spec.seed, chain)))
    unit_labels = np.zeros(len(node_unit), dtype=np.int32)
    for node, label in partition.assignment.mapping.items():
        unit_labels[node_unit[node]] = label
    rows = np.nonzero(problem.in_chain)[0]
    row_units = problem.units[rows]
    previous = None
    for k, state in enumerate(markov):
        if previous is not None and state is not previous:
            accepted[k] = True
            for node, label in cast("dict[int, int]", state.flips).items():
                unit_labels[node_unit[node]] = label
        previous = state
        plan = plans[k]
        plan[:] = base
        plan[rows] = unit_labels[row_units]
        if k % POLL_EVERY == 0:
            if cancelled is not None and cancelled():
                raise Cancelled("De berekening werd geannuleerd.")
            if time.monotonic() - began > problem.spec.max_seconds:
                cap = problem.spec.max_seconds
                shown = dutch.number(cap) if cap >= 1 else f"{cap:g}".replace(".", ",")
                raise LimitExceeded(f"De berekening duurde langer dan het maximum van {shown} seconden; "
                                    "vraag minder indelingen.")
            if progress is not None:
                progress(k / steps)
    if progress is not None:
        progress(1.0)
    return ChainResult(chain, plans, accepted, time.monotonic() - began)
