"""Association memberships through time: who was a member on a given date.

``data/association_history.csv`` gives every membership a validity period (``valid_from``,
``valid_to``, both inclusive). An empty ``valid_from`` means "a member at least since the
source's date, start unknown": such a membership counts for every date up to ``valid_to`` and
is flagged ``start_known = False``, so nobody mistakes the source's date for a joining date.
An empty ``valid_to`` means "still a member".

Old NIS codes (before the 2019 and 2025 mergers) are carried to the 2025 municipalities through
the crosswalk: a merged-away municipality becomes a partial member of its 2025 successor, with
its share of that successor's population.

Examples
--------
>>> from geo.catalog import load_catalog
>>> catalog = load_catalog()
>>> sorted(members_as_of(catalog, "2018-06-30").query("zone_code == 'ISOM'")["nis_code"])
[13010, 13011, 13012, 13017, 13019, 13029, 13044]
>>> sorted(members_as_of(catalog, "2019-01-01")["zone_code"].unique())
['NETELAND', 'W13', 'WRNL', 'WZK']
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from geo.catalog import Catalog
from geo.errors import InvalidInput, UnknownZone
from geo.layer import Layer
from geo.roles import association_layer
from geo.vintages import carry_forward

ASSOCIATION_LAYER = association_layer()  # the layer with role "associations" in data/layers.json
COLUMNS = ["zone_code", "zone_name", "nis_code", "municipality", "share", "source_nis_code", "valid_from",
           "valid_to", "start_known", "note"]


def parse_date(value: object) -> date:
    """``YYYY-MM-DD`` (or a date) -> date; anything else is refused, naming the value."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput(f"expected a date as YYYY-MM-DD, got {value!r}") from None


def _optional_date(value: object) -> date | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or str(value).strip() in ("", "nan"):
        return None
    return parse_date(value)


def members_as_of(catalog: Catalog, as_of: object, zone: str | None = None) -> pd.DataFrame:
    """Memberships valid on ``as_of``, carried to the 2025 municipalities.

    Parameters
    ----------
    catalog : Catalog
        Supplies the history table and the crosswalk.
    as_of : date or "YYYY-MM-DD"
    zone : str, optional
        Only this association (refused with the known codes if it never existed).

    Returns
    -------
    pandas.DataFrame
        Columns ``zone_code, zone_name, nis_code (2025), municipality, share, source_nis_code,
        valid_from, valid_to, start_known, note``, sorted by zone and NIS code.
    """
    day = parse_date(as_of)
    history = catalog.history.copy()
    if zone is not None and zone not in set(history["zone_code"]):
        raise UnknownZone(f"no association {zone!r} in the membership history; known: "
                          f"{', '.join(sorted(history['zone_code'].unique()))}")
    starts = history["valid_from"].map(_optional_date)
    ends = history["valid_to"].map(_optional_date)
    valid = [(s is None or s <= day) and (e is None or day <= e) for s, e in zip(starts, ends)]
    rows = history[valid].copy()
    if zone is not None:
        rows = rows[rows["zone_code"] == zone]
    if rows.empty:
        return pd.DataFrame(columns=COLUMNS)
    rows["source_nis_code"] = rows["nis_code"].astype(int)
    rows["start_known"] = rows["valid_from"].map(lambda v: _optional_date(v) is not None)
    rows["valid_from"] = rows["valid_from"].map(lambda v: d.isoformat() if (d := _optional_date(v)) else None)
    rows["valid_to"] = rows["valid_to"].map(lambda v: d.isoformat() if (d := _optional_date(v)) else None)
    rows["note"] = rows["note"].fillna("").astype(str)
    carried = carry_forward(rows[["zone_code", "zone_name", "nis_code", "source_nis_code", "valid_from", "valid_to",
                                  "start_known", "note"]], catalog.crosswalk)
    carried["municipality"] = carried["nis_code"].map(catalog.atoms.name)
    for column in ("valid_from", "valid_to"):
        # carry_forward groups with pandas, which turns None into NaN; an open end is None.
        carried[column] = carried[column].astype(object).where(carried[column].notna(), None)
    return carried[COLUMNS].sort_values(["zone_code", "nis_code", "source_nis_code"]).reset_index(drop=True)


def associations_as_of(catalog: Catalog, as_of: object) -> Layer:
    """The associations valid on ``as_of`` as a layer (overlay it like any other).

    Its id is ``samenwerkingsverband@YYYY-MM-DD``. A municipality carried from two old codes
    into one 2025 municipality of the same association gets the sum of their shares.

    Examples
    --------
    >>> associations_as_of(load_catalog(), "2018-12-31").zone_codes  # doctest: +SKIP
    ['ISOM', 'W13', 'WRNL', 'WZK']
    """
    day = parse_date(as_of)
    members = members_as_of(catalog, day)
    if members.empty:
        raise InvalidInput(f"no association memberships are known for {day.isoformat()}")
    table = (members.groupby(["zone_code", "zone_name", "nis_code"], as_index=False)["share"].sum()
             .assign(share=lambda f: f["share"].clip(upper=1.0)))
    return Layer.from_members(f"{ASSOCIATION_LAYER}@{day.isoformat()}", table, catalog.atoms,
                              name=f"Samenwerkingsverbanden op {day.isoformat()}", vintage=day.isoformat(),
                              source="data/association_history.csv",
                              description="Lidmaatschappen geldig op deze datum, omgezet naar de gemeenten van 2025.")


def changes_between(catalog: Catalog, start: object, end: object) -> pd.DataFrame:
    """Memberships that began or ended between two dates: ``zone_code, nis_code, municipality, change``.

    Examples
    --------
    >>> changes_between(load_catalog(), "2018-06-30", "2019-06-30")  # doctest: +SKIP
    """
    before = members_as_of(catalog, start)
    after = members_as_of(catalog, end)
    key = ["zone_code", "nis_code"]
    merged = before[key + ["municipality"]].merge(after[key + ["municipality"]], on=key, how="outer",
                                                  indicator=True, suffixes=("", "_after"))
    merged["municipality"] = merged["municipality"].fillna(merged["municipality_after"])
    merged = merged[merged["_merge"] != "both"]
    merged["change"] = merged["_merge"].map({"left_only": "left", "right_only": "joined"}).astype(str)
    return merged[key + ["municipality", "change"]].sort_values(key).reset_index(drop=True)
