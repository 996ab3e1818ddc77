"""The reviewer console: one static page and a vanilla script over the API, under `/console`.

Why a static page and a token in `sessionStorage` (not a server-rendered app with a cookie):
- The page calls the same endpoints as every other client, with an `Authorization` (or `X-API-Key`)
  header the script sets itself. The browser never attaches it on its own, so a cross-site request
  carries no credentials and there is no CSRF to defend against (a cookie would need a CSRF token).
- `sessionStorage` is per tab and cleared when the tab closes, and the token lives
  DOXA_CONSOLE_TOKEN_TTL_S at most. Its risk is script injection, which the page closes off: the script
  writes every piece of user text with `textContent` (never `innerHTML`), and the Content-Security-Policy
  below allows scripts from this origin only, with no inline script, `eval`, frames or foreign requests.
No build step and no CDN: four files shipped inside the package.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self';"
    " form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}
_FILES = {
    "index.html": "text/html; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
    "icon.svg": "image/svg+xml",
}


@cache
def _asset(name: str) -> bytes:
    return (resources.files("api") / "console" / name).read_bytes()


def _serve(name: str) -> Response:
    return Response(_asset(name), media_type=_FILES[name], headers=SECURITY_HEADERS)


@router.get("", response_class=RedirectResponse)
async def console_root() -> RedirectResponse:
    """Relative links of the page resolve under /console/."""
    return RedirectResponse("/console/", status_code=308)


@router.get("/")
async def console_page() -> Response:
    """The console's page."""
    return _serve("index.html")


@router.get("/console.js")
async def console_script() -> Response:
    """The console's script."""
    return _serve("console.js")


@router.get("/console.css")
async def console_styles() -> Response:
    """The console's styles."""
    return _serve("console.css")


@router.get("/icon.svg")
async def console_icon() -> Response:
    """The console's icon (so the browser does not ask for a missing /favicon.ico)."""
    return _serve("icon.svg")
