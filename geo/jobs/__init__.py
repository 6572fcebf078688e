"""Long work as a job: queued, run by a background thread, followed, stored with its result and
keyed by its inputs (the same inputs are served, not recomputed).

Public parts (imported on first use):
- ``records``: JobRecord, STATUSES, STATUS_WORDS
- ``runner``: JobRunner (one background thread per process), owner_alive
- ``codec``: pack, unpack (a result as bytes: JSON and numpy arrays, no pickles)
- ``ensembles``: the ensemble and proposal jobs of issue 28 (submit, read, save a plan as a scenario)
The table itself: :mod:`geo.storage.jobs` (``Store.jobs``).
"""

from geo.lazy import lazy_exports

_EXPORTS = {
    "JobRecord": "geo.jobs.records",
    "STATUSES": "geo.jobs.records",
    "STATUS_WORDS": "geo.jobs.records",
    "JobRunner": "geo.jobs.runner",
    "owner_alive": "geo.jobs.runner",
    "pack": "geo.jobs.codec",
    "unpack": "geo.jobs.codec",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
