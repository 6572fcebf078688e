"""The fit atlas: every association against one layer, worst fit first, and the "grensgemeenten".

Since 2022 the Flemish reference regions are the level to which all intermunicipal cooperation
should be aligned. The atlas answers the administration's question of the whole register: which
associations cross a line of the chosen layer (reference regions by default; also primary care
zones, arrondissements, provinces, Gezondheidsmakers regions), which members sit outside the zone
that holds most of the association's inhabitants, and, per municipality, in how many associations
it takes part and in how many of the crossing ones it sits on the minority side.

Everything is computed with :func:`geo.engine.overlay.overlay`, so the atlas, the overlay table and the
fit reports give the same dominant zone, share and members outside it. An association crosses a
line when its inhabitants fall in two or more zones of the chosen layer.

Examples
--------
>>> from geo.reference.catalog import load_catalog
>>> atlas = fit_atlas(load_catalog(), "referentieregio")
>>> atlas.crossing_count <= atlas.association_count
True
>>> atlas.rows[0].dominant_share <= atlas.rows[-1].dominant_share
True
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import pandas as pd

from geo.engine.layer import Layer
from geo.engine.overlay import PRESENCE, overlay
from geo.errors import InvalidInput
from geo.reference.associations import REGISTER_LAYER, Association, associations
from geo.reference.catalog import Catalog

# The layer whose zones are the associations of the atlas.
ASSOCIATION_LAYER = REGISTER_LAYER
AGAINST_LAYERS = ("referentieregio", "eerstelijnszone", "arrondissement", "provincie", "gezondheidsmakers")
DEFAULT_AGAINST = "referentieregio"
ALL_STATUSES = "alle"


@dataclass(frozen=True)
class OutsideMember:
    """A member municipality (wholly or partly) outside the association's dominant zone."""

    nis_code: int
    name: str
    population: float
    zone: str  # the zone(s) of the chosen layer it lies in, "code name" joined by " / "


@dataclass(frozen=True)
class AtlasRow:
    """One association against the chosen layer.

    ``population`` counts each member's inhabitants times its share (a partial pre-merger
    membership counts its part); ``zones`` are ``(code, name, population)`` of every zone touched,
    largest first.
    """

    association: Association
    population: float
    members: int
    zones: list[tuple[str, str, float]]
    dominant_zone: str | None
    dominant_zone_name: str | None
    dominant_share: float
    outside: list[OutsideMember]
    outside_population: float
    not_covered_population: float

    @property
    def crosses(self) -> bool:
        """Whether the association's municipalities lie in more than one zone."""
        return len(self.zones) > 1


@dataclass(frozen=True)
class Atlas:
    """Every selected association against one layer.

    Attributes
    ----------
    rows : list of AtlasRow
        Worst fit first: lowest dominant share, then most inhabitants outside it.
    municipalities : pandas.DataFrame
        One row per 2025 municipality: ``nis_code, municipality, associations, crossing,
        minority_side`` (counts over the selected associations).
    """

    layer: Layer
    against: Layer
    legal_type: str | None
    status: str | None
    rows: list[AtlasRow]
    municipalities: pd.DataFrame

    @property
    def population_year(self) -> int:
        """Population year of the layer's atoms."""
        return self.layer.atoms.population_year

    @property
    def association_count(self) -> int:
        """Number of associations in the atlas."""
        return len(self.rows)

    @property
    def crossing_count(self) -> int:
        """Number of associations that cross zone boundaries."""
        return sum(row.crosses for row in self.rows)

    def crossing(self) -> list[AtlasRow]:
        """The rows of associations that cross zone boundaries."""
        return [row for row in self.rows if row.crosses]


def atlas_associations(catalog: Catalog, *, legal_type: str | None = None,
                       status: str | None = "Actief") -> list[Association]:
    """The associations of the atlas layer, filtered by legal type and status (``"alle"``: any).

    Examples
    --------
    >>> from geo.reference.catalog import load_catalog
    >>> len(atlas_associations(load_catalog(), status="alle")) >= len(atlas_associations(load_catalog()))
    True
    """
    wanted = None if status is None or str(status).strip().lower() == ALL_STATUSES else status
    return [a for a in associations(catalog, legal_type=legal_type, status=wanted) if a.layer_id == ASSOCIATION_LAYER]


@lru_cache(maxsize=32)
def fit_atlas(catalog: Catalog, against: str | Layer = DEFAULT_AGAINST, *, legal_type: str | None = None,
              status: str | None = "Actief") -> Atlas:
    """Hold every selected association against ``against``.

    Cached per catalog and arguments (catalogs and layers are immutable), so profile pages can
    show a municipality's counts without recomputing the whole atlas.

    Parameters
    ----------
    catalog : Catalog
        Supplies the association layer and the register's metadata.
    against : str or Layer
        One of :data:`AGAINST_LAYERS` (or any layer object, e.g. an imported one).
    legal_type : str, optional
        Only associations of this legal type ("OCMW vereniging", "Projectvereniging", ...).
    status : str, optional
        "Actief" (default), "Niet actief", "onbekend", or ``"alle"``/``None`` for every status.

    Returns
    -------
    Atlas

    Examples
    --------
    >>> atlas = fit_atlas(catalog, "eerstelijnszone", status="alle")
    >>> atlas.rows[0].association.name, round(atlas.rows[0].dominant_share, 2)
    ('Cipal', 0.05)
    """
    if isinstance(against, str):
        if against not in AGAINST_LAYERS:
            raise InvalidInput(f"the atlas compares with one of {', '.join(AGAINST_LAYERS)}; got {against!r}")
        against = catalog.layer(against)
    layer = catalog.layer(ASSOCIATION_LAYER)
    selected = [a for a in atlas_associations(catalog, legal_type=legal_type, status=status) if layer.has_zone(a.code)]
    if legal_type is not None and selected:
        legal_type = selected[0].legal_type  # as the register writes it, whatever the user typed
    result = overlay(layer, against, "population")
    table = result.zone_table().set_index("code")
    atoms = layer.atoms
    people = dict(zip(atoms.nis_codes.astype(int).tolist(), atoms.weights("population").tolist()))
    codes, names = against.zones["code"].astype(str).tolist(), against.zones["name"].astype(str).tolist()
    by_zone = {code: frame for code, frame in layer.members().groupby("zone_code", sort=False)}
    rows: list[AtlasRow] = []
    for assoc in selected:
        position = layer.zone_position(assoc.code)
        line = result.row(position)
        touched = [(codes[j], names[j], float(line[j]))
                   for j in line.argsort()[::-1] if line[j] > PRESENCE]
        summary = table.loc[assoc.code]
        dominant = summary["dominant_zone"]
        members = by_zone[assoc.code]
        outside = []
        for nis, name, share in zip(members["nis_code"].tolist(), members["municipality"].tolist(),
                                    members["share"].tolist()):
            here = against.zones_of(nis)
            in_dominant = sum(s for c, _, s in here if c == dominant)
            outside_people = people[nis] * share * (1.0 - min(in_dominant, 1.0))
            if outside_people > PRESENCE and dominant is not None:
                outside.append(OutsideMember(nis, str(name), outside_people,
                                             " / ".join(f"{n} ({c})" for c, n, _ in here) or "geen"))
        outside.sort(key=lambda m: (-m.population, m.name))
        rows.append(AtlasRow(
            association=assoc, population=float(summary["population"]), members=len(members), zones=touched,
            dominant_zone=None if dominant is None else str(dominant),
            dominant_zone_name=None if dominant is None else str(summary["dominant_zone_name"]),
            dominant_share=float(summary["dominant_share"]), outside=outside,
            outside_population=float(summary["population_outside_dominant"]),
            not_covered_population=float(summary["population_not_covered"])))
    rows.sort(key=lambda r: (r.dominant_share if r.population > 0 else 2.0, -r.outside_population,
                             r.association.name.lower()))
    return Atlas(layer=layer, against=against, legal_type=legal_type, status=status, rows=rows,
                 municipalities=_border_municipalities(layer, rows, by_zone))


def _border_municipalities(layer: Layer, rows: list[AtlasRow], by_zone: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per municipality: associations, crossing ones, and crossing ones where it is outside the dominant zone."""
    atoms = layer.atoms
    counts = {int(n): [0, 0, 0] for n in atoms.nis_codes}
    for row in rows:
        outside = {m.nis_code for m in row.outside}
        for nis in by_zone[row.association.code]["nis_code"]:
            entry = counts[int(nis)]
            entry[0] += 1
            if row.crosses:
                entry[1] += 1
                entry[2] += int(nis) in outside
    return pd.DataFrame([{"nis_code": nis, "municipality": atoms.name(nis), "associations": a, "crossing": c,
                          "minority_side": m} for nis, (a, c, m) in counts.items()])


def municipality_counts(atlas: Atlas, nis_code: int) -> dict[str, int]:
    """The grensgemeente figures of one 2025 municipality in this atlas.

    Examples
    --------
    >>> from geo.reference.catalog import load_catalog
    >>> municipality_counts(fit_atlas(load_catalog()), 34025)["associations"] >= 0
    True
    """
    row = atlas.municipalities[atlas.municipalities["nis_code"] == int(nis_code)]
    if row.empty:
        return {"associations": 0, "crossing": 0, "minority_side": 0}
    return {k: int(row[k].iloc[0]) for k in ("associations", "crossing", "minority_side")}


def is_historical(association: Association, today: date | None = None) -> bool:
    """Has the association ended (``valid_to`` before today)? ISOM ended on 2018-12-31."""
    return association.valid_to is not None and date.fromisoformat(association.valid_to) < (today or date.today())
