"""Public routes are bounded in work: lists deduplicated and capped, unknown body fields refused,
heavy routes limited in concurrency so /health and reads stay answered under a flood."""

from __future__ import annotations

import tempfile
import threading

import httpx

from tests.server import Server


def test_unknown_body_fields_are_refused_naming_them(client):
    response = client.post("/api/v1/scenarios/suggest", json={"base_layer": "eerstelijnszone", "time_budget_s": 5})
    assert response.status_code == 422 and "time_budget_s" in response.json()["detail"]
    response = client.post("/api/v1/scenarios", json={"name": "x", "base_layer": "provincie", "owner": "ik"})
    assert response.status_code == 422 and "owner" in response.json()["detail"]
    sid = client.post("/api/v1/scenarios", json={"name": "x", "base_layer": "provincie"}).json()["id"]
    response = client.patch(f"/api/v1/scenarios/{sid}", json={"add_moves": [{"nis_code": 34022, "to_zone": "x",
                                                                             "from_zone": "y"}]})
    assert response.status_code == 422 and "from_zone" in response.json()["detail"]


def test_repeated_list_parameters_count_once_and_too_many_are_refused(client):
    repeated = [("nest_in", "provincie")] * 1000
    response = client.get("/api/v1/layers/eerstelijnszone/validation", params=repeated)
    assert response.status_code == 200
    assert client.get("/api/v1/layers/eerstelijnszone/validation",
                      params=[("nest_in", "provincie")]).json() == response.json()
    many = [("against", f"laag{i}") for i in range(21)]
    response = client.get("/api/v1/compare", params=[("base", "eerstelijnszone"), ("other", "eerstelijnszone"), *many])
    assert response.status_code == 422 and "against" in response.json()["detail"]
    response = client.get("/maps/municipality/34022", params=[("layers", f"l{i}") for i in range(51)])
    assert response.status_code == 422 and "layers" in response.json()["detail"]


def test_a_flood_of_suggestions_is_turned_away_and_health_stays_answered():
    env = {"REGIOMATCH_API_TOKEN": "", "REGIOMATCH_DATABASE_URL": "", "DATABASE_URL": "",
           "REGIOMATCH_STATE_DIR": tempfile.mkdtemp(prefix="flood-"), "REGIOMATCH_MAX_PARALLEL_SUGGEST": "1"}
    server = Server(env).start(timeout=120)  # a loaded machine starts slowly
    try:
        statuses: list[int] = []
        retry_after: list[str | None] = []

        def ask():
            response = httpx.post(server.url + "/api/v1/scenarios/suggest", timeout=120,
                                  json={"base_layer": "eerstelijnszone", "time_budget_seconds": 4, "max_moves": 200})
            statuses.append(response.status_code)
            retry_after.append(response.headers.get("retry-after"))

        flood = [threading.Thread(target=ask) for _ in range(8)]
        for thread in flood:
            thread.start()
        health = [httpx.get(server.url + "/health", timeout=10).status_code for _ in range(5)]
        for thread in flood:
            thread.join()
        assert health == [200] * 5
        assert statuses.count(200) >= 1 and statuses.count(503) >= 4, statuses
        assert all(r == "5" for s, r in zip(statuses, retry_after) if s == 503)
    finally:
        server.stop()
