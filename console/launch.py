"""Turn the command line and the config file into :class:`Settings`, start the demo if asked, and run the app.

Everything that can be wrong with the set-up (a bad config file, an unknown profile, a missing token variable) is
found here, before the terminal is taken over, and reported as one line.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import os
import sys
import warnings
from contextlib import ExitStack
from datetime import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.cluster_sources import MAX_DEMO_CLUSTERS, ClusterTarget, cluster_specs, split_api
from console.settings import Settings, SourceSpec
from console.theme_names import THEME_NAMES, describe_themes

if TYPE_CHECKING:
    from console.config import Config
    from console.demo.sim import SimConfig
    from console.recording.ring import RecordingSpec
    from console.terminal_guard import TerminalGuard


class LaunchError(Exception):
    """The console cannot start as asked; the message is one line that says why."""


def _ascii_wanted(flag: bool | None, configured: bool | None, environ: dict[str, str]) -> bool:
    """``--ascii``/``--no-ascii`` first, then the config's ``ascii``, else ASCII only on the Linux console (its
    font lacks most of the symbols the console draws: they would show as diamonds)."""
    if flag is not None:
        return flag
    if configured is not None:
        return configured
    return environ.get("TERM", "") == "linux"


def _shown(text: str) -> str:
    """A value the operator typed, quoted so that no control character in it reaches the terminal."""
    return ascii(text)


def _token_from_env(var: str | None, environ: dict[str, str], where: str = "") -> str | None:
    """``$var``; a variable that is named but unset (or empty) stops the launch: connecting without the token the
    operator meant to use would only fail later, as a 401 on every source, or worse succeed with less authority."""
    if not var:
        return None
    token = environ.get(var)
    if token is None:
        raise LaunchError(f"the environment variable {var} (holding the bearer token) is not set{where}")
    if not token:
        raise LaunchError(f"the environment variable {var} (holding the bearer token) is empty{where}")
    return token


def _verify(ca_file: str | None, insecure: bool) -> bool | str:
    if insecure:
        return False
    if ca_file:
        if not os.path.isfile(ca_file):
            raise LaunchError(f"CA file not found: {ca_file}")
        return ca_file
    return True


def recording_spec(record: str | None, config: Config, environ: dict[str, str]) -> RecordingSpec | None:
    """What to record to: ``--record FILE`` (kept whole), else the ring (``record_retention_h`` hours; 0: none)."""
    from console.recording.ring import RecordingSpec, ring_dir

    checkpoint_s = float(config.record_checkpoint_min) * 60.0
    if record:
        path = Path(record).expanduser()
        if path.is_dir():
            raise LaunchError(f"--record {_shown(record)}: a folder; name a file")
        return RecordingSpec(file=path, checkpoint_s=checkpoint_s)
    if config.record_retention_h <= 0:
        return None
    return RecordingSpec(
        ring_dir=ring_dir(environ), retention_h=float(config.record_retention_h), checkpoint_s=checkpoint_s
    )


def build_settings(args: argparse.Namespace, environ: dict[str, str] | None = None) -> Settings:
    """Resolve settings: command-line flags win over the profile, the profile over the config's defaults."""
    from console.config import ConfigError, load_config, resolve_profile

    environ = dict(os.environ if environ is None else environ)
    try:
        config = load_config()
        if config.keys:
            from console.keymap_check import check_config_keys  # imports the app's classes, hence Textual

            check_config_keys(config)
    except ConfigError as error:
        raise LaunchError(str(error)) from None

    if args.theme is not None and args.theme not in THEME_NAMES:
        raise LaunchError(f"--theme {_shown(args.theme)}: no such theme ({describe_themes()})")
    settings = Settings(
        theme=args.theme or config.theme,
        keymap=dict(config.keys),
        refresh_ms=config.refresh_ms,
        stale_after_s=float(config.stale_after_s),
        read_only=bool(args.read_only or config.read_only),
        max_role=getattr(args, "max_role", None),
        no_color="NO_COLOR" in environ,
        ascii=_ascii_wanted(args.ascii, config.ascii, environ),
        max_response_bytes=config.max_response_mb * 1024 * 1024,
        max_event_bytes=config.max_event_kb * 1024,
        runbooks_dir=config.runbooks_dir,
        shift_start=tuple(time.fromisoformat(start) for start in config.shift_start or ()),
    )
    if settings.no_color and not args.theme:
        settings.theme = "mono"
    settings.recording = recording_spec(getattr(args, "record", None), config, environ)

    apis: list[str] = [args.api] if isinstance(args.api, str) else list(args.api or [])
    agents: list[str] = list(args.agent)
    profile_agents: list[str] = []
    clusters: list[ClusterTarget] = []
    octoprint: list[str] = list(args.octoprint)
    moonraker: list[str] = list(getattr(args, "moonraker", []))
    opcua: list[str] = list(getattr(args, "opcua", None) or [])
    opcua_servers: dict[str, dict[str, Any]] = {}
    token: str | None = None
    ca_file: str | None = args.ca_file
    insecure: bool = args.insecure
    sparkplug_table: dict[str, Any] | None = None

    profile_name = args.profile or (None if (args.demo or args.api or args.agent) else config.default_profile)
    if profile_name:
        try:
            profile = resolve_profile(config, profile_name)
        except ConfigError as error:
            raise LaunchError(str(error)) from None
        apis = apis or ([str(profile.api)] if profile.api else [])
        profile_agents = [str(a) for a in profile.agents]
        try:
            members = [resolve_profile(config, name) for name in profile.clusters]
        except ConfigError as error:
            raise LaunchError(str(error)) from None
        clusters = [_cluster_of_profile(member, environ, config) for member in members]
        octoprint = octoprint or [f"{name}={url}" for name, url in profile.octoprint.items()]
        moonraker = moonraker or [f"{name}={url}" for name, url in profile.moonraker.items()]
        opcua_servers = {name: server.settings() for name, server in profile.opcua.items()}
        ca_file = ca_file or (str(profile.ca_file) if profile.ca_file else None)
        insecure = insecure or profile.insecure
        settings.read_only = settings.read_only or profile.read_only
        sparkplug_table = profile.sparkplug.options() if profile.sparkplug is not None else None
        if not args.token_env:
            if profile.token_env and not environ.get(profile.token_env) and profile.token_secret is None:
                # Named in the profile, not there, and no token in the file to fall back on (Profile.token).
                where = f" (token_env of profile {profile.name} in {config.path})"
                _token_from_env(profile.token_env, environ, where)
            token = profile.token(environ)
    if args.token_env:
        token = _token_from_env(args.token_env, environ)

    verify = _verify(ca_file, insecure)
    settings.insecure = insecure
    if clusters and not args.api:  # a profile naming several clusters (docs/multi-cluster.md)
        settings.insecure = insecure or any(c.verify is False for c in clusters)
    else:
        named = [split_api(item) for item in apis]
        lone = len(named) == 1
        clusters = [ClusterTarget(u, n, profile_agents if lone else (), token, verify) for n, u in named]
    try:
        settings.sources.extend(cluster_specs(clusters, agents if agents or clusters else profile_agents))
    except ValueError as error:
        raise LaunchError(str(error)) from None
    for item in octoprint:
        name, sep, url = item.partition("=")
        if not sep or not name or not url:
            raise LaunchError(f"--octoprint takes NAME=URL, not {item!r}")
        from console.sources.octoprint import resolve_api_key

        per_printer = {name: environ.get(f"OCTOPRINT_API_KEY_{name.upper().replace('-', '_')}", "")}
        key = resolve_api_key(name, per_printer, environ)
        settings.sources.append(SourceSpec(f"octoprint:{name}", "octoprint", url.rstrip("/"), token=key, name=name))
    settings.sources.extend(moonraker_sources(moonraker, environ))
    settings.sources.extend(opcua_sources(opcua, opcua_servers, environ))
    settings.sources.extend(sparkplug_sources(args, sparkplug_table, environ, verify))
    clusters_wanted = getattr(args, "clusters", 1)
    if clusters_wanted != 1 and (not args.demo or not 1 <= clusters_wanted <= MAX_DEMO_CLUSTERS):
        raise LaunchError(f"--clusters takes 1 to {MAX_DEMO_CLUSTERS}, with --demo (several real clusters: --api)")
    if not settings.sources and not args.demo:
        raise LaunchError("nothing to connect to: use --demo, --api URL, --agent URL or --profile NAME")
    return settings


def _cluster_of_profile(profile: Any, environ: dict[str, str], config: Config) -> ClusterTarget:
    """One cluster of a profile's ``clusters``: that profile's API, agents, token and CA, named by the profile."""
    if profile.token_env and not environ.get(profile.token_env) and profile.token_secret is None:
        _token_from_env(profile.token_env, environ, f" (token_env of profile {profile.name} in {config.path})")
    verify = _verify(str(profile.ca_file) if profile.ca_file else None, profile.insecure)
    agents = [str(a) for a in profile.agents]
    return ClusterTarget(str(profile.api), profile.name, agents, profile.token(environ), verify)


def sparkplug_sources(
    args: argparse.Namespace, table: dict[str, Any] | None, environ: dict[str, str], verify: bool | str
) -> list[SourceSpec]:
    """``--sparkplug URL`` and its flags, else the profile's ``sparkplug`` table, as a source; the credentials from
    the environment variables they name (``docs/sparkplug.md``)."""
    names = ("sparkplug", "sparkplug_group", "sparkplug_host_id", "sparkplug_user_env", "sparkplug_password_env")
    given = {name: getattr(args, name, None) for name in names}
    if not table and not any(given.values()):
        return []
    from console.sources.sparkplug.spec import SparkplugFlags, resolve

    flags = SparkplugFlags(
        given["sparkplug"],
        tuple(given["sparkplug_group"] or ()),
        given["sparkplug_host_id"],
        given["sparkplug_user_env"],
        given["sparkplug_password_env"],
    )
    try:
        setup = resolve(flags, table, environ)
    except ValueError as error:
        raise LaunchError(str(error)) from None
    if setup is None:
        return []
    spec = SourceSpec("sparkplug", "sparkplug", setup.url, token=setup.password, verify=verify, options=setup.options)
    return [spec]


def opcua_sources(items: list[str], servers: dict[str, dict[str, Any]], environ: dict[str, str]) -> list[SourceSpec]:
    """``--opcua [NAME=]URL`` (else the profile's ``opcua`` tables) as sources; a password only from the variable
    the profile names (``password_env``), never from the command line (``docs/opcua.md``)."""
    if not items and not servers:
        return []
    from console.sources.opcua.spec import resolve_servers

    try:
        resolved = resolve_servers(items, servers, environ)
    except ValueError as error:
        raise LaunchError(f"--opcua: {error}") from None
    return [
        SourceSpec(f"opcua:{s.name}", "opcua", s.url, token=s.password, name=s.name, options=s.options.as_mapping())
        for s in resolved
    ]


def moonraker_sources(items: list[str], environ: dict[str, str]) -> list[SourceSpec]:
    """``--moonraker NAME=URL`` (or the profile's ``moonraker`` table) as sources; the API key of each from
    ``$MOONRAKER_API_KEY_<NAME>``, else ``$MOONRAKER_API_KEY`` (``docs/moonraker.md``)."""
    if not items:
        return []
    from console.sources.moonraker import parse_spec, resolve_api_key

    specs: list[SourceSpec] = []
    for item in items:
        try:
            name, url = parse_spec(item)
        except ValueError as error:
            raise LaunchError(f"--moonraker: {error}") from None
        key = resolve_api_key(name, environ)
        specs.append(SourceSpec(f"moonraker:{name}", "moonraker", url, token=key, name=name))
    return specs


def sim_config(args: argparse.Namespace) -> SimConfig:
    """The simulated cluster's config from the simulation flags (``--seed``, ``--speed``, ``--nodes``, ...).

    Shared by ``--demo`` (here) and ``demo-server`` (``console.cli``); it lives here so that ``console.cli`` imports
    this module and this module never imports ``console.cli``.
    """
    from console.demo.sim import SimConfig

    kwargs: dict[str, Any] = {"seed": args.seed}
    for name in ("speed", "nodes", "machines_per_node", "telemetry_hz"):
        value = getattr(args, name)
        if value is not None:
            kwargs[name] = value
    if getattr(args, "with_devices", False):
        # The mixed floor's devices stamp the real time, so the simulation runs on it too (from now, at real speed
        # unless --speed says otherwise): ages and ETAs of both kinds of machine then read right on one clock.
        from datetime import UTC, datetime

        kwargs.setdefault("speed", 1.0)
        kwargs["start"] = datetime.now(UTC).replace(microsecond=0)
    return SimConfig(**kwargs)


def _start_demo(args: argparse.Namespace, stack: ExitStack) -> list[Any]:
    """Start the simulated cluster(s) on loopback inside this process (a thread each) and return them; with
    ``--clusters N`` each gets its own seed (``--seed`` + 101 x its place), so the clusters differ but their ids
    collide, as real ones do (``docs/multi-cluster.md``)."""
    from console.demo.embedded import start_demo

    config = sim_config(args)
    servers = []
    for index in range(getattr(args, "clusters", 1) or 1):
        seeded = dataclasses.replace(config, seed=config.seed + 101 * index) if index else config
        server = start_demo(seeded, with_agents=args.with_agents)
        stack.callback(server.stop)
        servers.append(server)
    return servers


def _start_floor(args: argparse.Namespace, stack: ExitStack, guard: TerminalGuard) -> list[SourceSpec]:
    """``--with-devices``: the mixed floor's local sites (``console.demo.floor``) and the sources that follow them.

    What cannot run here (the Sparkplug site without Mosquitto) is said in one line, and the rest goes on."""
    if not args.demo:
        raise LaunchError("--with-devices needs --demo (it adds local device sites to the simulated cluster)")
    from console.demo.floor import start_floor

    try:
        floor = start_floor(seed=args.seed if isinstance(args.seed, int) else 7)
    except RuntimeError as error:
        raise LaunchError(str(error)) from None
    stack.callback(floor.stop)
    guard.cleanups.append(floor.stop)
    for notice in floor.notices:
        print(f"factory-console: {notice}", file=sys.stderr)
    return floor.specs


def launch(args: argparse.Namespace) -> int:
    """Run the console until the operator quits; returns the process exit code.

    From the first line on, SIGTERM, SIGHUP and a dead terminal end the process within seconds, even with the loop or
    the terminal stuck (``console.terminal_guard``): before the app is up at once, after that through a clean exit
    that its watchdog cuts short 3 s after the signal.
    """
    from console.terminal_guard import TerminalGuard

    guard = TerminalGuard()
    guard.install_signal_handlers()
    guard.watch_terminal()
    try:
        return _run(args, guard)
    finally:
        guard.finish()  # after a signal or a hangup: the demo stopped, the audit log done, and os._exit


def start_prefetches(settings: Settings, environ: dict[str, str] | None = None) -> int:
    """Send each cluster API's first reads now, in threads, while the app's modules import (``console.start_prefetch``:
    the round trips and the server's work then overlap the imports; issue 15); returns how many were started."""
    from console.start_prefetch import prefetch_for

    started = 0
    for index, spec in enumerate(settings.sources):
        if spec.kind != "cluster":
            continue
        answers = prefetch_for(spec.url, spec.token, settings.max_response_bytes, environ)
        if answers is not None:
            settings.sources[index] = dataclasses.replace(spec, start_answers=answers)
            started += 1
    return started


def start_heap() -> None:
    """The collector back on for the app (``console.cli.run_main`` turned it off for the start), the objects of
    the start first frozen (``gc.freeze``): the modules, classes and schemas live as long as the process, and
    unfrozen each full collection walks them again (the first came with the first machines on screen); with the
    collector off they were all still in the young generation, whose next collection would have walked them all at
    once. With ``--demo`` the simulator's state is frozen too, as ``console.heap_policy`` does anyway 2 s after the
    first machines. What the freeze keeps that a collection would free: ~1,250 objects, ~0.4 MiB (measured)."""
    gc.freeze()
    gc.enable()


def _run(args: argparse.Namespace, guard: TerminalGuard) -> int:
    settings = build_settings(args)
    if not args.demo:  # (the demo's server is in this process: it would only compete for the interpreter)
        start_prefetches(settings)
    if settings.insecure:
        warnings.warn(
            "TLS verification is OFF (--insecure): anyone on the path can read and change traffic", stacklevel=2
        )
        print("factory-console: WARNING: TLS verification is off (--insecure)", file=sys.stderr)
    with ExitStack() as stack:
        demo = None
        if args.demo:
            from console.cluster_sources import demo_specs

            demos = _start_demo(args, stack)
            demo = demos[0]  # the one D takes down (with --with-agents)
            guard.cleanups.extend(server.stop for server in demos)
            settings.demo = True
            specs = demo_specs(demos)
            clusters = [spec for spec in specs if spec.kind == "cluster"]
            settings.sources[0:0] = clusters
            settings.sources.extend(spec for spec in specs if spec.kind != "cluster")
        if getattr(args, "with_devices", False):
            settings.sources.extend(_start_floor(args, stack, guard))
        from console.app import FactoryConsoleApp
        from themes import fit_colours

        app = FactoryConsoleApp(settings, demo=demo)
        fit_colours(app)  # 16 or 256 colours: chosen for legibility, not Rich's nearest (themes.ansi16, ansi256)
        guard.attach(app)
        start_heap()
        app.run()
        return app.return_code or 0
