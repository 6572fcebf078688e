"""A saved scenario with what every view of it needs: its record, its layer, its base layer, the
norm it is checked against and the associations its moves are about.

The scenario map (page, PNG and command line), the workbench, exports and reports all start here.

Examples
--------
>>> from geo.storage.workspace import open_workspace
>>> ws = open_workspace(None, "sqlite://", 2020)
>>> record = ws.store.create_scenario("Kortrijk", "eerstelijnszone", [])
>>> view = scenario_with_base(ws, record.id)
>>> view.base.id, view.layer.id == f"scenario:{record.id}", view.norm.minimum
('eerstelijnszone', True, 60000)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from geo.engine.layer import Layer
from geo.reference.norms import PopulationNorm
from geo.reference.roles import association_layer
from geo.storage.records import ScenarioRecord
from geo.storage.records import scenario_id as bare_id
from geo.usecases.norms import layer_norm

if TYPE_CHECKING:
    from geo.storage.workspace import Workspace


@dataclass(frozen=True)
class ScenarioWithBase:
    """A scenario as its views use it.

    Attributes
    ----------
    record : ScenarioRecord
        What was saved (name, description, moves, version).
    layer : Layer
        The scenario applied to its base (id ``scenario:<id>``).
    base : Layer
        The layer it was drawn from.
    norm : PopulationNorm or None
        The base layer's norm, which the scenario inherits.
    associations : Layer or None
        The association layer its moves are judged against (None if not shipped).
    """

    record: ScenarioRecord
    layer: Layer
    base: Layer
    norm: PopulationNorm | None
    associations: Layer | None


def scenario_with_base(ws: Workspace, scenario_id: str) -> ScenarioWithBase:
    """The scenario ``scenario_id`` (the bare id, or ``scenario:<id>``) with its base and norm.

    Parameters
    ----------
    ws : Workspace
        The workspace holding the scenario.
    scenario_id : str
        Its id; unknown ids raise :class:`geo.errors.UnknownLayer`.

    Returns
    -------
    ScenarioWithBase
    """
    record = ws.store.get_scenario(bare_id(scenario_id) or scenario_id)
    return ScenarioWithBase(record, ws.layer(record.layer_id), ws.layer(record.base_layer),
                            layer_norm(ws, record.layer_id), ws.catalog.builtin.get(association_layer()))
