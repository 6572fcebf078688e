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
from typing import Any


class lazy_module:  # noqa: N801 - reads as the module it stands for
    """Stands for module ``name``; imports it when an attribute is first read."""

    def __init__(self, name: str):
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}{'' if self._module is None else ' (imported)'}>"


def lazy_exports(package: str, exports: dict[str, str]):
    """``__getattr__`` and ``__dir__`` for a package whose ``__init__`` names its public parts
    without importing them: ``exports`` maps a public name to the module defining it.

    Importing one module of a subpackage then never loads its siblings (no import circles through
    ``__init__``, no start-up cost), while ``from geo.engine import overlay`` still works.

    Examples
    --------
    >>> getattr_, dir_ = lazy_exports("demo", {"sqrt": "math"})
    >>> getattr_("sqrt")(9.0)
    3.0
    >>> dir_()
    ['sqrt']
    """

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    def __dir__() -> list[str]:
        return sorted(exports)

    return __getattr__, __dir__
