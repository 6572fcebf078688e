"""Issue 13: cached pages and bodies change exactly when what they show changes; gzip, 304,
paged overlay details and a start-up that does not import the PDF, image and spreadsheet libraries."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.render_cache import Entry, RenderCache, cache_for
from geo.engine.overlay import overlay
from tests.conftest import reset_app_caches

REPO = Path(__file__).resolve().parent.parent
LENDELEDE = 34025  # in primary care zone elz40 (Rits); W13 member


@pytest.fixture(scope="module")
def app_client(tmp_path_factory: pytest.TempPathFactory):
    """One app on one throw-away database for the whole module (starting one costs seconds)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REGIOMATCH_STATE_DIR", str(tmp_path_factory.mktemp("state")))
        for key in ("REGIOMATCH_API_TOKEN", "REGIOMATCH_DATABASE_URL", "DATABASE_URL",
                    "REGIOMATCH_RENDER_CACHE_BYTES"):
            mp.delenv(key, raising=False)
        reset_app_caches()
        from api.main import create_app

        with TestClient(create_app()) as client:
            yield client
        reset_app_caches()


def _cache(client: TestClient) -> RenderCache:
    from api.deps import app_workspace

    cache = cache_for(app_workspace(client.app))  # the app's own workspace, kept on app.state
    assert cache is not None
    return cache


def _members_of(body: dict, zone: str) -> set[int]:
    detail = next(z for z in body["zones"] if z["code"] == zone)
    return {m["nis_code"] for t in detail["zones_touched"] for m in t["members"]}


def test_a_saved_scenario_change_shows_at_once_on_its_pages(app_client):
    sid = app_client.post("/api/v1/scenarios", json={"name": "Variant", "base_layer": "eerstelijnszone"}).json()["id"]
    params = {"a": f"scenario:{sid}", "b": "gemeente"}
    first = app_client.get("/api/v1/overlay", params=params)
    cache = _cache(app_client)
    hits = cache.hits
    again = app_client.get("/api/v1/overlay", params=params)
    assert again.content == first.content and cache.hits == hits + 1  # served from the cache
    assert LENDELEDE not in _members_of(first.json(), "elz18")

    report_before = app_client.get(f"/reports/scenario:{sid}/elz18").text
    assert "Lendelede" not in report_before

    patched = app_client.patch(f"/api/v1/scenarios/{sid}", json={"add_moves": [
        {"nis_code": LENDELEDE, "to_zone": "elz18"}]})
    assert patched.status_code == 200

    after = app_client.get("/api/v1/overlay", params=params).json()
    assert LENDELEDE in _members_of(after, "elz18")
    assert "Lendelede" in app_client.get(f"/reports/scenario:{sid}/elz18").text
    # A page that does not show the scenario is still served from the cache.
    app_client.get("/api/v1/overlay", params={"a": "samenwerkingsverband", "b": "eerstelijnszone"})
    hits = cache.hits
    app_client.get("/api/v1/overlay", params={"a": "samenwerkingsverband", "b": "eerstelijnszone"})
    assert cache.hits == hits + 1


def test_a_scenario_on_a_scenario_changes_when_its_base_does(app_client):
    base = app_client.post("/api/v1/scenarios", json={"name": "Basis", "base_layer": "eerstelijnszone"}).json()["id"]
    top = app_client.post("/api/v1/scenarios", json={"name": "Bovenop", "base_layer": f"scenario:{base}"}).json()["id"]
    params = {"a": f"scenario:{top}", "b": "gemeente"}
    assert LENDELEDE not in _members_of(app_client.get("/api/v1/overlay", params=params).json(), "elz18")
    app_client.patch(f"/api/v1/scenarios/{base}", json={"add_moves": [{"nis_code": LENDELEDE, "to_zone": "elz18"}]})
    assert LENDELEDE in _members_of(app_client.get("/api/v1/overlay", params=params).json(), "elz18")


def test_a_deleted_scenario_is_a_404_not_a_cached_page(app_client):
    sid = app_client.post("/api/v1/scenarios", json={"name": "Weg", "base_layer": "eerstelijnszone"}).json()["id"]
    assert app_client.get(f"/maps/choropleth/scenario:{sid}").status_code == 200
    assert app_client.delete(f"/api/v1/scenarios/{sid}").status_code == 204
    gone = app_client.get(f"/maps/choropleth/scenario:{sid}")
    assert gone.status_code == 404 and gone.json()["code"]


def _import(client: TestClient, layer_id: str, csv_text: str) -> None:
    response = client.post("/api/v1/layers", data={"id": layer_id, "name": "SEL-regio's"},
                           files={"file": (f"{layer_id}.csv", csv_text.encode(), "text/csv")})
    assert response.status_code == 201, response.text


def test_a_replaced_imported_layer_is_not_served_from_the_cache(app_client):
    _import(app_client, "sel_cache", "gemeente,zone_code,zone_name\nKortrijk,S1,SEL Kortrijk\nMenen,S1,SEL Kortrijk\n")
    params = {"a": "sel_cache", "b": "eerstelijnszone"}
    before = app_client.get("/api/v1/overlay", params=params).json()
    landing_before = app_client.get("/").text
    assert {z["code"] for z in before["zones"]} == {"S1"}
    assert app_client.delete("/api/v1/layers/sel_cache").status_code == 204
    assert app_client.get("/api/v1/overlay", params=params).status_code == 404
    _import(app_client, "sel_cache", "gemeente,zone_code,zone_name\nKortrijk,S1,SEL Kortrijk\nPelt,S2,SEL Noord\n")
    after = app_client.get("/api/v1/overlay", params=params).json()
    assert {z["code"] for z in after["zones"]} == {"S1", "S2"}
    # The landing page lists every layer: it changes with the new version too (zone count 1 -> 2).
    assert app_client.get("/").text != landing_before


def test_json_has_an_etag_answered_with_304_html_has_none(app_client):
    url = "/api/v1/overlay?a=samenwerkingsverband&b=eerstelijnszone"
    first = app_client.get(url)
    etag = first.headers["etag"]
    again = app_client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert app_client.get(url, headers={"If-None-Match": '"something-else"'}).status_code == 200
    # HTML carries a per-response CSP nonce: a browser's copy must not be reused.
    page = app_client.get("/maps/choropleth/eerstelijnszone")
    assert page.status_code == 200 and "etag" not in page.headers


def test_responses_are_gzipped_when_the_client_accepts_it(app_client):
    url = "/api/v1/overlay?a=gemeente&b=eerstelijnszone"
    raw = app_client.get(url, headers={"Accept-Encoding": "gzip"})
    assert raw.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in raw.headers["vary"].lower()
    assert raw.headers["content-type"].startswith("application/json")
    plain = app_client.get(url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert raw.json() == plain.json()  # httpx decodes the gzip body
    assert int(raw.headers["content-length"]) < len(plain.content) / 3
    assert len(gzip.compress(plain.content)) < len(plain.content)
    tiny = app_client.get("/health", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in tiny.headers  # under 1 KB: not worth compressing


def test_the_overlays_parameter_group_is_part_of_the_cache_key(app_client):
    """``a``, ``b`` and ``weight`` arrive as one LayerPair (api.deps): each value keys its own answer."""
    def summary(**params):
        return app_client.get("/api/v1/overlay", params=params).json()["summary"]

    population = summary(a="samenwerkingsverband", b="eerstelijnszone")
    area = summary(a="samenwerkingsverband", b="eerstelijnszone", weight="area")
    other = summary(a="samenwerkingsverband", b="politiezone")
    assert population != area and population != other
    assert summary(a="samenwerkingsverband", b="eerstelijnszone") == population  # from the cache
    assert summary(a="samenwerkingsverband", b="eerstelijnszone", weight="area") == area
    wrong = app_client.get("/api/v1/overlay", params={"a": "samenwerkingsverband", "b": "eerstelijnszone",
                                                      "weight": "inwoners"})
    assert wrong.status_code == 422 and wrong.json()["code"] == "invalid_input" and "weight" in wrong.json()["detail"]


def test_what_is_compressed_already_is_not_gzipped_again_and_a_geopackage_is(app_client):
    """One list of incompressible types (api.compression) for both compressors: an Excel workbook
    (a zip) and a PDF go out as they are; a GeoPackage (an SQLite file) is gzipped."""
    accept = {"Accept-Encoding": "gzip"}
    workbook = app_client.get("/overlay.xlsx?a=samenwerkingsverband&b=eerstelijnszone", headers=accept)
    assert workbook.status_code == 200 and workbook.content.startswith(b"PK")
    assert "content-encoding" not in workbook.headers
    report = app_client.get("/reports/samenwerkingsverband/W13?format=pdf", headers=accept)
    if report.status_code == 200:  # 501 without WeasyPrint (test_report_pdf says how to install it)
        assert "content-encoding" not in report.headers and report.content.startswith(b"%PDF-")
    package = app_client.get("/api/v1/layers/eerstelijnszone/geopackage", headers=accept)
    assert package.status_code == 200 and package.headers["content-encoding"] == "gzip"
    assert package.content.startswith(b"SQLite format 3")  # httpx decodes the gzip body
    assert int(package.headers["content-length"]) < 0.7 * len(package.content)  # 56 % for this one


def test_a_gzipped_cached_page_keeps_its_security_headers_and_gets_a_fresh_nonce(app_client):
    from maps.csp import NONCE_PLACEHOLDER

    nonces = []
    for _ in range(2):  # the second answer comes from the cache
        page = app_client.get("/maps/choropleth/eerstelijnszone", headers={"Accept-Encoding": "gzip"})
        assert page.headers["content-encoding"] == "gzip"
        assert page.headers["x-content-type-options"] == "nosniff"
        policy = page.headers["content-security-policy"]
        nonce = policy.split("'nonce-")[1].split("'")[0]
        assert f'nonce="{nonce}"' in page.text and NONCE_PLACEHOLDER not in page.text
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_overlay_details_come_in_pages_with_a_total(app_client):
    params = {"a": "eerstelijnszone", "b": "politiezone"}
    whole = app_client.get("/api/v1/overlay", params=params).json()
    assert whole["zones_total"] == len(whole["zones"]) == 57 and whole["offset"] == 0
    page = app_client.get("/api/v1/overlay", params={**params, "limit": 5, "offset": 10}).json()
    assert page["zones_total"] == 57 and (page["offset"], page["limit"]) == (10, 5)
    assert page["zones"] == whole["zones"][10:15]
    assert page["summary"] == whole["summary"]  # whole-layer measures, whatever the page
    last = app_client.get("/api/v1/overlay", params={**params, "limit": 5, "offset": 55}).json()
    assert [z["code"] for z in last["zones"]] == [z["code"] for z in whole["zones"][55:]]
    assert app_client.get("/api/v1/overlay", params={**params, "offset": 100}).json()["zones"] == []
    bad = app_client.get("/api/v1/overlay", params={**params, "limit": 0})
    assert bad.status_code == 422 and bad.json()["code"]


def test_a_page_of_details_equals_the_same_slice_of_all_details(catalog):
    # Partial memberships (the Antwerp sub-zones split the city by area) and overlapping zones.
    for a, b in [("eerstelijnszone_antwerpen_stad", "gemeente"), ("gemeente", "eerstelijnszone_antwerpen_stad"),
                 ("samenwerkingsverband", "politiezone"), ("politiezone", "samenwerkingsverband")]:
        result = overlay(catalog.layer(a), catalog.layer(b))
        every = result.details()
        assert [d.code for d in every] == list(result.a.zones["code"])
        for start, stop in [(0, 1), (1, 3), (2, len(every)), (len(every), len(every) + 5)]:
            assert result.details(start, stop) == every[start:stop]


def test_the_cache_is_bounded_by_bytes_least_recently_used_first():
    cache = RenderCache(max_bytes=100)
    for i in range(5):
        cache.put((i,), Entry(bytes(30), (), None))
    assert len(cache) == 3 and cache.bytes == 90
    assert cache.get((0,)) is None and cache.get((2,)) is not None  # (2,) is now the most recent
    cache.put((5,), Entry(bytes(30), (), None))
    assert cache.get((3,)) is None and cache.get((2,)) is not None
    cache.put((6,), Entry(bytes(101), (), None))  # larger than the whole cache: not kept
    assert cache.get((6,)) is None and cache.bytes <= 100


def test_starting_the_app_does_not_import_the_pdf_image_map_and_spreadsheet_libraries():
    # `regiomatch serve` imports the command line first; the database library comes with the
    # first use of the database (a thread opens it after start-up), geopandas with the first
    # polygon a map or an import needs.
    code = ("import json, sys, api.cli, api.main; "
            "from api.settings import get_settings, workspace_for; workspace_for(get_settings()); "
            "print(json.dumps([m for m in ('weasyprint', 'matplotlib', 'openpyxl', 'folium', 'networkx', 'sqlalchemy', "
            "'geopandas', 'pyogrio') "
            "if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_with_the_cache_off_every_request_renders_and_answers_the_same(state_dir, monkeypatch):
    monkeypatch.setenv("REGIOMATCH_RENDER_CACHE_BYTES", "0")
    reset_app_caches()
    from api.main import create_app

    with TestClient(create_app()) as client:
        from api.settings import get_settings, workspace_for

        assert cache_for(workspace_for(get_settings())) is None
        url = "/api/v1/overlay?a=samenwerkingsverband&b=eerstelijnszone"
        assert client.get(url).content == client.get(url).content
        assert client.get("/maps/choropleth/samenwerkingsverband").status_code == 200


def test_a_json_body_is_gzipped_once_and_its_gzip_etag_is_answered_with_304(app_client):
    url = "/api/v1/overlay?a=samenwerkingsverbanden&b=gemeente"
    first = app_client.get(url, headers={"Accept-Encoding": "gzip"})
    plain = app_client.get(url, headers={"Accept-Encoding": "identity"})
    assert first.headers["content-encoding"] == "gzip" and "content-encoding" not in plain.headers
    # Two representations, two strong tags (RFC 9110), one content.
    assert first.headers["etag"] == plain.headers["etag"][:-1] + '-gz"'
    assert first.content == plain.content  # httpx decodes the gzip
    again = app_client.get(url, headers={"Accept-Encoding": "gzip"})
    assert again.headers["etag"] == first.headers["etag"]
    # A browser that kept either representation gets a 304.
    for tag in (first.headers["etag"], plain.headers["etag"]):
        assert app_client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": tag}).status_code == 304


def test_a_pdf_is_not_gzipped_again(app_client):
    pytest.importorskip("weasyprint", reason="PDF rendering needs WeasyPrint (pip install weasyprint, apt install libpango-1.0-0)")
    pdf = app_client.get("/reports/samenwerkingsverband/W13?format=pdf", headers={"Accept-Encoding": "gzip"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert "content-encoding" not in pdf.headers


def test_a_cached_map_is_answered_while_every_map_slot_is_busy(app_client, monkeypatch):
    """The map slots limit drawing, not answering: a map the render cache holds is served
    while as many maps as allowed are being drawn; a map that must be drawn gets the 503."""
    from api.routes.maps import BUSY

    url = "/maps/choropleth/eerstelijnszone"
    assert app_client.get(url).status_code == 200  # drawn once: now cached
    from api.settings import get_settings

    holders = [BUSY() for _ in range(get_settings().caches.max_parallel_maps)]
    for holder in holders:
        holder.__enter__()
    try:
        assert app_client.get(url).status_code == 200
        busy = app_client.get("/maps/choropleth/politiezone")
        assert busy.status_code == 503 and busy.headers["retry-after"] == "5"
    finally:
        for holder in holders:
            holder.__exit__(None, None, None)
    assert app_client.get("/maps/choropleth/politiezone").status_code == 200


def test_a_worker_s_inherited_socket_gets_no_delay_before_it_listens():
    """`uvicorn --workers N` hands each worker a bound socket that listens only after start-up,
    without the flag that makes asyncio turn Nagle's algorithm off: small answers then waited
    40 ms for the client's delayed acknowledgement. Start-up sets TCP_NODELAY on it (accepted
    connections inherit it); sockets connected to something else are left alone."""
    import socket

    from api.settings import no_delay_on_listeners

    bound = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # proto 0, as uvicorn binds it
    bound.bind(("127.0.0.1", 0))
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listening.bind(("127.0.0.1", 0))
    listening.listen()
    client = socket.create_connection(listening.getsockname())
    accepted_before, _ = listening.accept()
    try:
        assert no_delay_on_listeners() >= 2
        assert bound.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert listening.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert not client.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert not accepted_before.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        bound.listen()
        late = socket.create_connection(bound.getsockname())
        accepted, _ = bound.accept()
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)  # inherited
        late.close()
        accepted.close()
    finally:
        for s in (bound, listening, client, accepted_before):
            s.close()


def test_a_report_s_pdf_is_prepared_while_its_page_is_read(app_client):
    """Who reads a report prints it: after the page, its PDF is rendered in the background and
    the PDF request is answered from the cache."""
    pytest.importorskip("weasyprint", reason="PDF rendering needs WeasyPrint (pip install weasyprint, apt install libpango-1.0-0)")
    from api.render_cache import prefetches_done

    cache = _cache(app_client)
    page = app_client.get("/reports/samenwerkingsverband/WZK", params={"against": ["eerstelijnszone", "logo"]})
    assert page.status_code == 200
    assert prefetches_done(timeout=120)
    hits, misses = cache.hits, cache.misses
    pdf = app_client.get("/reports/samenwerkingsverband/WZK",
                         params={"against": ["eerstelijnszone", "logo"], "format": "pdf"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert (cache.hits, cache.misses) == (hits + 1, misses)
    # A PDF asked for first is not followed by anything.
    assert app_client.get("/reports/samenwerkingsverband/WRNL?format=pdf").status_code == 200
    assert prefetches_done(timeout=120)
    hits, misses = cache.hits, cache.misses
    assert app_client.get("/reports/samenwerkingsverband/WRNL").status_code == 200
    assert (cache.hits, cache.misses) == (hits, misses + 1)


def test_a_large_body_is_gzipped_fast_and_a_small_one_smaller():
    """Over FAST_LEVEL_BYTES zlib level 1 (the gzip header's XFL byte says 4, fastest); below it
    level 6 (XFL 0). Both decompress to the body."""
    import gzip
    import json

    from api.compression import FAST_LEVEL_BYTES, GzipOnce

    once = GzipOnce(app=None)
    small = json.dumps([{"code": f"r{i}", "inwoners": i * 7} for i in range(2_000)]).encode()
    large = json.dumps([{"code": f"r{i}", "inwoners": i * 7} for i in range(60_000)]).encode()
    assert len(small) < FAST_LEVEL_BYTES < len(large)
    small_gz, large_gz = once._compressed('"s"', small), once._compressed('"l"', large)
    assert (small_gz[8], large_gz[8]) == (0, 4)
    assert gzip.decompress(small_gz) == small and gzip.decompress(large_gz) == large
    assert once._compressed('"l"', b"not compressed again") is large_gz  # once per ETag


def test_a_large_html_page_is_gzipped_once_around_its_fresh_nonces(app_client, monkeypatch):
    """Each answer of a cached page has its own CSP nonce, yet the page is compressed once: the
    parts between the nonces are kept deflated (api.compression.NonceGzip) and each answer is
    one valid gzip stream of the page with that answer's nonce, the one its header names."""
    import re
    import zlib

    import api.compression

    path = "/atlas"
    first = app_client.get(path)  # rendered (and compressed) here
    compressed = []
    real = zlib.compressobj
    monkeypatch.setattr(api.compression.zlib, "compressobj", lambda *a, **k: compressed.append(a) or real(*a, **k))
    answers = [app_client.get(path) for _ in range(3)]
    assert compressed == [], "compressed again"
    nonces = []
    for answer in [first, *answers]:
        assert answer.status_code == 200 and answer.headers["content-encoding"] == "gzip"
        assert "Accept-Encoding" in answer.headers["vary"]
        nonce = re.search(r"'nonce-([^']+)'", answer.headers["content-security-policy"]).group(1)
        assert f'nonce="{nonce}"' in answer.text  # httpx decompressed the spliced stream
        nonces.append(nonce)
    assert len(set(nonces)) == 4
    assert {a.text.replace(n, "N") for a, n in zip([first, *answers], nonces)} == {first.text.replace(nonces[0], "N")}
    # A client without gzip gets the same page, uncompressed, with its own nonce.
    plain = app_client.get(path, headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    nonce = re.search(r"'nonce-([^']+)'", plain.headers["content-security-policy"]).group(1)
    assert plain.text.replace(nonce, "N") == first.text.replace(nonces[0], "N")


def test_a_render_ahead_starts_only_once_no_request_is_being_answered():
    """A page's PDF printed ahead would share the interpreter with the page still being sent:
    it waits until no request is in progress (api.activity), and only then starts."""
    import threading
    import time

    from api.activity import requests
    from api.render_cache import prefetches_done, render_ahead

    started = threading.Event()
    requests.enter()  # the page that queued it is still being answered
    try:
        assert render_ahead(lambda **_: started.set())
        time.sleep(0.2)
        assert not started.is_set(), "printed beside a request"
    finally:
        requests.leave()
    assert started.wait(timeout=30), "never printed"
    assert prefetches_done(timeout=30)
