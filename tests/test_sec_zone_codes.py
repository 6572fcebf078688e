"""Issue 27 item 9: '../../api/v1/layers' is a valid zone code of an imported layer, and
/reports/{layer}/{code} opened it while /zones/{layer}/{code} answered 404: every page takes every
code."""

from __future__ import annotations

from urllib.parse import quote

CODES = ["../../api/v1/layers", "a/b", "Zone 1"]


def test_zone_codes_with_a_slash_open_on_every_zone_route(client):
    table = "nis_code,zone_code,zone_name\n" + "".join(
        f"{nis},{code},Zone {i}\n" for i, (nis, code) in enumerate(zip((34022, 34025, 34027), CODES)))
    assert client.post("/api/v1/layers", data={"id": "schuin"},
                       files={"file": ("s.csv", table.encode())}).status_code == 201
    for code in CODES:
        encoded = quote(code, safe="")
        for path in (f"/zones/schuin/{encoded}", f"/api/v1/zones/schuin/{encoded}", f"/reports/schuin/{encoded}"):
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
        data = client.get(f"/api/v1/zones/schuin/{encoded}").json()
        assert data["code"] == code
        # The links the API hands out lead back to the same zone, whatever the code holds.
        for group in data["layers"]:
            for zone in group["zones"]:
                assert "/../" not in zone["url"]
    assert "a/b" in client.get("/zones/schuin/a/b").text  # unencoded slashes too
    assert client.get("/zones/schuin/bestaat-niet").status_code == 404
    assert client.get("/api/v1/zones/schuin/a/b/cost-share?amount=100").status_code != 404
