"""Moonraker as a source adapter: Klipper printers as machines in the console (``docs/moonraker.md``).

Moonraker (Klipper's API server) speaks JSON-RPC 2.0 over a websocket, not the contract, so this package *makes* the
contract: it subscribes to the printer's objects, translates what Moonraker pushes into contract objects and events
numbered by its own ``seq``, and feeds them to the store the way every source does (a snapshot, then
``apply_events``). One module per job:

* :mod:`.mapping`: pure tables, Klipper's words to the console's (states, telemetry, files, the queue, ids);
* :mod:`.rpc`: JSON-RPC 2.0 over one websocket: calls and answers, notifications, malformed input;
* :mod:`.session`: the conversation on one connection (identify, subscribe, what each notification means);
* :mod:`.translation` and :mod:`.jobs`: what was heard to events with the source's own ``seq``;
* :mod:`.commands`: pause, resume, cancel (and a queued job's cancel); acknowledgements; idempotency keys;
* :mod:`.source`: :class:`MoonrakerSource`, the adapter the registry builds, and the loop that feeds the store.

A command's effect comes back through Moonraker's own notifications, never as a write of the command's own.
"""

from console.sources.moonraker.commands import SUPPORTED_ACTIONS
from console.sources.moonraker.keys import API_KEY_ENV, resolve_api_key
from console.sources.moonraker.mapping import machine_id_for, parse_spec
from console.sources.moonraker.source import MoonrakerSource

__all__ = ["API_KEY_ENV", "SUPPORTED_ACTIONS", "MoonrakerSource", "machine_id_for", "parse_spec", "resolve_api_key"]
