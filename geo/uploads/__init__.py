"""Reading uploads: user layers from tables or polygons, the preview of an import, and the sandbox
that parses a file in a limited child process.

Public parts (imported on first use, so importing one module never loads its siblings):
- ``importing``: import_layer, layer_from_table, layer_from_polygons, check_suffix
- ``preview``: ImportPreview, preview_import
- ``sandbox``: ImportLimits, parse_upload, build_upload, BuiltUpload
"""

from geo.lazy import lazy_exports

_EXPORTS = {
    "import_layer": "geo.uploads.importing",
    "layer_from_table": "geo.uploads.importing",
    "layer_from_polygons": "geo.uploads.importing",
    "check_suffix": "geo.uploads.importing",
    "ImportPreview": "geo.uploads.preview",
    "preview_import": "geo.uploads.preview",
    "ImportLimits": "geo.uploads.sandbox",
    "parse_upload": "geo.uploads.sandbox",
    "build_upload": "geo.uploads.sandbox",
    "BuiltUpload": "geo.uploads.sandbox",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
