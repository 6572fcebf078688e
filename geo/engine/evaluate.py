"""Incremental scenario evaluation: what does moving one municipality do to every measure?

A planner (or :mod:`geo.zoning.suggest`) edits a base layer one move at a time and wants, after each
move, the measures of each reference layer (the associations, say) against the edited zoning.
Re-running :func:`geo.engine.overlay.overlay` does that from scratch: sparse products over every
municipality, every time. But a move only replaces one row of the base membership matrix, so
in each contingency table only the cells in the rows of the municipality's reference zones and
the columns of its old and new base zones change. The :class:`Evaluator` keeps the tables
(dense: a few dozen by a few dozen cells) and updates just those cells, then recomputes the
measures from the small tables. The cost of a move does not depend on the number of
municipalities, only on the number of zones.

The numbers are those of ``overlay(apply_moves(base, moves), reference).summary`` (or with the
two layers swapped, see ``base_as``), to rounding: about 1e-12 for the [0, 1] measures; gap and
overlap weights are exact for population and equal to a few ulps for area.

Like a GerryChain partition with updaters, any other measure can be computed from the same
incrementally kept tables: :meth:`Evaluator.tables` gives each reference's table (and the weight
outside every reference zone) and :meth:`Evaluator.trial` runs any function on the state after some
moves and undoes them. :mod:`geo.zoning.suggest` scores its candidate moves that way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

import numpy as np
from scipy import sparse

from geo.engine.atoms import Weight
from geo.engine.layer import Layer
from geo.engine.overlay import Summary, overlay, settle, summary_from_tables, weighted_table
from geo.engine.scenario import Move, apply_moves, check_moves
from geo.errors import InvalidInput

BaseAs = Literal["a", "b"]
T = TypeVar("T")
# After subtracting a municipality's contribution, a cell that held only that contribution
# comes back as +-1 ulp; below this fraction of the subtracted weight it is exactly empty.
_EMPTY = 1e-10
_ZERO = np.zeros(1, dtype=int)


@dataclass
class _Rows:
    """CSR arrays of a (fixed) membership matrix, for reading one row without scipy overhead."""

    indptr: np.ndarray
    cols: np.ndarray
    vals: np.ndarray

    @classmethod
    def of(cls, matrix: sparse.csr_array) -> "_Rows":
        m = sparse.csr_array(matrix)
        m.sum_duplicates()
        return cls(m.indptr, m.indices, m.data)

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        start, end = self.indptr[i], self.indptr[i + 1]
        return self.cols[start:end], self.vals[start:end]


@dataclass(frozen=True)
class Tables:
    """One reference layer against the edited base, as it stands: the input of any measure.

    Attributes
    ----------
    reference : Layer
        The reference layer (e.g. ``samenwerkingsverband``).
    table : numpy.ndarray
        Weight of each reference zone (rows) in each base zone (columns), after the moves.
    outside : numpy.ndarray
        Weight in each base zone of the municipalities (or the part of them) in no reference zone.

    The arrays are the evaluator's own (no copy, for speed): read them, do not keep or change them.
    """

    reference: Layer
    table: np.ndarray
    outside: np.ndarray


class _Reference:
    """One reference layer against the edited base: its tables and gap/overlap terms."""

    def __init__(self, layer: Layer, base: Layer, weight: Weight, base_as: BaseAs):
        w = layer.atoms.weights(weight)
        first = overlay(layer, base, weight) if base_as == "b" else overlay(base, layer, weight)
        self.layer = layer
        self.rows = _Rows.of(layer.membership)
        # Stored as reference zones x base zones whatever the orientation of the measures.
        # Dense here (reference zones x the base's zones, edited in place by each move), in the memory
        # order the measures were always summed in: column-major, or its transpose.
        dense = first.table.toarray()
        self.table = np.asfortranarray(dense) if base_as == "b" else np.ascontiguousarray(dense.T)
        self.totals = layer.membership.T @ w
        self.coverage = layer.coverage()
        # Weight of each atom in no zone of this layer, and its sum per base zone.
        self.outside_weight = w * np.clip(1.0 - self.coverage, 0.0, 1.0)
        self.outside = np.asarray(base.membership.T @ self.outside_weight, dtype=float)
        # The partition measures count a municipality in two zones as one combined group
        # (Layer.partition); only needed when a layer has such municipalities.
        self.partitioned = layer.partition() is not layer.membership or base.partition() is not base.membership
        if self.partitioned:
            self.partition_rows = _Rows.of(layer.partition())
            self.partition_table = _partition_table(layer, base, w)
        else:
            self.partition_rows = self.rows
            self.partition_table = self.table
        # Per-municipality terms of gap and overlap (as in geo.engine.overlay.summarise), so a move
        # changes one term and the sum by the difference.
        if base_as == "b":
            self.gap_terms = w * np.minimum(base.coverage(), 1.0) * np.clip(1.0 - self.coverage, 0.0, 1.0)
            self.overlap_terms = w * np.clip(self.coverage - 1.0, 0.0, 1.0)
        else:
            self.gap_terms = w * np.minimum(self.coverage, 1.0) * np.clip(1.0 - base.coverage(), 0.0, 1.0)
            self.overlap_terms = w * np.clip(base.coverage() - 1.0, 0.0, 1.0)
        self.gap = first.summary.gap_weight
        self.overlap = first.summary.overlap_weight
        self.weights, self.unit_free = w, weight != "population"
        # The measures of the current state, until a move changes this reference's tables:
        # most municipalities are in no association, and moving them changes nothing here.
        self.summary: Summary | None = None


def _partition_table(reference: Layer, base: Layer, w: np.ndarray) -> np.ndarray:
    """Weighted table of the two layers' partitions (see :meth:`Layer.partition`), reference x base."""
    return np.array(weighted_table(reference.partition(), base.partition(), w))


class Evaluator:
    """Measures of reference layers against a base layer being edited, updated move by move.

    Parameters
    ----------
    base : Layer
        The layer being edited (e.g. ``eerstelijnszone``). A move puts one municipality wholly
        in one existing zone of it, as :func:`geo.engine.scenario.apply_moves` does.
    references : Layer or sequence of Layer
        The layers each scenario is judged against (e.g. ``samenwerkingsverband``), with
        distinct ids.
    weight : {"population", "area"}
        Inhabitants (Statbel, 1 January of ``atoms.population_year``) or km^2.
    base_as : {"a", "b"}
        Role of the edited layer in the overlay: ``"b"`` (default) gives the measures of
        ``overlay(reference, scenario)``, i.e. how each association fits the proposed zones
        (nested share = share of the associations' inhabitants whose association lies in one
        zone); ``"a"`` gives ``overlay(scenario, reference)``.

    Notes
    -----
    An evaluator is a small mutable working state (one per user session or search), not
    thread-safe. ``try_move`` and ``score`` leave it exactly as it was; ``apply`` and ``undo``
    change it. Building one costs one overlay per reference (a few milliseconds).

    Examples
    --------
    >>> from geo.reference.catalog import load_catalog
    >>> catalog = load_catalog()
    >>> ev = Evaluator(catalog.layer("eerstelijnszone"), catalog.layer("samenwerkingsverband"))
    >>> round(ev.summaries()["samenwerkingsverband"].nested_share, 4)  # only Neteland lies in one zone
    0.0768
    >>> tried = ev.try_move(34027, "elz18")  # Menen to Kortrijk-Kuurne-Harelbeke: a question only
    >>> ev.moves
    []
    >>> after = ev.apply(34041, "elz18")  # Wevelgem to Kortrijk-Kuurne-Harelbeke, for good
    >>> ev.moves
    [Move(nis_code=34041, to_zone='elz18')]
    >>> ev.zones_of(34041)
    ['elz18']
    >>> after["samenwerkingsverband"].as_dict() == ev.summaries()["samenwerkingsverband"].as_dict()
    True
    >>> scenario = ev.layer()  # the edited zoning as a Layer, for maps and saving
    """

    def __init__(self, base: Layer, references: Layer | Sequence[Layer], weight: Weight = "population", *,
                 base_as: BaseAs = "b"):
        if isinstance(references, Layer):
            references = [references]
        if base_as not in ("a", "b"):
            raise InvalidInput(f"base_as must be 'a' or 'b', got {base_as!r}")
        ids = [r.id for r in references]
        if len(set(ids)) != len(ids):
            raise InvalidInput(f"reference layers must have distinct ids, got {ids}")
        for reference in references:
            if reference.atoms is not base.atoms:
                raise InvalidInput(f"layers {reference.id!r} and {base.id!r} are not over the same municipalities")
        if weight == "area":
            # By area a layer with polygons counts its polygons' area (geo.engine.areas), as the overlay does.
            from geo.engine.areas import area_view

            base, references = area_view(base), [area_view(r) for r in references]
        self.base = base
        self.weight: Weight = weight
        self.base_as: BaseAs = base_as
        self._w = base.atoms.weights(weight)
        self._rows = _Rows.of(base.membership)
        self._partition_rows = _Rows.of(base.partition())
        self._coverage = base.coverage().copy()  # edited in place by moves
        self._totals = base.membership.T @ self._w
        self._moved: dict[int, int] = {}  # atom position -> base zone column, in order of moving
        self._refs = {r.id: _Reference(r, base, weight, base_as) for r in references}

    # -- reading the current state ---------------------------------------------------------------
    @property
    def reference_ids(self) -> list[str]:
        """Ids of the reference layers evaluated against."""
        return list(self._refs)

    @property
    def moves(self) -> list[Move]:
        """The moves applied so far (one per municipality, the latest), in the order first applied."""
        codes = self.base.atoms.nis_codes
        return [Move(int(codes[pos]), str(self.base.zones["code"].iloc[col])) for pos, col in self._moved.items()]

    def zones_of(self, nis_code: int) -> list[str]:
        """Codes of the base zones the municipality is in now (after the applied moves).

        Parameters
        ----------
        nis_code : int
            A 2025 NIS code (unknown codes raise ``UnknownMunicipality``).

        Returns
        -------
        list of str
            Empty for a municipality in no zone.
        """
        pos = self.base.atoms.position(nis_code)
        cols, _ = self._base_row(pos)
        return [str(self.base.zones["code"].iloc[c]) for c in cols]

    def table(self, reference_id: str) -> np.ndarray:
        """The current contingency table, oriented as ``overlay`` would return it.

        Parameters
        ----------
        reference_id : str
            One of :attr:`reference_ids` (others raise ``InvalidInput``).

        Returns
        -------
        numpy.ndarray
            A copy: base zones x reference zones when ``base_as="a"``, the transpose otherwise.
        """
        table = self._reference(reference_id).table
        return table.copy() if self.base_as == "b" else table.T.copy()

    def summaries(self) -> dict[str, Summary]:
        """Measures of every reference against the base with the applied moves, by reference id.

        Returns
        -------
        dict of str to Summary
            By reference id.
        """
        return {rid: self._summary(ref) for rid, ref in self._refs.items()}

    def tables(self) -> dict[str, Tables]:
        """Each reference's current table against the base (reference zones x base zones, whatever
        ``base_as``), by reference id: what any other measure is computed from.

        Returns
        -------
        dict of str to Tables
        """
        return {rid: Tables(ref.layer, ref.table, ref.outside) for rid, ref in self._refs.items()}

    def layer(self, **kwargs: object) -> Layer:
        """The base layer with the applied moves (``apply_moves(base, ev.moves, **kwargs)``).

        Parameters
        ----------
        **kwargs
            ``id``, ``name``, ``description`` of the new layer (see :func:`geo.engine.scenario.apply_moves`).

        Returns
        -------
        Layer
            Of kind ``scenario``.
        """
        return apply_moves(self.base, self.moves, **kwargs)  # type: ignore[arg-type]

    # -- evaluating and applying moves -----------------------------------------------------------
    def try_move(self, nis_code: int, to_zone: str) -> dict[str, Summary]:
        """Measures if the municipality moved to ``to_zone``; nothing changes.

        Unknown municipalities and zones are refused (:class:`~geo.errors.UnknownMunicipality`,
        :class:`~geo.errors.InvalidInput`) as :func:`geo.engine.scenario.check_moves` does.

        Parameters
        ----------
        nis_code : int
            A 2025 NIS code.
        to_zone : str
            A zone code of the base layer.

        Returns
        -------
        dict of str to Summary
            By reference id.
        """
        return self.score([Move(nis_code, to_zone)])

    def score(self, moves: Iterable[Move]) -> dict[str, Summary]:
        """Measures with ``moves`` applied on top of the applied ones; nothing changes.

        Parameters
        ----------
        moves : iterable of Move
            Checked as :func:`geo.engine.scenario.check_moves` does.

        Returns
        -------
        dict of str to Summary
            By reference id.
        """
        self.summaries()  # the current measures survive the trial (they are restored with it)
        return self.trial(moves, Evaluator.summaries)

    def trial(self, moves: Iterable[Move], updater: Callable[["Evaluator"], T]) -> T:
        """``updater(self)`` with ``moves`` applied on top of the applied ones; nothing changes.

        The updater reads the state (:meth:`tables`, :meth:`summaries`, :meth:`zones_of`) and
        returns what it computed; it must not apply moves itself.

        Parameters
        ----------
        moves : iterable of Move
            Checked as :func:`geo.engine.scenario.check_moves` does.
        updater : callable
            Called with this evaluator while the moves are applied.

        Returns
        -------
        object
            What ``updater`` returned.

        Examples
        --------
        >>> from geo.reference.catalog import load_catalog
        >>> catalog = load_catalog()
        >>> ev = Evaluator(catalog.layer("eerstelijnszone"), catalog.layer("samenwerkingsverband"))
        >>> def in_kortrijk_zone(ev):  # inhabitants of W13 members in elz18 (Kortrijk-Kuurne-Harelbeke)
        ...     t = ev.tables()["samenwerkingsverband"]
        ...     return round(t.table[t.reference.zone_position("W13"), ev.base.zone_position("elz18")])
        >>> before = in_kortrijk_zone(ev)
        >>> ev.trial([Move(34025, "elz18")], in_kortrijk_zone) - before == round(ev.base.atoms.population(34025))
        True
        >>> in_kortrijk_zone(ev) == before  # the trial left nothing behind
        True
        """
        steps = self._checked(moves)
        saved = self._save()
        try:
            for pos, col in steps:
                self._set_row(pos, col, saved)
            return updater(self)
        finally:
            self._restore(saved)

    def apply(self, nis_code: int, to_zone: str) -> dict[str, Summary]:
        """Move the municipality to ``to_zone`` for good and return the new measures.

        Parameters
        ----------
        nis_code : int
            A 2025 NIS code.
        to_zone : str
            A zone code of the base layer.

        Returns
        -------
        dict of str to Summary
            By reference id.
        """
        [(pos, col)] = self._checked([Move(nis_code, to_zone)])
        self._set_row(pos, col, None)
        return self.summaries()

    def undo(self, nis_code: int) -> dict[str, Summary]:
        """Put the municipality back in its zones of the base layer (a no-op if it never moved).

        Parameters
        ----------
        nis_code : int
            A 2025 NIS code.

        Returns
        -------
        dict of str to Summary
            By reference id.
        """
        pos = self.base.atoms.position(nis_code)
        if pos in self._moved:
            self._set_row(pos, None, None)
        return self.summaries()

    # -- internals -----------------------------------------------------------------------------
    def _reference(self, reference_id: str) -> _Reference:
        try:
            return self._refs[reference_id]
        except KeyError:
            raise InvalidInput(f"{reference_id!r} is not a reference of this evaluator; "
                               f"references: {', '.join(self._refs)}") from None

    def _checked(self, moves: Iterable[Move]) -> list[tuple[int, int]]:
        atoms, base = self.base.atoms, self.base
        return [(atoms.position(m.nis_code), base.zone_position(m.to_zone)) for m in check_moves(base, moves)]

    def _base_row(self, pos: int) -> tuple[np.ndarray, np.ndarray]:
        col = self._moved.get(pos)
        if col is None:
            return self._rows.row(pos)
        return np.array([col]), np.array([1.0])

    def _base_partition_row(self, pos: int) -> tuple[np.ndarray, np.ndarray]:
        col = self._moved.get(pos)
        if col is None:
            return self._partition_rows.row(pos)
        return np.array([col]), np.array([1.0])

    def _set_row(self, pos: int, col: int | None, saved: dict | None) -> None:
        """Replace the base row of atom ``pos`` by zone ``col`` (``None``: its original row)."""
        w = self._w[pos]
        old_cols, old_vals = self._base_row(pos)
        old_pcols, old_pvals = self._base_partition_row(pos)
        if saved is not None and pos not in saved["atoms"]:
            saved["atoms"][pos] = (self._coverage[pos],
                                   {rid: (r.gap_terms[pos], r.overlap_terms[pos]) for rid, r in self._refs.items()})
        if col is None:
            self._moved.pop(pos, None)
            new_cols, new_vals = self._rows.row(pos)
            new_pcols, new_pvals = self._partition_rows.row(pos)
            new_coverage = float(new_vals.sum())
        else:
            self._moved.pop(pos, None)  # re-inserted last: moves keep the order they were made in
            self._moved[pos] = col
            new_cols, new_vals = new_pcols, new_pvals = np.array([col]), np.array([1.0])
            new_coverage = 1.0
        old_coverage = self._coverage[pos]
        self._coverage[pos] = new_coverage
        self._totals[old_cols] -= w * old_vals
        self._totals[new_cols] += w * new_vals
        for ref in self._refs.values():
            ref_cols, ref_vals = ref.rows.row(pos)
            if len(ref_cols) or new_coverage != old_coverage or self.base_as == "a":
                ref.summary = None  # with base_as "a", the base zone totals always change
            _shift(ref.table, ref_cols, ref_vals * w, old_cols, old_vals, new_cols, new_vals)
            outside = ref.outside_weight[pos]
            if outside:
                _shift(ref.outside[None, :], _ZERO, np.array([outside]), old_cols, old_vals, new_cols, new_vals)
            if ref.partitioned:
                ref_pcols, ref_pvals = ref.partition_rows.row(pos)
                _shift(ref.partition_table, ref_pcols, ref_pvals * w, old_pcols, old_pvals, new_pcols, new_pvals)
            if new_coverage != old_coverage:
                self._update_terms(ref, pos, w, new_coverage)

    def _update_terms(self, ref: _Reference, pos: int, w: float, coverage: float) -> None:
        # Same expressions as geo.engine.overlay.summarise, for one municipality.
        if self.base_as == "b":
            gap = w * min(coverage, 1.0) * min(max(1.0 - ref.coverage[pos], 0.0), 1.0)
            overlap = ref.overlap_terms[pos]
        else:
            gap = w * min(ref.coverage[pos], 1.0) * min(max(1.0 - coverage, 0.0), 1.0)
            overlap = w * min(max(coverage - 1.0, 0.0), 1.0)
        ref.gap += gap - ref.gap_terms[pos]
        ref.overlap += overlap - ref.overlap_terms[pos]
        ref.gap_terms[pos], ref.overlap_terms[pos] = gap, overlap

    def _save(self) -> dict:
        # Tables and totals are zones x zones: copying them is cheaper than logging cell changes.
        # In the arrays' own memory order: the measures sum a table in memory order, so a restored
        # C-ordered copy of a column-major table would change the last bits of later measures.
        return {
            "atoms": {},
            "order": dict(self._moved),
            "totals": self._totals.copy(order="K"),
            "refs": {rid: (r.table.copy(order="K"), r.partition_table.copy(order="K") if r.partitioned else None,
                           r.gap, r.overlap, r.summary, r.outside.copy(order="K")) for rid, r in self._refs.items()},
        }

    def _restore(self, saved: dict) -> None:
        for pos, (coverage, terms) in saved["atoms"].items():
            self._coverage[pos] = coverage
            for rid, (gap, overlap) in terms.items():
                self._refs[rid].gap_terms[pos], self._refs[rid].overlap_terms[pos] = gap, overlap
        self._moved = saved["order"]
        self._totals = saved["totals"]
        for rid, (table, partition_table, gap, overlap, summary, outside) in saved["refs"].items():
            ref = self._refs[rid]
            ref.table, ref.gap, ref.overlap, ref.summary, ref.outside = table, gap, overlap, summary, outside
            ref.partition_table = partition_table if ref.partitioned else table

    def _current_membership(self) -> sparse.csr_array:
        """The base's membership with the applied moves (each moved atom wholly in its zone)."""
        m = sparse.lil_array(self.base.membership)
        for pos, col in self._moved.items():
            m[[pos], :] = 0.0
            m[pos, col] = 1.0
        return sparse.csr_array(m)

    def _summary(self, ref: _Reference) -> Summary:
        if ref.summary is None:
            ref.summary = self._measure(ref)
        return ref.summary

    def _measure(self, ref: _Reference) -> Summary:
        if self.base_as == "b":
            table, totals, groups = ref.table, ref.totals, ref.partition_table
            a_coverage, b_coverage, a_membership = ref.coverage, self._coverage, ref.layer.membership
        else:
            table, totals, groups = ref.table.T, self._totals, ref.partition_table.T
            # A base of overlapping zones needs its current membership for the nested share with
            # each inhabitant once; built only then (a zoning's coverage never exceeds 1).
            a_coverage, b_coverage = self._coverage, ref.coverage
            a_membership = self._current_membership() if (a_coverage > 1.0 + 1e-6).any() else None
        summary = summary_from_tables(table, totals, groups, gap_weight=float(ref.gap),
                                      overlap_weight=float(ref.overlap), unit_free=ref.unit_free)
        # The same conventions as geo.engine.overlay (each inhabitant once, undefined measures).
        return settle(summary, table, totals, groups, a_coverage, b_coverage, ref.weights, a_membership)


def _shift(table: np.ndarray, rows: np.ndarray, row_weight: np.ndarray, old_cols: np.ndarray,
           old_vals: np.ndarray, new_cols: np.ndarray, new_vals: np.ndarray) -> None:
    """Move one municipality's weight in ``table`` from its old base columns to its new ones."""
    # A municipality sits in one or two zones of each layer: scalar updates of those few cells
    # beat numpy's fancy indexing by an order of magnitude here.
    for r, rw in zip(rows.tolist(), row_weight.tolist()):
        for c, v in zip(old_cols.tolist(), old_vals.tolist()):
            removed = rw * v
            left = table[r, c] - removed
            # A cell that held only this municipality is empty, not +-1 ulp (and never negative).
            table[r, c] = 0.0 if abs(left) <= _EMPTY * removed else left
        for c, v in zip(new_cols.tolist(), new_vals.tolist()):
            table[r, c] += rw * v
