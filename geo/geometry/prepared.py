"""Browser geometry prepared when the data is built and shipped in ``data/web/``, so that a fresh
server's first maps do not spend seconds dissolving, simplifying and encoding the outlines of
the shipped layers (about 6 s of one core for all of them at both detail levels).

Each file holds exactly the bytes :func:`geo.geometry.polygons.web_geometry` would compute, gzipped. The
index names the file of the municipalities and of each layer by the **fingerprint of what its
outlines are made of**: the municipal polygons (the digest of ``geometry.gpkg``), the zones in
order and which municipality counts towards which zone. A layer whose fingerprint is not in the
index (a scenario, an imported layer, a layer with its own polygons, a data folder built
without the files) is prepared on first use, as before: a shipped file is never a stale outline.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # annotations only: the engine never waits for geometry, nor geometry for it
    from geo.engine.layer import Layer


FOLDER = "web"
INDEX = "index.json"
MUNICIPALITIES = "municipalities"
# A municipality counts towards a zone's outline when at least half of it lies in the zone
# (as in geo.geometry.polygons.zone_polygons).
OUTLINE_SHARE = 0.5


def shipped_web_geometry(layer: Layer | None, metres: float, data_dir: Path) -> bytes | None:
    """The prepared browser geometry of ``layer`` (None: the municipalities) at tolerance
    ``metres``, or None when the data folder holds none for it.

    Examples
    --------
    >>> from geo.paths import SHIPPED_DATA
    >>> body = shipped_web_geometry(None, 120.0, SHIPPED_DATA)
    >>> body[:30]
    b'{"type":"FeatureCollection","f'
    """
    files = _index(Path(data_dir)).get(metres_key(metres), {})
    key = fingerprint(layer)
    name = files.get(key) if key is not None else None
    if name is None:
        return None
    return _read(Path(data_dir) / FOLDER / name)


def fingerprint(layer: Layer | None) -> str | None:
    """A digest of what a layer's outlines are made of (with the municipal polygons, which the
    index checks once); None for a layer with its own polygons, which are not prepared ahead."""
    if layer is None:
        return MUNICIPALITIES
    if layer.polygons is not None:
        return None
    coo = layer.membership.tocoo()
    keep = coo.data >= OUTLINE_SHARE
    rows, cols = coo.row[keep].astype(np.int64), coo.col[keep].astype(np.int64)
    order = np.lexsort((rows, cols))
    digest = hashlib.blake2b(digest_size=16)
    digest.update("\x1f".join(map(str, layer.zones["code"])).encode("utf-8"))
    digest.update(np.asarray(layer.atoms.nis_codes, dtype=np.int64).tobytes())
    digest.update(rows[order].tobytes())
    digest.update(cols[order].tobytes())
    return digest.hexdigest()


def prepared_fingerprints(data_dir: Path) -> frozenset[str]:
    """The fingerprints of the layers whose outlines the data folder ships (the shipped layers
    as built; the municipalities' is :data:`MUNICIPALITIES`)."""
    return _fingerprints(Path(data_dir))


@lru_cache(maxsize=8)
def _fingerprints(data_dir: Path) -> frozenset[str]:
    return frozenset(key for files in _index(data_dir).values() for key in files)


def metres_key(metres: float) -> str:
    """A distance in metres as a cache key (``250.0`` -> ``'250'``)."""
    return f"{float(metres):g}"


@lru_cache(maxsize=8)
def _index(data_dir: Path) -> dict[str, dict[str, str]]:
    """Tolerance -> fingerprint -> file name; empty when there is no index or it was built from
    other municipal polygons than the folder's."""
    path = data_dir / FOLDER / INDEX
    if not path.exists():
        return {}
    index = json.loads(path.read_text(encoding="utf-8"))
    if index.get("geometry_digest") != geometry_digest(data_dir):
        return {}
    return index.get("files", {})


def geometry_digest(data_dir: Path) -> str:
    """Digest of ``geometry.gpkg`` in ``data_dir`` (empty when there is none)."""
    path = data_dir / "geometry.gpkg"
    return hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest() if path.exists() else ""


def forget_index() -> None:
    """Read the index again on next use (after :mod:`geo.geometry.build` rewrote it)."""
    _index.cache_clear()
    _fingerprints.cache_clear()


def _read(path: Path) -> bytes | None:
    try:
        return gzip.decompress(path.read_bytes())
    except (OSError, EOFError, gzip.BadGzipFile):
        return None  # a missing or damaged file: prepared on first use instead
