"""The engine on the tiny hand-made catalog (``tiny`` fixture, tests/fixtures.py): every expected number by hand."""

from __future__ import annotations

import numpy as np
import pytest

from geo.engine.evaluate import Evaluator
from geo.engine.layer import with_population
from geo.engine.overlay import overlay
from geo.engine.scenario import Move
from geo.storage.store import Store
from geo.storage.workspace import Workspace
from geo.zoning.anchors import zone_anchors
from geo.zoning.suggest import Constraints, misfit_parts, suggest
from tests.fixtures import NIS, tiny_graph


def test_overlay_by_hand(tiny):
    result = overlay(tiny.layer("associations"), tiny.layer("zones"))
    v1 = result.zone_detail("V1")  # Beta + Gamma (5000) in Z1, Delta (4000) in Z2
    assert v1.dominant_zone == "Z1" and v1.dominant_share == pytest.approx(5000 / 9000)
    assert [m.name for m in v1.members_outside_dominant] == ["Delta"] and v1.weight_outside_dominant == 4000
    assert result.zone_detail("V2").nested
    assert result.summary.nested_share == pytest.approx(500 / 9500)


def test_member_population(tiny):
    frame = with_population(tiny.layer("associations").members("V1"), tiny.atoms)
    assert frame.set_index("municipality")["population"].to_dict() == {"Beta": 2000, "Gamma": 3000, "Delta": 4000}


def test_evaluator_move_and_misfit_by_hand(tiny):
    ev = Evaluator(tiny.layer("zones"), tiny.layer("associations"))
    tables = ev.tables()["associations"]
    assert tables.table.tolist() == [[5000, 4000], [0, 500]]
    assert tables.outside.tolist() == [1000, 6000]  # Alfa in Z1, Zeta in Z2: in no association
    # split: Delta outside V1's main zone; straddle: Alfa in Z1, Delta + Epsilon in Z2 (Zeta's side is bigger)
    assert misfit_parts(tables) == (4000, 1000 + 4500)
    after = ev.trial([Move(NIS["Delta"], "Z1")], lambda e: misfit_parts(e.tables()["associations"]))
    assert after == (0, 1000 + 500)
    assert ev.score([Move(NIS["Delta"], "Z1")])["associations"].nested_share == pytest.approx(1.0)
    assert ev.summaries()["associations"].nested_share == pytest.approx(500 / 9500)  # nothing changed


def test_anchor_is_the_named_member(tiny):
    anchors = zone_anchors(tiny.layer("zones"))
    assert anchors == {"Z1": NIS["Alfa"], "Z2": NIS["Delta"]}  # "Alfa-Beta": the first named


def test_suggest_keeps_the_anchor_unless_allowed(tiny):
    zones, associations = tiny.layer("zones"), tiny.layer("associations")
    free = suggest(zones, [associations], Constraints(use_default_norm=False, allow_anchor_moves=True),
                   max_moves=1, graph=tiny_graph())
    assert [(m.nis_codes, m.to_zone) for m in free.moves] == [((NIS["Delta"],), "Z1")]
    # misfit (split + straddle) per inhabitant: 9,500 of 16,500 before, 1,500 after
    assert free.objective_before == pytest.approx(9500 / 16500)
    assert free.objective_after == pytest.approx(1500 / 16500)
    # Delta names Z2 ("Regio Delta"): kept there, and moving Gamma instead gains nothing
    kept = suggest(zones, [associations], Constraints(use_default_norm=False), max_moves=1, graph=tiny_graph())
    assert kept.moves == [] and kept.stopped == "no_improvement"


def test_workspace_resolves_a_scenario_and_its_base(tiny, tmp_path):
    ws = Workspace(tiny, Store(f"sqlite:///{tmp_path / 'tiny.sqlite3'}"))
    record = ws.store.create_scenario("Delta naar Z1", "zones", [{"nis_code": NIS["Delta"], "to_zone": "Z1"}])
    scenario = ws.layer(record.layer_id)
    assert scenario.zones_of(NIS["Delta"])[0][0] == "Z1"
    assert ws.base_of(record.layer_id) is tiny.layer("zones") and ws.base_id_of(record.layer_id) == "zones"
    assert ws.base_of("zones") is None and ws.base_id_of("associations") is None
    assert np.isclose(overlay(tiny.layer("associations"), scenario).summary.nested_share, 1.0)
