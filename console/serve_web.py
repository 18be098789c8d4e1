"""``factory-console serve-web``: the console in a browser, one console process per browser session (textual-serve).

The rules, before anything listens (each a one-line error and exit 2):

* Bound beyond loopback, every session must log in: without tokens (``--token-file`` or ``$FACTORY_WEB_TOKENS``,
  ``NAME:ROLE:SECRET`` as for ``demo-server``) it refuses to start (:func:`refusal`).
* On loopback with no tokens it starts, and every browser gets ``--local-role`` (``viewer`` unless given): read-only.
* The console to serve is given after ``--`` as for ``factory-console`` itself and checked now (a missing token
  variable, a bad profile), not when the first browser connects.

How a session's role reaches its console (:func:`console_argv`): a ``viewer`` gets ``--read-only`` (the action keys
are gone, not refused) and ``--max-role viewer``; an ``operator`` gets ``--max-role operator`` (no node actions even
when the console's own credentials could); a ``supervisor`` gets all its credentials allow. The login token never
reaches the console: not in its command line (``ps``), not in its environment (``$FACTORY_WEB_TOKENS`` is removed
from it). The design and the threat model: ``docs/serve-web.md``.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import shlex
import sys
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from console.tokens import ROLE_RANK

WEB_TOKENS_ENV = "FACTORY_WEB_TOKENS"
"""The environment variable that may hold serve-web's login tokens (``NAME:ROLE:SECRET``, commas or newlines)."""
ROLES = ("viewer", "operator", "supervisor")


class ServeWebError(Exception):
    """serve-web cannot start as asked; the message is one line that says why."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="factory-console serve-web",
        usage="factory-console serve-web [options] [-- CONSOLE OPTIONS]",
        description="Serve the console to browsers (each browser session runs its own console process).",
        epilog="examples:\n"
        "  factory-console serve-web -- --demo                         # http://127.0.0.1:8000, read-only\n"
        "  factory-console serve-web --host 0.0.0.0 --token-file web-tokens.txt --public-url https://console.example "
        "-- --api https://cluster.example:8443 --token-env FACTORY_TOKEN\n"
        "the console options after -- are those of factory-console (default: the default profile)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000)")
    parser.add_argument(
        "--token-file",
        metavar="PATH",
        help="require a login: one NAME:ROLE:SECRET per line (chmod 600); ROLE viewer, operator or supervisor "
        f"(also ${WEB_TOKENS_ENV}, entries separated by commas or newlines)",
    )
    parser.add_argument(
        "--local-role",
        choices=ROLES,
        default="viewer",
        help="with no tokens (loopback only): the role of every browser (default: viewer, read-only)",
    )
    parser.add_argument(
        "--public-url",
        metavar="URL",
        help="the URL browsers use, behind a reverse proxy (https://console.example): the page's websocket and "
        "static URLs, the allowed Origin, and Secure cookies when https",
    )
    parser.add_argument(
        "--max-consoles", type=int, default=8, metavar="N", help="console processes at once, at most (default: 8)"
    )
    return parser


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (``localhost``, 127.0.0.0/8, ``::1``); a name other than localhost is
    not (it may resolve to anything)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def refusal(host: str, port: int, login_required: bool) -> str | None:
    """Why serve-web must not start as asked (one line), or ``None``."""
    if login_required or is_loopback(host):
        return None
    return (
        f"refusing to serve {host}:{port} beyond loopback without a login: give --token-file PATH "
        f"(NAME:ROLE:SECRET lines, chmod 600) or {WEB_TOKENS_ENV}, or bind --host 127.0.0.1"
    )


def split_argv(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """serve-web's own options, and the console's (after the first ``--``)."""
    args = list(argv)
    if "--" in args:
        at = args.index("--")
        return args[:at], args[at + 1 :]
    return args, []


def console_argv(console_args: Sequence[str], role: str, python: str = sys.executable) -> list[str]:
    """The command line of one session's console: the served options plus what the session's role allows."""
    if role not in ROLE_RANK:
        raise ValueError(f"unknown role {role!r}")
    argv = [python, "-m", "console", *console_args]
    if role == "viewer":
        argv += ["--read-only", "--max-role", "viewer"]  # no action; the header says viewer, not the server's role
    elif role == "operator":
        argv += ["--max-role", "operator"]
    return argv


def child_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment a console process starts with: the server's, without serve-web's login tokens."""
    return {name: value for name, value in environ.items() if name != WEB_TOKENS_ENV}


def load_tokens(token_file: str | None, environ: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """The login tokens from ``--token-file`` and ``$FACTORY_WEB_TOKENS``; ``ValueError`` (one line) when bad."""
    from console.tokens import TokenTable, read_token_file, tokens_from_text

    tokens: list[tuple[str, str, str]] = []
    if token_file:
        tokens += read_token_file(token_file)
    if environ.get(WEB_TOKENS_ENV, "").strip():
        tokens += tokens_from_text(environ[WEB_TOKENS_ENV], separators=",\n", where=f"{WEB_TOKENS_ENV}: ")
    if token_file and not tokens:
        raise ValueError(f"{token_file}: the token file holds no token")
    TokenTable(tokens)  # a repeated secret is an error now
    return tokens


def check_public_url(url: str | None) -> str | None:
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ServeWebError(f"--public-url takes http(s)://HOST[:PORT][/PATH], not {url!r}")
    return url.rstrip("/")


def check_console_args(console_args: Sequence[str], environ: Mapping[str, str]) -> None:
    """Resolve the served console's options now, as ``factory-console`` would, so a mistake is one line here."""
    from console.cli import build_run_parser
    from console.launch import LaunchError, build_settings

    parser = build_run_parser()
    parser.prog = "factory-console serve-web -- "
    args = parser.parse_args(list(console_args))
    try:
        build_settings(args, dict(environ))
    except LaunchError as error:
        raise ServeWebError(f"the console after --: {error}") from None


def serve_web_main(argv: Sequence[str], environ: Mapping[str, str] | None = None) -> int:
    """``factory-console serve-web``: check everything, say in one line what is served and how, then serve."""
    environ = os.environ if environ is None else environ
    own, console_args = split_argv(argv)
    args = build_parser().parse_args(own)
    try:
        tokens = load_tokens(args.token_file, environ)
        reason = refusal(args.host, args.port, bool(tokens))
        if reason:
            raise ServeWebError(reason)
        if not 1 <= args.max_consoles <= 256:
            raise ServeWebError("--max-consoles takes 1 to 256")
        public_url = check_public_url(args.public_url)
        check_console_args(console_args, environ)
    except (ServeWebError, ValueError) as error:
        print(f"factory-console serve-web: {error}", file=sys.stderr)
        return 2
    from console.tokens import TokenTable
    from console.web_auth import Sessions
    from console.web_server import ConsoleWebServer

    sessions = Sessions(TokenTable(tokens), open_role=args.local_role)
    who = f"login required ({len(tokens)} tokens)" if tokens else f"no login (loopback only), role {args.local_role}"
    served = shlex.join(console_args) or "(the default profile)"
    print(
        f"factory-console serve-web: http://{args.host}:{args.port}/ ({public_url or 'no public URL'}); {who}; "
        f"serving: factory-console {served}",
        file=sys.stderr,
    )
    server = ConsoleWebServer(
        console_args,
        sessions,
        host=args.host,
        port=args.port,
        public_url=public_url,
        max_consoles=args.max_consoles,
    )
    try:
        server.serve()
    except OSError as error:  # the port is taken, the address is not ours
        why = os.strerror(error.errno) if error.errno else str(error)
        print(f"factory-console serve-web: cannot listen on {args.host}:{args.port}: {why}", file=sys.stderr)
        return 2
    return 0
