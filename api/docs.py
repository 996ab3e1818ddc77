"""`/docs` served from this origin only: Swagger UI's assets from the `swagger-ui-bundle` wheel, with a CSP.

FastAPI's default page loads Swagger UI from a CDN with no integrity check, on the console's origin,
where the console keeps its token in `sessionStorage`: a compromised CDN file could read it. Here the
script and stylesheet come from the installed wheel (`/docs/assets/...`), the page's one inline script
is allowed by its hash only, and nothing may be loaded from elsewhere. ReDoc (also CDN-only) is off.
`DOXA_API_DOCS=false` removes `/docs` (the OpenAPI schema at `/openapi.json` stays, for clients).
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

ASSETS = "/docs/assets"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def docs_page(title: str, openapi_url: str) -> HTMLResponse:
    """The Swagger UI page on local assets, with a Content-Security-Policy that admits only them."""
    page = get_swagger_ui_html(
        openapi_url=openapi_url,
        title=f"{title} - API docs",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
    )
    html = bytes(page.body).decode()
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    policy = (
        f"default-src 'none'; script-src 'self' {hashes}; style-src 'self'; img-src 'self' data:;"
        " connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": policy, "X-Content-Type-Options": "nosniff"})


def install_docs(app: FastAPI, *, enabled: bool) -> None:
    """Add `/docs` and its assets when `enabled` (create the app with `docs_url=None, redoc_url=None`)."""
    if not enabled:
        return
    app.mount(ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return docs_page(app.title, openapi_url)
