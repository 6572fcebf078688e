"""Run by the system Python (Debian's python3-qgis) from tests/test_ogc_clients.py: load collections
of a feature service with QGIS's own OAPIF provider and print what QGIS sees as one JSON line.

Usage: ``QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/qgis_oapif.py <service url> <collection>...``
"""

import json
import os
import sys


def main(url: str, names: list[str]) -> dict:
    from qgis.core import QgsApplication, QgsVectorLayer

    app = QgsApplication([], False)
    app.initQgis()
    main.app = app  # kept alive until the process ends
    out = {}
    for name in names:
        layer = QgsVectorLayer(f"url='{url}' typename='{name}'", name, "OAPIF")
        fields = [f.name() for f in layer.fields()]
        features = [{k: (None if v is None else str(v)) for k, v in zip(fields, f.attributes())}
                    for f in layer.getFeatures()] if layer.isValid() else []
        extent = layer.extent()
        out[name] = {"valid": layer.isValid(), "count": len(features), "fields": fields, "crs": layer.crs().authid(),
                     "extent": [extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum()],
                     "features": features, "error": "" if layer.isValid() else layer.error().summary()}
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2:])), flush=True)
    # QGIS 3.22 may crash tearing down its providers (exitQgis); the answer is out, so skip teardown.
    os._exit(0)
