"""Jobs and what they saved, as JSON for the API (English field names)."""

from __future__ import annotations

from urllib.parse import urlencode

from geo.jobs.records import JobRecord
from geo.storage.records import ScenarioRecord

# Where a job's resource lives, by kind (the ``Location`` of a 202 and the links of a body).
PATHS = {"ensemble": "/api/v1/ensembles", "proposal": "/api/v1/proposals"}
PAGES = {"ensemble": "/alternatieven", "proposal": "/alternatieven/voorstellen"}


def job(record: JobRecord) -> dict:
    """A job's state with its links; its rules under ``params``."""
    body = record.to_dict()
    body["params"] = record.params
    body["url"] = f"{PATHS.get(record.kind, '/api/v1/jobs')}/{record.id}"
    body["page"] = f"{PAGES.get(record.kind, '/alternatieven')}/{record.id}"
    body["saved_scenarios"] = {int(k): f"scenario:{v}" for k, v in record.saved.items()}
    return body


def saved(record: ScenarioRecord, new: bool) -> dict:
    """A plan saved as a scenario, with where to open and compare it."""
    return {"scenario_id": record.id, "layer_id": record.layer_id, "name": record.name, "new": new,
            "base_layer": record.base_layer, "moves": len(record.moves),
            "workbench_url": f"/werkbank/{record.id}",
            "compare_url": "/vergelijk?" + urlencode({"base": record.base_layer, "other": record.layer_id})}
