"""Layer roles from ``data/layers.json``: the association layer, norms per layer, default comparisons.

Which layer holds the cooperation associations (the layer a zoning is fitted to by default), which
population norms apply to a layer's zones and which layers a fit report compares a zone with are
data, not code: they are read from the layer registry (``role``, ``norms``, ``compare_with``).

Examples
--------
>>> association_layer()
'samenwerkingsverband'
>>> compare_with("samenwerkingsverband")
('eerstelijnszone', 'referentieregio', 'gezondheidsmakers', 'logo')
>>> layer_meta()["eerstelijnszone"].norms
('minimum_60k',)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from geo.paths import SHIPPED_DATA

ASSOCIATIONS_ROLE = "associations"
ZONING_ROLE = "zoning"
NESTING_ROLE = "nesting"
MUNICIPALITIES_ROLE = "municipalities"


@dataclass(frozen=True)
class LayerMeta:
    """What the registry says about a layer beyond its name and source."""

    id: str
    role: str | None = None
    norms: tuple[str, ...] = ()  # keys of geo.reference.norms.NORMS, the layer's own norm first
    compare_with: tuple[str, ...] = ()


@lru_cache(maxsize=4)
def _read(data_dir: str) -> dict[str, LayerMeta]:
    registry = json.loads((Path(data_dir) / "layers.json").read_text(encoding="utf-8"))
    return {entry["id"]: LayerMeta(entry["id"], entry.get("role"), tuple(entry.get("norms", ())),
                                   tuple(entry.get("compare_with", ()))) for entry in registry}


def layer_meta(data_dir: str | Path = SHIPPED_DATA) -> dict[str, LayerMeta]:
    """Roles, norms and default comparisons of the shipped layers, by layer id."""
    return _read(str(Path(data_dir).resolve()))


def with_role(role: str, data_dir: str | Path = SHIPPED_DATA) -> list[str]:
    """Ids of the layers with this role, in registry order."""
    return [m.id for m in layer_meta(data_dir).values() if m.role == role]


def layer_with_role(role: str, data_dir: str | Path = SHIPPED_DATA) -> str:
    """The first layer with this role; a registry without one is refused, naming the role."""
    found = with_role(role, data_dir)
    if not found:
        raise LookupError(f"no layer with role {role!r} in {data_dir}/layers.json")
    return found[0]


def association_layer(data_dir: str | Path = SHIPPED_DATA) -> str:
    """The layer of the cooperation associations: what a zoning is fitted to by default."""
    return layer_with_role(ASSOCIATIONS_ROLE, data_dir)


def zoning_layer(data_dir: str | Path = SHIPPED_DATA) -> str:
    """The zoning edited by default (the workbench, ensembles): the primary care zones.

    Examples
    --------
    >>> zoning_layer(), nesting_layer(), municipality_layer()
    ('eerstelijnszone', 'referentieregio', 'gemeente')
    """
    return layer_with_role(ZONING_ROLE, data_dir)


def nesting_layer(data_dir: str | Path = SHIPPED_DATA) -> str:
    """The layer whose zones a zoning nests in by default: the reference regions."""
    return layer_with_role(NESTING_ROLE, data_dir)


def municipality_layer(data_dir: str | Path = SHIPPED_DATA) -> str:
    """The municipalities as a layer (one zone each)."""
    return layer_with_role(MUNICIPALITIES_ROLE, data_dir)


def compare_with(layer_id: str, data_dir: str | Path = SHIPPED_DATA) -> tuple[str, ...]:
    """Default comparison layers for a zone of ``layer_id``: its own ``compare_with``, else the
    association layer's (any layer is compared with the structures the associations are)."""
    meta = layer_meta(data_dir)
    own = meta.get(layer_id)
    if own is not None and own.compare_with:
        return own.compare_with
    return meta[association_layer(data_dir)].compare_with
