"""``factory-console status [--json] [--api URL | --profile NAME]``: one read of the cluster, summarised, for scripts
and monitors.

It resolves where to connect exactly as the console does (``console.launch.build_settings``: flags, then the
profile, then the config's default profile; ``--token-env``, ``--ca-file``, ``--insecure``), fetches
``GET /v1/snapshot`` once with the console's client (short timeouts, no retry), summarises it
(``console.status_report``) and prints plain text, or JSON with ``--json``. Nothing here imports Textual, FastAPI
or the simulator (Rich comes in only because httpx imports it for its own command line), so a monitor pays for the
read and little else.

Exit codes (``docs/status-command.md``): 0 read, no critical alert active; 2 read, a critical alert is active;
3 the cluster could not be read (unreachable, timed out, a problem answer, an invalid answer) or the command line or
the configuration is wrong, with one line on stderr saying why. Argparse's own usage errors exit 3 too, never 2,
so 2 always means a critical alert.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import IO, NoReturn

from console.api.client import ClusterClient
from console.api.errors import ApiError, ClientError
from console.api.models import Snapshot
from console.api.transport import safe_url
from console.launch import LaunchError, build_settings
from console.settings import DEFAULT_MAX_RESPONSE_BYTES, Settings, SourceSpec
from console.status_render import error_json, render_json, render_text
from console.status_report import (
    EXIT_UNREACHABLE,
    build_report,
    clean,
)

__all__ = ["DEFAULT_TIMEOUT_S", "TOTAL_TIMEOUT_FACTOR", "build_status_parser", "fetch_snapshot", "status_main"]

PROG = "factory-console status"

DEFAULT_TIMEOUT_S = 5.0
"""Connect and read timeout (each wait for the network), seconds."""
TOTAL_TIMEOUT_FACTOR = 12
"""The whole read (connect, request, the snapshot's body) is cut off after this many times ``--timeout``: a server
that trickles its answer cannot hold a monitor for longer (60 s by default)."""

EPILOG = """\
exit codes:
  0  the cluster was read; no critical alert is active
  2  the cluster was read; a critical alert is active (priority critical, state active_unacked, active_acked
     or cleared_unacked)
  3  the cluster could not be read (unreachable, timed out, a problem answer, an invalid answer), or the
     command line or the configuration is wrong; one line on stderr says why

examples:
  factory-console status --api http://127.0.0.1:8700
  factory-console status --profile leeds --json | jq .alerts.by_priority
"""


class _Parser(argparse.ArgumentParser):
    """Usage errors exit with 3 (the cluster was not read), never argparse's 2, which here means a critical alert."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_UNREACHABLE, f"{self.prog}: error: {message}\n")


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text!r}")
    return value


def build_status_parser() -> argparse.ArgumentParser:
    """The parser of ``factory-console status``."""
    parser = _Parser(
        prog=PROG,
        description="Read the cluster once and print a summary: nodes and machines by state, active alerts by "
        "priority, jobs overdue and at risk, the cluster's OEE.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="print JSON (keys: docs/status-command.md)")
    target = parser.add_argument_group("what to read")
    target.add_argument("--api", metavar="URL", help="URL of the cluster API (or of a node agent)")
    target.add_argument("--profile", metavar="NAME", help="a profile from the configuration file")
    auth = parser.add_argument_group("security")
    auth.add_argument("--token-env", metavar="VAR", help="environment variable holding the bearer token")
    auth.add_argument("--ca-file", metavar="PATH", help="CA bundle for a private certificate authority")
    auth.add_argument("--insecure", action="store_true", help="do not verify TLS certificates (dangerous)")
    parser.add_argument(
        "--timeout",
        metavar="S",
        type=_positive,
        default=DEFAULT_TIMEOUT_S,
        help=f"connect and read timeout in seconds (default: {DEFAULT_TIMEOUT_S:g}); the whole read is cut off "
        f"after {TOTAL_TIMEOUT_FACTOR} times this",
    )
    return parser


def _settings(args: argparse.Namespace, environ: Mapping[str, str]) -> Settings:
    """The console's own resolution (``build_settings``) for the flags ``status`` has; the others at their
    defaults (no agents or printers on the command line, no demo, no appearance)."""
    run_args = argparse.Namespace(
        api=args.api,
        agent=[],
        octoprint=[],
        profile=args.profile,
        token_env=args.token_env,
        ca_file=args.ca_file,
        insecure=args.insecure,
        demo=False,
        with_agents=False,
        read_only=False,
        theme=None,
        ascii=None,
    )
    return build_settings(run_args, dict(environ))


def _pick_source(settings: Settings) -> SourceSpec:
    """The cluster API if one is configured, else the first node agent (it serves the same API for one node)."""
    for kind in ("cluster", "agent"):
        for source in settings.sources:
            if source.kind == kind:
                return source
    raise LaunchError("status reads a cluster API or a node agent; the profile names only OctoPrint printers")


async def fetch_snapshot(
    source: SourceSpec, *, wait_s: float = DEFAULT_TIMEOUT_S, max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
) -> Snapshot:
    """``GET /v1/snapshot`` once from ``source``: ``wait_s`` for each wait on the network, ``TOTAL_TIMEOUT_FACTOR *
    wait_s`` for the whole, no retry. Raises the client's errors (``console.api.errors``) and ``TimeoutError``."""
    client = ClusterClient(
        source.url,
        token=source.token,
        verify=source.verify,
        timeout=wait_s,
        command_retries=0,
        max_response_bytes=max_response_bytes,
    )
    async with client:
        return await asyncio.wait_for(client.snapshot(), wait_s * TOTAL_TIMEOUT_FACTOR)


def _why(error: BaseException, url: str, timeout: float) -> str:
    """One line saying why the snapshot could not be read (server text in it is cleaned by the caller)."""
    if isinstance(error, ApiError):
        return f"{url}/v1/snapshot answered {error}"
    if isinstance(error, ClientError):
        return f"{error}" if url in str(error) else f"{url}: {error}"
    if isinstance(error, TimeoutError):
        return f"{url}: no complete answer within {timeout * TOTAL_TIMEOUT_FACTOR:g} s"
    text = " ".join(str(error).split())
    return f"{url}: {type(error).__name__}" + (f": {text}" if text else "")


def _write(out: IO[str], text: str) -> None:
    try:
        out.write(text)
        out.flush()
    except BrokenPipeError:  # `status | head -1`: the reader left; say nothing more, keep the exit code
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.fileno())


def _fail(message: str, *, as_json: bool, source: str | None, out: IO[str], err: IO[str]) -> int:
    line = clean(" ".join(message.split()), 500)
    print(f"{PROG}: {line}", file=err)
    if as_json:
        _write(out, json.dumps(error_json(line, source), indent=2, ensure_ascii=True) + "\n")
    return EXIT_UNREACHABLE


def status_main(
    argv: Sequence[str],
    *,
    environ: Mapping[str, str] | None = None,
    out: IO[str] | None = None,
    err: IO[str] | None = None,
) -> int:
    """Run ``factory-console status``; returns the exit code (0, 2 or 3)."""
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    if out is sys.stdout and hasattr(out, "reconfigure"):
        out.reconfigure(errors="backslashreplace")  # a non-UTF-8 terminal gets \u escapes, never a traceback
    args = build_status_parser().parse_args(argv)
    environ = os.environ if environ is None else environ
    try:
        settings = _settings(args, environ)
        source = _pick_source(settings)
    except LaunchError as error:
        return _fail(str(error), as_json=args.json, source=None, out=out, err=err)
    url = safe_url(source.url)
    if source.verify is False:
        print(f"{PROG}: warning: TLS verification is off (--insecure)", file=err)
    try:
        snapshot = asyncio.run(
            fetch_snapshot(source, wait_s=args.timeout, max_response_bytes=settings.max_response_bytes)
        )
    except Exception as error:  # whatever stopped the read, a monitor gets 3 and one line
        return _fail(_why(error, url, args.timeout), as_json=args.json, source=url, out=out, err=err)
    report = build_report(snapshot)
    if args.json:
        _write(out, json.dumps(render_json(report, url), indent=2, ensure_ascii=True) + "\n")
    else:
        _write(out, render_text(report, url))
    return report.exit_code
