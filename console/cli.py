"""Command-line entry points: ``factory-console [run options]``, ``demo-server``, ``status`` and ``config path``.

Imports stay lazy: ``--help`` and ``--version`` must answer at once, and the server stack (FastAPI, uvicorn) is imported
only by ``--demo`` and ``demo-server``, never on the path to a real cluster.

Imports go one way, this module to ``console.launch`` (which builds the settings and the simulation's config from the
parsed flags) and never back, so neither module needs the other half-imported (``tests/test_launch.py`` checks).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Mapping, Sequence

from console import __version__

SUBCOMMANDS = ("run", "demo-server", "status", "replay", "config", "serve-web")

EPILOG = """\
subcommands:
  run (default)   start the console: factory-console --demo | --api URL | --profile NAME
  demo-server     serve the simulated cluster over HTTP (see: factory-console demo-server --help)
  status          read the cluster once and print a summary; exit 2 on a critical alert (see: status --help)
  replay FILE     replay a recording (--record FILE, or the ring: replay --last HOURS; see: replay --help)
  config path     print where the configuration file lives
  serve-web       serve the console to browsers, a console per session (see: serve-web --help)

examples:
  factory-console --demo
  factory-console --api https://cluster.example:8443 --token-env FACTORY_TOKEN
  factory-console demo-server --port 8700 --nodes 200 --machines-per-node 100 --telemetry-hz 0.25
  factory-console status --api http://127.0.0.1:8700 --json
  factory-console replay --last 2
  factory-console serve-web --port 8000 -- --demo
"""


def _add_sim_options(parser: argparse.ArgumentParser, *, speed_default: float | None = None) -> None:
    """Options of the simulated cluster, shared by ``--demo`` and ``demo-server``."""
    group = parser.add_argument_group("simulated cluster")
    group.add_argument("--seed", type=int, default=7, help="random seed of the simulation (default: 7)")
    group.add_argument("--speed", type=float, default=speed_default, help="simulated seconds per real second")
    group.add_argument("--nodes", type=int, default=None, help="number of nodes (default: the 6-node scenario)")
    group.add_argument("--machines-per-node", type=int, default=None, help="machines per node (with --nodes)")
    group.add_argument("--telemetry-hz", type=float, default=None, help="telemetry events per machine per second")


def build_run_parser() -> argparse.ArgumentParser:
    """The parser of the default command: start the console."""
    parser = argparse.ArgumentParser(
        prog="factory-console",
        description="A terminal operator console for a regional cluster of micro-factories.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"factory-console {__version__}")
    target = parser.add_argument_group("what to connect to")
    target.add_argument("--demo", action="store_true", help="run against the built-in simulated cluster")
    target.add_argument(
        "--with-agents", action="store_true", help="with --demo: also serve one node agent per node and connect to them"
    )
    target.add_argument(
        "--with-devices",
        action="store_true",
        help="with --demo: also start a local Sparkplug B site (needs mosquitto) and an OPC UA site: a mixed floor",
    )
    target.add_argument(
        "--api",
        metavar="[NAME=]URL",
        action="append",
        default=[],
        help="URL of a cluster API (repeatable: several clusters in one console, each named NAME or by its host)",
    )
    target.add_argument(
        "--clusters", type=int, default=1, metavar="N", help="with --demo: run N simulated clusters (default: 1)"
    )
    target.add_argument("--agent", metavar="URL", action="append", default=[], help="URL of a node agent (repeatable)")
    target.add_argument(
        "--octoprint", metavar="NAME=URL", action="append", default=[], help="an OctoPrint printer (repeatable)"
    )
    target.add_argument(
        "--moonraker",
        metavar="NAME=URL",
        action="append",
        default=[],
        help="a Klipper printer's Moonraker, e.g. k1=http://10.0.4.30:7125 (repeatable; key: $MOONRAKER_API_KEY)",
    )
    target.add_argument(
        "--opcua",
        metavar="[NAME=]URL",
        action="append",
        default=[],
        help="an OPC UA server, e.g. press=opc.tcp://10.0.5.10:4840 (repeatable; security and user: the profile)",
    )
    target.add_argument("--profile", metavar="NAME", help="a profile from the configuration file")
    auth = parser.add_argument_group("security")
    auth.add_argument("--token-env", metavar="VAR", help="environment variable holding the bearer token")
    auth.add_argument("--ca-file", metavar="PATH", help="CA bundle for a private certificate authority")
    auth.add_argument("--insecure", action="store_true", help="do not verify TLS certificates (dangerous)")
    auth.add_argument("--read-only", action="store_true", help="show no actions at all")
    auth.add_argument(
        "--max-role",
        choices=("viewer", "operator", "supervisor"),
        help="act with at most this role, whatever the server grants (serve-web's operator sessions)",
    )
    parser.add_argument(
        "--record",
        metavar="FILE",
        help="record what the console receives to FILE, kept whole (else to the ring: record_retention_h)",
    )
    spb = parser.add_argument_group("Sparkplug B (MQTT)")
    spb.add_argument(
        "--sparkplug", metavar="URL", help="follow a Sparkplug B broker: mqtt://HOST:PORT or mqtts://HOST:PORT"
    )
    spb.add_argument(
        "--sparkplug-group", metavar="GROUP", action="append", default=[], help="a group to follow (default: all)"
    )
    spb.add_argument("--sparkplug-host-id", metavar="ID", help="this console's Sparkplug host id (STATE topic)")
    spb.add_argument("--sparkplug-user-env", metavar="VAR", help="environment variable holding the broker user name")
    spb.add_argument("--sparkplug-password-env", metavar="VAR", help="environment variable holding the broker password")
    look = parser.add_argument_group("appearance")
    look.add_argument("--theme", help="factory-dark, factory-light, isa101 or mono")
    look.add_argument(
        "--ascii",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="draw states, marks, bars and charts in ASCII (default: only on the Linux console, TERM=linux)",
    )
    _add_sim_options(parser)
    return parser


def build_demo_server_parser() -> argparse.ArgumentParser:
    """The parser of ``factory-console demo-server``."""
    parser = argparse.ArgumentParser(
        prog="factory-console demo-server",
        description="Serve the simulated cluster (the Factory Cluster API v1) over HTTP and SSE.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8700, help="port to listen on (default: 8700)")
    parser.add_argument("--node", metavar="NODE_ID", help="serve one node's view, as its node agent would")
    parser.add_argument(
        "--token-file",
        metavar="PATH",
        help="require bearer tokens: one NAME:ROLE:SECRET per line (# comments); ROLE is viewer, operator or "
        "supervisor. The file must not be accessible by group or others (chmod 600)",
    )
    parser.add_argument(
        "--token",
        metavar="NAME:ROLE:SECRET",
        action="append",
        default=[],
        help="a bearer token on the command line (repeatable); other users can see it (ps): prefer --token-file or "
        "FACTORY_DEMO_TOKENS (NAME:ROLE:SECRET separated by commas or newlines)",
    )
    parser.add_argument(
        "--history",
        metavar="N",
        type=int,
        default=10_000,
        help="events kept for resume, at least (default and the contract's minimum: 10000)",
    )
    parser.add_argument(
        "--history-seconds",
        metavar="S",
        type=float,
        default=30.0,
        help="also keep every event younger than S seconds, within 256 MB (default: 30; a 20,000-machine cluster "
        "sends 10000 events in 1-2 s, less than a console needs to load its snapshot)",
    )
    _add_sim_options(parser)
    return parser


def _demo_server_tokens(args: argparse.Namespace, environ: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """The tokens of ``demo-server``: from ``--token-file``, ``FACTORY_DEMO_TOKENS`` and ``--token`` (all of them).

    ``--token`` still works but warns (one line on stderr): a command line is visible to every user of the machine.
    Raises ``ValueError`` (a one-line message) for a bad token, a token file others can read, or a repeated secret.
    """
    from console.demo.auth import TOKENS_ENV, TokenTable, parse_token, read_token_file, tokens_from_text

    tokens: list[tuple[str, str, str]] = []
    if args.token_file:
        tokens += read_token_file(args.token_file)
    if environ.get(TOKENS_ENV, "").strip():
        tokens += tokens_from_text(environ[TOKENS_ENV], separators=",\n", where=f"{TOKENS_ENV}: ")
    if args.token:
        print(
            "factory-console demo-server: warning: --token shows its secret to other users of this machine (ps); "
            f"use --token-file or {TOKENS_ENV}",
            file=sys.stderr,
        )
        tokens += [parse_token(t) for t in args.token]
    TokenTable(tokens)  # a repeated secret is an error now, not when the server starts
    return tokens


def demo_server_main(argv: Sequence[str]) -> int:
    """``factory-console demo-server``: the simulator as a standalone HTTP server."""
    args = build_demo_server_parser().parse_args(argv)
    from console.demo.standalone import run_demo_server
    from console.launch import sim_config

    try:
        tokens = _demo_server_tokens(args, os.environ)
    except ValueError as error:
        print(f"factory-console demo-server: {error}", file=sys.stderr)
        return 2
    if args.history < 1 or args.history_seconds < 0:
        print("factory-console demo-server: --history must be >= 1 and --history-seconds >= 0", file=sys.stderr)
        return 2
    run_demo_server(
        host=args.host,
        port=args.port,
        config=sim_config(args),
        tokens=tokens,
        node_id=args.node,
        history=args.history,
        history_s=args.history_seconds,
    )
    return 0


def config_main(argv: Sequence[str]) -> int:
    """``factory-console config path``."""
    parser = argparse.ArgumentParser(prog="factory-console config", description="Configuration file helpers.")
    parser.add_argument("action", choices=["path"], help="path: print where the configuration file lives")
    parser.parse_args(argv)
    from console.config import config_path

    print(config_path())
    return 0


def run_main(argv: Sequence[str]) -> int:
    """Start the console (the default command).

    The cyclic garbage collector is off while the console's modules import and its set-up runs (``console.launch``
    turns it back on, or this does when the launch ends early): the start allocates hundreds of thousands of objects
    that all stay alive (modules, classes, schemas), and the collections they set off walked them again and again,
    a full one among them, for nothing (issue 15: start to first machines on screen)."""
    args = build_run_parser().parse_args(argv)
    collecting = gc.isenabled()
    gc.disable()
    from console.launch import LaunchError, launch

    try:
        return launch(args)
    except LaunchError as error:
        print(f"factory-console: {error}", file=sys.stderr)
        return 2
    finally:
        if collecting:
            gc.enable()


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch to a subcommand; with none, start the console."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in SUBCOMMANDS:
        command, rest = args[0], args[1:]
        if command == "demo-server":
            return demo_server_main(rest)
        if command == "config":
            return config_main(rest)
        if command == "replay":
            from console.replay_launch import replay_main

            return replay_main(rest)
        if command == "serve-web":
            from console.serve_web import serve_web_main  # textual-serve and aiohttp only for this command

            return serve_web_main(rest)
        if command == "status":
            from console.status_command import status_main  # no Textual, no server stack: a monitor starts fast

            return status_main(rest)
        return run_main(rest)
    return run_main(args)


if __name__ == "__main__":
    sys.exit(main())
