"""Synthetic finer atoms: every municipality split into parts, for measuring how cost grows.

Flanders has 285 municipalities; its 1,150-odd deelgemeenten, statistical sectors (~9,000) or
a European layer of ~100,000 local administrative units are finer atoms under the same layers.
We do not ship those boundaries, so the growth benchmark splits each municipality into ``k``
parts: population by a multinomial draw (parts sum to the municipality's population), area by
random fractions; each part keeps its municipality's zones in every layer, except a share
``perturb`` of parts that take the zones of a neighbouring municipality (as a finer atom on a
boundary would). The layers keep their zones; only the atoms multiply.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy import sparse

from geo.engine.atoms import Atoms
from geo.engine.layer import Layer


def subdivide(atoms: Atoms, layers: Iterable[Layer], parts: int, *, perturb: float = 0.1,
              neighbours: dict[int, list[int]] | None = None, seed: int = 0) -> tuple[Atoms, dict[str, Layer]]:
    """Split every atom into ``parts`` atoms and carry the layers over to them.

    Parameters
    ----------
    atoms : Atoms
        The municipalities.
    layers : iterable of Layer
        Layers over ``atoms``.
    parts : int
        Parts per municipality (``len(atoms) * parts`` atoms in all).
    perturb : float
        Share of parts (of municipalities with a neighbour) that take a neighbour's zones.
    neighbours : dict, optional
        NIS code -> neighbouring NIS codes (e.g. from :func:`geo.geometry.polygons.adjacency`); without
        it, a perturbed part takes the zones of a random other municipality.
    seed : int
        Random seed: the same arguments give the same atoms and layers.

    Returns
    -------
    (Atoms, dict[str, Layer])
        Child atoms with NIS code ``parent * 1000 + part`` (so at most 1000 parts) and the
        layers by id.

    Examples
    --------
    >>> from geo.reference.catalog import load_catalog
    >>> c = load_catalog()
    >>> fine, layers = subdivide(c.atoms, [c.layer("provincie")], 4, seed=1)
    >>> len(fine), layers["provincie"].membership.shape
    (1216, (1216, 6))
    >>> int(fine.weights("population").sum()) == int(c.atoms.weights("population").sum())
    True
    """
    if not 1 <= parts <= 1000:
        raise ValueError("parts must be between 1 and 1000")
    rng = np.random.default_rng(seed)
    n = len(atoms)
    parent = np.repeat(np.arange(n), parts)
    population = atoms.table["population"].to_numpy(dtype=np.int64)
    area = atoms.table["area_km2"].to_numpy(dtype=float)
    child_population = np.concatenate([rng.multinomial(p, np.full(parts, 1.0 / parts)) for p in population])
    fractions = rng.dirichlet(np.ones(parts), size=n).ravel()
    codes = atoms.nis_codes.astype(np.int64)
    table = pd.DataFrame({
        "nis_code": codes[parent] * 1000 + np.tile(np.arange(parts), n),
        "name": [f"{name} ({k + 1})" for name in atoms.names for k in range(parts)],
        "region": atoms.table["region"].to_numpy()[parent],
        "area_km2": area[parent] * fractions,
        "population": child_population,
    })
    fine = Atoms.from_frame(table, atoms.population_year)

    # Which municipality's zones each part takes: its own, or a neighbour's.
    source = parent.copy()
    position = {int(c): i for i, c in enumerate(codes)}
    flip = rng.random(len(parent)) < perturb
    for child in np.nonzero(flip)[0]:
        if neighbours is None:
            source[child] = rng.integers(0, n)
        else:
            options = neighbours.get(int(codes[parent[child]]), [])
            if options:
                source[child] = position[int(options[rng.integers(0, len(options))])]
    pick = sparse.csr_array((np.ones(len(source)), (np.arange(len(source)), source)), shape=(len(source), n))

    out = {}
    for layer in layers:
        membership = sparse.csr_array(pick @ layer.membership)
        out[layer.id] = Layer(id=layer.id, name=layer.name, atoms=fine, zones=layer.zones.copy(),
                              membership=membership, kind=layer.kind, vintage=layer.vintage, source=layer.source,
                              description=f"{layer.description} (synthetic: {parts} parts per municipality)")
    return fine, out


def neighbour_lists(pairs: pd.DataFrame) -> dict[int, list[int]]:
    """``adjacency()`` pairs as NIS code -> neighbours."""
    out: dict[int, list[int]] = {}
    for a, b in pairs[["nis_a", "nis_b"]].itertuples(index=False):
        out.setdefault(int(a), []).append(int(b))
        out.setdefault(int(b), []).append(int(a))
    return out
