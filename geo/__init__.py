"""regiomatch domain: municipalities as atoms, layers as membership tables, overlays as tables.

Nothing in this package knows about HTTP or HTML.
"""

from geo.atoms import Atoms
from geo.catalog import Catalog, load_catalog
from geo.errors import RegiomatchError
from geo.layer import Layer
from geo.overlay import OverlayResult, overlay

__all__ = ["Atoms", "Catalog", "Layer", "OverlayResult", "RegiomatchError", "load_catalog", "overlay"]
