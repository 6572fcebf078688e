"""Issue 27 item 8: the PDF renderer fetches nothing but the service's own assets, even if hostile
text ever reached the HTML (file:, http: and https: elsewhere are refused)."""

from __future__ import annotations

import http.server
import threading

import pytest

from maps.pdf import own_asset

pytestmark = pytest.mark.pdf


def test_only_own_assets_are_fetchable():
    assert own_asset("data:image/png;base64,AAAA")
    for url in ("file:///etc/passwd", "file:///work/../etc/passwd", "http://127.0.0.1:8000/api/v1/scenarios",
                "https://example.com/a.png", "ftp://example.com/x", "file:///proc/self/environ",
                "regiomatch-image:99"):
        assert not own_asset(url), url


def test_a_hostile_page_renders_without_any_fetch():
    pytest.importorskip("weasyprint")
    from maps.pdf import html_to_pdf

    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):  # noqa: ANN002
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        html = (f'<html><head><link rel="stylesheet" href="http://127.0.0.1:{port}/style.css">'
                f'<style>@import url("http://127.0.0.1:{port}/import.css"); body {{ background: '
                f'url("http://127.0.0.1:{port}/bg.png") }}</style></head><body><h1>Rapport</h1>'
                f'<img src="http://127.0.0.1:{port}/api/v1/scenarios"><img src="file:///etc/passwd">'
                f'<img src="https://example.invalid/a.png"><iframe src="file:///etc/shadow"></iframe></body></html>')
        pdf = html_to_pdf(html)
    finally:
        server.shutdown()
    assert pdf.startswith(b"%PDF")
    assert hits == []
    assert b"root:" not in pdf
