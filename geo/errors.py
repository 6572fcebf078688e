"""Domain errors. Each carries a stable machine-readable ``code``; the API maps them to HTTP
statuses in one place (``api/errors.py``)."""

from __future__ import annotations


class RegiomatchError(Exception):
    """Base class: a problem with the user's request or data, never a bug."""

    code = "invalid_input"

    def __init__(self, detail: str, dutch: str | None = None):
        super().__init__(detail)
        self.detail = detail
        self.dutch = dutch  # the same in Dutch, where a page shows it (api.errors)


class NotFound(RegiomatchError):
    """Something asked for does not exist."""

    code = "not_found"


class UnknownLayer(NotFound):
    """No layer with this id."""

    code = "unknown_layer"


class UnknownZone(NotFound):
    """No zone with this code in the layer."""

    code = "unknown_zone"


class UnknownMunicipality(NotFound):
    """No municipality with this NIS code."""

    code = "unknown_nis_code"


class UnknownScenario(NotFound):
    """No scenario with this id."""

    code = "unknown_scenario"


class UnknownJob(NotFound):
    """No job with this id."""

    code = "unknown_job"


class InvalidInput(RegiomatchError):
    """Input that cannot be used as given."""

    code = "invalid_input"


class InvalidGeometry(InvalidInput):
    """A geometry that is missing, empty or not valid."""

    code = "invalid_geometry"


class WrongCRS(InvalidInput):
    """Coordinates in an unexpected reference system. Raised with both CRSs named
    (:func:`geo.geometry.crs.require_crs`), it also says so in Dutch (``dutch``) for the pages."""

    code = "wrong_crs"

    def __init__(self, detail: str, dutch: str | None = None):
        super().__init__(detail)
        self.dutch = dutch or detail


class UnsupportedFormat(InvalidInput):
    """A file format that cannot be read."""

    code = "unsupported_format"


class Conflict(RegiomatchError):
    """The request conflicts with what is stored."""

    code = "conflict"


class ReadOnly(RegiomatchError):
    """A write refused because the data are read-only."""

    code = "read_only"


class LimitExceeded(RegiomatchError):
    """An upload (or what it unpacks to) is over one of the configured limits; the detail names it."""

    code = "limit_exceeded"


class Busy(RegiomatchError):
    """Too many heavy requests at once; the client may retry shortly."""

    code = "busy"


class StorageFull(RegiomatchError):
    """The database could not be written because its disk (or quota) is full; nothing was saved."""

    code = "storage_full"


class Corrupt(RegiomatchError):
    """A stored record cannot be read back (damaged database or a hand-edited row)."""

    code = "corrupt_record"


class DatabaseUnavailable(RegiomatchError):
    """The database cannot be opened or read."""

    code = "database_unavailable"


class Cancelled(RegiomatchError):
    """A long computation (an ensemble run) was cancelled by its caller; nothing was kept."""

    code = "cancelled"


class Forbidden(ReadOnly):
    """The user may not change this (a bijdrager and someone else's scenario or layer, or a page
    for beheerders only); answered like any read-only target, 403."""

    code = "forbidden"
