"""uvicorn's HTTP protocol with a deadline on request headers, so slow clients are cut off.

uvicorn closes an idle keep-alive connection, but not one whose client trickles the request line
and headers a byte at a time: 400 such sockets stayed open for 40 s and more. These protocol
classes give every request ``REGIOMATCH_HEADER_SECONDS`` (default 10) from the moment the
connection opens, or the previous answer was sent, until its headers are complete; then the
connection is closed. The request body has its own deadline (:class:`api.limits.BodySizeLimit`).

``regiomatch serve`` uses them; with uvicorn's own command line::

    uvicorn api.main:app --http api.serving:HttpToolsProtocol   # or api.serving:H11Protocol

Examples
--------
>>> header_seconds() > 0
True
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.h11_impl import H11Protocol as _H11
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _HttpTools


def header_seconds() -> float:
    """The header deadline: ``REGIOMATCH_HEADER_SECONDS`` (default 10 s)."""
    from api.settings import get_settings

    return float(get_settings().header_seconds)


class _HeaderDeadline:
    """Close the connection when a request's headers are not complete in time.

    Both uvicorn protocols set ``self.cycle`` to a new request cycle when the headers of a request
    are complete, so "headers complete" is "the cycle changed since the timer was armed".
    """

    _deadline: asyncio.TimerHandle | None = None
    _armed_for: object = None

    def connection_made(self, transport):  # noqa: ANN001, ANN201
        super().connection_made(transport)  # type: ignore[misc]
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)  # type: ignore[misc]
        if self._deadline is not None and self.cycle is not self._armed_for:  # type: ignore[attr-defined]
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        transport = getattr(self, "transport", None)
        if transport is not None and not transport.is_closing():
            self._arm()  # the next request on this connection gets the same deadline

    def connection_lost(self, exc):  # noqa: ANN001, ANN201
        self._disarm()
        super().connection_lost(exc)  # type: ignore[misc]

    def _arm(self) -> None:
        self._disarm()
        self._armed_for = getattr(self, "cycle", None)
        self._deadline = asyncio.get_running_loop().call_later(header_seconds(), self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if getattr(self, "cycle", None) is self._armed_for:
            self.transport.close()  # type: ignore[attr-defined]


class HttpToolsProtocol(_HeaderDeadline, _HttpTools):
    """uvicorn's httptools protocol with the header deadline."""


class H11Protocol(_HeaderDeadline, _H11):
    """uvicorn's h11 protocol with the header deadline."""


def protocol() -> str:
    """The protocol ``regiomatch serve`` uses (as an import string, so ``--workers`` can pass it
    on): httptools if installed, else h11."""
    try:
        import httptools  # noqa: F401
    except ImportError:
        return "api.serving:H11Protocol"
    return "api.serving:HttpToolsProtocol"
