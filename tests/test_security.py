"""Access control and path safety: reading is open; every write needs the token when one is
configured; the server will not serve beyond loopback without one; uploads never become paths;
no route serves files outside its directory; CORS is off unless configured."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from geo.geometry.polygons import municipal_polygons
from tests.server import REPO, Server, free_port

TOKEN = "s3cret-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# POST routes that compute without saving anything (their saving variant is tested on its own).
COMPUTE_ONLY = {("POST", "/api/v1/scenarios/suggest"),
                # The workbench's read-only computations, and signing in/out (which cannot need the token).
                ("POST", "/api/v1/evaluate"), ("POST", "/api/v1/evaluate/suggest"),
                ("POST", "/aanmelden"), ("POST", "/afmelden")}


@pytest.fixture
def token_app(settings):
    from api.main import create_app

    app = create_app(settings.model_copy(update={"api_token": TOKEN}))
    with TestClient(app) as client:
        yield app, client


def _kortrijk_csv() -> bytes:
    return b"nis_code,zone_code\n34022,K\n"


def _fill(path: str, ids: dict[str, str]) -> str:
    for name, value in ids.items():
        path = path.replace("{" + name + "}", value)
    return path


# -- the token ------------------------------------------------------------------------------------
def test_every_write_in_the_schema_needs_the_token_and_changes_nothing_without_it(token_app):
    app, client = token_app
    sid = client.post("/api/v1/scenarios", headers=AUTH, json={"name": "s", "base_layer": "eerstelijnszone"}).json()["id"]
    assert client.post("/api/v1/layers", headers=AUTH, data={"id": "eigen"},
                       files={"file": ("e.csv", _kortrijk_csv())}).status_code == 201
    ids = {"scenario_id": sid, "layer_id": "eigen"}
    before = (client.get("/api/v1/scenarios").json(), client.get("/api/v1/layers").json())

    writes = [(method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item
              if method in ("post", "put", "patch", "delete") and (method.upper(), path) not in COMPUTE_ONLY]
    assert {("POST", "/api/v1/scenarios"), ("PATCH", "/api/v1/scenarios/{scenario_id}"),
            ("DELETE", "/api/v1/scenarios/{scenario_id}"), ("POST", "/api/v1/layers"),
            ("DELETE", "/api/v1/layers/{layer_id}")} <= set(writes)
    bodies = {"/api/v1/scenarios": {"json": {"name": "x", "base_layer": "provincie"}},
              "/api/v1/scenarios/{scenario_id}": {"json": {"name": "gekaapt"}},
              "/api/v1/layers": {"data": {"id": "indringer"}, "files": {"file": ("i.csv", _kortrijk_csv())}}}
    for method, path in writes:
        kwargs = bodies.get(path, {}) if method != "DELETE" else {}
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bearer {TOKEN}x"},
                        {"Authorization": f"Bearer {TOKEN[:-1]}"}, {"Authorization": f"Basic {TOKEN}"},
                        {"Authorization": TOKEN}, {"X-API-Token": TOKEN}):
            response = client.request(method, _fill(path, ids), headers=headers, **kwargs)
            assert response.status_code == 401, (method, path, headers, response.text)
            assert response.json()["code"] == "unauthorized"
            assert response.headers["www-authenticate"] == "Bearer"
    assert (client.get("/api/v1/scenarios").json(), client.get("/api/v1/layers").json()) == before

    # The right token (the scheme is case-insensitive) writes.
    assert client.patch(f"/api/v1/scenarios/{sid}", json={"name": "mag"},
                        headers={"Authorization": f"bearer {TOKEN}"}).status_code == 200
    assert client.delete("/api/v1/layers/eigen", headers=AUTH).status_code == 204


def test_reading_stays_open_when_a_token_is_configured(token_app):
    _, client = token_app
    sid = client.post("/api/v1/scenarios", headers=AUTH, json={"name": "s", "base_layer": "eerstelijnszone"}).json()["id"]
    for url in ("/health", "/api/v1/layers", "/api/v1/layers/eerstelijnszone/members", "/api/v1/scenarios",
                f"/api/v1/scenarios/{sid}", f"/api/v1/overlay?a=samenwerkingsverband&b=scenario:{sid}",
                "/api/v1/municipalities/34025", "/openapi.json"):
        assert client.get(url).status_code == 200, url


def test_saving_a_suggestion_needs_the_token_but_computing_one_does_not(token_app):
    _, client = token_app
    body = {"base_layer": "eerstelijnszone", "against": ["samenwerkingsverband"], "max_moves": 1,
            "time_budget_seconds": 2, "save": True}
    refused = client.post("/api/v1/scenarios/suggest", json=body)
    assert refused.status_code == 401 and refused.json()["code"] == "unauthorized"
    assert client.get("/api/v1/scenarios").json() == []
    assert client.post("/api/v1/scenarios/suggest", json={**body, "save": False}).status_code == 200


# -- exposure beyond loopback --------------------------------------------------------------------------
def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REGIOMATCH_API_TOKEN", "UVICORN_HOST")}
    return {**env, **extra}


def test_regiomatch_serve_refuses_a_public_address_without_a_token(tmp_path):
    cli = Path(sys.executable).parent / "regiomatch"
    result = subprocess.run([str(cli), "serve", "--host", "0.0.0.0", "--port", str(free_port())], cwd=REPO,
                            env=_env(REGIOMATCH_STATE_DIR=str(tmp_path)), capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "REGIOMATCH_API_TOKEN" in result.stderr


@pytest.mark.parametrize("workers", ["1", "2"])
def test_uvicorn_run_directly_on_a_public_address_without_a_token_does_not_start(tmp_path, workers):
    port = free_port()
    result = subprocess.run([sys.executable, "-m", "uvicorn", "api.main:app", "--host", "0.0.0.0", "--port", str(port),
                             "--workers", workers], cwd=REPO, env=_env(REGIOMATCH_STATE_DIR=str(tmp_path)),
                            capture_output=True, text=True, timeout=120)
    if workers == "1":
        assert result.returncode != 0  # uvicorn's supervisor of several workers stops with 0
    assert "refusing to serve on 0.0.0.0" in result.stderr and "REGIOMATCH_API_TOKEN" in result.stderr
    assert not (tmp_path / "regiomatch.sqlite3").exists()  # it stopped before opening the database


def test_uvicorn_on_a_public_address_with_a_token_serves(tmp_path):
    port = free_port()
    env = _env(REGIOMATCH_STATE_DIR=str(tmp_path), REGIOMATCH_API_TOKEN=TOKEN)
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.main:app", "--host", "0.0.0.0", "--port",
                                str(port), "--log-level", "warning"], cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert _wait_for(f"http://127.0.0.1:{port}/health", process).status_code == 200
        refused = httpx.post(f"http://127.0.0.1:{port}/api/v1/scenarios", timeout=10,
                             json={"name": "x", "base_layer": "provincie"})
        assert refused.status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_for(url: str, process: subprocess.Popen, timeout: float = 60) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {process.stderr.read().decode()[-2000:]}")
        try:
            return httpx.get(url, timeout=2)
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError(f"no answer from {url}")


def test_a_server_started_from_python_on_a_public_address_serves_nothing(tmp_path):
    """``uvicorn.run(app, host="0.0.0.0")`` leaves no --host on the command line and binds after the
    app's startup: the first request finds the public socket, and every request gets a 503."""
    port = free_port()
    code = f"import uvicorn; uvicorn.run('api.main:app', host='0.0.0.0', port={port}, log_level='error')"
    process = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=_env(REGIOMATCH_STATE_DIR=str(tmp_path)),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        first = _wait_for(f"http://127.0.0.1:{port}/health", process)
        assert first.status_code == 503 and first.json()["code"] == "exposed_without_token"
        write = httpx.post(f"http://127.0.0.1:{port}/api/v1/scenarios", timeout=10,
                           json={"name": "x", "base_layer": "provincie"})
        assert write.status_code == 503
        assert "REGIOMATCH_API_TOKEN" in write.json()["detail"]
    finally:
        process.terminate()
        process.wait(timeout=30)
    from geo.storage.store import Store

    store = Store(f"sqlite:///{tmp_path / 'regiomatch.sqlite3'}")
    assert store.list_scenarios() == []
    store.dispose()


def test_exposure_helpers_read_hosts_and_sockets():
    from api.settings import Settings, command_line_hosts, exposed_hosts, listening_hosts

    assert command_line_hosts(["uvicorn", "api.main:app", "--host", "0.0.0.0"]) == ["0.0.0.0"]
    assert command_line_hosts(["gunicorn", "-b", "[::]:80", "--bind=10.1.2.3:8000", "-b", "unix:/tmp/s"]) == \
        ["::", "10.1.2.3"]
    with socket.socket() as public:
        public.bind(("0.0.0.0", 0))
        public.listen()
        assert "0.0.0.0" in listening_hosts()
    assert "0.0.0.0" not in listening_hosts()
    assert exposed_hosts(Settings(api_token=None), ["127.0.0.1", "::1", "localhost", "0.0.0.0"]) == ["0.0.0.0"]
    assert exposed_hosts(Settings(api_token="t"), ["0.0.0.0"]) == []


# -- uploads never become paths ------------------------------------------------------------------------
def test_an_upload_filename_never_becomes_a_path(client, tmp_path):
    frame = municipal_polygons().loc[[34022]].reset_index(drop=True).to_crs("EPSG:4326")[["geometry"]]
    frame["code"] = "K"
    content = frame.to_json().encode()
    absolute = tmp_path / "absoluut.geojson"
    relative = "../" * 40 + str(tmp_path / "relatief.geojson").lstrip("/")
    for i, filename in enumerate([str(absolute), relative, "..\\..\\windows.geojson"]):
        response = client.post("/api/v1/layers", data={"id": f"pad{i}"}, files={"file": (filename, content)})
        assert response.status_code == 201, response.text
        assert "/" not in response.json()["source"].removeprefix("import: ")
    assert not absolute.exists() and not (tmp_path / "relatief.geojson").exists()


def test_zip_members_cannot_lead_outside_the_temporary_directory(client, tmp_path):
    frame = municipal_polygons().loc[[34022]].reset_index(drop=True)[["geometry"]]
    frame["code"] = "K"
    frame.to_file(tmp_path / "kortrijk.shp")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in tmp_path.glob("kortrijk.*"):
            archive.write(path, path.name)
        archive.writestr("kortrijk.shp/../../../../ontsnapt.txt", b"mag niet")
        archive.writestr("kortrijk./../../../../ontsnapt.txt", b"mag niet")
    response = client.post("/api/v1/layers", data={"id": "zip"}, files={"file": ("k.zip", buffer.getvalue())})
    assert response.status_code == 201, response.text
    assert not list(Path("/").glob("ontsnapt.txt")) and not list(Path("/tmp").glob("ontsnapt.txt"))


def test_a_zip_bomb_is_refused_before_unpacking(make_client):
    from api.settings import ImportSettings

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bom.shp", b"\0" * 2_000_000)
    assert len(buffer.getvalue()) < 20_000
    client = make_client(imports=ImportSettings(unpacked_bytes=1_000_000))
    response = client.post("/api/v1/layers", data={"id": "bom"}, files={"file": ("bom.zip", buffer.getvalue())})
    assert response.status_code == 413 and "uitgepakt 2000000 bytes groot" in response.json()["detail"]


# -- no file outside its directory -------------------------------------------------------------------
TRAVERSALS = ["..%2F..%2Fpyproject.toml", "%2e%2e/%2e%2e/pyproject.toml", "..%2F..%2Fapi%2Fsettings.py",
              "%2Fetc%2Fpasswd", "..%5C..%5Cpyproject.toml", "images/..%2F..%2F..%2Fpyproject.toml",
              "%252e%252e%252f%252e%252e%252fpyproject.toml"]


def _all_routes(routes, prefix: str = "") -> list:  # noqa: ANN001
    """Every route, also inside included routers (FastAPI wraps those since 0.16x)."""
    found = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            found += _all_routes(inner.routes, prefix + (getattr(context, "prefix", "") or ""))
        else:
            found.append((prefix + getattr(route, "path", ""), route))
    return found


def _file_routes(app) -> list[str]:  # noqa: ANN001
    """Routes that take a whole path as parameter, and mounted directories, wherever they are."""
    prefixes = set()
    for path, route in _all_routes(app.router.routes):
        if ":path}" in path:
            prefixes.add(path.split("{")[0])
        elif type(route).__name__ == "Mount":
            prefixes.add(path.rstrip("/") + "/")
    return sorted(prefixes)


def test_no_route_serves_files_outside_its_directory(client):
    routes = _file_routes(client.app)
    assert "/maps/static/" in routes  # the vendored Leaflet files
    assert client.get("/maps/static/leaflet.css").status_code == 200
    secret = (REPO / "pyproject.toml").read_text()[:40]
    for prefix in routes:
        for attempt in TRAVERSALS:
            response = client.get(prefix + attempt)
            assert response.status_code in (400, 404), (prefix + attempt, response.status_code)
            assert secret not in response.text and "root:" not in response.text
            # /reports/{layer}/{code:path} takes a path too (zone codes may hold '/'): an unknown layer;
            # so does /ogc/collections/{id}/items/{feature_id:path}: an unknown collection or feature.
            assert response.json()["code"] in ("not_found", "bad_request", "unknown_layer", "unknown_zone",
                                               "unknown_collection", "unknown_feature")


def test_traversal_over_raw_http_on_a_real_server(tmp_path):
    """No client between us and uvicorn to normalise the path: the request line is sent as is."""
    with Server({"REGIOMATCH_STATE_DIR": str(tmp_path)}) as server:
        for target in ("/maps/static/../../pyproject.toml", "/maps/static/../../../../../../etc/passwd",
                       "/maps/static/%2e%2e/%2e%2e/pyproject.toml", "/maps/static//etc/passwd"):
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
                conn.sendall(f"GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
                reply = b""
                while chunk := conn.recv(65536):
                    reply += chunk
            status = int(reply.split(b" ", 2)[1])
            assert status in (400, 404), (target, reply[:200])
            assert b"[project]" not in reply and b"root:" not in reply


# -- CORS ------------------------------------------------------------------------------------------------
def test_cors_is_off_by_default(client):
    response = client.get("/api/v1/layers", headers={"Origin": "https://elders.example"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    preflight = client.options("/api/v1/scenarios", headers={
        "Origin": "https://elders.example", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_allows_only_the_configured_origins(make_client):
    client = make_client(cors_origins=["https://planner.example"])
    allowed = client.get("/api/v1/layers", headers={"Origin": "https://planner.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://planner.example"
    other = client.get("/api/v1/layers", headers={"Origin": "https://elders.example"})
    assert "access-control-allow-origin" not in other.headers
    preflight = client.options("/api/v1/scenarios", headers={
        "Origin": "https://planner.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Authorization, Content-Type"})
    assert preflight.status_code == 200
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    refused = client.options("/api/v1/scenarios", headers={
        "Origin": "https://elders.example", "Access-Control-Request-Method": "POST"})
    assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers


# -- errors do not leak internals ----------------------------------------------------------------------------
def test_an_unexpected_error_is_a_json_500_without_internals(settings):
    from api.main import create_app

    app = create_app(settings)

    @app.get("/kapot")
    def broken() -> None:
        raise KeyError("/srv/geheim/pad")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/kapot")
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error; it has been logged", "code": "internal_error"}


# -- browser-facing headers and cross-site writes (see also tests/test_csp_browser.py) -----------
def test_every_answer_has_the_security_headers_and_html_a_fresh_nonce(client):
    for path in ("/health", "/api/v1/layers", "/api/v1/layers/nope", "/maps/static/leaflet.js", "/"):
        response = client.get(path)
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["x-frame-options"] == "DENY", path
        assert response.headers["referrer-policy"] == "same-origin", path
    assert "content-security-policy" not in client.get("/api/v1/layers").headers
    # Uncompressed, so Content-Length can be checked against the body after the nonce swap.
    first, second = (client.get("/", headers={"Accept-Encoding": "identity"}) for _ in range(2))
    nonces = []
    for response in (first, second):
        policy = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "base-uri 'none'" in policy and "unsafe-inline" not in \
            policy.split("script-src")[1].split(";")[0]
        nonce = policy.split("'nonce-")[1].split("'")[0]
        assert f'nonce="{nonce}"' in response.text and "rm-nonce-" not in response.text
        assert int(response.headers["content-length"]) == len(response.content)
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


@pytest.mark.parametrize("headers", [{"Origin": "http://evil.example"}, {"Origin": "null"},
                                     {"Origin": "http://testserver:8001"}, {"Sec-Fetch-Site": "cross-site"},
                                     {"Sec-Fetch-Site": "same-site"}])
def test_cross_site_writes_are_refused_token_or_not(client, headers):
    response = client.post("/api/v1/scenarios", headers=headers, json={"name": "x", "base_layer": "provincie"})
    assert response.status_code == 403 and response.json()["code"] == "cross_site"
    assert client.post("/api/v1/layers", headers=headers, data={"id": "x"},
                       files={"file": ("e.csv", _kortrijk_csv())}).status_code == 403
    assert client.get("/api/v1/scenarios").json() == []
    # Reads from anywhere stay open.
    assert client.get("/api/v1/layers", headers=headers).status_code == 200


def test_same_origin_and_api_clients_write(client):
    for headers in ({}, {"Origin": "http://testserver"}, {"Sec-Fetch-Site": "same-origin"},
                    {"Sec-Fetch-Site": "none"}):
        assert client.post("/api/v1/scenarios", headers=headers,
                           json={"name": "x", "base_layer": "provincie"}).status_code == 201, headers


def test_a_configured_cors_origin_may_write(make_client):
    client = make_client(cors_origins=["https://portaal.example"])
    response = client.post("/api/v1/scenarios", headers={"Origin": "https://portaal.example"},
                           json={"name": "x", "base_layer": "provincie"})
    assert response.status_code == 201
    assert client.post("/api/v1/scenarios", headers={"Origin": "https://ander.example"},
                       json={"name": "x", "base_layer": "provincie"}).status_code == 403


def test_a_refused_write_with_the_token_is_still_refused(token_app):
    _, client = token_app
    response = client.post("/api/v1/scenarios", headers={**AUTH, "Origin": "http://evil.example"},
                           json={"name": "x", "base_layer": "provincie"})
    assert response.status_code == 403
