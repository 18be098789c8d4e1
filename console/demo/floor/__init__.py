"""The mixed floor of ``factory-console --demo --with-devices``: local stand-ins of one site per shop-floor protocol
that can run here (Sparkplug B through a Mosquitto broker of its own, OPC UA with the Machinery model), started beside
the simulated cluster so a newcomer sees machines of every kind of source in one grid (``sites.start_floor``)."""

from console.demo.floor.sites import Floor, start_floor

__all__ = ["Floor", "start_floor"]
