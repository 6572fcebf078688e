"""A tiny hand-made catalog for the engine's unit tests: six municipalities, two layers.

Small enough to compute every expected number by hand (see tests/test_engine_tiny.py)::

    municipality  Alfa  Beta  Gamma  Delta  Epsilon  Zeta
    NIS code     11001 11002  11003  11004    11005 11006
    inhabitants   1000  2000   3000   4000      500  6000
    zones         Z1 "Alfa-Beta"      Z2 "Regio Delta" ---------
    associations       V1 ------------------  V2      (Alfa and Zeta in none)

Bordering: a path Alfa - Beta - Gamma - Delta - Epsilon - Zeta.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pandas as pd

from geo.engine.atoms import Atoms
from geo.engine.layer import Layer
from geo.reference.catalog import Catalog

NAMES = ("Alfa", "Beta", "Gamma", "Delta", "Epsilon", "Zeta")
CODES = tuple(range(11001, 11007))
POPULATION = (1000, 2000, 3000, 4000, 500, 6000)
NIS = dict(zip(NAMES, CODES))


def tiny_atoms() -> Atoms:
    return Atoms.from_frame(pd.DataFrame({"nis_code": CODES, "name": NAMES, "region": "Vlaams Gewest",
                                          "area_km2": [10.0] * 6, "population": POPULATION}), 2020)


def _layer(layer_id: str, rows: list[tuple[str, str, str]], atoms: Atoms) -> Layer:
    frame = pd.DataFrame([{"zone_code": code, "zone_name": name, "nis_code": NIS[member], "share": 1.0}
                          for code, name, member in rows])
    return Layer.from_members(layer_id, frame, atoms, name=layer_id)


def tiny_catalog() -> Catalog:
    """Zones Z1 {Alfa, Beta, Gamma} and Z2 {Delta, Epsilon, Zeta}; associations V1 {Beta, Gamma,
    Delta} and V2 {Epsilon}."""
    atoms = tiny_atoms()
    zones = _layer("zones", [("Z1", "Alfa-Beta", m) for m in ("Alfa", "Beta", "Gamma")]
                   + [("Z2", "Regio Delta", m) for m in ("Delta", "Epsilon", "Zeta")], atoms)
    associations = _layer("associations", [("V1", "Verband een", m) for m in ("Beta", "Gamma", "Delta")]
                          + [("V2", "Verband twee", "Epsilon")], atoms)
    return Catalog(atoms=atoms, crosswalk=None, history=pd.DataFrame(), data_dir=Path("."),  # type: ignore[arg-type]
                   builtin={"zones": zones, "associations": associations})


def tiny_graph() -> nx.Graph:
    return nx.path_graph(CODES)
