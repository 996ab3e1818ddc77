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

from collections.abc import Awaitable, Callable
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
# Each file by the path it is served at, with its media type. The icon is served so that the browser does not
# ask for a missing /favicon.ico.
_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/console.js": ("console.js", "text/javascript; charset=utf-8"),
    "/console.css": ("console.css", "text/css; charset=utf-8"),
    "/icon.svg": ("icon.svg", "image/svg+xml"),
}


@cache
def _asset(name: str) -> bytes:
    return (resources.files("api") / "console" / name).read_bytes()


def _serving(name: str, media_type: str) -> Callable[[], Awaitable[Response]]:
    """The endpoint that answers with one console file and the security headers."""

    async def serve() -> Response:
        return Response(_asset(name), media_type=media_type, headers=SECURITY_HEADERS)

    return serve


@router.get("", response_class=RedirectResponse)
async def console_root() -> RedirectResponse:
    """Relative links of the page resolve under /console/."""
    return RedirectResponse("/console/", status_code=308)


for path, (name, media_type) in _FILES.items():
    router.add_api_route(path, _serving(name, media_type), methods=["GET"])
