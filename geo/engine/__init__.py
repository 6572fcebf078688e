"""The engine: municipalities as atoms, layers as membership tables, overlays as weighted
contingency tables, and the incremental evaluator of moves. Pure computation, no I/O beyond the atoms.

Public parts (imported on first use, so importing one module never loads its siblings):
- ``atoms``: Atoms, Sectors
- ``layer``: Layer
- ``overlay``: OverlayResult, Summary (and the function ``overlay.overlay``)
- ``cells``: JointCells, sparse_table (sparse contingency tables: only the cells with weight)
- ``details``: Member, TouchedZone, ZoneDetail, zone_details
- ``fine``: sector_membership, joint_cells (layers finer than a municipality, from the sectors)
- ``areas``: area_view, joint_areas (area weighting from polygon intersections)
- ``metrics``: adjusted_rand_index, variation_of_information, normalized_mutual_information, nested_share,
  partition_measures
- ``evaluate``: Evaluator
- ``scenario``: Move, apply_moves, check_moves, moved
"""

from geo.lazy import lazy_exports

_EXPORTS = {
    "Atoms": "geo.engine.atoms",
    "Sectors": "geo.engine.atoms",
    "Layer": "geo.engine.layer",
    "OverlayResult": "geo.engine.overlay",
    "Summary": "geo.engine.overlay",
    "JointCells": "geo.engine.cells",
    "sparse_table": "geo.engine.cells",
    "Member": "geo.engine.details",
    "TouchedZone": "geo.engine.details",
    "ZoneDetail": "geo.engine.details",
    "zone_details": "geo.engine.details",
    "sector_membership": "geo.engine.fine",
    "joint_cells": "geo.engine.fine",
    "area_view": "geo.engine.areas",
    "joint_areas": "geo.engine.areas",
    "zone_areas": "geo.engine.areas",
    "zone_summary": "geo.engine.areas",
    "adjusted_rand_index": "geo.engine.metrics",
    "variation_of_information": "geo.engine.metrics",
    "normalized_mutual_information": "geo.engine.metrics",
    "nested_share": "geo.engine.metrics",
    "partition_measures": "geo.engine.metrics",
    "Evaluator": "geo.engine.evaluate",
    "Move": "geo.engine.scenario",
    "apply_moves": "geo.engine.scenario",
    "check_moves": "geo.engine.scenario",
    "moved": "geo.engine.scenario",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
