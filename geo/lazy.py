"""A module imported on first use, for libraries that only some requests need.

``geopandas`` (with pyproj and pyogrio, a tenth of a second) is needed to draw and import
polygons, not to start the server or answer an overlay; modules that use it name it as
``gpd = lazy_module("geopandas")`` and keep writing ``gpd.GeoDataFrame``.

Examples
--------
>>> math = lazy_module("math")
>>> math.sqrt(16.0)
4.0
"""

from __future__ import annotations

import importlib
from types import ModuleType


class lazy_module:  # noqa: N801 - reads as the module it stands for
    """Stands for module ``name``; imports it when an attribute is first read."""

    def __init__(self, name: str):
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> object:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}{'' if self._module is None else ' (imported)'}>"
