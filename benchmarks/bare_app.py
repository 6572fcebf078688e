"""A bare FastAPI app that answers one path with fixed bytes: what HTTP costs without regiomatch.

``bench_server`` starts it with uvicorn exactly as ``regiomatch serve`` starts the service (one
worker, httptools and uvloop, no access log), serving the bytes the service answered for the
cached overlay, so the two are compared on the same answer in the same run (issue 25, target 2)::

    REGIOMATCH_BARE_BODY=/tmp/body.json uvicorn benchmarks.bare_app:app --port 8123
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import Response

BODY = Path(os.environ.get("REGIOMATCH_BARE_BODY", os.devnull)).read_bytes()
PATH = os.environ.get("REGIOMATCH_BARE_PATH", "/api/v1/overlay")

app = FastAPI()


@app.get(PATH)
async def answer() -> Response:
    return Response(BODY, media_type="application/json")
