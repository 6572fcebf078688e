"""Issue 27 item 10: two workers on one PostgreSQL database, two users writing at once. Every
acknowledged write is there, owners are respected (each user's attempts on the other's scenarios
are refused and change nothing), and the audit trail holds exactly the acknowledged writes."""

from __future__ import annotations

import threading

import httpx
import pytest
from sqlalchemy import text

from geo.storage.store import Store
from tests.server import Server
from tests.test_store import postgres_url  # noqa: F401 (the fixture)

pytestmark = pytest.mark.server
ROUNDS = 12
ALL_TABLES = "scenarios, imported_layers, regiomatch_schema, alembic_version, users, api_tokens, sessions, audit"


def _writer(url: str, token: str, name: str, other_ids: list[str], log: list, errors: list) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        for i in range(ROUNDS):
            try:
                created = client.post("/api/v1/scenarios", json={"name": f"{name} {i}", "base_layer": "eerstelijnszone"})
                if created.status_code != 201:
                    errors.append((name, "create", created.status_code, created.text[:200]))
                    continue
                sid = created.json()["id"]
                log.append(("create", sid, None, 1))
                other_ids.append(sid)
                patched = client.patch(f"/api/v1/scenarios/{sid}", json={"description": f"ronde {i}", "version": 1})
                if patched.status_code == 200:
                    log.append(("update", sid, 1, 2))
                else:
                    errors.append((name, "patch", patched.status_code, patched.text[:200]))
                if i % 4 == 3:
                    if client.delete(f"/api/v1/scenarios/{sid}").status_code == 204:
                        log.append(("delete", sid, 2, None))
                # The other user's latest scenario: refused, whatever the timing.
                theirs = [s for s in list(other_ids) if s not in {entry[1] for entry in log}]
                if theirs:
                    hijack = client.patch(f"/api/v1/scenarios/{theirs[-1]}", json={"name": "gekaapt"})
                    log.append(("refused", theirs[-1], hijack.status_code, None))
            except httpx.HTTPError as exc:  # an unacknowledged write: allowed to be missing
                errors.append((name, "transport", 0, str(exc)[:200]))


def test_two_users_on_two_workers_over_one_postgresql(postgres_url, tmp_path):  # noqa: F811
    setup = Store(postgres_url)
    with setup.engine.begin() as conn:
        for table in ("audit", "sessions", "api_tokens", "users", "scenarios", "imported_layers"):
            conn.execute(text(f"DELETE FROM {table}"))
    tokens = {}
    for name in ("ann", "bob"):
        setup.accounts.add_user(name, "bijdrager", f"{name}-haar-wachtwoord")
        tokens[name] = setup.accounts.add_token(name, "belasting")
    setup.accounts.add_user("els", "beheerder", "els-haar-wachtwoord")
    created_ids: list[str] = []  # both users' scenarios, as they appear
    logs = {"ann": [], "bob": []}
    errors: list = []
    env = {"REGIOMATCH_DATABASE_URL": postgres_url, "REGIOMATCH_STATE_DIR": str(tmp_path / "state")}
    env_clean = {k: v for k, v in env.items()}
    with Server(env_clean, workers=2) as server:
        threads = [threading.Thread(target=_writer, args=(server.url, tokens[name], name, created_ids, logs[name],
                                                          errors)) for name in ("ann", "bob")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert [e for e in errors if e[2] not in (0, 503)] == [], errors
    check = Store(postgres_url)
    try:
        scenarios = {r.id: r for r in check.list_scenarios()}
        trail = check.accounts.audit_trail(limit=1000)
        for name, log in logs.items():
            deleted = {sid for action, sid, _, _ in log if action == "delete"}
            for action, sid, before, after in log:
                if action == "create" and sid not in deleted:
                    assert sid in scenarios and scenarios[sid].owner == name
                if action == "update" and sid not in deleted:
                    assert scenarios[sid].description.startswith("ronde") and scenarios[sid].version == 2
                if action == "delete":
                    assert sid not in scenarios
                if action == "refused":  # 404: its owner deleted it meanwhile
                    assert before in (403, 404), (name, sid, before)
            # The audit trail: exactly this user's acknowledged writes, with their versions.
            expected = sorted((a, s, None if b is None else str(b), None if c is None else str(c))
                              for a, s, b, c in log if a != "refused")
            audited = sorted((e.action, e.object_id, e.before_version, e.after_version) for e in trail
                             if e.actor == name and e.kind == "scenario")
            assert audited == expected
        assert not any(r.name == "gekaapt" for r in scenarios.values())
        refused = sum(1 for log in logs.values() for entry in log if entry[0] == "refused" and entry[2] == 403)
        acknowledged = sum(1 for log in logs.values() for entry in log if entry[0] != "refused")
        assert refused > 0 and acknowledged >= 2 * ROUNDS
        print(f"\ntwo workers, two users: {acknowledged} acknowledged writes all present, {refused} attempts on the "
              f"other's scenarios refused (403), {len(trail)} audit rows, {len(errors)} unacknowledged")
    finally:
        with check.engine.begin() as conn:
            for table in ("audit", "sessions", "api_tokens", "users", "scenarios", "imported_layers"):
                conn.execute(text(f"DELETE FROM {table}"))
        check.dispose()
        setup.dispose()
