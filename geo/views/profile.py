"""A municipality's profile: every structure it is part of, its neighbours, how its associations fit.

The numbers behind the municipality page (:func:`maps.pages.render_municipality` words and draws
them): for each layer the zones the municipality lies in; for each association it belongs to, how
that association fits the comparison layers and whether the municipality lies in the association's
main zone there.

Examples
--------
>>> from geo.reference.catalog import load_catalog
>>> catalog = load_catalog()
>>> profile = municipality_profile(34025, catalog.layers(), catalog.crosswalk)
>>> profile.name, [a["code"] for a in profile.associations]
('Lendelede', ['W13'])
>>> fit = profile.associations[0]["fits"][0]  # W13 against the primary care zones
>>> fit.dominant, fit.here, fit.here_in_dominant
('Kortrijk-Kuurne-Harelbeke (elz18)', 'RITS (elz40)', False)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from geo.engine.layer import Layer
from geo.engine.overlay import overlay
from geo.geometry.polygons import neighbours as border_neighbours
from geo.reference.roles import association_layer, compare_with
from geo.reference.vintages import Crosswalk, normalise_name


@dataclass(frozen=True)
class AssociationFit:
    """How one association the municipality belongs to fits one comparison layer."""

    layer_name: str
    dominant: str  # "name (code)" of the association's main zone in the comparison layer, or "–"
    dominant_share: float
    zones_touched: int
    nested: bool
    here: str  # the zone(s) of this municipality in the comparison layer, "name (code)"
    here_in_dominant: bool


@dataclass(frozen=True)
class MunicipalityProfile:
    """What is known about one municipality: names, population and the zones it lies in."""

    nis_code: int
    requested: int
    name: str
    name_fr: str
    region: str
    flemish: bool
    population: int
    population_year: int
    area_km2: float
    old_codes: list[dict]
    structures: list[dict]  # {"layer": Layer, "zones": [{"code", "name", "share"}]}
    neighbours: list[dict]  # {"nis_code", "name"}, by name
    associations: list[dict] = field(default_factory=list)  # {"code", "name", "share", "layer", "fits"}


def municipality_profile(nis_code: int, layers: Sequence[Layer], crosswalk: Crosswalk, *,
                         data_dir: Path | None = None, against: Sequence[str] | None = None,
                         associations: str | None = None,
                         former: Sequence[tuple[Layer, str]] = ()) -> MunicipalityProfile:
    """Every structure a municipality is part of, its neighbours and how its associations fit.

    Parameters
    ----------
    nis_code : int
        Any vintage; carried to the 2025 municipality.
    layers : sequence of Layer
        The layers to list (shipped and imported).
    crosswalk : Crosswalk
        ``catalog.crosswalk``.
    data_dir : Path, optional
        The shipped data (for the borders); default the package's ``data/``.
    against : sequence of str, optional
        Comparison layers for the associations (default: ``compare_with`` in ``data/layers.json``).
    associations : str, optional
        The association layer (default: the layer with role ``associations``).
    former : sequence of (Layer, str)
        Associations that ended (ISOM, until 2018), each with the association layer on its last
        day: listed after the current ones when the municipality was a member.
    """
    current = crosswalk.to_2025(nis_code)
    atoms = crosswalk.atoms
    row = atoms.table.loc[current]
    by_id = {layer.id: layer for layer in layers}
    structures = [{"layer": layer, "zones": [{"code": c, "name": n, "share": s} for c, n, s in layer.zones_of(current)]}
                  for layer in layers]

    found = []
    assoc_layer = by_id.get(associations or association_layer())
    if assoc_layer is not None:
        comparisons = [by_id[i] for i in (against or compare_with(assoc_layer.id)) if i in by_id]
        results = {other.id: overlay(assoc_layer, other, "population") for other in comparisons}
        for code, name, share in assoc_layer.zones_of(current):
            fits = []
            for other in comparisons:
                detail = results[other.id].zone_detail(code)
                here_zones = other.zones_of(current)
                fits.append(AssociationFit(
                    layer_name=other.name,
                    dominant=f"{detail.dominant_zone_name} ({detail.dominant_zone})" if detail.dominant_zone else "–",
                    dominant_share=detail.dominant_share, zones_touched=len(detail.zones_touched),
                    nested=detail.nested, here=" / ".join(f"{n} ({c})" for c, n, _ in here_zones) or "–",
                    here_in_dominant=any(c == detail.dominant_zone for c, _, _ in here_zones)))
            found.append({"code": code, "name": name, "share": share, "layer": assoc_layer, "fits": fits})
        for layer, ended in former:
            for code, name, share in layer.zones_of(current):
                if code != ended:
                    continue
                fits = []
                for other in comparisons:
                    detail = overlay(layer, other, "population").zone_detail(code)
                    here_zones = other.zones_of(current)
                    fits.append(AssociationFit(
                        layer_name=other.name,
                        dominant=(f"{detail.dominant_zone_name} ({detail.dominant_zone})"
                                  if detail.dominant_zone else "–"),
                        dominant_share=detail.dominant_share, zones_touched=len(detail.zones_touched),
                        nested=detail.nested, here=" / ".join(f"{n} ({c})" for c, n, _ in here_zones) or "–",
                        here_in_dominant=any(c == detail.dominant_zone for c, _, _ in here_zones)))
                found.append({"code": code, "name": name, "share": share, "layer": layer, "fits": fits})

    history = crosswalk.history(current)
    old_codes = [{"vintage": r.vintage, "nis_code": int(r.nis_code), "name": r.name,
                  "population_share": float(r.population_share)} for r in history.itertuples()]
    near = border_neighbours(current, data_dir) if data_dir is not None else border_neighbours(current)
    return MunicipalityProfile(
        nis_code=int(current), requested=int(nis_code), name=str(row["name"]), name_fr=str(row["name_fr"]),
        region=str(row["region"]), flemish=bool(atoms.flemish[atoms.position(current)]),
        population=int(row["population"]), population_year=atoms.population_year,
        area_km2=float(row["area_km2"]), old_codes=old_codes, structures=structures,
        neighbours=sorted(({"nis_code": n, "name": atoms.name(n)} for n in near if n in atoms),
                          key=lambda n: normalise_name(n["name"])),
        associations=found)
