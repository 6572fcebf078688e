"""Ensembles and proposals over HTTP: a job that answers 202, is followed to its end, is served
from the database for the same inputs, can be cancelled, and shows as interrupted after a
restart; impossible rules are a Dutch 422 at once; writes need the token. Runs are kept small."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from geo.ensemble.problem import prepare
from geo.ensemble.validate import validate_plan
from geo.jobs.ensembles import spec_of
from geo.storage.workspace import open_workspace
from tests.server import Server

SMALL = {"base_layer": "eerstelijnszone", "plans": 8, "chains": 2, "seed": 5}
BIG = {"base_layer": "eerstelijnszone", "plans": 20000, "chains": 2, "seed": 6}


def follow(client, url: str, timeout: float = 240.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(url).json()
        assert 0.0 <= body["progress"] <= 1.0
        if body["status"] not in ("queued", "running"):
            return body
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} still {body['status']} after {timeout} s")
        time.sleep(0.5)


def test_an_ensemble_is_a_job_followed_to_its_end_and_then_served_from_the_store(client, state_dir):
    started = client.post("/api/v1/ensembles", json=SMALL)
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["status"] in ("queued", "running") and started.headers["location"] == f"/api/v1/ensembles/{job['id']}"
    done = follow(client, job["url"])
    assert done["status"] == "done", done
    summary = done["summary"]
    assert summary["plans"] == 8 and summary["chains"] == 2
    crossing = next(m for m in summary["layer"] if m["measure"] == "crossing")
    assert 0 <= crossing["base"]["percentile"] <= 100 and sum(crossing["histogram"]["counts"]) == 8
    assert any(m["association"] == "W13" for m in summary["associations"])
    assert summary["convergence"]["statement"]

    # The same inputs: the stored job, done, at once (not a new run).
    again = client.post("/api/v1/ensembles", json=SMALL)
    assert again.status_code == 200 and again.json()["id"] == job["id"] and again.json()["new"] is False

    # Plans as NIS code -> zone code, every one valid under the rules.
    page = client.get(f"{job['url']}/plans", params={"limit": 3, "offset": 2}).json()
    assert page["total"] == 8 and [p["index"] for p in page["plans"]] == [2, 3, 4]
    zones = page["plans"][0]["zones"]
    assert zones["34022"] and len(zones) == 304  # Kortrijk has a zone; every municipality is listed
    ws = open_workspace(None, f"sqlite:///{state_dir / 'regiomatch.sqlite3'}")
    problem = prepare(ws, spec_of(SMALL))
    codes = {c: i for i, c in enumerate(problem.zone_codes)}
    for plan in client.get(f"{job['url']}/plans", params={"limit": 8}).json()["plans"]:
        array = np.array([codes.get(plan["zones"][str(int(n))], -1) if plan["zones"][str(int(n))] else -1
                          for n in problem.nis], dtype=np.int32)
        assert set(array[problem.movable].tolist()) - {-1}, "a plan without zones"
        assert validate_plan(problem, array) == [], plan["index"]

    # One plan saved as a scenario (once), then placed in every distribution.
    saved = client.post(f"{job['url']}/plans/1/scenario", json={"name": "Uit de reeks"})
    assert saved.status_code == 201, saved.text
    scenario = saved.json()["layer_id"]
    assert client.post(f"{job['url']}/plans/1/scenario").json()["layer_id"] == scenario
    placed = client.get(job["url"], params={"scenarios": scenario}).json()["summary"]
    crossing = next(m for m in placed["layer"] if m["measure"] == "crossing")
    assert 0 <= crossing["scenarios"][scenario]["percentile"] <= 100
    assert client.get(f"/api/v1/scenarios/{saved.json()['scenario_id']}").json()["name"] == "Uit de reeks"
    assert client.post(f"{job['url']}/plans/99/scenario").status_code == 422

    # Per-plan values for spreadsheets: Excel dialect and a workbook.
    csv = client.get(f"{job['url']}/export", params={"format": "csv"})
    assert csv.content.startswith(b"\xef\xbb\xbf") and csv.headers["content-type"].startswith("text/csv")
    header, first = csv.content.decode("utf-8-sig").splitlines()[:2]
    assert header.startswith("indeling;keten;samenwerkingsverbanden die een grens kruisen") and ";" in first
    assert "," in first  # decimal comma
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(client.get(f"{job['url']}/export", params={"format": "xlsx"}).content))
    assert book["indelingen"].max_row == 9

    # The pages: the form, the results with histograms, the scenario placed.
    form = client.get("/alternatieven", params={"layer": "eerstelijnszone"})
    assert form.status_code == 200 and "Start de berekening" in form.text
    html = client.get(f"/alternatieven/{job['id']}", params={"scenario": scenario}).text
    assert html.count("<svg") >= 6 and "Uit de reeks" in html
    assert "Open in de werkbank" in html and "Stel een volledige indeling voor" in html

    # The association's fit report now says how unusual today's zoning is (and links the run).
    report = client.get("/reports/samenwerkingsverband/W13").text
    assert "Hoe ongewoon is de huidige indeling? W13 en Eerstelijnszones" in report
    assert f"/alternatieven/{job['id']}" in report and report.count('class="histogram"') == 3


def test_impossible_rules_are_refused_at_once_in_dutch_naming_the_rule(client):
    too_high = client.post("/api/v1/ensembles", json={**SMALL, "lower": 5_000_000})
    assert too_high.status_code == 422
    assert "ondergrens" in too_high.json()["detail"] and too_high.json()["code"] == "invalid_input"
    too_many = client.post("/api/v1/ensembles", json={**SMALL, "plans": 10**7})
    assert too_many.status_code == 422 and "maximum" in too_many.json()["detail"]
    assert client.post("/api/v1/ensembles", json={**SMALL, "base_layer": "bestaat_niet"}).status_code == 404
    assert client.post("/api/v1/ensembles", json={**SMALL, "colour": "rood"}).status_code == 422
    assert client.get("/api/v1/ensembles/onbekend").status_code == 404
    # Nothing was queued by any of them.
    assert client.get("/alternatieven", params={"layer": "eerstelijnszone"}).text.count("/alternatieven/") <= 1


def test_writes_need_the_token(make_client):
    client = make_client(api_token="geheim")
    assert client.post("/api/v1/ensembles", json=SMALL).status_code == 401
    assert client.post("/api/v1/proposals", json={"base_layer": "eerstelijnszone"}).status_code == 401
    assert client.post("/api/v1/ensembles/x/cancel").status_code == 401
    assert client.post("/api/v1/ensembles/x/plans/0/scenario").status_code == 401
    ok = client.post("/api/v1/ensembles", json=SMALL, headers={"Authorization": "Bearer geheim"})
    assert ok.status_code in (200, 202)
    assert client.get(ok.json()["url"]).status_code == 200  # reading needs no token
    assert client.post(f"{ok.json()['url']}/cancel", headers={"Authorization": "Bearer geheim"}).status_code == 200


def test_a_running_ensemble_can_be_cancelled(client):
    job = client.post("/api/v1/ensembles", json=BIG).json()
    deadline = time.monotonic() + 60
    while client.get(job["url"]).json()["status"] == "queued" and time.monotonic() < deadline:
        time.sleep(0.2)
    cancelled = client.post(f"{job['url']}/cancel")
    assert cancelled.status_code == 200
    assert follow(client, job["url"], timeout=60)["status"] == "cancelled"
    # Run again on request: the same job, queued again; then cancelled with DELETE.
    again = client.post("/api/v1/ensembles", json=BIG)
    assert again.status_code == 202 and again.json()["id"] == job["id"] and again.json()["new"] is True
    assert client.delete(job["url"]).status_code == 200
    assert follow(client, job["url"], timeout=60)["status"] == "cancelled"


def test_proposals_are_a_job_and_each_can_be_saved_as_a_scenario(client):
    started = client.post("/api/v1/proposals", json={"base_layer": "eerstelijnszone", "objective": "crossings",
                                                     "n": 1, "seed": 2})
    assert started.status_code == 202, started.text
    done = follow(client, started.json()["url"])
    assert done["status"] == "done", done
    proposal = done["proposals"][0]
    assert proposal["explanation"].startswith("Voorstel") and proposal["moves"]
    saved = client.post(f"{started.json()['url']}/0/scenario")
    assert saved.status_code == 201 and saved.json()["compare_url"].startswith("/vergelijk?base=eerstelijnszone")
    assert client.get(saved.json()["compare_url"]).status_code == 200
    page = client.get(f"/alternatieven/voorstellen/{started.json()['id']}")
    assert page.status_code == 200 and "Voorstel 1" in page.text
    assert client.post("/api/v1/proposals", json={"base_layer": "eerstelijnszone", "objective": "mooi"}).status_code == 422


@pytest.mark.server
def test_a_job_cut_off_by_a_restart_is_interrupted_and_runs_again(tmp_path):
    env = {"REGIOMATCH_STATE_DIR": str(tmp_path / "state"), "REGIOMATCH_WARM_UP": "0", "REGIOMATCH_API_TOKEN": ""}
    with Server(env) as server:
        job = httpx.post(server.url + "/api/v1/ensembles", json=BIG, timeout=120).json()
        deadline = time.monotonic() + 120
        while httpx.get(server.url + job["url"]).json()["status"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        # Kill the server and its chain processes as a power cut would: no shutdown, no tidying up.
        family = descendants(server.process.pid)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()
        for pid in family:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        server.start()
        deadline = time.monotonic() + 60
        while (status := httpx.get(server.url + job["url"]).json()["status"]) == "running":
            assert time.monotonic() < deadline, "never marked interrupted"
            time.sleep(0.3)
        assert status == "interrupted"
        page = httpx.get(server.url + f"/alternatieven/{job['id']}").text
        assert "onderbroken" in page and "Opnieuw starten" in page
        again = httpx.post(server.url + "/api/v1/ensembles", json=BIG, timeout=120)
        assert again.status_code == 202 and again.json()["id"] == job["id"]
        httpx.post(server.url + job["url"] + "/cancel")


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (read from /proc)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        children = [p for p, parent in parents.items() if parent == current]
        found += children
        frontier += children
    return found


@pytest.mark.pdf
def test_the_printed_report_carries_the_ensemble_section_inside_the_page(client, tmp_path):
    from tests.test_report_pdf import A4, MARGIN_BOTTOM, MARGIN_SIDE, MARGIN_TOP, TOLERANCE, words

    job = client.post("/api/v1/ensembles", json={**SMALL, "seed": 9}).json()
    assert follow(client, job["url"])["status"] == "done"
    response = client.get("/reports/samenwerkingsverband/W13", params={"format": "pdf"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "W13.pdf"
    pdf.write_bytes(response.content)
    pages, found = words(pdf)
    text = " ".join(w[5] for w in found)
    assert "ongewoon" in text and "Geraakte zones" in text and "vandaag:" in text
    section = [w for w in found if w[0] == next(p for p, *_, t in found if t == "ongewoon")]
    left, right = MARGIN_SIDE - TOLERANCE, A4[0] - MARGIN_SIDE + TOLERANCE
    top, bottom = MARGIN_TOP - TOLERANCE, A4[1] - MARGIN_BOTTOM + TOLERANCE
    body = [w for w in section if w[2] < bottom]
    assert not [w for w in body if w[1] < left or w[3] > right or w[2] < top or w[4] > bottom]
