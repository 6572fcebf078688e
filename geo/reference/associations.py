"""Every intermunicipal association: the register's and the hand-compiled five, side by side.

Two sources, two layers, never silently merged:

* ``samenwerkingsverbanden``: every association in the Flemish register of local-government
  organisations (Agentschap Binnenlands Bestuur, Organisatieportaal; memberships registered in
  August-September 2023 and May-June 2024). Zone code = enterprise number (KBO, 10 digits).
* ``samenwerkingsverband``: W13, WRNL, WZK and ISOM, compiled by hand from the associations' own
  pages and the 2020 research report (plus Neteland, only in the dated history). Where it
  differs from the register, the hand list is authoritative; :func:`reconciliation` lists the
  differences so pages can show them.

Which measures apply to the register layer
------------------------------------------
A municipality takes part in about ten registered associations at once, so the register layer is
a collection of overlapping zones, not a zoning. Per-association measures apply and mean what they
say: zones of another layer touched, the dominant zone and its share, the members (and
inhabitants) outside it. Whole-layer ARI, VI and NMI do not: they compare two partitions of the
inhabitants, and 286 overlapping zones are no partition (combining each municipality's set of
associations into one group would compare "the exact set of associations a municipality is in",
which nobody asks). The overlay reports them as undefined, with the reason, for any layer whose
covered inhabitants are on average in two or more of its zones (:data:`geo.engine.overlay.OVERLAPPING_LAYER`);
the hand list (ISOM inside WZK, about 1.2 zones per covered inhabitant) keeps them.

Examples
--------
>>> from geo.reference.catalog import load_catalog
>>> catalog = load_catalog()
>>> [a.code for a in associations(catalog, legal_type="OCMW vereniging") if a.name == "W13"]
['0630835639']
>>> reconciliation(catalog, "WRNL").only_in_hand_names
['Oudsbergen', 'Pelt']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

import pandas as pd

from geo.dutch import date as dutch_date
from geo.dutch import state_on
from geo.engine.layer import Layer
from geo.errors import InvalidInput, UnknownZone
from geo.reference.catalog import Catalog
from geo.reference.history import parse_date

REGISTER_LAYER = "samenwerkingsverbanden"
HAND_LAYER = "samenwerkingsverband"
STATUSES = ("Actief", "Niet actief", "onbekend")


@dataclass(frozen=True)
class Association:
    """One association, as one of the two sources describes it.

    ``registered`` is the vintage as published ("augustus-september 2023", "mei-juni 2024" for the
    register; the snapshot years for the hand list). ``valid_from``/``valid_to`` (ISO dates) are the
    association's own known period; ``None`` is unknown (start) or open (end). ``layer_id`` is the
    layer its members can be overlaid in (``None``: only in the dated history, e.g. Neteland).

    Examples
    --------
    >>> a = Association("ISOM", "ISOM", "Feitelijke vereniging", "Niet actief", "samenwerkingsverband",
    ...                 "2019-2023", "onderzoeksrapport", (), None, "2018-12-31")
    >>> a.active_on("2019-06-01"), a.active_on("2018-06-01")
    (False, True)
    """

    code: str
    name: str
    legal_type: str
    status: str
    layer_id: str | None
    registered: str
    source: str
    non_municipal_members: tuple[str, ...]
    valid_from: str | None
    valid_to: str | None
    register_code: str | None = None
    registered_on: str | None = None
    member_count: int = 0
    unresolved_members: tuple[str, ...] = field(default=())

    @property
    def in_register(self) -> bool:
        """Whether the association comes from the register layer."""
        return self.layer_id == REGISTER_LAYER

    def active_on(self, on: date | str) -> bool:
        """Did the association exist on this date? An unknown start counts as "already there":
        association-level dates are known only where a source names them (ISOM's end, Neteland's
        start)."""
        day = parse_date(on)
        start = date.fromisoformat(self.valid_from) if self.valid_from else None
        end = date.fromisoformat(self.valid_to) if self.valid_to else None
        return (start is None or start <= day) and (end is None or day <= end)


@dataclass(frozen=True)
class Reconciliation:
    """How the hand list and the register differ for one association.

    ``only_in_hand`` / ``only_in_register``: 2025 NIS codes named by one source only;
    ``share_differences``: NIS code -> (hand share, register share) where both name the
    municipality with different shares (a partial pre-merger membership).
    """

    code: str
    name: str
    register_code: str | None
    register_name: str | None
    in_both: tuple[int, ...]
    only_in_hand: tuple[int, ...]
    only_in_register: tuple[int, ...]
    share_differences: dict[int, tuple[float, float]]
    only_in_hand_names: list[str]
    only_in_register_names: list[str]

    @property
    def identical(self) -> bool:
        """Whether the hand-made and register versions have the same members and shares."""
        return self.register_code is not None and not (self.only_in_hand or self.only_in_register
                                                       or self.share_differences)


def _norm(text: str) -> str:
    """'OCMW-vereniging' and 'OCMW vereniging' are one legal type."""
    return " ".join(str(text).replace("-", " ").lower().split())


def _split(value: object) -> tuple[str, ...]:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ()
    return tuple(p.strip() for p in str(value).split(";") if p.strip())


@lru_cache(maxsize=4)
def _read(data_dir: Path) -> tuple[Association, ...]:
    table = pd.read_csv(data_dir / "associations.csv", dtype=str, keep_default_na=False)
    return tuple(
        Association(
            code=r.code, name=r.name, legal_type=r.legal_type, status=r.status, layer_id=r.layer or None,
            registered=r.registered, source=r.source, non_municipal_members=_split(r.non_municipal_members),
            valid_from=r.valid_from or None, valid_to=r.valid_to or None, register_code=r.register_code or None,
            registered_on=r.registered_on or None, member_count=int(r.member_count or 0),
            unresolved_members=_split(r.unresolved_members))
        for r in table.itertuples(index=False))


def associations(catalog: Catalog, *, legal_type: str | None = None, status: str | None = None,
                 on: date | str | None = None) -> list[Association]:
    """All associations of both sources, filtered; sorted by name.

    Parameters
    ----------
    catalog : Catalog
    legal_type : str, optional
        The register's legal type ("OCMW vereniging", "Projectvereniging", ...); hyphens and case
        do not matter. Unknown types are refused, naming the known ones.
    status : str, optional
        "Actief", "Niet actief" or "onbekend" (as the register writes them; case does not matter).
    on : date or "YYYY-MM-DD", optional
        Only associations that existed on this date (ISOM until 2018-12-31, Neteland from 2019).

    Examples
    --------
    >>> len([a for a in associations(catalog) if a.in_register])
    286
    """
    found = list(_read(Path(catalog.data_dir)))
    if legal_type is not None:
        types = {_norm(a.legal_type): a.legal_type for a in found}
        if _norm(legal_type) not in types:
            raise InvalidInput(f"unknown legal type {legal_type!r}; known: {', '.join(sorted(set(types.values())))}")
        found = [a for a in found if _norm(a.legal_type) == _norm(legal_type)]
    if status is not None:
        wanted = {s.lower(): s for s in STATUSES}.get(str(status).strip().lower())
        if wanted is None:
            raise InvalidInput(f"unknown status {status!r}; known: {', '.join(STATUSES)}")
        found = [a for a in found if a.status == wanted]
    if on is not None:
        day = parse_date(on)
        found = [a for a in found if a.active_on(day)]
    return sorted(found, key=lambda a: (a.name.lower(), a.code))


def association(catalog: Catalog, code: str) -> Association:
    """One association by its code (hand-list code such as ``W13`` or enterprise number)."""
    for a in _read(Path(catalog.data_dir)):
        if a.code == str(code).strip():
            return a
    raise UnknownZone(f"no association {code!r}")


def _hand_members(catalog: Catalog, code: str) -> pd.Series:
    """NIS code (2025) -> share in the hand list (the layer as published, or the dated history for Neteland)."""
    hand = catalog.published_layer(HAND_LAYER)
    if hand.has_zone(code):
        members = hand.members(code)
        return members.set_index("nis_code")["share"]
    from geo.reference.vintages import carry_forward

    rows = catalog.history[catalog.history["zone_code"] == code][["zone_code", "nis_code"]]
    carried = carry_forward(rows, catalog.crosswalk)
    return carried.groupby("nis_code")["share"].sum().clip(upper=1.0)


def reconciliation(catalog: Catalog, code: str) -> Reconciliation | None:
    """The differences between the hand list and the register for one association.

    ``code`` is a hand-list code (``W13``) or the enterprise number of a registered association
    that the hand list also describes. Returns ``None`` for an association only one source knows
    about on its own terms (a registered association the hand list does not cover). Shown on the
    association's pages; the two are never merged.

    Examples
    --------
    >>> r = reconciliation(catalog, "ISOM")
    >>> r.register_code is None, len(r.only_in_hand)
    (True, 7)
    """
    assoc = association(catalog, code)
    if assoc.in_register:
        hand = [a for a in _read(Path(catalog.data_dir)) if not a.in_register and a.register_code == assoc.code]
        if not hand:
            return None
        assoc = hand[0]
    hand_members = _hand_members(catalog, assoc.code)
    register_name = None
    register_members = pd.Series(dtype=float)
    if assoc.register_code is not None:
        register = catalog.layer(REGISTER_LAYER)
        if register.has_zone(assoc.register_code):
            register_name = register.zone_name(assoc.register_code)
            register_members = register.members(assoc.register_code).set_index("nis_code")["share"]
    hand_set, register_set = set(hand_members.index), set(register_members.index)
    both = sorted(hand_set & register_set)
    differences = {int(n): (float(hand_members[n]), float(register_members[n])) for n in both
                   if abs(hand_members[n] - register_members[n]) > 1e-6}
    only_hand, only_register = sorted(hand_set - register_set), sorted(register_set - hand_set)
    return Reconciliation(
        code=assoc.code, name=assoc.name, register_code=assoc.register_code if register_name else None,
        register_name=register_name, in_both=tuple(int(n) for n in both),
        only_in_hand=tuple(int(n) for n in only_hand), only_in_register=tuple(int(n) for n in only_register),
        share_differences=differences,
        only_in_hand_names=[catalog.atoms.name(n) for n in only_hand],
        only_in_register_names=[catalog.atoms.name(n) for n in only_register])


def layer_on(catalog: Catalog, layer_id: str, on: date | str | None = None) -> Layer:
    """An association layer with only the memberships valid on a date (default today).

    ``samenwerkingsverband``: the dated hand list (:func:`geo.reference.history.associations_as_of`: ISOM
    historical until 2018, Neteland current, a membership with an unknown start counted from the
    date the register attests it, never before). ``samenwerkingsverbanden``: a registered
    membership is known from its registration date (``registered_on``) on; associations the
    register marks "Niet actief" have no valid membership on any date (their end is unknown).

    Examples
    --------
    >>> layer_on(catalog, "samenwerkingsverband", "2025-01-01").zone_codes
    ['NETELAND', 'W13', 'WRNL', 'WZK']
    """
    from geo.reference.history import associations_as_of

    day = parse_date(on) if on is not None else date.today()
    if layer_id == HAND_LAYER:
        return associations_as_of(catalog, day)
    if layer_id != REGISTER_LAYER:
        raise InvalidInput(f"layer {layer_id!r} has no dated memberships; dated layers: {HAND_LAYER}, {REGISTER_LAYER}")
    register = catalog.layer(REGISTER_LAYER)
    valid = {a.code for a in _read(Path(catalog.data_dir)) if a.in_register and a.status != "Niet actief"
             and a.registered_on and date.fromisoformat(a.registered_on) <= day and a.active_on(day)}
    members = register.members()
    members = members[members["zone_code"].isin(valid)]
    # Partial members keep their parts (only Borsbeek of Antwerpen), so they are counted where they live.
    parts = register.member_parts()[["zone_code", "nis_code", "parts"]]
    members = members.merge(parts, on=["zone_code", "nis_code"], how="left")
    if members.empty:
        raise InvalidInput(f"no registered membership is known on {day.isoformat()} (the register dates them "
                           "from August 2023)")
    return Layer.from_members(f"{REGISTER_LAYER}@{day.isoformat()}", members, catalog.atoms,
                              name=f"{register.name} op {dutch_date(day)}", kind=register.kind,
                              vintage=state_on(day), source=register.source,
                              description="Lidmaatschappen die op deze datum geregistreerd zijn bij actieve "
                                          "samenwerkingsverbanden.")
