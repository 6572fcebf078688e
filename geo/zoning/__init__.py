"""Zoning tools: validation of a zoning (contiguity, bounds, nesting), comparisons of two zonings,
the workbench's live feedback, suggested moves and zone anchors.

Public parts (imported on first use, so importing one module never loads its siblings):
- ``validation``: ValidationReport, validate, check_contiguity, check_nesting, check_bounds, adjacency_graph,
  exclaves, make_norm, territory_for
- ``compare``: Comparison, moved_municipalities (and the function ``compare.compare``)
- ``workbench``: WorkbenchResult, evaluate_moves, editing_context, movable
- ``suggest``: Constraints, Suggestion, SuggestedMove, suggest, misfit_parts
- ``anchors``: zone_anchors
"""

from geo.lazy import lazy_exports

_EXPORTS = {
    "ValidationReport": "geo.zoning.validation",
    "validate": "geo.zoning.validation",
    "check_contiguity": "geo.zoning.validation",
    "check_nesting": "geo.zoning.validation",
    "check_bounds": "geo.zoning.validation",
    "adjacency_graph": "geo.zoning.validation",
    "exclaves": "geo.zoning.validation",
    "make_norm": "geo.zoning.validation",
    "territory_for": "geo.zoning.validation",
    "Comparison": "geo.zoning.compare",
    "moved_municipalities": "geo.zoning.compare",
    "WorkbenchResult": "geo.zoning.workbench",
    "evaluate_moves": "geo.zoning.workbench",
    "editing_context": "geo.zoning.workbench",
    "movable": "geo.zoning.workbench",
    "Constraints": "geo.zoning.suggest",
    "Suggestion": "geo.zoning.suggest",
    "SuggestedMove": "geo.zoning.suggest",
    "suggest": "geo.zoning.suggest",
    "misfit_parts": "geo.zoning.suggest",
    "zone_anchors": "geo.zoning.anchors",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
