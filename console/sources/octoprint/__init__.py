"""OctoPrint as a source adapter: a print farm's printers as machines in the console (``docs/octoprint.md``).

OctoPrint speaks its own push socket and REST API, not the contract, so this package *makes* the contract: it
listens (or, when the socket is down, asks), translates what OctoPrint says into contract objects and events
numbered by its own ``seq``, and feeds them to the store the way every source does (a snapshot, then
``apply_events``). One module per job, so each can be read and tested alone:

* :mod:`.mapping`: pure tables, OctoPrint's words to the console's (states, telemetry, files, ids);
* :mod:`.rest`: HTTP to one server, the API key, the socket's login, OctoPrint's errors as typed problems;
* :mod:`.push_socket`: the push socket (SockJS's raw websocket), its handshake, its frames as typed messages;
* :mod:`.push`: one socket session, its pushed states to the translation;
* :mod:`.poller`: the fallback, what to ask and when (at most once a second, sooner after a command);
* :mod:`.translation`: answers (and what the console did) to events with the source's own ``seq``;
* :mod:`.commands`: pause, resume, cancel to ``POST /api/job``; acknowledgements; idempotency keys;
* :mod:`.snapshot`: the synthetic node and cluster, and the snapshot of what a source holds;
* :mod:`.source`: :class:`OctoPrintSource`, the adapter the registry builds, and the loop that feeds the store.

A command's effect comes back through this source's own event stream (the next pushed state's, or poll's,
translation), never as a write of the command's own.
"""

from console.sources.octoprint.commands import SUPPORTED_ACTIONS
from console.sources.octoprint.mapping import machine_id_for
from console.sources.octoprint.poller import MIN_POLL_INTERVAL
from console.sources.octoprint.rest import API_KEY_ENV, resolve_api_key
from console.sources.octoprint.source import OctoPrintSource

__all__ = [
    "API_KEY_ENV",
    "MIN_POLL_INTERVAL",
    "SUPPORTED_ACTIONS",
    "OctoPrintSource",
    "machine_id_for",
    "resolve_api_key",
]
