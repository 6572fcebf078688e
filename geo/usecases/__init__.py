"""Use cases: one function per question a user asks, called alike by the HTTP routes, the command
line, the workbench and the pages, so each rule is written once (titiler's factories play this
part there). Each takes a :class:`geo.storage.workspace.Workspace` and plain parameters.

Public parts (imported on first use):
- ``norms``: layer_norm, requested_norm (the norm of a request: the layer's, a scenario's base's,
  or the bounds the user gave);
- ``scenarios``: ScenarioWithBase, scenario_with_base (a saved scenario with its base and norm);
- ``reports``: report_layers, default_against (a fit report's layer and comparison layers).
"""

from geo.lazy import lazy_exports

_EXPORTS = {
    "layer_norm": "geo.usecases.norms",
    "requested_norm": "geo.usecases.norms",
    "ScenarioWithBase": "geo.usecases.scenarios",
    "scenario_with_base": "geo.usecases.scenarios",
    "report_layers": "geo.usecases.reports",
    "default_against": "geo.usecases.reports",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
