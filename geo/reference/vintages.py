"""Municipal vintages and mergers: carry old NIS codes and names to the municipalities of 2025.

Flanders merged municipalities on 1 January 2019 (308 -> 300) and on 1 January 2025
(300 -> 285). Membership lists from before a merger use codes that no longer exist; the
crosswalk maps every old code to the 2025 municipality that contains it now, together with the
old part's share of the new municipality's population.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import NamedTuple

import pandas as pd

from geo.engine.atoms import Atoms
from geo.errors import InvalidInput, UnknownMunicipality

VINTAGES = ("2025", "2019-2024", "2018")


def normalise_name(name: object) -> str:
    """Case-, accent- and punctuation-insensitive key: 'Sint-Niklaas' == 'sint niklaas'."""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    return "".join(ch for ch in text.casefold() if ch.isalnum())


class Part(NamedTuple):
    """An old municipality as part of a 2025 one."""

    nis_2025: int
    population_share: float


@dataclass(frozen=True, eq=False)
class Crosswalk:
    """Old NIS codes and names -> 2025 municipalities.

    Parameters
    ----------
    codes : pandas.DataFrame
        Columns ``vintage, nis_code, name, nis_2025, population_share``
        (see ``data/municipality_codes.csv``).
    atoms : Atoms
        The 2025 municipalities.

    Examples
    --------
    >>> crosswalk = catalog.crosswalk
    >>> crosswalk.to_2025(11007)  # Borsbeek, part of Antwerpen since 2025
    11002
    """

    codes: pd.DataFrame
    atoms: Atoms
    _by_code: dict[str, dict[int, Part]] = field(init=False, repr=False)
    _by_name: dict[str, dict[str, dict[int, Part]]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by_code: dict[str, dict[int, Part]] = {v: {} for v in VINTAGES}
        by_name: dict[str, dict[str, dict[int, Part]]] = {v: {} for v in VINTAGES}
        for code, row in self.atoms.table.iterrows():
            by_code["2025"][int(code)] = Part(int(code), 1.0)
            for name in {row["name"], row["name_fr"]}:
                by_name["2025"].setdefault(normalise_name(name), {})[int(code)] = Part(int(code), 1.0)
        for row in self.codes.itertuples():
            part = Part(int(row.nis_2025), float(row.population_share))
            by_code[row.vintage][int(row.nis_code)] = part
            by_name[row.vintage].setdefault(normalise_name(row.name), {})[int(row.nis_code)] = part
        object.__setattr__(self, "_by_code", by_code)
        object.__setattr__(self, "_by_name", by_name)

    def _vintages(self, vintage: str | None) -> tuple[str, ...]:
        if vintage is None:
            return VINTAGES
        if vintage not in VINTAGES:
            raise InvalidInput(f"unknown vintage {vintage!r}; expected one of {', '.join(VINTAGES)}")
        return (vintage,)

    def part(self, nis_code: object, vintage: str | None = None) -> Part:
        """The 2025 municipality a NIS code belongs to now, and its share of the population.

        Without ``vintage`` the newest vintage that knows the code wins (a code that still
        exists in 2025 means the 2025 municipality).
        """
        try:
            code = int(str(nis_code).strip().removesuffix(".0"))
        except (TypeError, ValueError):
            raise UnknownMunicipality(f"{nis_code!r} is not a NIS code (expected 5 digits)") from None
        for v in self._vintages(vintage):
            if code in self._by_code[v]:
                return self._by_code[v][code]
        where = f"vintage {vintage}" if vintage else "2018, 2019-2024 or 2025"
        raise UnknownMunicipality(f"unknown NIS code {code} (not a Flemish or Brussels municipality of {where})")

    def to_2025(self, nis_code: object, vintage: str | None = None) -> int:
        """The 2025 municipality an old (or current) NIS code belongs to now."""
        return self.part(nis_code, vintage).nis_2025

    def part_by_name(self, name: str, vintage: str | None = None) -> Part:
        """The municipality part with this (current, old or French) name; InvalidInput if ambiguous."""
        key = normalise_name(name)
        for v in self._vintages(vintage):
            found = self._by_name[v].get(key)
            if not found:
                continue
            targets = {p.nis_2025 for p in found.values()}
            if len(targets) > 1:
                raise InvalidInput(f"municipality name {name!r} is ambiguous: NIS codes {sorted(found)}")
            return next(iter(found.values()))
        raise UnknownMunicipality(f"unknown municipality name {name!r}")

    def by_name(self, name: str, vintage: str | None = None) -> int:
        """The 2025 municipality with this (current, old or French) name."""
        return self.part_by_name(name, vintage).nis_2025

    def resolve_part(self, value: object, vintage: str | None = None) -> Part:
        """The municipality part for a NIS code (any vintage) or a name."""
        text = str(value).strip().removesuffix(".0")
        if text.isdigit():
            return self.part(text, vintage)
        if not text or text.lower() == "nan":
            raise InvalidInput("empty municipality (no NIS code or name)")
        return self.part_by_name(text, vintage)

    def resolve(self, value: object, vintage: str | None = None) -> int:
        """A NIS code (any vintage) or a name -> 2025 NIS code."""
        return self.resolve_part(value, vintage).nis_2025

    def history(self, nis_2025: int) -> pd.DataFrame:
        """The older codes and names that make up a 2025 municipality (``vintage, nis_code, name``)."""
        self.atoms.position(nis_2025)
        rows = self.codes[self.codes["nis_2025"] == int(nis_2025)]
        return rows[["vintage", "nis_code", "name", "population_share"]].reset_index(drop=True)

    def merged_from(self, nis_2025: int) -> list[int]:
        """Old 2019-2024 codes merged into this municipality on 1 January 2025 (empty if none)."""
        old = self.codes[(self.codes["vintage"] == "2019-2024") & (self.codes["nis_2025"] == int(nis_2025))]
        codes = sorted(int(c) for c in old["nis_code"])
        return codes if codes != [int(nis_2025)] else []

    def search(self, text: str, limit: int = 10) -> pd.DataFrame:
        """Municipalities whose current or old name or NIS code matches ``text``, best first."""
        key = normalise_name(text)
        columns = ["nis_code", "name", "matched"]
        if not key:
            return pd.DataFrame(columns=columns)
        hits: dict[int, tuple[int, str]] = {}

        def offer(code: int, rank: int, matched: str) -> None:
            if code not in hits or hits[code][0] > rank:
                hits[code] = (rank, matched)

        for v in VINTAGES:
            for name, parts in self._by_name[v].items():
                rank = 0 if name == key else 1 if name.startswith(key) else 2 if key in name else None
                if rank is not None:
                    for old_code, part in parts.items():
                        label = self.atoms.name(part.nis_2025) if v == "2025" else self._old_name(v, old_code)
                        offer(part.nis_2025, rank + (0 if v == "2025" else 1), label)
            if key.isdigit():
                for old, part in self._by_code[v].items():
                    if str(old).startswith(key):
                        offer(part.nis_2025, 0 if str(old) == key else 1, str(old))
        rows = [{"nis_code": c, "name": self.atoms.name(c), "matched": m, "_rank": r}
                for c, (r, m) in hits.items()]
        frame = pd.DataFrame(rows, columns=[*columns, "_rank"])
        return frame.sort_values(["_rank", "name"]).drop(columns="_rank").head(limit).reset_index(drop=True)

    def _old_name(self, vintage: str, nis_code: int) -> str:
        row = self.codes[(self.codes["vintage"] == vintage) & (self.codes["nis_code"] == nis_code)]
        return str(row["name"].iloc[0]) if len(row) else str(nis_code)


def carry_forward(table: pd.DataFrame, crosswalk: Crosswalk, column: str = "nis_code",
                  vintage: str | None = None) -> pd.DataFrame:
    """Replace old NIS codes or names in ``column`` by 2025 NIS codes.

    The share of a carried municipality is multiplied by the old part's share of the 2025
    municipality's population, and parts that land in the same zone are summed: Antwerpen and
    Borsbeek both listed give Antwerpen (2025) share 1; Borsbeek alone gives about 0.02.
    Unknown codes or names are refused, naming the first one.

    Examples
    --------
    >>> carried = carry_forward(pd.DataFrame({"nis_code": [11007], "zone_code": ["X"]}), catalog.crosswalk)
    >>> carried["nis_code"].tolist(), carried["share"].round(2).tolist()
    ([11002], [0.02])
    """
    if column not in table:
        raise InvalidInput(f"table lacks column {column!r}")
    out = table.copy()
    parts = [crosswalk.resolve_part(v, vintage) for v in out[column]]
    out["nis_code"] = [p.nis_2025 for p in parts]
    base_share = pd.to_numeric(out["share"], errors="coerce") if "share" in out else 1.0
    out["share"] = base_share * pd.Series([p.population_share for p in parts], index=out.index)
    if column != "nis_code":
        out = out.drop(columns=column)
    keys = [c for c in out.columns if c != "share"]
    out = out.groupby(keys, as_index=False, sort=False, dropna=False)["share"].sum()
    out["share"] = out["share"].clip(upper=1.0).round(6)
    return out.reset_index(drop=True)
