"""Storage and the workspace: saved scenarios and imported layers in SQLite or PostgreSQL, and the
workspace every front end resolves layer ids through.

Public parts (imported on first use, so importing one module never loads its siblings):
- ``records``: ScenarioRecord, LayerRecord
- ``accounts``: Accounts, User, AuditEntry (users, tokens, sessions, audit trail)
- ``store``: Store, create_schema, make_engine
- ``jobs``: JobStore (the job table, ``Store.jobs``)
- ``workspace``: Workspace, open_workspace, scenario_id
"""

from geo.lazy import lazy_exports

_EXPORTS = {
    "ScenarioRecord": "geo.storage.records",
    "LayerRecord": "geo.storage.records",
    "Accounts": "geo.storage.accounts",
    "User": "geo.storage.accounts",
    "AuditEntry": "geo.storage.accounts",
    "Store": "geo.storage.store",
    "create_schema": "geo.storage.store",
    "make_engine": "geo.storage.store",
    "JobStore": "geo.storage.jobs",
    "Workspace": "geo.storage.workspace",
    "open_workspace": "geo.storage.workspace",
    "scenario_id": "geo.storage.workspace",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
