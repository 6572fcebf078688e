"""The Content-Security-Policy and cross-site write refusal in a real headless Chromium.

Every page and map must still work under the policy (no console error, CSP violations included),
a script without the response's nonce must not run, and a page served from another loopback
port must not be able to write, by form post or by a no-cors ``fetch``.
"""

from __future__ import annotations

import http.server
import threading
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests.browser_support import LEAFLET_READY, Browser, served_app
from tests.server import free_port

PAYLOAD_NAME = '<img src=x onerror="window.__pwned=1">"><script>window.__pwned=2</script>'


@pytest.fixture(scope="module")
def server():
    with served_app() as running:
        csv = b"nis_code,zone_code,zone_name\n34022,K1,Kortrijk\n34025,K2,Lendelede\n"
        created = httpx.post(running.url + "/api/v1/layers", data={"id": "eigen", "name": "Eigen laag"},
                             files={"file": ("e.csv", csv)}, timeout=60)
        assert created.status_code == 201, created.text
        scenario = httpx.post(running.url + "/api/v1/scenarios", timeout=60,
                              json={"name": "Proef", "base_layer": "eerstelijnszone"})
        assert scenario.status_code == 201, scenario.text
        running.scenario_id = scenario.json()["id"]
        yield running


@pytest.fixture(scope="module")
def browser():
    with Browser(width=1200, height=900) as running:
        yield running


PAGES = ["/", "/search?q=sint", "/municipalities/34022", "/overlay?a=eerstelijnszone&b=referentieregio",
         "/reports/samenwerkingsverband/W13", "/atlas", "/zones/samenwerkingsverband/W13", "/lagen/nieuw",
         "/aanmelden", "/vergelijk?base=eerstelijnszone&other=eerstelijnszone", "/docs"]
MAPS = ["/maps/overlay?a=samenwerkingsverband&b=eerstelijnszone", "/maps/municipality/34022",
        "/maps/choropleth/provincie", "/maps/choropleth/eigen"]


@pytest.mark.parametrize("path", PAGES + MAPS)
def test_every_page_and_map_works_under_the_policy(server, browser, path):
    headers = httpx.get(server.url + path, timeout=60).headers
    assert "'nonce-" in headers["content-security-policy"] and "object-src 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
    ready = LEAFLET_READY if path.startswith("/maps/") else "return document.readyState === 'complete';"
    if path == "/docs":
        ready = "return !!document.querySelector('.swagger-ui .information-container');"
    page = browser.load(server.url + path, ready=ready, timeout=90)
    assert page.errors == [], (path, page.errors)
    # The trusted scripts ran: Leaflet drew the map, or the sortable tables took their handler.
    if path.startswith("/maps/"):
        assert browser.run("return document.querySelectorAll('.leaflet-pane svg path').length") > 0
    elif browser.run("return document.querySelectorAll('table.sortable').length"):
        assert browser.run("return document.querySelector('table.sortable th').title") == "Klik om te sorteren"


def test_scenario_map_works_under_the_policy(server, browser):
    page = browser.load(f"{server.url}/maps/scenario/{server.scenario_id}", ready=LEAFLET_READY, timeout=90)
    assert page.errors == []


def test_a_script_without_the_nonce_does_not_run(server, browser, tmp_path: Path):
    """Even if user text reached a page unescaped, neither an inline handler nor a script runs."""
    nonce_free = server.url + "/municipalities/34022"
    browser.load(nonce_free)
    ran = browser.run("""
        window.__pwned = 0;
        var holder = document.createElement('div');
        holder.innerHTML = arguments[0];
        document.body.appendChild(holder);
        return new Promise(function (done) { setTimeout(function () { done(window.__pwned); }, 300); });
    """, PAYLOAD_NAME)
    assert ran == 0
    assert any("Content Security Policy" in error for error in browser.errors())


class _AttackerPage(http.server.BaseHTTPRequestHandler):
    target = ""

    def do_GET(self):  # noqa: N802 (http.server's name)
        body = f"""<!doctype html><html><body>
<form id="f" method="post" action="{self.target}/api/v1/scenarios" enctype="text/plain">
  <input name='{{"name": "via form", "base_layer": "provincie", "x": "' value='"}}'>
</form>
<script>
var data = new FormData();
data.append("id", "geplant");
data.append("file", new Blob(["nis_code,zone_code\\n34022,K\\n"]), "p.csv");
fetch("{self.target}/api/v1/layers", {{method: "POST", mode: "no-cors", body: data}})
  .then(function () {{ window.__fetched = true; document.getElementById("f").submit(); }},
        function () {{ window.__fetched = true; document.getElementById("f").submit(); }});
</script></body></html>""".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_page_on_another_loopback_port_cannot_write(server, browser):
    handler = type("Attacker", (_AttackerPage,), {"target": server.url})
    attacker = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=attacker.serve_forever, daemon=True)
    thread.start()
    try:
        scenarios_before = httpx.get(server.url + "/api/v1/scenarios").json()
        browser.driver.get(f"http://127.0.0.1:{attacker.server_address[1]}/")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not browser.driver.current_url.startswith(server.url):
            time.sleep(0.1)
        # The form post landed on the server and was refused, as JSON naming the reason.
        assert browser.driver.current_url == server.url + "/api/v1/scenarios"
        assert '"code":"cross_site"' in browser.driver.page_source.replace(" ", "")
    finally:
        attacker.shutdown()
        attacker.server_close()
    assert httpx.get(server.url + "/api/v1/layers/geplant").status_code == 404
    assert httpx.get(server.url + "/api/v1/scenarios").json() == scenarios_before
    # The server's own origin and API clients without an Origin still write.
    own = httpx.post(server.url + "/api/v1/scenarios", headers={"Origin": server.url},
                     json={"name": "eigen", "base_layer": "provincie"})
    assert own.status_code == 201
    assert httpx.delete(f"{server.url}/api/v1/scenarios/{own.json()['id']}").status_code == 204


PAYLOADS = ['<img src=x onerror="window.__pwned=1">', '"><svg onload="window.__pwned=2">',
            '</script><script>window.__pwned=3</script>', "'-alert(1)-'\\u2028<script>window.__pwned=4</script>"]


def test_payloads_in_every_field_run_nowhere(server, browser):
    """User text with script payloads in a layer name, zone codes, zone names and a scenario name,
    on every page and map that shows them: nothing runs (the maps escape it, and the policy is the
    second line behind that)."""
    rows = ["nis_code,zone_code,zone_name"]
    for nis, payload in zip((34022, 34025, 34027, 34041), PAYLOADS):
        rows.append(f'{nis},"{payload.replace(chr(34), chr(34) * 2)}","{payload.replace(chr(34), chr(34) * 2)}"')
    created = httpx.post(server.url + "/api/v1/layers", data={"id": "kwaad", "name": PAYLOADS[0] + PAYLOADS[2]},
                         files={"file": ("k.csv", "\n".join(rows).encode())}, timeout=60)
    assert created.status_code == 201, created.text
    scenario = httpx.post(server.url + "/api/v1/scenarios", timeout=60,
                          json={"name": PAYLOADS[1] + PAYLOADS[3], "base_layer": "kwaad",
                                "description": PAYLOADS[0]}).json()
    urls = [("/maps/municipality/34022", True), ("/maps/choropleth/kwaad", True),
            (f"/maps/scenario/{scenario['id']}", True), ("/maps/overlay?a=kwaad&b=eerstelijnszone", True),
            ("/", False), ("/municipalities/34022", False), ("/overlay?a=kwaad&b=eerstelijnszone", False),
            (f"/reports/kwaad/{quote(PAYLOADS[0], safe='')}?against=eerstelijnszone", False)]
    try:
        for path, is_map in urls:
            ready = LEAFLET_READY if is_map else "return document.readyState === 'complete';"
            browser.load(server.url + path, ready=ready, timeout=90)
            # Open every tooltip and popup and the layer control, where labels become HTML.
            browser.run("""document.querySelectorAll('.leaflet-interactive').forEach(function (el) {
                ['mouseover', 'click'].forEach(function (t) { el.dispatchEvent(new MouseEvent(t, {bubbles: true})); });
            });""")
            time.sleep(0.3)
            assert browser.run("return window.__pwned === undefined;"), (path, browser.run("return window.__pwned;"))
    finally:
        httpx.delete(f"{server.url}/api/v1/scenarios/{scenario['id']}", timeout=30)
        httpx.delete(server.url + "/api/v1/layers/kwaad", timeout=30)
