"""``/docs``: the interactive API documentation (Swagger UI), from vendored files.

FastAPI's default page loads Swagger UI from a CDN and is blank offline; this one links the copy in
``maps/static/swagger/`` (see ``maps/static/LICENSES.md``). ReDoc is not served.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from maps.csp import mark_scripts
from maps.static_files import STATIC_URL

router = APIRouter(tags=["docs"])


@router.get("/docs", response_class=HTMLResponse, include_in_schema=False)
def get_docs(request: Request) -> HTMLResponse:
    swagger = f"{STATIC_URL}/swagger"
    page = get_swagger_ui_html(openapi_url=request.app.openapi_url, title=f"{request.app.title}: API-documentatie",
                               swagger_js_url=f"{swagger}/swagger-ui-bundle.js",
                               swagger_css_url=f"{swagger}/swagger-ui.css",
                               swagger_favicon_url=f"{swagger}/favicon-32x32.png")
    # The page's own inline script carries the CSP nonce like every page regiomatch renders.
    return HTMLResponse(mark_scripts(page.body.decode("utf-8")))
