"""Nothing acknowledged is lost: a server killed with SIGKILL in the middle of a burst of writes,
and several worker processes writing to one scenario at once.

Real server processes on loopback (``tests/server.py``), real SQLite database on disk.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass, field

import httpx

from geo.reference.catalog import load_catalog
from tests.server import Server

BASE = "eerstelijnszone"


def _municipalities_and_zones() -> tuple[list[int], list[str]]:
    catalog = load_catalog()
    return [int(n) for n in catalog.atoms.nis_codes], list(catalog.layer(BASE).zone_codes)


NIS, ZONES = _municipalities_and_zones()


def _move(thread: int, step: int) -> dict:
    """A move no other step of the same thread makes (a distinct municipality per step)."""
    return {"nis_code": NIS[(thread * 37 + step) % len(NIS)], "to_zone": ZONES[(thread + step) % len(ZONES)]}


@dataclass
class Writer:
    """One client thread: creates its own scenario, then PATCHes it step by step, recording what
    the server acknowledged and what was in flight when the connection died."""

    thread: int
    url: str
    stop: threading.Event
    scenario_id: str | None = None
    acked_version: int = 0
    acked_moves: list = field(default_factory=list)
    in_flight: tuple[int, list] | None = None  # (version, moves) of a write without an answer
    acks: int = 0
    errors: list = field(default_factory=list)

    def name(self, version: int) -> str:
        return f"t{self.thread}-v{version}"

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as client:
            step = 0
            while not self.stop.is_set():
                moves = self.acked_moves + [_move(self.thread, step)]
                version = self.acked_version + 1
                self.in_flight = (version, moves)
                try:
                    if self.scenario_id is None:
                        response = client.post("/api/v1/scenarios", json={
                            "name": self.name(1), "base_layer": BASE, "moves": moves})
                    else:
                        response = client.patch(f"/api/v1/scenarios/{self.scenario_id}", json={
                            "name": self.name(version), "add_moves": moves[-1:], "version": self.acked_version})
                except httpx.TransportError:
                    return  # the server died with this write unanswered: it may or may not be there
                if response.status_code not in (200, 201):
                    self.errors.append((response.status_code, response.text))
                    return
                body = response.json()
                self.scenario_id = body["id"]
                assert body["version"] == version and body["moves"] == moves
                self.acked_version, self.acked_moves, self.in_flight = version, moves, None
                self.acks += 1
                step += 1


@dataclass
class Importer:
    """One client thread importing layers one after the other."""

    url: str
    stop: threading.Event
    prefix: str
    acked: list = field(default_factory=list)
    errors: list = field(default_factory=list)

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as client:
            i = 0
            while not self.stop.is_set():
                csv = f"nis_code,zone_code,zone_name\n{NIS[i % len(NIS)]},Z{i},Zone {i}\n".encode()
                try:
                    response = client.post("/api/v1/layers", data={"id": f"{self.prefix}{i}"},
                                           files={"file": (f"imp{i}.csv", csv)})
                except httpx.TransportError:
                    return
                if response.status_code != 201:
                    self.errors.append((response.status_code, response.text))
                    return
                self.acked.append((f"{self.prefix}{i}", NIS[i % len(NIS)]))
                i += 1


def _burst_then_kill(server: Server, threads: int, acks_before_kill: int, round_: int) -> tuple[list[Writer], Importer]:
    stop = threading.Event()
    writers = [Writer(t, server.url, stop) for t in range(threads)]
    importer = Importer(server.url, stop, prefix=f"r{round_}imp")
    workers = [threading.Thread(target=w.run, daemon=True) for w in writers]
    workers.append(threading.Thread(target=importer.run, daemon=True))
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 60
    while sum(w.acks for w in writers) < acks_before_kill and time.monotonic() < deadline:
        time.sleep(0.02)
    server.stop(kill=True)  # SIGKILL: no shutdown, no flush, mid-request
    stop.set()
    for worker in workers:
        worker.join(timeout=60)
    return writers, importer


def _assert_whole_and_acknowledged(server: Server, writers: list[Writer], importer: Importer) -> int:
    """Every acknowledged write is there; every stored scenario is one whole write (its name,
    version and moves from the same request). Returns the number of unanswered writes found saved."""
    found_in_flight = 0
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for writer in writers:
            assert not writer.errors, writer.errors
            if writer.scenario_id is None:
                continue  # the create itself was cut off
            response = client.get(f"/api/v1/scenarios/{writer.scenario_id}")
            assert response.status_code == 200, response.text
            stored = response.json()
            if stored["version"] == writer.acked_version:
                expected_moves = writer.acked_moves
            else:
                # Committed but killed before the answer went out: allowed, and it must be whole.
                assert writer.in_flight is not None and stored["version"] == writer.in_flight[0], (
                    stored["version"], writer.acked_version, writer.in_flight)
                expected_moves = writer.in_flight[1]
                found_in_flight += 1
            assert stored["name"] == writer.name(stored["version"])
            assert stored["moves"] == expected_moves
        listed = client.get("/api/v1/scenarios").json()
        for summary in listed:  # including creates that were cut off but committed
            stored = client.get(f"/api/v1/scenarios/{summary['id']}").json()
            thread, version = (int(x) for x in stored["name"][1:].split("-v"))
            assert stored["version"] == version
            assert stored["moves"] == [_move(thread, step) for step in range(len(stored["moves"]))]
        assert not importer.errors, importer.errors
        for layer_id, nis in importer.acked:
            members = client.get(f"/api/v1/layers/{layer_id}/members")
            assert members.status_code == 200, (layer_id, members.text)
            assert [m["nis_code"] for m in members.json()] == [nis]
    return found_in_flight


def test_acknowledged_writes_survive_sigkill_and_none_is_half_written(tmp_path):
    env = {"REGIOMATCH_STATE_DIR": str(tmp_path / "state")}
    server = Server(env).start()
    try:
        totals = []
        for round_ in range(2):  # kill twice: the second burst writes over a database that survived a kill
            writers, importer = _burst_then_kill(server, threads=6, acks_before_kill=60, round_=round_)
            assert sum(w.acks for w in writers) >= 60
            server.start()
            in_flight_saved = _assert_whole_and_acknowledged(server, writers, importer)
            totals.append((sum(w.acks for w in writers) + len(importer.acked), in_flight_saved))
    finally:
        server.stop()
    database = tmp_path / "state" / "regiomatch.sqlite3"
    with sqlite3.connect(database) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    print(f"\nSIGKILL rounds (acknowledged writes, unanswered writes found saved): {totals}")


def _patcher(url: str, scenario_id: str, thread: int, count: int, with_version: bool, out: dict) -> None:
    acked, conflicts, errors = [], 0, []
    with httpx.Client(base_url=url, timeout=60) as client:
        for step in range(count):
            move = {"nis_code": NIS[(100 + thread * count + step) % len(NIS)], "to_zone": ZONES[thread % len(ZONES)]}
            while True:
                body: dict = {"add_moves": [move]}
                if with_version:
                    body["version"] = client.get(f"/api/v1/scenarios/{scenario_id}").json()["version"]
                response = client.patch(f"/api/v1/scenarios/{scenario_id}", json=body)
                if response.status_code == 409:
                    error = response.json()
                    if error["code"] != "conflict" or "version" not in error["detail"]:
                        errors.append(error)
                    conflicts += 1
                    continue  # reload and apply the change again, as the message says
                if response.status_code != 200:
                    errors.append((response.status_code, response.text))
                else:
                    acked.append(move)
                break
    out[thread] = (acked, conflicts, errors)


def test_concurrent_writers_on_several_workers_lose_no_acknowledged_move(tmp_path):
    """Sixteen clients add moves through several worker processes at once. On one scenario eight
    send the version they read (a stale one gets a 409 naming the version, and they reload and
    retry); on another eight send no version (the server re-applies each change on top of
    whatever another writer saved in between). Every acknowledged move is in the final scenario
    and the version counts every acknowledged write."""
    env = {"REGIOMATCH_STATE_DIR": str(tmp_path / "state")}
    workers, writers, steps = 3, 8, {True: 5, False: 12}
    with Server(env, workers=workers) as server:
        ids = {with_version: httpx.post(server.url + "/api/v1/scenarios", timeout=30, json={
            "name": f"samen, versie {with_version}", "base_layer": BASE}).json()["id"] for with_version in (True, False)}
        out: dict = {True: {}, False: {}}
        threads = [threading.Thread(target=_patcher, args=(server.url, ids[v], t, steps[v], v, out[v]))
                   for t in range(writers) for v in (True, False)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=240)
        final = {v: httpx.get(f"{server.url}/api/v1/scenarios/{ids[v]}", timeout=30).json() for v in ids}
        # Every worker process answers from the database, not from a stale cache of its own.
        seen = {httpx.get(f"{server.url}/api/v1/scenarios/{ids[True]}", timeout=30).json()["version"]
                for _ in range(12)}
    report = []
    for with_version, results in out.items():
        acked = [move for moves, _, _ in results.values() for move in moves]
        errors = [e for _, _, errs in results.values() for e in errs]
        conflicts = sum(c for _, c, _ in results.values())
        assert not errors, errors
        assert len(acked) == writers * steps[with_version]
        stored = {(m["nis_code"], m["to_zone"]) for m in final[with_version]["moves"]}
        assert {(m["nis_code"], m["to_zone"]) for m in acked} <= stored
        assert final[with_version]["version"] == 1 + len(acked)
        report.append(f"{'with' if with_version else 'without'} version: {len(acked)} moves acknowledged, "
                      f"{conflicts} stale versions refused with 409")
    assert seen == {final[True]["version"]}
    print(f"\n{workers} workers, {2 * writers} writers: " + "; ".join(report) + "; none lost")


def test_concurrent_imports_of_one_layer_id_give_one_layer_and_409s(tmp_path):
    env = {"REGIOMATCH_STATE_DIR": str(tmp_path / "state")}
    results: list[int] = []
    lock = threading.Lock()

    def importer(i: int) -> None:
        csv = f"nis_code,zone_code\n{NIS[i]},Z{i}\n".encode()
        response = httpx.post(server.url + "/api/v1/layers", data={"id": "zelfde"},
                              files={"file": ("z.csv", csv)}, timeout=60)
        with lock:
            results.append(response.status_code)
        if response.status_code == 409:
            assert "zelfde" in response.json()["detail"]

    with Server(env, workers=2) as server:
        threads = [threading.Thread(target=importer, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        members = httpx.get(server.url + "/api/v1/layers/zelfde/members", timeout=30).json()
    assert sorted(results) == [201] + [409] * 7
    assert len(members) == 1  # one whole import, not a mix
