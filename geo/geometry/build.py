"""Build step: write the browser geometry that :mod:`geo.geometry.prepared` reads back.

Run by ``data/build_data.py`` when the shipped data changes; the server never calls it.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from geo.engine.layer import Layer
from geo.geometry import prepared
from geo.geometry.polygons import compute_web_geometry


def write_web_geometry(layers: list[Layer], data_dir: Path, tolerances: dict[str, float]) -> Path:
    """Prepare the browser geometry of the municipalities and of ``layers`` at every tolerance
    (named: ``{"coarse": 120.0, ...}``) into ``data_dir/web``; returns the index's path.
    Called by ``data/build_data.py``.
    """
    data_dir = Path(data_dir)
    folder = data_dir / prepared.FOLDER
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*.json.gz"):
        old.unlink()
    index: dict[str, Any] = {"geometry_digest": prepared.geometry_digest(data_dir), "files": {}}
    for detail, metres in tolerances.items():
        files: dict[str, str] = {}
        for layer in [None, *layers]:
            key = prepared.fingerprint(layer)
            if key is None:
                continue
            name = f"{prepared.MUNICIPALITIES if layer is None else 'layer-' + layer.id}-{detail}.json.gz"
            # mtime=0: the same data gives the same bytes
            (folder / name).write_bytes(gzip.compress(compute_web_geometry(layer, metres, data_dir), 9, mtime=0))
            files[key] = name
        index["files"][prepared.metres_key(metres)] = files
    path = folder / prepared.INDEX
    path.write_text(json.dumps(index, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    prepared.forget_index()
    return path
