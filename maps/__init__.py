"""Interactive Folium maps built from :mod:`geo` results. They render; they compute nothing new.

Every map works offline (Leaflet is vendored in ``maps/static``; no tile layer), credits the
data (``geo.paths.ATTRIBUTION``), states the population year and is labelled in Dutch.
"""

__all__ = ["render"]


def __getattr__(name: str):  # noqa: ANN202 - PEP 562: import folium only when a map is drawn
    if name == "render":
        from maps.base import render

        return render
    raise AttributeError(f"module 'maps' has no attribute {name!r}")
