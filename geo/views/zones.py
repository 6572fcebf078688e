"""Any zone, every overlap: one zone of any layer against every zone of every other layer.

For a police zone, a primary care zone or an association: which zones of each other layer share
inhabitants with it, how many, and what share of this zone and of the other zone that is. The
numbers come from :func:`geo.engine.overlay.overlay`, so they match the overlay table and fit reports.

Examples
--------
>>> from geo.reference.catalog import load_catalog
>>> catalog = load_catalog()
>>> view = zone_overlaps(catalog.layer("politiezone"), catalog.layer("politiezone").zone_codes[0], catalog.layers())
>>> all(o.share_of_zone <= 1 + 1e-9 for group in view.groups for o in group.overlaps)
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

from geo.engine.layer import Layer
from geo.engine.overlay import PRESENCE, overlay


@dataclass(frozen=True)
class Overlap:
    """A zone of another layer sharing inhabitants with the zone.

    ``share_of_zone``: the common inhabitants as a share of the zone's; ``share_of_other``: as a
    share of the other zone's; ``members``: the municipalities in common.
    """

    code: str
    name: str
    population: float
    share_of_zone: float
    share_of_other: float
    members: list[str]

    @property
    def contains_zone(self) -> bool:
        """Whether the other zone covers the whole zone."""
        return self.share_of_zone >= 1.0 - 1e-9

    @property
    def inside_zone(self) -> bool:
        """Whether the other zone lies entirely in the zone."""
        return self.share_of_other >= 1.0 - 1e-9


@dataclass(frozen=True)
class LayerOverlaps:
    """The overlapping zones of one other layer, most common inhabitants first."""

    layer: Layer
    overlaps: list[Overlap]


@dataclass(frozen=True)
class ZoneOverlaps:
    """A zone with its members and every overlapping zone of every other layer."""

    layer: Layer
    code: str
    name: str
    population: float
    members: list[tuple[int, str, float]]  # (NIS code, name, share)
    groups: list[LayerOverlaps]

    @property
    def population_year(self) -> int:
        """Population year of the layer's atoms."""
        return self.layer.atoms.population_year


def zone_overlaps(layer: Layer, code: str, layers: Iterable[Layer]) -> ZoneOverlaps:
    """Zone ``code`` of ``layer`` against every zone of each of ``layers`` (itself excluded).

    Parameters
    ----------
    layer : Layer
        The zone's layer (shipped, imported or a scenario).
    code : str
        The zone's code; an unknown code is refused naming the layer.
    layers : iterable of Layer
        The other layers; layers sharing no inhabitants with the zone are listed with no overlaps.

    Returns
    -------
    ZoneOverlaps

    Examples
    --------
    >>> view = zone_overlaps(catalog.layer("samenwerkingsverband"), "W13", catalog.layers())
    >>> [g.layer.id for g in view.groups][:2]
    ['gemeente', 'provincie']
    """
    position = layer.zone_position(code)
    atoms = layer.atoms
    # The zone's members from its column of the membership, in NIS-code order (as
    # ``Layer.members``), read once; per other layer only its own column index (cached per layer).
    column = _columns(layer)
    start, end = column.indptr[position], column.indptr[position + 1]
    rows, shares = column.indices[start:end], column.data[start:end]
    order = np.argsort(atoms.nis_codes[rows], kind="stable")
    rows, shares = rows[order], shares[order]
    names = atoms.names
    member_rows = set(rows.tolist())
    groups = []
    total = 0.0
    for other in layers:
        if other.id == layer.id or other.atoms is not layer.atoms:
            continue
        result = overlay(layer, other, "population")
        total = float(result.a_totals[position])
        line = result.row(position)
        other_columns = _columns(other)
        other_codes, other_names = other.zone_codes, _zone_names(other)
        overlaps = []
        for j in line.argsort()[::-1]:
            if line[j] <= PRESENCE:
                break
            # Which municipalities are shared: a member of this zone that is in the other zone.
            column = other_columns.indices[other_columns.indptr[j]:other_columns.indptr[j + 1]]
            inside = member_rows.intersection(column.tolist())
            shared = [str(names[r]) for r in rows if r in inside]
            overlaps.append(Overlap(
                code=str(other_codes[j]), name=other_names[j],
                population=float(line[j]), share_of_zone=float(line[j] / total) if total > 0 else 0.0,
                share_of_other=float(line[j] / result.b_totals[j]) if result.b_totals[j] > 0 else 0.0,
                members=shared))
        groups.append(LayerOverlaps(other, overlaps))
    if not groups:
        total = float(layer.zone_weight("population")[position])
    return ZoneOverlaps(layer=layer, code=str(code), name=layer.zone_name(code), population=total,
                        members=[(int(atoms.nis_codes[r]), str(names[r]), float(sh)) for r, sh in zip(rows, shares)],
                        groups=groups)


def _columns(layer: Layer):  # noqa: ANN202 - a scipy CSC matrix
    """The layer's membership by zone (CSC), converted once per layer object."""
    found = layer.__dict__.get("_zone_columns")
    if found is None:
        found = layer.membership.tocsc()
        found.sort_indices()
        object.__setattr__(layer, "_zone_columns", found)
    return found


def _zone_names(layer: Layer) -> list[str]:
    return [layer.zone_name(c) for c in layer.zone_codes]


@dataclass(frozen=True)
class ZoneMember:
    """A member municipality of a zone: ``population`` is its inhabitants counted in the zone
    (its population times ``share``)."""

    nis_code: int
    name: str
    share: float
    population: float


@dataclass(frozen=True)
class ZoneMembers:
    """One zone of a layer with its inhabitants and its members by NIS code."""

    layer: Layer
    code: str
    name: str
    population: float
    members: list[ZoneMember]

    @property
    def population_year(self) -> int:
        """Population year of the layer's atoms."""
        return self.layer.atoms.population_year


def zone_members(layer: Layer, code: str) -> ZoneMembers:
    """The members of one zone with their inhabitants in it: what a map shows when a zone is
    clicked. Reads one column of the membership, so it costs the same for a layer of 10,000
    zones as for one of 10 (``Layer.members`` builds the whole table).

    Examples
    --------
    >>> from geo.reference.catalog import load_catalog
    >>> view = zone_members(load_catalog().layer("samenwerkingsverband"), "W13")
    >>> view.members[0].name, round(sum(m.population for m in view.members)) == round(view.population)
    ('Wervik', True)
    """
    position = layer.zone_position(code)
    column = layer.membership[:, [position]].tocoo()
    rows, shares = column.row, column.data.astype(float)
    order = np.argsort(layer.atoms.nis_codes[rows], kind="stable")
    rows, shares = rows[order], shares[order]
    people = layer.atoms.weights("population")[rows] * shares
    members = [ZoneMember(int(nis), str(name), float(share), float(p)) for nis, name, share, p in
               zip(layer.atoms.nis_codes[rows], layer.atoms.names[rows], shares, people) if share != 0]
    return ZoneMembers(layer=layer, code=str(code), name=layer.zone_name(code),
                       population=float(layer.zone_weight("population")[position]), members=members)
