"""Cost sharing ("verevening") and board seats for the members of a zone.

An amount is split over the members of a zone (usually a cooperation association): optionally a
fixed part per member first, the rest in proportion to a weight (inhabitants by default, or
area, or equal parts). Shares are computed in whole cents with the largest remainder method, so
they always add up to the amount to the cent, and the rounding is deterministic (ties go to the
lower NIS code).

Board seats follow population rules: a base number of seats per member plus extra seats above
thresholds (the rule quoted in the research: a second seat above 20,000 inhabitants).

A member that belongs to the zone only in part (share below 1) counts with that share of its
inhabitants and area. Population is Statbel's count on 1 January of ``atoms.population_year``.

Examples
--------
>>> from decimal import Decimal
>>> largest_remainder_cents(Decimal("100.00"), [1, 1, 1])
[3334, 3333, 3333]
>>> SeatRule().seats(25_000)
2
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Literal, Sequence

import numpy as np
import pandas as pd

from geo import dutch
from geo.engine.layer import Layer
from geo.errors import InvalidInput

ShareWeight = Literal["population", "area", "equal"]
SHARE_WEIGHTS: tuple[str, ...] = ("population", "area", "equal")
MAX_AMOUNT = Decimal("1e12")
MAX_RATE = Decimal("1e5")
# An amount in euro as given: a number, or text such as "321235.50" (refused beyond 2 decimals).
Amount = Decimal | int | float | str


def to_cents(amount: Amount, what: str = "amount") -> int:
    """An amount in euro (number or text) -> whole cents; refuses more than 2 decimals."""
    try:
        value = Decimal(str(amount).strip())
    except (InvalidOperation, ValueError):
        raise InvalidInput(f"{what} must be a number of euro, got {amount!r}") from None
    if not value.is_finite():
        raise InvalidInput(f"{what} must be a finite number, got {amount!r}")
    if value < 0:
        raise InvalidInput(f"{what} cannot be negative, got {amount}")
    if value > MAX_AMOUNT:
        raise InvalidInput(f"{what} is larger than {MAX_AMOUNT:,.0f} euro")
    cents = value * 100
    if cents != cents.to_integral_value():
        raise InvalidInput(f"{what} has more than 2 decimals: {amount}")
    return int(cents)


def largest_remainder_cents(amount: Decimal | float | str | int, weights: Sequence[float]) -> list[int]:
    """Split ``amount`` euro into whole cents proportional to ``weights`` (largest remainder).

    The parts add up to the amount exactly. Each part is the floor of its exact share, and the
    cents left over go one each to the largest remainders (ties to the earlier position).
    """
    total_cents = to_cents(amount)
    w = np.asarray(weights, dtype=float)
    if len(w) == 0:
        if total_cents:
            raise InvalidInput("cannot split an amount over no members")
        return []
    if (w < 0).any() or not np.isfinite(w).all():
        raise InvalidInput("weights must be finite and not negative")
    if w.sum() <= 0:
        raise InvalidInput("the weights of the members add up to zero; choose another weight")
    # Exact rational arithmetic on the weights avoids float drift deciding who gets a cent.
    exact = [Decimal(total_cents) * Decimal(repr(float(x))) / Decimal(repr(float(w.sum()))) for x in w]
    floors = [int(e.to_integral_value(rounding="ROUND_FLOOR")) for e in exact]
    left = total_cents - sum(floors)
    order = sorted(range(len(w)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return floors


@dataclass(frozen=True)
class SeatRule:
    """Seats per member: ``base`` plus ``extra`` for each threshold the population exceeds.

    ``thresholds`` are strict ("above 20,000"): 20,000 inhabitants give the base only.
    """

    base: int = 1
    thresholds: tuple[int, ...] = (20_000,)
    extra: int = 1
    label: str = field(default="")

    def __post_init__(self) -> None:
        if self.base < 0 or self.extra < 0:
            raise InvalidInput("seat numbers cannot be negative")
        if any(t < 0 for t in self.thresholds):
            raise InvalidInput("seat thresholds cannot be negative")
        object.__setattr__(self, "thresholds", tuple(sorted(int(t) for t in self.thresholds)))

    def seats(self, population: float) -> int:
        """Seats for a member with this population under the rule."""
        return self.base + self.extra * sum(1 for t in self.thresholds if population > t)

    def describe(self) -> str:
        """The rule in Dutch, for tables and reports."""
        if self.label:
            return self.label
        parts = [f"{self.base} zetel{'s' if self.base != 1 else ''} per lid"]
        for t in self.thresholds:
            parts.append(f"+{self.extra} boven {dutch.inhabitants(t)}")
        return ", ".join(parts)


@dataclass(frozen=True)
class CostShare:
    """Per member: weight, fixed part, proportional part, total, and board seats."""

    layer_id: str
    zone_code: str
    zone_name: str
    amount_cents: int
    fixed_cents: int
    weight: ShareWeight
    seat_rule: SeatRule
    population_year: int
    table: pd.DataFrame

    def as_dict(self) -> dict:
        """The cost share as a JSON-ready dict."""
        rows = [{
            "nis_code": int(r.nis_code), "municipality": r.municipality, "membership_share": float(r.membership_share),
            "population": int(r.population), "area_km2": round(float(r.area_km2), 2),
            "weight_share": round(float(r.weight_share), 8),
            "fixed": _euro(r.fixed_cents), "proportional": _euro(r.proportional_cents), "total": _euro(r.total_cents),
            "seats": int(r.seats),
        } for r in self.table.itertuples()]
        return {
            "layer": self.layer_id, "zone": self.zone_code, "zone_name": self.zone_name,
            "amount": _euro(self.amount_cents), "fixed_per_member": _euro(self.fixed_cents),
            "weight": self.weight, "population_year": self.population_year,
            "seat_rule": {"base": self.seat_rule.base, "thresholds": list(self.seat_rule.thresholds),
                          "extra": self.seat_rule.extra, "description": self.seat_rule.describe()},
            "total": _euro(int(self.table["total_cents"].sum())), "seats": int(self.table["seats"].sum()),
            "members": rows,
        }

    def rows(self) -> pd.DataFrame:
        """The table for CSV: amounts in euro with 2 decimals."""
        out = self.table.copy()
        for col in ("fixed", "proportional", "total"):
            out[col] = out.pop(f"{col}_cents").map(lambda c: f"{Decimal(int(c)) / 100:.2f}")
        out["population_year"] = self.population_year
        out["area_km2"] = out["area_km2"].round(2)
        return out


def _euro(cents: int) -> float:
    return float(Decimal(int(cents)) / 100)


def cost_share(layer: Layer, zone: str, amount: Amount, *, weight: ShareWeight = "population",
               fixed_per_member: Amount = 0, seat_rule: SeatRule | None = None) -> CostShare:
    """Split ``amount`` euro over the members of ``zone`` and allocate board seats.

    Parameters
    ----------
    layer, zone : Layer, str
        The zone whose members share (e.g. ``samenwerkingsverband``, ``W13``).
    amount : number or str
        Euro, at most 2 decimals.
    weight : {"population", "area", "equal"}
        Key for the part above the fixed parts.
    fixed_per_member : number or str
        Paid by every member first; the rest is split by ``weight``.
    seat_rule : SeatRule
        Default: 1 seat, a second above 20,000 inhabitants.

    Examples
    --------
    >>> share = cost_share(catalog.layer("samenwerkingsverband"), "W13", "321235")
    >>> int(share.table["total_cents"].sum())
    32123500
    """
    if weight not in SHARE_WEIGHTS:
        raise InvalidInput(f"unknown weight {weight!r}; expected one of {', '.join(SHARE_WEIGHTS)}")
    seat_rule = seat_rule or SeatRule()
    members = layer.members(zone)
    if members.empty:
        raise InvalidInput(f"zone {zone!r} of layer {layer.id!r} has no members")
    atoms = layer.atoms
    rows = atoms.positions(members["nis_code"])
    share = members["share"].to_numpy(dtype=float)
    population = atoms.weights("population")[rows] * share
    area = atoms.weights("area")[rows] * _area_shares(layer, zone, members, share)
    amount_cents = to_cents(amount)
    fixed_cents = to_cents(fixed_per_member, "fixed_per_member")
    rest = amount_cents - fixed_cents * len(members)
    if rest < 0:
        raise InvalidInput(f"the fixed parts ({len(members)} x {fixed_cents / 100:.2f}) exceed the amount "
                           f"({amount_cents / 100:.2f})")
    key = {"population": population, "area": area, "equal": np.ones(len(members))}[weight]
    proportional = largest_remainder_cents(Decimal(rest) / 100, key.tolist())
    table = pd.DataFrame({
        "nis_code": members["nis_code"].astype(int).to_numpy(),
        "municipality": members["municipality"].to_numpy(),
        "membership_share": share,
        "population": np.round(population).astype(int),
        "area_km2": area,
        "weight_share": key / key.sum(),
        "fixed_cents": fixed_cents,
        "proportional_cents": proportional,
    })
    table["total_cents"] = table["fixed_cents"] + table["proportional_cents"]
    table["seats"] = [seat_rule.seats(p) for p in population]
    return CostShare(layer.id, str(zone), layer.zone_name(zone), amount_cents, fixed_cents, weight, seat_rule,
                     atoms.population_year, table)


def per_inhabitant(layer: Layer, zone: str, euro_per_inhabitant: Amount) -> Decimal:
    """The amount a per-inhabitant contribution raises (W13: EUR 1 per inhabitant), in euro."""
    try:
        rate = Decimal(str(euro_per_inhabitant).strip())
    except (InvalidOperation, ValueError):
        raise InvalidInput(f"euro per inhabitant must be a number, got {euro_per_inhabitant!r}") from None
    if not rate.is_finite() or not 0 <= rate <= MAX_RATE:
        raise InvalidInput(f"euro per inhabitant must be between 0 and {MAX_RATE:,.0f}, got {euro_per_inhabitant!r}")
    population = float(layer.zone_weight("population")[layer.zone_position(zone)])
    return (rate * Decimal(int(round(population)))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _area_shares(layer: Layer, zone: str, members: pd.DataFrame, share: np.ndarray) -> np.ndarray:
    """Each member's share of its municipality's *area* (:func:`geo.engine.areas.area_view`): a
    partial member (only Borsbeek of today's Antwerpen) pays by area for its part's area, not for
    its population share of the merged municipality's; a polygon layer's member for its polygon's."""
    from geo.engine.areas import area_view

    view = area_view(layer)
    if view is layer:
        return share
    by_area = view.members(zone).set_index("nis_code")["share"]
    return members["nis_code"].map(by_area).fillna(pd.Series(share, index=members.index)).to_numpy(dtype=float)
