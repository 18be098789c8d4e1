"""Sparkplug B as a source adapter: an MQTT broker's edge nodes and devices as the console's nodes and machines
(``docs/sparkplug.md``).

Sparkplug B is not the contract, so this package *makes* the contract, as the OctoPrint adapter does: it follows the
broker as a Sparkplug 3.0 host application, translates what the edge nodes say into contract objects and events
numbered by its own ``seq``, and feeds them to the store the way every source does. One module per job:

* :mod:`.payload`: the protobuf ``Payload`` (decoding with checks, building commands);
* :mod:`.topics`: the topic namespace;
* :mod:`.mapping`: which metric means state, progress, job, kind, model, commands or telemetry (config, defaults);
* :mod:`.state`: the records of edge nodes and devices;
* :mod:`.host`: the host application's rules (births, deaths, ``seq``, ``bdSeq``, aliases, rebirth requests);
* :mod:`.translation`: changes to contract events with the source's own ``seq``;
* :mod:`.commands`: pause, resume, cancel as DCMDs where a device declared them;
* :mod:`.connection`: the broker's URL, TLS, the STATE messages and the MQTT client;
* :mod:`.source`: :class:`SparkplugSource`, the adapter the registry builds, and the loop that feeds the store.
"""

from console.sources.sparkplug.commands import SUPPORTED_ACTIONS
from console.sources.sparkplug.connection import default_host_id, parse_broker_url
from console.sources.sparkplug.mapping import MetricMapping
from console.sources.sparkplug.source import SparkplugSource

__all__ = ["SUPPORTED_ACTIONS", "MetricMapping", "SparkplugSource", "default_host_id", "parse_broker_url"]
