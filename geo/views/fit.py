"""How one zone of a layer fits the zones of other layers: the numbers behind the fit report.

For zone ``code`` of ``layer`` (an association, a primary care zone, a scenario's zone) and each
comparison layer: the overlay's zone detail and whole-layer measures, the population norm of the
comparison layer checked for every zone the zone touches, per member the comparison zones it lies
in (and whether that is outside the main one), and the population norms of the zone itself. The
wording and the page are :mod:`maps.report`'s; nothing here is text for a reader.

Examples
--------
>>> from geo.reference.catalog import load_catalog
>>> catalog = load_catalog()
>>> fit = zone_fit(catalog.layer("samenwerkingsverband"), "W13", [catalog.layer("eerstelijnszone")])
>>> fit.comparisons[0].detail.dominant_zone, len(fit.members)
('elz18', 14)
>>> [m.name for m in fit.members if m.outside[0]][:3]
['Wervik', 'Anzegem', 'Avelgem']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from geo.engine.atoms import Atoms
from geo.engine.details import ZoneDetail
from geo.engine.layer import Layer, with_population
from geo.engine.overlay import Summary, overlay
from geo.reference.norms import CALL_2018, MINIMUM_100K, ZONE_MINIMUM_60K, PopulationNorm, check_population, norm_for
from geo.reference.roles import association_layer

# Norms every Flemish zone is held against in a report, next to its own layer's norm.
REFERENCE_NORMS = (ZONE_MINIMUM_60K, CALL_2018, MINIMUM_100K)


@dataclass(frozen=True)
class ZoneNormCheck:
    """One touched zone of a comparison layer against that layer's norm."""

    code: str
    name: str
    population: float
    passes: bool


@dataclass(frozen=True)
class NormCheck:
    """The zone itself against one population norm (``own``: its layer's default norm)."""

    norm: PopulationNorm
    own: bool
    passes: bool


@dataclass(frozen=True)
class LayerFit:
    """The zone against one comparison layer."""

    layer: Layer
    detail: ZoneDetail
    summary: Summary
    norm: PopulationNorm | None
    zone_norms: list[ZoneNormCheck]


@dataclass(frozen=True)
class MemberFit:
    """One member of the zone: its population and, per comparison layer, where it lies."""

    nis_code: int
    name: str
    share: float
    population: float
    flemish: bool
    zones: list[list[tuple[str, str]]]  # per comparison: (code, name) of the zones it lies in
    outside: list[bool]  # per comparison: outside the zone's main (dominant) zone


@dataclass(frozen=True)
class HistoryPeriod:
    """Dated membership note of an association: how many members in a period."""

    valid_from: str
    valid_to: str
    note: str
    members: int
    names: tuple[str, ...] = ()  # the members' names, when known


@dataclass(frozen=True)
class ZoneFit:
    """Everything computed about zone ``code`` of ``layer`` against the comparison layers."""

    layer: Layer
    code: str
    name: str
    population: float
    population_year: int
    members: list[MemberFit]
    comparisons: list[LayerFit]
    norms: list[NormCheck]  # empty for a zone without a Flemish member (Brussels: shown, not judged)
    flemish: bool
    partial_members: bool
    history: list[HistoryPeriod]
    sources: list[Layer]


def touched_zone_norms(against: Layer, detail: ZoneDetail, norm: PopulationNorm | None) -> list[ZoneNormCheck]:
    """The zones of ``against`` that the zone touches, each checked against ``norm``."""
    if norm is None or not detail.zones_touched:
        return []
    checked = check_population(against, norm).set_index("code")
    return [ZoneNormCheck(zone.code, zone.name, float(checked.loc[zone.code, "population"]),
                          bool(checked.loc[zone.code, "passes"]))
            for zone in detail.zones_touched if zone.code in checked.index]


def norm_checks(layer: Layer, population: float, base_layer_id: str | None = None) -> list[NormCheck]:
    """The layer's own norm (a scenario: its base layer's) first, then the reference norms.

    Norms are checked only where they apply: a layer without a norm of its own (an association, a
    police zone) gets no checks at all rather than being held against the primary care norms.
    """
    own = norm_for(layer, base_layer_id)
    if own is None:
        return []
    return [NormCheck(own, True, bool(own.passes([population])[0])),
            *(NormCheck(norm, False, bool(norm.passes([population])[0])) for norm in REFERENCE_NORMS if norm != own)]


def history_periods(history: pd.DataFrame | None, code: str, atoms: Atoms | None = None) -> list[HistoryPeriod]:
    """Membership periods of association ``code`` from ``catalog.history`` (empty if none);
    with ``atoms``, each period names its members.

    Examples
    --------
    >>> from geo.reference.catalog import load_catalog
    >>> catalog = load_catalog()
    >>> [(p.valid_from, p.members, p.names[:1]) for p in history_periods(catalog.history, "W13", catalog.atoms)]
    [('onbekend', 13, ('Anzegem',)), ('2017-01-01', 1, ('Wielsbeke',))]
    """
    if history is None or not len(history):
        return []
    rows = history[history["zone_code"].astype(str) == str(code)].fillna(
        {"valid_from": "", "valid_to": "", "note": ""})
    # "idem" in the source repeats the note of the row above it.
    notes = rows["note"].astype(str).replace("idem", pd.NA).ffill().fillna("")
    grouped = rows.assign(note=notes).groupby(["valid_from", "valid_to", "note"], sort=True)["nis_code"]
    periods = []
    for (f, t, n), codes in grouped:
        names: tuple[str, ...] = ()
        if atoms is not None:
            names = tuple(sorted((_name(atoms, c) for c in codes), key=str.casefold))
        periods.append(HistoryPeriod(f or "onbekend", t or "nu", n, len(codes), names))
    return periods


def _name(atoms: Atoms, nis_code: Any) -> str:  # a pandas cell: int, float or text
    try:
        return str(atoms.name(int(nis_code)))
    except Exception:  # noqa: BLE001 - a code of an older vintage: shown as written
        return str(nis_code)


def zone_fit(layer: Layer, code: str, against: Sequence[Layer], *, history: pd.DataFrame | None = None,
             base_layer_id: str | None = None, history_layers: Sequence[str] | None = None) -> ZoneFit:
    """How zone ``code`` of ``layer`` fits each layer in ``against``.

    Parameters
    ----------
    layer, code
        The zone (unknown codes raise ``UnknownZone``).
    against : sequence of Layer
        Comparison layers over the same municipalities.
    history : pandas.DataFrame, optional
        ``catalog.history``: dated membership notes, used for the layers in ``history_layers``
        (default: the association layer of ``data/layers.json``).
    base_layer_id : str, optional
        For a scenario: the layer whose population norm it inherits.

    Returns
    -------
    ZoneFit
    """
    position = layer.zone_position(code)
    code = str(layer.zones["code"].iloc[position])
    atoms = layer.atoms
    members = with_population(layer.members(code), atoms)
    flemish_codes = set(atoms.nis_codes[atoms.flemish].tolist())
    flemish = bool(members["nis_code"].isin(flemish_codes).any())
    population = float(members["population"].sum())

    comparisons = []
    for other in against:
        result = overlay(layer, other, "population")
        detail = result.zone_detail(code)
        norm = norm_for(other)
        comparisons.append(LayerFit(other, detail, result.summary, norm, touched_zone_norms(other, detail, norm)))

    outside_sets = [{m.nis_code for m in c.detail.members_outside_dominant} for c in comparisons]
    member_fits = [
        MemberFit(int(row.nis_code), str(row.municipality), float(row.share), float(row.population),
                  int(row.nis_code) in flemish_codes,
                  [[(c, n) for c, n, _ in comparison.layer.zones_of(int(row.nis_code))] for comparison in comparisons],
                  [int(row.nis_code) in outside for outside in outside_sets])
        for row in members.itertuples()]
    return ZoneFit(
        layer=layer, code=code, name=str(layer.zones["name"].iloc[position]), population=population,
        population_year=atoms.population_year, members=member_fits, comparisons=comparisons,
        norms=norm_checks(layer, population, base_layer_id) if flemish else [], flemish=flemish,
        partial_members=bool((members["share"] < 1.0 - 1e-6).any()),
        history=(history_periods(history, code, layer.atoms)
                 if layer.id.partition("@")[0] in (history_layers or (association_layer(),)) else []),
        sources=[layer, *against])
