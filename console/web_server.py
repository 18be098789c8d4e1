"""The web server of ``serve-web``: textual-serve's ``Server`` with a login in front and a console per session.

What it changes in textual-serve 1.1 (``textual_serve.server``), and why:

* every route but the static files and the login needs a live session (:class:`console.web_auth.Sessions`): the page,
  the websocket that starts a console, and the downloads;
* the websocket also needs an ``Origin`` of this server (a page of another site cannot drive a console with the
  operator's cookie), and at most ``max_consoles`` run at once (each is a process);
* each console is started with the session's role (:func:`console.serve_web.console_argv`) and an environment without
  the login tokens (:func:`console.serve_web.child_environment`), never with the token;
* the page names no command line (its title is ``factory-console``), loads nothing from elsewhere (no web font from
  Google: ``web_templates/app_index.html``; a Content-Security-Policy of ``'self'``), and its URLs come from
  ``--public-url`` or the request's ``Host``, so it works behind a reverse proxy and on ``0.0.0.0``;
* logs are plain lines without tracebacks' local variables (textual-serve's Rich handler shows locals, which could
  hold a token), and every response says ``no-store``, no framing, no referrer.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from console.serve_web import child_environment, console_argv
from console.web_auth import COOKIE_NAME, Sessions, WebSession, cookie_attributes, login_page

log = logging.getLogger("factory_console.serve_web")

MAX_FORM_BYTES = 16 * 1024
"""The largest request body (the login form); textual-serve's server otherwise takes aiohttp's 1 MiB default."""
CONSOLE_EXIT_S = 10.0
"""A console asked to quit that is still running after this long is killed."""
LOGIN_FAILURE_DELAY_S = 1.0
"""A failed login answers after this long, so guessing tokens over the network is slow."""

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'self'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}

TEMPLATES = Path(__file__).parent / "web_templates"
"""textual-serve's page without its Google Fonts stylesheet (``web_templates/app_index.html``)."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ConsoleService(AppService):
    """One browser session's console process, started with the session's command line and a clean environment."""

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        return child_environment(super()._build_environment(width, height))

    async def stop(self) -> None:
        """Ask the console to quit (textual-serve), then wait for the process itself, killing it after
        ``CONSOLE_EXIT_S``: textual-serve returns once its output ends, and a process not waited for outlives the
        server's loop (a traceback at shutdown, and a console left running)."""
        await super().stop()
        process = self._process
        if process is None or process.returncode is not None:
            return
        try:
            await asyncio.wait_for(process.wait(), CONSOLE_EXIT_S)
        except TimeoutError:
            process.kill()
            await process.wait()


class ConsoleWebServer(Server):
    """textual-serve's server for the console: a login, a role per session, one console process per session."""

    def __init__(
        self,
        console_args: Sequence[str],
        sessions: Sessions,
        *,
        host: str,
        port: int,
        public_url: str | None = None,
        max_consoles: int = 8,
        failure_delay_s: float = LOGIN_FAILURE_DELAY_S,
    ) -> None:
        super().__init__(
            shlex.join(console_args), host=host, port=port, title="factory-console", templates_path=TEMPLATES
        )
        self.console_args = list(console_args)
        self.sessions = sessions
        self.external_url = public_url
        self.max_consoles = max_consoles
        self.failure_delay_s = failure_delay_s
        self.running = 0
        self.websockets: set[web.WebSocketResponse] = set()

    # --- set-up ---------------------------------------------------------------------------------------------------

    def serve(self, debug: bool = False) -> None:
        """Serve until SIGINT or SIGTERM, then close every session (each console is asked to quit) and exit 0.

        aiohttp's own signal handling: textual-serve's (on a loop it makes outside ``run_app``) let SIGTERM kill the
        process outright, leaving the consoles to notice their closed pipes."""
        self.initialize_logging()
        web.run_app(self._make_app(), host=self.host, port=self.port, handle_signals=True, print=lambda *_: None)

    def initialize_logging(self) -> None:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")

    async def on_startup(self, app: web.Application) -> None:
        log.info("listening on %s:%s", self.host, self.port)

    async def _make_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_FORM_BYTES, middlewares=[self._headers, self._require_session])
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))
        app.add_routes(
            [
                web.get("/", self.handle_index, name="index"),
                web.get("/login", self.handle_login_page, name="login"),
                web.post("/login", self.handle_login, name="login_post"),
                web.post("/logout", self.handle_logout, name="logout"),
                web.get("/ws", self.handle_websocket, name="websocket"),
                web.get("/download/{key}", self.handle_download, name="download"),
                web.static("/static", self.statics_path, show_index=False, name="static"),
            ]
        )
        app.on_startup.append(self.on_startup)
        app.on_shutdown.append(self.on_shutdown)
        return app

    async def on_shutdown(self, app: web.Application) -> None:
        """Close every session's websocket, so each console is asked to quit now (aiohttp would otherwise wait for
        the browsers: 20 s seen by hand with one tab open)."""
        for websocket in list(self.websockets):
            await websocket.close(code=1001, message=b"server shutdown")

    # --- middlewares ----------------------------------------------------------------------------------------------

    @web.middleware
    async def _headers(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as answer:  # a redirect or an error raised as an exception
            answer.headers.update(SECURITY_HEADERS)
            raise
        if not response.prepared:
            response.headers.update(SECURITY_HEADERS)
        return response

    @web.middleware
    async def _require_session(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Everything but the login and the static files needs a live session; a page is sent to the login."""
        if request.path in ("/login", "/logout") or request.path.startswith("/static/"):
            return await handler(request)
        session = self.sessions.get(request.cookies.get(COOKIE_NAME))
        if session is None:
            if request.path == "/":
                raise web.HTTPSeeOther(self._url("/login"))
            raise web.HTTPUnauthorized(text="log in first\n")
        request["web_session"] = session
        return await handler(request)

    # --- the login ------------------------------------------------------------------------------------------------

    async def handle_login_page(self, request: web.Request) -> web.Response:
        if not self.sessions.login_required:
            raise web.HTTPSeeOther(self._url("/"))
        return web.Response(text=login_page(), content_type="text/html")

    async def handle_login(self, request: web.Request) -> web.Response:
        if not self.sessions.login_required:
            raise web.HTTPSeeOther(self._url("/"))
        form = await request.post()
        token = form.get("token")
        found = self.sessions.login(token) if isinstance(token, str) else None
        if found is None:
            log.warning("login refused from %s", request.remote)
            await asyncio.sleep(self.failure_delay_s)
            return web.Response(status=401, text=login_page("failed"), content_type="text/html")
        session_id, session = found
        log.info("login: %s (%s) from %s", session.operator, session.role, request.remote)
        response = web.HTTPSeeOther(self._url("/"))
        response.set_cookie(COOKIE_NAME, session_id, **cookie_attributes(self._secure()))  # type: ignore[arg-type]
        raise response

    async def handle_logout(self, request: web.Request) -> web.Response:
        self.sessions.logout(request.cookies.get(COOKIE_NAME))
        response = web.HTTPSeeOther(self._url("/login"))
        response.del_cookie(COOKIE_NAME, path="/")
        raise response

    # --- the page and the console ---------------------------------------------------------------------------------

    async def handle_index(self, request: web.Request) -> web.Response:
        base = self._base(request)
        scheme, rest = base.split(":", 1)
        context: dict[str, Any] = {
            "font_size": max(8, min(32, to_int(request.query.get("fontsize", "16"), 16))),
            "app_websocket_url": ("wss:" if scheme == "https" else "ws:") + rest + "/ws",
            "config": {"static": {"url": base + "/static/"}},
            "application": {"name": "factory-console"},
        }
        return aiohttp_jinja2.render_template("app_index.html", request, context)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        session: WebSession = request["web_session"]
        if not self._origin_allowed(request):
            log.warning("websocket refused from %s: Origin %r", request.remote, request.headers.get("Origin"))
            raise web.HTTPForbidden(text="wrong origin\n")
        if self.running >= self.max_consoles:
            raise web.HTTPServiceUnavailable(text="too many consoles running\n", headers={"Retry-After": "30"})
        websocket = web.WebSocketResponse(heartbeat=15, max_msg_size=64 * 1024)
        width = max(20, min(500, to_int(request.query.get("width", "80"), 80)))
        height = max(10, min(200, to_int(request.query.get("height", "24"), 24)))
        service: ConsoleService | None = None

        async def close() -> None:
            await websocket.close()

        self.running += 1
        try:
            await websocket.prepare(request)
            self.websockets.add(websocket)
            log.info("console started for %s (%s)", session.operator, session.role)
            service = ConsoleService(
                shlex.join(console_argv(self.console_args, session.role)),
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=close,
                download_manager=self.download_manager,
            )
            await service.start(width, height)
            await self._process_messages(websocket, service)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception:
            log.exception("console session failed")
        finally:
            self.running -= 1
            self.websockets.discard(websocket)
            if service is not None:
                await service.stop()
            log.info("console ended for %s", session.operator)
        return websocket

    # --- URLs -----------------------------------------------------------------------------------------------------

    def _secure(self) -> bool:
        return bool(self.external_url and self.external_url.startswith("https:"))

    def _base(self, request: web.Request) -> str:
        """The URL browsers reach us at: ``--public-url``, else this request's scheme and ``Host``."""
        return self.external_url or f"{request.scheme}://{request.host}"

    def _url(self, path: str) -> str:
        """A path under the public URL's path (a proxy may serve us at ``/console``); relative to the host."""
        prefix = urlsplit(self.external_url).path.rstrip("/") if self.external_url else ""
        return prefix + path

    def _origin_allowed(self, request: web.Request) -> bool:
        """A browser's websocket carries ``Origin``: it must be this server (by ``--public-url``, else ``Host``)."""
        origin = request.headers.get("Origin")
        if origin is None:
            return True  # not a browser: it still needed the session cookie
        allowed = urlsplit(self._base(request)).netloc
        return urlsplit(origin).netloc == allowed
