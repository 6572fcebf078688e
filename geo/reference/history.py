"""Association memberships through time: who was a member on a given date.

``data/association_history.csv`` gives every membership a validity period (``valid_from``,
``valid_to``, both inclusive) and, where the Flemish register names it, the date the register
attests it (``registered_on``). A membership counts on a date when it is known to hold then:

* from its start date (``valid_from``) when the source gives one;
* else from the date the register attests it: before that, nobody knows whether it held, so it
  is "onbekend" (unknown) and not counted;
* a membership of which only the end is known (ISOM's members, until ISOM ended on 31 December
  2018) counts until that end: the member list describes the association as it ended;
* a membership with neither start, end nor attestation (WRNL's Oudsbergen and Pelt) is counted on
  no date and shown as "onbekend".

On a date the association layer is this history (:func:`current_layer`; as a layer id
``samenwerkingsverband@YYYY-MM-DD``, which every page, overlay and report accepts).

An empty ``valid_to`` means "still a member". Old NIS codes (before the 2019 and 2025 mergers)
are carried to the 2025 municipalities through the crosswalk: a merged-away municipality becomes
a partial member of its 2025 successor, with its share of that successor's population.

Examples
--------
>>> from geo.reference.catalog import load_catalog
>>> catalog = load_catalog()
>>> sorted(members_as_of(catalog, "2019-06-30")["zone_code"].unique())
['NETELAND', 'W13']
>>> members_as_of(catalog, "2018-06-30", "ISOM", include_unknown=True)["status"].unique().tolist()
['geldig']
>>> len(members_as_of(catalog, "2026-12-07", "WRNL"))  # Oudsbergen and Pelt: start unknown
6
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Protocol

import pandas as pd

from geo.dutch import date as dutch_date
from geo.dutch import state_on
from geo.engine.atoms import Atoms
from geo.engine.layer import Layer
from geo.errors import InvalidInput, UnknownZone
from geo.reference.roles import association_layer
from geo.reference.vintages import Crosswalk, carry_forward


class Catalog(Protocol):
    """What the dated history reads of a catalog (:class:`geo.reference.catalog.Catalog` is one;
    the catalog builds its dated association layer from this module, so this one does not name it)."""

    @property
    def atoms(self) -> Atoms:
        """The municipalities and their inhabitants."""

    @property
    def crosswalk(self) -> Crosswalk:
        """Earlier municipalities to today's."""

    @property
    def history(self) -> pd.DataFrame:
        """The register's dated memberships."""

COLUMNS = ["zone_code", "zone_name", "nis_code", "municipality", "share", "source_nis_code", "valid_from",
           "valid_to", "start_known", "registered_on", "status", "note"]
COUNTED, UNKNOWN = "geldig", "onbekend"


def parse_date(value: object) -> date:
    """``YYYY-MM-DD`` (or a date) -> date; anything else is refused, naming the value."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput(f"expected a date as YYYY-MM-DD, got {value!r}",
                           dutch=f"‘{str(value)[:60]}’ is geen datum; schrijf een datum als JJJJ-MM-DD, "
                                 "bijvoorbeeld 2026-12-01.") from None


def _optional_date(value: object) -> date | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or str(value).strip() in ("", "nan"):
        return None
    return parse_date(value)


def members_as_of(catalog: Catalog, as_of: date | str, zone: str | None = None, *,
                  include_unknown: bool = False) -> pd.DataFrame:
    """Memberships valid on ``as_of``, carried to the 2025 municipalities.

    Parameters
    ----------
    catalog : Catalog
        Supplies the history table and the crosswalk.
    as_of : date or "YYYY-MM-DD"
    zone : str, optional
        Only this association (refused with the known codes if it never existed).
    include_unknown : bool
        Also list the memberships not known to hold on that date (start unknown, not yet
        attested), with ``status`` "onbekend", so a page can show them as such. They are never
        counted.

    Returns
    -------
    pandas.DataFrame
        Columns ``zone_code, zone_name, nis_code (2025), municipality, share, source_nis_code,
        valid_from, valid_to, start_known, registered_on, status, note``, sorted by zone and NIS
        code; ``status`` is "geldig" (counted) or "onbekend".
    """
    day = parse_date(as_of)
    history = catalog.history.copy()
    if "registered_on" not in history:
        history["registered_on"] = None
    if zone is not None and zone not in set(history["zone_code"]):
        raise UnknownZone(f"no association {zone!r} in the membership history; known: "
                          f"{', '.join(sorted(history['zone_code'].unique()))}")
    starts = history["valid_from"].map(_optional_date)
    attested = history["registered_on"].map(_optional_date)
    ends = history["valid_to"].map(_optional_date)
    not_ended = [(s is None or s <= day) and (e is None or day <= e) for s, e in zip(starts, ends)]
    known = [s is not None or (a is not None and a <= day) or (a is None and e is not None)
             for s, a, e in zip(starts, attested, ends)]
    history["status"] = [COUNTED if k else UNKNOWN for k in known]
    keep = [v and (k or include_unknown) for v, k in zip(not_ended, known)]
    rows = history[keep].copy()
    if zone is not None:
        rows = rows[rows["zone_code"] == zone]
    if rows.empty:
        return pd.DataFrame(columns=COLUMNS)
    rows["source_nis_code"] = rows["nis_code"].astype(int)
    rows["start_known"] = rows["valid_from"].map(lambda v: _optional_date(v) is not None)
    rows["valid_from"] = rows["valid_from"].map(lambda v: d.isoformat() if (d := _optional_date(v)) else None)
    rows["valid_to"] = rows["valid_to"].map(lambda v: d.isoformat() if (d := _optional_date(v)) else None)
    rows["registered_on"] = rows["registered_on"].map(lambda v: d.isoformat() if (d := _optional_date(v)) else None)
    rows["note"] = rows["note"].fillna("").astype(str)
    carried = carry_forward(rows[["zone_code", "zone_name", "nis_code", "source_nis_code", "valid_from", "valid_to",
                                  "start_known", "registered_on", "status", "note"]], catalog.crosswalk)
    carried["municipality"] = carried["nis_code"].map(catalog.atoms.name)
    for column in ("valid_from", "valid_to", "registered_on"):
        # carry_forward groups with pandas, which turns None into NaN; an open end is None.
        carried[column] = carried[column].astype(object).where(carried[column].notna(), None)
    return carried[COLUMNS].sort_values(["zone_code", "nis_code", "source_nis_code"]).reset_index(drop=True)


def associations_as_of(catalog: Catalog, as_of: date | str) -> Layer:
    """The associations valid on ``as_of`` as a layer (overlay it like any other).

    Its id is ``samenwerkingsverband@YYYY-MM-DD``. A municipality carried from two old codes
    into one 2025 municipality of the same association gets the sum of their shares.

    Examples
    --------
    >>> associations_as_of(catalog, "2024-06-01").zone_codes
    ['NETELAND', 'W13', 'WRNL', 'WZK']
    """
    day = parse_date(as_of)
    members = members_as_of(catalog, day)  # counted memberships only
    if members.empty:
        raise InvalidInput(f"no association memberships are known for {day.isoformat()}")
    table = (members.groupby(["zone_code", "zone_name", "nis_code"], as_index=False)["share"].sum()
             .assign(share=lambda f: f["share"].clip(upper=1.0)))
    return Layer.from_members(f"{association_layer()}@{day.isoformat()}", table, catalog.atoms,
                              name=f"Samenwerkingsverbanden op {dutch_date(day)}", vintage=state_on(day),
                              source="ledengeschiedenis van de samenwerkingsverbanden (publieke webpagina's, "
                                     "onderzoeksrapport 2020, register van de lokale besturen)",
                              description="Lidmaatschappen geldig op deze datum, omgezet naar de gemeenten van 2025.")


def current_layer(catalog: Catalog, published: Layer, as_of: date | str) -> Layer:
    """The association layer ``published`` (id, name and metadata as registered) with the
    memberships this history counts on ``as_of``: what the service shows as the layer by default.
    Its vintage says so ("toestand op 1 december 2026"), not the published list's years.

    Examples
    --------
    >>> from geo.reference.catalog import load_catalog
    >>> catalog = load_catalog()
    >>> layer = current_layer(catalog, catalog.layer(association_layer()), "2026-12-07")
    >>> layer.zone_codes, int(layer.member_count()[layer.zone_position("WRNL")])
    (['NETELAND', 'W13', 'WRNL', 'WZK'], 6)
    >>> layer.vintage
    'toestand op 7 december 2026'
    """
    dated = associations_as_of(catalog, as_of)
    return replace(dated, id=published.id, name=published.name, kind=published.kind, vintage=dated.vintage,
                   source=published.source, description=published.description)


def ended_before(catalog: Catalog, as_of: date | str) -> dict[str, date]:
    """The associations of the history that ended before ``as_of``: code -> their last day (on
    which ``samenwerkingsverband@YYYY-MM-DD`` still shows them).

    Examples
    --------
    >>> ended_before(catalog, "2026-12-01")
    {'ISOM': datetime.date(2018, 12, 31)}
    >>> ended_before(catalog, "2018-06-30")
    {}
    """
    day = parse_date(as_of)
    ends = catalog.history.assign(end=catalog.history["valid_to"].map(_optional_date))
    ended = {}
    for code, rows in ends.groupby("zone_code"):
        last = None if rows["end"].isna().any() else max(rows["end"])
        if last is not None and last < day:
            ended[str(code)] = last
    return ended


def changes_between(catalog: Catalog, start: date | str, end: date | str) -> pd.DataFrame:
    """Memberships that began or ended between two dates: ``zone_code, nis_code, municipality, change``.

    Examples
    --------
    >>> changes = changes_between(catalog, "2018-06-30", "2019-06-30")
    >>> changes[["zone_code", "municipality", "change"]].iloc[0].tolist()
    ['ISOM', 'Grobbendonk', 'left']
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
