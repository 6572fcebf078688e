"""regiomatch domain: municipalities as atoms, layers as membership tables, overlays as tables.

Nothing in this package knows about HTTP or HTML. Subpackages by concern, each ``__init__``
naming its public parts:

- :mod:`geo.engine`: atoms, layers, the overlay engine, measures, the incremental evaluator, moves;
- :mod:`geo.reference`: the shipped catalog, vintages, associations and their history, roles, norms;
- :mod:`geo.zoning`: validation, comparison, the workbench's feedback, suggestions;
- :mod:`geo.views`: read models for pages (fit report, profile, atlas, zone overlaps, search);
- :mod:`geo.geometry`: polygons (EPSG:31370) and browser outlines (EPSG:4326);
- :mod:`geo.uploads`: reading user files under limits;
- :mod:`geo.storage`: the database and the workspace;
- :mod:`geo.usecases`: one function per user question, called by the API, the CLI and the pages.

Top-level modules: ``errors`` (domain errors), ``dutch`` (Dutch wording of numbers and dates),
``formulas`` (spreadsheet safety), ``paths`` (shipped data), ``lazy`` (deferred imports).
"""

from geo.engine.atoms import Atoms
from geo.engine.layer import Layer
from geo.engine.overlay import OverlayResult, overlay
from geo.errors import RegiomatchError
from geo.reference.catalog import Catalog, load_catalog

__all__ = ["Atoms", "Catalog", "Layer", "OverlayResult", "RegiomatchError", "load_catalog", "overlay"]
