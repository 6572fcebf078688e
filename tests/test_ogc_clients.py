"""Real GIS clients against a running server's /ogc: GDAL's OAPIF driver (through pyogrio, which
ships it) and QGIS's own OAPIF provider (Debian's python3-qgis, run offscreen in a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import httpx
import pytest

from tests.server import Server
from tests.system import PACKAGES, has_qgis, install_hint

pytestmark = pytest.mark.server

LAMBERT_X, LAMBERT_Y = (15_000, 300_000), (145_000, 250_000)
QGIS_SCRIPT = Path(__file__).with_name("qgis_oapif.py")


@pytest.fixture(scope="module")
def server():
    env = {"REGIOMATCH_API_TOKEN": "", "REGIOMATCH_DATABASE_URL": "", "DATABASE_URL": "",
           "REGIOMATCH_STATE_DIR": tempfile.mkdtemp(prefix="ogc-"), "REGIOMATCH_WARM_UP": "0"}
    running = Server(env).start(timeout=120)  # a loaded machine starts slowly
    try:
        yield running
    finally:
        running.stop()


def _scenario(server: Server) -> str:
    response = httpx.post(server.url + "/api/v1/scenarios", timeout=60, json={
        "name": "Lendelede naar Kortrijk", "base_layer": "eerstelijnszone",
        "moves": [{"nis_code": 34025, "to_zone": "elz18"}]})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_gdal_lists_and_reads_every_collection(server):
    import pyogrio

    service = f"OAPIF:{server.url}/ogc"
    collections = httpx.get(server.url + "/ogc/collections", timeout=120).json()["collections"]
    assert sorted(pyogrio.list_layers(service)[:, 0]) == sorted(c["id"] for c in collections)
    for c in collections:
        frame = pyogrio.read_dataframe(service, layer=c["id"])
        matched = httpx.get(f"{server.url}/ogc/collections/{c['id']}/items", params={"limit": 1}, timeout=120).json()
        assert len(frame) == matched["numberMatched"] > 0, c["id"]
        # By default GDAL reads the storage CRS: Belgian Lambert 72, in metres.
        assert frame.crs.to_epsg() == 31370, c["id"]
        x0, y0, x1, y1 = frame.total_bounds
        assert LAMBERT_X[0] < x0 < x1 < LAMBERT_X[1] and LAMBERT_Y[0] < y0 < y1 < LAMBERT_Y[1], c["id"]


def test_gdal_gets_the_values_the_pages_show(server):
    import pyogrio

    service = f"OAPIF:{server.url}/ogc"
    layer = httpx.get(server.url + "/api/v1/layers/eerstelijnszone", timeout=60).json()
    frame = pyogrio.read_dataframe(service, layer="eerstelijnszone")
    assert len(frame) == len(layer["zones"])
    assert {"code", "name", "population", "members", "population_year"} <= set(frame.columns)
    assert {(r.code, r.name, int(r.population), int(r.members)) for r in frame.itertuples()} == {
        (z["code"], z["name"], z["population"], z["members"]) for z in layer["zones"]}
    municipalities = pyogrio.read_dataframe(service, layer="gemeenten")
    kortrijk = municipalities[municipalities["nis_code"] == 34022].iloc[0]
    assert kortrijk["name"] == "Kortrijk" and kortrijk["eerstelijnszone"] == "elz18"


@pytest.mark.parametrize("asked,box", [("EPSG:4326", ((2.4, 6.5), (50.6, 51.6))),
                                         ("EPSG:3857", ((250_000, 700_000), (6_500_000, 6_800_000)))])
def test_gdal_reads_other_crss_in_the_right_axis_order(server, asked, box):
    import pyogrio

    # Asked for EPSG:4326, GDAL requests CRS84 (longitude first) from the crs list: either way
    # x must come out as the longitude. EPSG:3857 is requested as such (metres).
    frame = pyogrio.read_dataframe(f"OAPIF:{server.url}/ogc", layer="provincie", CRS=asked)  # a dataset open option
    (xmin, xmax), (ymin, ymax) = box
    x0, y0, x1, y1 = frame.total_bounds
    assert xmin < x0 < x1 < xmax and ymin < y0 < y1 < ymax, (asked, frame.crs, frame.total_bounds)


def test_a_saved_scenario_is_a_collection_without_a_restart(server):
    import pyogrio

    sid = _scenario(server)
    service = f"OAPIF:{server.url}/ogc"
    assert f"scenario-{sid}" in pyogrio.list_layers(service)[:, 0]
    frame = pyogrio.read_dataframe(service, layer=f"scenario-{sid}").set_index("code")
    assert frame.loc["elz18", "moved_in"] == "Lendelede (34025)"
    assert frame.loc["elz40", "moved_out"] == "Lendelede (34025)"


def test_qgis_loads_a_layer_and_a_scenario(server):
    if not has_qgis():
        pytest.skip(install_hint(PACKAGES["qgis"]))
    sid = _scenario(server)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": tempfile.mkdtemp(prefix="qgis-")}
    done = subprocess.run(["/usr/bin/python3", str(QGIS_SCRIPT), server.url + "/ogc", "eerstelijnszone",
                           f"scenario-{sid}"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    layers = json.loads(done.stdout.strip().splitlines()[-1])
    zones = httpx.get(server.url + "/api/v1/layers/eerstelijnszone", timeout=60).json()["zones"]
    for name in ("eerstelijnszone", f"scenario-{sid}"):
        loaded = layers[name]
        assert loaded["valid"], loaded["error"]
        assert loaded["count"] == len(zones)
        assert {"code", "name", "population", "members"} <= set(loaded["fields"])
    scenario = {f["code"]: f for f in layers[f"scenario-{sid}"]["features"]}
    assert scenario["elz18"]["moved_in"] == "Lendelede (34025)"
    today = {f["code"]: f for f in layers["eerstelijnszone"]["features"]}
    assert {c: int(f["population"]) for c, f in today.items()} == {z["code"]: z["population"] for z in zones}
