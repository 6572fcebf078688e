"""FastAPI dependencies: the workspace of the configured data and database, and write auth.

The workspace itself (layer resolution: shipped, imported, ``scenario:<id>``) is framework-free:
:mod:`geo.workspace`. The CLI opens the same one from the same ``REGIOMATCH_*`` settings.
"""

from __future__ import annotations

import hmac

from fastapi import Depends, Request

from api.errors import Unauthorized
from api.settings import Settings, get_settings, workspace_for
from geo.workspace import Workspace




def get_workspace(settings: Settings = Depends(get_settings)) -> Workspace:
    return workspace_for(settings)


def require_writer(request: Request, settings: Settings = Depends(get_settings)) -> None:
    """Writes need ``Authorization: Bearer <token>`` when a token is configured."""
    if not settings.api_token:
        return
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), settings.api_token.encode()):
        raise Unauthorized("this write needs 'Authorization: Bearer <token>' with the configured API token")
