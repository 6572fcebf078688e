"""Interactive Folium maps built from :mod:`geo` results. They render; they compute nothing new.

Every map works offline (Leaflet is vendored in ``maps/static``; no tile layer), credits the
data (``geo.paths.ATTRIBUTION``), states the population year and is labelled in Dutch.
"""

from maps.base import render

__all__ = ["render"]
