"""Every upload bomb of issue 14, built small but real in the test: each is refused with a 413
naming the limit or a 422 naming the problem, never a 500, and the server keeps answering."""

from __future__ import annotations

import io
import sqlite3
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import geopandas as gpd
import httpx
import pytest
from openpyxl import Workbook
from shapely.geometry import box

from geo.uploads.sandbox import ImportLimits, json_depth, parse_upload
from tests.server import Server


def _upload(client, content: bytes, filename: str, layer_id: str = "bom"):
    return client.post("/api/v1/layers", data={"id": layer_id}, files={"file": (filename, content)})


def _refused(response, status: int, *words: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"detail", "code"}
    for word in words:
        assert word in body["detail"], (word, body["detail"])
    return body["detail"]


def _xlsx(rows: list[list[object]], extra_cell: str | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    if extra_cell:
        sheet[extra_cell] = "x"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _zip_with(base: bytes | None, members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        if base:
            with zipfile.ZipFile(io.BytesIO(base)) as original:
                for item in original.infolist():
                    if item.filename not in members:
                        out.writestr(item, original.read(item))
        for name, data in members.items():
            out.writestr(name, data)
    return buffer.getvalue()


def _gpkg(tmp_path: Path, make_view: bool) -> bytes:
    path = tmp_path / "zones.gpkg"
    frame = gpd.GeoDataFrame({"code": ["K"], "name": ["Kortrijk"]}, geometry=[box(70000, 165000, 80000, 175000)],
                             crs="EPSG:31370")
    frame.to_file(path, layer="zones", driver="GPKG", SPATIAL_INDEX="NO")
    if make_view:
        with sqlite3.connect(path) as db:
            db.execute("ALTER TABLE zones RENAME TO raw")
            # An endless recursive query behind the layer GDAL would read.
            db.execute("CREATE VIEW zones AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "
                       "SELECT r.n AS fid, raw.geom AS geom, raw.code AS code, raw.name AS name FROM r, raw")
    return path.read_bytes()


XLSX_OK = _xlsx([["nis_code", "zone_code"], [34022, "K"]])


# -- refused before reading -------------------------------------------------------------------------
def test_geopackage_whose_layer_is_an_endless_view_is_refused_at_once(client, tmp_path):
    detail = _refused(_upload(client, _gpkg(tmp_path, make_view=True), "z.gpkg"), 422, "'zones'", "view")
    assert "z.gpkg" in detail
    # A plain GeoPackage table is still read.
    plain = tmp_path / "plain"
    plain.mkdir()
    assert _upload(client, _gpkg(plain, make_view=False), "z.gpkg", "goed").status_code == 201


def test_xlsx_with_one_cell_at_xfd1048576_is_refused_by_its_dimension(client):
    bomb = _xlsx([["nis_code", "zone_code"], [34022, "K"]], extra_cell="XFD1048576")
    assert len(bomb) < 10_000
    _refused(_upload(client, bomb, "b.xlsx"), 413, "16384 kolommen", "import_columns")
    assert _upload(client, XLSX_OK, "k.xlsx", "goed").status_code == 201


def test_xlsx_with_entity_expansion_is_a_422_not_a_500(client):
    sheet = zipfile.ZipFile(io.BytesIO(XLSX_OK)).read("xl/worksheets/sheet1.xml").decode()
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    body = sheet[sheet.index("<worksheet"):].replace("<t>K</t>", "<t>&lol9;</t>")
    laughs = f'<?xml version="1.0"?><!DOCTYPE worksheet [{entities}]>{body}'.encode()
    assert len(laughs) < 10_000  # a billion 'lol's once expanded
    bomb = _zip_with(XLSX_OK, {"xl/worksheets/sheet1.xml": laughs})
    response = _upload(client, bomb, "lol.xlsx")
    assert response.status_code in (413, 422), response.text
    assert "lol.xlsx" in response.json()["detail"]


def test_geojson_nested_a_thousand_deep_is_refused(client):
    bomb = b'{"type": "FeatureCollection", "features": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    _refused(_upload(client, bomb, "diep.geojson"), 413, "1001 niveaus", "import_json_depth")
    assert json_depth(b'{"a": "[[[[[[[["}') == 1


@pytest.fixture
def small_limits_client(make_client):
    from api.settings import ImportSettings

    return make_client(imports=ImportSettings(unpacked_bytes=2_000_000, rows=5, zones_per_municipality=3,
                                              features=2, vertices=100))


def test_xlsx_and_zip_inflating_past_the_limit_are_refused_from_the_central_directory(small_limits_client):
    inflating = _zip_with(XLSX_OK, {"xl/media/padding.bin": b"\0" * 5_000_000})
    assert len(inflating) < 20_000
    _refused(_upload(small_limits_client, inflating, "groot.xlsx"), 413, "import_unpacked_bytes", "groot.xlsx")
    shapefile = _zip_with(None, {"k.shp": b"\0" * 5_000_000, "k.dbf": b"", "k.shx": b"", "k.prj": b""})
    _refused(_upload(small_limits_client, shapefile, "k.zip"), 413, "import_unpacked_bytes")


def test_rows_features_vertices_and_zones_per_municipality_are_limited(small_limits_client):
    rows = b"nis_code,zone_code\n" + b"".join(b"%d,Z%d\n" % (nis, i) for i, nis in
                                             enumerate([34022, 34025, 34027, 34041, 34042, 34043]))
    _refused(_upload(small_limits_client, rows, "rijen.csv"), 413, "6 rijen", "import_rows")
    kortrijk = b"nis_code,zone_code\n" + b"".join(b"34022,Z%d\n" % i for i in range(4))
    _refused(_upload(small_limits_client, kortrijk, "k.csv"), 413, "gemeente 34022", "4 zones",
             "import_zones_per_municipality")
    features = gpd.GeoDataFrame({"code": ["A", "B", "C"]}, crs="EPSG:31370",
                                geometry=[box(70000 + i * 1000, 165000, 70500 + i * 1000, 165500) for i in range(3)])
    _refused(_upload(small_limits_client, features.to_json().encode(), "f.geojson"), 413, "3 vormen",
             "import_features")
    fine = gpd.GeoDataFrame({"code": ["A"]}, crs="EPSG:31370",
                            geometry=[box(70000, 165000, 80000, 175000).segmentize(100)])
    _refused(_upload(small_limits_client, fine.to_json().encode(), "v.geojson"), 413, "hoekpunten",
             "import_vertices")
    # Within every limit: accepted.
    ok = b"nis_code,zone_code\n34022,A\n34022,B\n34025,A\n"
    assert _upload(small_limits_client, ok, "ok.csv", "goed").status_code == 201


def _slow_csv(rows: int = 99_000) -> bytes:
    body = "\n".join(f"34022,Z{i % 7},naam {i},{i},{i * 2},x{i},y{i}" for i in range(rows))
    return ("nis_code,zone_code,zone_name,a,b,d,e\n" + body).encode()


def test_the_wall_time_limit_stops_the_reader_and_a_new_worker_takes_its_place():
    with pytest.raises(Exception) as caught:
        parse_upload(_slow_csv(), "traag.csv", ImportLimits(wall_seconds=0.3))
    assert type(caught.value).__name__ == "LimitExceeded"
    assert "import_wall_seconds" in caught.value.detail
    # the killed worker's slot reads the next upload in a new worker, and every slot still works
    for _ in range(3):
        assert parse_upload(b"nis_code,zone_code\n34022,K\n", "k.csv", ImportLimits(wall_seconds=0.3,
                                                                                       parallel=1)).shape == (1, 2)


def _sheet_xml_workbook(rows: list[list]) -> bytes:
    """A workbook written as its XML parts: openpyxl takes 3-4 s to write 60,000 rows, this 0.5 s."""
    def cell(ref: str, value) -> str:
        if isinstance(value, int):
            return f'<c r="{ref}"><v>{value}</v></c>'
        return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'

    body = "".join(f'<row r="{r}">' + "".join(cell(f"{chr(65 + c)}{r}", v) for c, v in enumerate(values)) + "</row>"
                   for r, values in enumerate(rows, 1))
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rels = "http://schemas.openxmlformats.org/package/2006/relationships"
    office = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    types = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{types}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{types}.worksheet+xml"/></Types>'),
        "_rels/.rels": (f'<Relationships xmlns="{rels}"><Relationship Id="rId1" '
                        f'Type="{office}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (f'<workbook xmlns="{main}" xmlns:r="{office}"><sheets>'
                            '<sheet name="Blad1" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (f'<Relationships xmlns="{rels}"><Relationship Id="rId1" '
                                       f'Type="{office}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'),
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{main}"><sheetData>{body}</sheetData></worksheet>',
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, '<?xml version="1.0" encoding="UTF-8"?>' + text)
    return buffer.getvalue()


def test_the_cpu_limit_ends_the_worker():
    workbook = _sheet_xml_workbook([["nis_code", "zone_code", "a", "b", "c", "d"]]
                                   + [[34022, f"Z{i % 7}", i, i * 2, f"x{i}", f"y{i}"] for i in range(60_000)])
    # openpyxl reads 60,000 rows in well over a second of CPU; the limit ends the worker first
    with pytest.raises(Exception) as caught:
        parse_upload(workbook, "zwaar.xlsx", ImportLimits(cpu_seconds=1, parallel=1))
    assert type(caught.value).__name__ == "LimitExceeded", caught.value
    assert "import_cpu_seconds" in caught.value.detail
    assert parse_upload(b"nis_code,zone_code\n34022,K\n", "k.csv", ImportLimits(parallel=1)).shape == (1, 2)


def test_the_memory_limit_holds_in_the_worker():
    # 64 MB of address space is less than the worker holds already: the read cannot allocate
    with pytest.raises(Exception) as caught:
        parse_upload(_slow_csv(20_000), "groot.csv", ImportLimits(memory_bytes=64 * 1024 * 1024, parallel=1))
    assert type(caught.value).__name__ == "LimitExceeded", caught.value
    assert "import_memory_bytes" in caught.value.detail
    assert parse_upload(b"nis_code,zone_code\n34022,K\n", "k.csv", ImportLimits(parallel=1)).shape == (1, 2)


def test_a_crash_in_the_reader_is_a_422():
    # A well-formed zip around a broken shapefile: the reader fails inside the child.
    broken = _zip_with(None, {"k.shp": b"not a shapefile", "k.dbf": b"", "k.shx": b"", "k.prj": b"x"})
    with pytest.raises(Exception) as caught:
        parse_upload(broken, "k.zip")
    assert type(caught.value).__name__ in ("InvalidInput", "InvalidGeometry", "WrongCRS")


def test_health_and_reads_stay_fast_while_an_upload_is_read():
    server = Server({"REGIOMATCH_API_TOKEN": "", "REGIOMATCH_DATABASE_URL": "", "DATABASE_URL": "",
                     "REGIOMATCH_STATE_DIR": tempfile.mkdtemp(prefix="bomb-")}).start(timeout=120)
    try:
        httpx.post(server.url + "/api/v1/layers", data={"id": "opwarmen"}, timeout=60,
                   files={"file": ("o.csv", b"nis_code,zone_code\n34022,K\n")})
        result: dict = {}

        def upload():
            result["response"] = httpx.post(server.url + "/api/v1/layers", data={"id": "traag"}, timeout=120,
                                            files={"file": ("traag.csv", _slow_csv())})

        worker = threading.Thread(target=upload)
        worker.start()
        answered = 0
        while worker.is_alive():
            # Each of these would time out if the upload held the event loop or the GIL for long.
            assert httpx.get(server.url + "/health", timeout=10).status_code == 200
            assert httpx.get(server.url + "/api/v1/layers/provincie", timeout=10).status_code == 200
            answered += 1
            time.sleep(0.05)
        worker.join()
        assert answered >= 3  # the upload was still being read while they were answered
        assert result["response"].status_code in (201, 413, 422), result["response"].text
    finally:
        server.stop()


def test_openpyxl_reads_uploads_through_defusedxml():
    """Openpyxl parses XML with defusedxml when it is installed (a dependency): an entity-expansion
    or external-entity XLSX is refused by the parser itself, before any limit is needed."""
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML is True


def test_the_readers_end_when_the_process_that_started_them_ends_without_shutting_them_down():
    """A process that read an upload and then ended abruptly (killed, or ``os._exit`` as a test
    runner's worker ends) left its waiting reader and the fork server alive for ever, 100 MB each."""
    import os
    import subprocess
    import sys

    from tests.server import REPO

    code = ("import os, geo.uploads.sandbox as s\n"
            "s.parse_upload(b'nis_code,zone_code\\n34022,K\\n', 'k.csv', s.ImportLimits(parallel=1))\n"
            "import time\n"
            "for _ in range(100):  # the next reader is forked once the first has ended\n"
            "    pids = [p for slots in s._slots.values() for pool in slots.free for p in pool._processes]\n"
            "    if pids:\n"
            "        break\n"
            "    time.sleep(0.05)\n"
            "print(' '.join(map(str, pids)), flush=True)\n"
            "os._exit(0)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    pids = [int(p) for p in done.stdout.split()]
    assert pids, "no waiting reader was started"

    def alive(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        with open(f"/proc/{pid}/stat") as stat:  # a zombie waits for init to reap it: ended
            return stat.read().split(")")[-1].split()[0] != "Z"

    deadline = time.monotonic() + 30
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(alive(p) for p in pids), f"readers still running: {[p for p in pids if alive(p)]}"


def test_a_reader_started_after_its_parent_ended_ends_at_once():
    """The pool forks a reader's replacement when a reading ends: if the parent ended meanwhile,
    the replacement started with nobody to read for, and waited for ever."""
    import subprocess
    import sys

    from tests.server import REPO

    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    code = (f"from geo.uploads.sandbox import _end_with\n_end_with({ended.pid})\n"
            "import time\ntime.sleep(60)\nprint('still waiting')\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=50)
    assert done.returncode == 0 and "still waiting" not in done.stdout, (done.stdout, done.stderr[-500:])
