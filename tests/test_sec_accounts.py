"""Issue 27 items 6 and 7: sessions end on the server, and named users with roles, owners and an
audit trail. Built from the probe: a copied cookie stayed valid for 8 hours after signing out;
anyone with the one token could change or delete everything, and nobody could say who did what."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

TOKEN = "gedeelde-sleutel-voor-tests"
BASE = "eerstelijnszone"
PASSWORDS = {"els": "els-haar-wachtwoord", "ann": "ann-haar-wachtwoord", "bob": "bob-zijn-wachtwoord"}
KORTRIJK = b"nis_code,zone_code\n34022,K\n"


def _app(settings, token: str | None):
    from api.main import create_app

    return create_app(settings.model_copy(update={"api_token": token}))


@pytest.fixture
def accounts_app(settings):
    """Named accounts: els is beheerder, ann and bob are bijdragers (added as the CLI does)."""
    app = _app(settings, None)
    from api.settings import workspace_for

    accounts = workspace_for(settings).store.accounts
    accounts.add_user("els", "beheerder", PASSWORDS["els"])
    accounts.add_user("ann", "bijdrager", PASSWORDS["ann"])
    accounts.add_user("bob", "bijdrager", PASSWORDS["bob"])
    tokens = {name: {"Authorization": f"Bearer {accounts.add_token(name, 'test')}"} for name in PASSWORDS}
    from api.routes.workbench import SIGNIN_THROTTLE

    SIGNIN_THROTTLE.reset()  # one process runs every test, all from the same test address
    with TestClient(app) as client:
        yield client, tokens, accounts


def _sign_in(client: TestClient, name: str | None, secret: str) -> str:
    """Sign in like the browser; the session's CSRF token, read from the workbench page."""
    data = {"token": secret, "next": "/werkbank"} | ({"name": name} if name else {})
    response = client.post("/aanmelden", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    page = client.get(f"/werkbank?base={BASE}").text
    return page.split('"csrf": "')[1].split('"')[0]


# -- 6: sessions end on the server ------------------------------------------------------------------
def test_signing_out_ends_the_session_for_a_copied_cookie_too(settings):
    with TestClient(_app(settings, TOKEN)) as client:
        csrf = _sign_in(client, None, TOKEN)
        copied = dict(client.cookies)
        body = {"name": "voor afmelden", "base_layer": BASE}
        assert client.post("/api/v1/scenarios", json=body, headers={"X-CSRF-Token": csrf}).status_code == 201
        assert client.post("/afmelden", follow_redirects=False).status_code == 303
        # Someone who copied the cookie (and the page's CSRF token) before the sign-out:
        with TestClient(client.app, cookies=copied) as thief:
            refused = thief.post("/api/v1/scenarios", json=body, headers={"X-CSRF-Token": csrf})
            assert refused.status_code == 401
            assert '"signed_in": false' in thief.get(f"/werkbank?base={BASE}").text


def test_a_beheerder_can_end_every_session_of_a_user(accounts_app):
    client, tokens, accounts = accounts_app
    csrf = _sign_in(client, "ann", PASSWORDS["ann"])
    body = {"name": "van ann", "base_layer": BASE}
    assert client.post("/api/v1/scenarios", json=body, headers={"X-CSRF-Token": csrf}).status_code == 201
    assert accounts.session_count("ann") == 1
    ended = client.delete("/api/v1/users/ann/sessions", headers=tokens["els"])
    assert ended.status_code == 200 and ended.json()["ended"] == 1
    assert client.post("/api/v1/scenarios", json=body, headers={"X-CSRF-Token": csrf}).status_code == 401


def test_sign_in_is_throttled_after_five_failures(accounts_app):
    client, _, _ = accounts_app
    for _ in range(5):
        wrong = client.post("/aanmelden", data={"name": "ann", "token": "fout-wachtwoord"}, follow_redirects=False)
        assert wrong.status_code == 401 and "horen niet bij elkaar" in wrong.text
    blocked = client.post("/aanmelden", data={"name": "ann", "token": PASSWORDS["ann"]}, follow_redirects=False)
    assert blocked.status_code == 429 and "Te veel mislukte pogingen" in blocked.text
    assert int(blocked.headers["retry-after"]) > 0
    assert "regiomatch_session" not in blocked.headers.get("set-cookie", "")


# -- 7: roles and owners ----------------------------------------------------------------------------
def test_a_bijdrager_changes_only_its_own_and_reads_and_duplicates_everything(accounts_app):
    client, tokens, _ = accounts_app
    ann, bob, els = tokens["ann"], tokens["bob"], tokens["els"]
    created = client.post("/api/v1/scenarios", headers=ann, json={"name": "Plan van ann", "base_layer": BASE,
                                                                   "moves": [{"nis_code": 34025, "to_zone": "elz28"}]})
    assert created.status_code == 201 and created.json()["owner"] == "ann"
    sid = created.json()["id"]
    # bob reads and duplicates it, but may not change or delete it.
    original = client.get(f"/api/v1/scenarios/{sid}").json()
    copy = client.post("/api/v1/scenarios", headers=bob, json={"name": "Kopie door bob", "base_layer": BASE,
                                                                "moves": original["moves"]})
    assert copy.status_code == 201 and copy.json()["owner"] == "bob"
    patched = client.patch(f"/api/v1/scenarios/{sid}", headers=bob, json={"name": "gekaapt"})
    assert patched.status_code == 403 and patched.json()["code"] == "forbidden", patched.text
    assert client.delete(f"/api/v1/scenarios/{sid}", headers=bob).status_code == 403
    assert client.get(f"/api/v1/scenarios/{sid}").json()["name"] == "Plan van ann"
    # ann changes her own; the beheerder changes and deletes anyone's.
    assert client.patch(f"/api/v1/scenarios/{sid}", headers=ann, json={"name": "Plan van ann, v2"}).status_code == 200
    assert client.patch(f"/api/v1/scenarios/{sid}", headers=els, json={"description": "nagekeken"}).status_code == 200
    assert client.delete(f"/api/v1/scenarios/{sid}", headers=els).status_code == 204
    # Layers: the same rule.
    assert client.post("/api/v1/layers", headers=ann, data={"id": "sel-ann"},
                       files={"file": ("k.csv", KORTRIJK)}).status_code == 201
    assert client.delete("/api/v1/layers/sel-ann", headers=bob).status_code == 403
    assert client.delete("/api/v1/layers/sel-ann", headers=ann).status_code == 204
    # Without a user nothing is written, even from this machine, once accounts exist.
    assert client.post("/api/v1/scenarios", json={"name": "anoniem", "base_layer": BASE}).status_code == 401


def test_every_write_is_in_the_audit_trail_which_only_beheerders_read(accounts_app):
    client, tokens, _ = accounts_app
    ann, els = tokens["ann"], tokens["els"]
    sid = client.post("/api/v1/scenarios", headers=ann, json={"name": "s", "base_layer": BASE}).json()["id"]
    client.patch(f"/api/v1/scenarios/{sid}", headers=ann, json={"name": "s2"})
    client.post("/api/v1/layers", headers=ann, data={"id": "laag-ann"}, files={"file": ("k.csv", KORTRIJK)})
    client.delete(f"/api/v1/scenarios/{sid}", headers=els)
    assert client.get("/api/v1/audit").status_code == 401
    assert client.get("/api/v1/audit", headers=ann).status_code == 403
    trail = client.get("/api/v1/audit", headers=els).json()
    writes = [(e["actor"], e["action"], e["kind"], e["object_id"], e["before_version"], e["after_version"])
              for e in reversed(trail) if e["kind"] in ("scenario", "layer")]
    assert writes[0] == ("ann", "create", "scenario", sid, None, "1")
    assert writes[1] == ("ann", "update", "scenario", sid, "1", "2")
    assert writes[2][:4] == ("ann", "create", "layer", "laag-ann") and writes[2][5]
    assert writes[3] == ("els", "delete", "scenario", sid, "2", None)
    # A refused write leaves no trace.
    client.delete("/api/v1/layers/laag-ann", headers=tokens["bob"])
    assert len(client.get("/api/v1/audit", headers=els).json()) == len(trail)


def test_the_beheerder_pages_in_the_browser(accounts_app):
    client, _, accounts = accounts_app
    assert client.get("/beheer", follow_redirects=False).headers["location"].startswith("/aanmelden")
    _sign_in(client, "els", PASSWORDS["els"])
    page = client.get("/beheer")
    assert page.status_code == 200 and "Gebruikers" in page.text and "bijdrager" in page.text
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    refused = client.post("/beheer/gebruikers", data={"name": "dirk", "role": "bijdrager",
                                                      "password": "dirk-zijn-wachtwoord"})
    assert refused.status_code == 401 and accounts.get_user("dirk") is None  # no CSRF token
    added = client.post("/beheer/gebruikers", data={"name": "dirk", "role": "bijdrager",
                                                    "password": "dirk-zijn-wachtwoord", "csrf_token": csrf})
    assert added.status_code == 200 and "Gebruiker dirk toegevoegd" in added.text
    token_page = client.post("/beheer/gebruikers/dirk/sleutel", data={"csrf_token": csrf})
    assert "Nieuwe API-sleutel voor" in token_page.text and "rm_" in token_page.text
    log = client.get("/beheer/logboek")
    assert log.status_code == 200 and "Logboek" in log.text and "gebruiker" in log.text and "els" in log.text
    # A bijdrager is not shown the beheerder's pages.
    client.post("/afmelden")
    _sign_in(client, "ann", PASSWORDS["ann"])
    assert client.get("/beheer").status_code == 403
    assert client.get("/beheer/logboek").status_code == 403


def test_the_shared_token_stays_the_simple_default_and_a_beheerders_key(accounts_app, settings):
    client, tokens, _ = accounts_app
    with TestClient(_app(settings, TOKEN)) as operator:
        shared = {"Authorization": f"Bearer {TOKEN}"}
        sid = operator.post("/api/v1/scenarios", headers=tokens["ann"], json={"name": "a", "base_layer": BASE}).json()["id"]
        assert operator.delete(f"/api/v1/scenarios/{sid}", headers=shared).status_code == 204
        assert operator.get("/api/v1/audit", headers=shared).json()[0]["actor"] == "gedeelde sleutel"


def test_the_command_line_manages_users_and_tokens(state_dir, capsys, monkeypatch):
    from api.cli import main

    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("een lang wachtwoord\n"))
    assert main(["users", "add", "w13", "--role", "bijdrager", "--password-stdin", "--token", "QGIS"]) in (0, None)
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert token.startswith("rm_")
    main(["users", "list", "--format", "csv"])
    listed = capsys.readouterr().out
    assert "w13,bijdrager,ja,1,0," in listed
    main(["users", "remove", "w13"])
    assert "verwijderd" in capsys.readouterr().out
    from api.settings import get_settings, workspace_for

    assert workspace_for(get_settings()).store.accounts.token_user(token) is None
