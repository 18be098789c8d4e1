"""Static facts of the simulated region: cities, machine kinds and models, materials, parts, faults, quality checks.

Kept apart from the engine so the numbers that make the demo plausible can be read (and argued about) in one place.
Durations are simulated seconds. They are shorter than on a real shop floor (a real print takes hours) so that at the
demo speed a job finishes within a few minutes of wall time; the ratios between kinds are kept roughly realistic.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BED_NOT_CLEAR",
    "CITIES",
    "CUSTOMER_REGIONS",
    "DEFAULT_NODE_SIZES",
    "FAULTS",
    "KINDS",
    "KIND_MIX",
    "PARTS",
    "TOOL_CHANGE",
    "Characteristic",
    "City",
    "FaultSpec",
    "KindSpec",
]


@dataclass(frozen=True, slots=True)
class City:
    name: str
    code: str
    lat: float
    lon: float


CITIES: tuple[City, ...] = (
    City("Leeds", "LDS", 53.8008, -1.5491),
    City("Manchester", "MAN", 53.4808, -2.2426),
    City("Sheffield", "SHF", 53.3811, -1.4701),
    City("York", "YRK", 53.9590, -1.0815),
    City("Newcastle", "NCL", 54.9783, -1.6178),
    City("Liverpool", "LPL", 53.4084, -2.9916),
    City("Bradford", "BFD", 53.7960, -1.7594),
    City("Hull", "HUL", 53.7676, -0.3274),
    City("Sunderland", "SUN", 54.9069, -1.3838),
    City("Middlesbrough", "MBR", 54.5742, -1.2350),
    City("Preston", "PRE", 53.7632, -2.7031),
    City("Bolton", "BOL", 53.5769, -2.4282),
    City("Huddersfield", "HUD", 53.6458, -1.7850),
    City("Wakefield", "WKF", 53.6833, -1.4977),
    City("Doncaster", "DON", 53.5228, -1.1285),
    City("Durham", "DUR", 54.7753, -1.5849),
    City("Carlisle", "CAR", 54.8925, -2.9329),
    City("Lancaster", "LAN", 54.0466, -2.8007),
    City("Harrogate", "HGT", 53.9921, -1.5418),
    City("Blackburn", "BLB", 53.7486, -2.4875),
    City("Warrington", "WAR", 53.3900, -2.5970),
    City("Stockport", "STK", 53.4106, -2.1575),
    City("Wigan", "WGN", 53.5450, -2.6318),
    City("Rotherham", "ROT", 53.4326, -1.3635),
    City("Barnsley", "BAR", 53.5526, -1.4797),
    City("Darlington", "DAR", 54.5236, -1.5595),
    City("Scarborough", "SCA", 54.2831, -0.3998),
    City("Halifax", "HFX", 53.7270, -1.8575),
    City("Oldham", "OLD", 53.5409, -2.1114),
    City("Burnley", "BUR", 53.7893, -2.2405),
)
"""Real towns of the North of England with their coordinates; the default scenario uses the first six."""

DEFAULT_NODE_SIZES: tuple[int, ...] = (24, 22, 20, 18, 16, 20)
"""Machines per node in the default scenario (120 in all): real sites differ in size."""

CUSTOMER_REGIONS: tuple[tuple[str, float, float], ...] = (
    ("West Yorkshire", 53.75, -1.65),
    ("Greater Manchester", 53.50, -2.30),
    ("South Yorkshire", 53.45, -1.35),
    ("North Yorkshire", 54.10, -1.40),
    ("Tyne and Wear", 54.95, -1.55),
    ("Merseyside", 53.42, -2.95),
    ("Lancashire", 53.85, -2.60),
    ("County Durham", 54.70, -1.75),
    ("Cumbria", 54.55, -3.00),
    ("East Riding of Yorkshire", 53.85, -0.55),
    ("Teesside", 54.55, -1.25),
    ("Cheshire", 53.20, -2.70),
)
"""Where customers are; the scheduler weighs the delivery distance from a node to the job's region."""


@dataclass(frozen=True, slots=True)
class Characteristic:
    """A measured quality characteristic of a process, with its specification limits."""

    name: str
    unit: str
    nominal: float
    lsl: float
    usl: float


@dataclass(frozen=True, slots=True)
class KindSpec:
    """One kind of machine: what it does, which models exist, what it can load, how long its work takes."""

    kind: str
    process: str
    models: tuple[tuple[str, tuple[float, float, float]], ...]
    materials: tuple[str, ...]
    loaded: tuple[int, int]  # how many materials a machine has loaded (min, max)
    unit_s: tuple[float, float]  # ideal time per part (simulated seconds)
    quantity: tuple[int, int]
    characteristics: tuple[Characteristic, ...]
    telemetry: tuple[str, ...]
    ext: str  # design file extension


KINDS: dict[str, KindSpec] = {
    k.kind: k
    for k in (
        KindSpec(
            "fdm_printer",
            "fdm",
            (
                ("Prusa MK4", (250, 210, 220)),
                ("Bambu Lab X1E", (256, 256, 256)),
                ("Prusa XL", (360, 360, 360)),
                ("Ultimaker S5", (330, 240, 300)),
            ),
            ("PLA", "PETG", "ASA", "ABS", "PA6-CF"),
            (1, 2),
            (150.0, 420.0),
            (1, 8),
            (
                Characteristic("hole diameter", "mm", 5.0, 4.85, 5.15),
                Characteristic("wall thickness", "mm", 2.0, 1.9, 2.1),
            ),
            ("nozzle_c", "bed_c", "chamber_c", "power_kw"),
            "3mf",
        ),
        KindSpec(
            "sla_printer",
            "sla",
            (("Formlabs Form 4", (200, 125, 210)), ("Formlabs Form 3L", (335, 200, 300))),
            ("resin standard grey", "resin tough 2000", "resin clear", "resin high temp"),
            (1, 1),
            (240.0, 600.0),
            (1, 6),
            (Characteristic("feature height", "mm", 10.0, 9.95, 10.05),),
            ("chamber_c", "power_kw"),
            "form",
        ),
        KindSpec(
            "sls_printer",
            "sls",
            (("EOS Formiga P 110", (200, 250, 330)), ("Formlabs Fuse 1+", (165, 165, 300))),
            ("nylon PA12", "nylon PA11"),
            (1, 1),
            (60.0, 150.0),
            (8, 30),
            (Characteristic("wall thickness", "mm", 2.0, 1.85, 2.15),),
            ("chamber_c", "laser_pct", "power_kw"),
            "stl",
        ),
        KindSpec(
            "cnc_mill",
            "milling",
            (
                ("Haas VF-2", (762, 406, 508)),
                ("Haas Mini Mill", (406, 305, 254)),
                ("DMG Mori CMX 600 V", (600, 560, 510)),
            ),
            ("aluminium 6061", "steel 304", "brass C360", "POM"),
            (2, 4),
            (180.0, 540.0),
            (1, 10),
            (
                Characteristic("bore diameter", "mm", 12.0, 11.98, 12.02),
                Characteristic("flatness", "mm", 0.01, 0.0, 0.03),
            ),
            ("spindle_rpm", "spindle_load_pct", "feed_mm_min", "vibration_mm_s", "power_kw"),
            "step",
        ),
        KindSpec(
            "cnc_lathe",
            "turning",
            (("Haas ST-10", (356, 356, 406)), ("Haas ST-20", (533, 533, 584))),
            ("aluminium 6061", "steel 304", "brass C360"),
            (2, 3),
            (90.0, 300.0),
            (2, 20),
            (
                Characteristic("outer diameter", "mm", 20.0, 19.985, 20.015),
                Characteristic("surface roughness Ra", "um", 0.8, 0.2, 1.6),
            ),
            ("spindle_rpm", "spindle_load_pct", "feed_mm_min", "vibration_mm_s", "power_kw"),
            "step",
        ),
        KindSpec(
            "laser_cutter",
            "laser_cutting",
            (("Trumpf TruLaser 1030 fiber", (3000, 1500, 25)), ("Epilog Fusion Pro 48", (1219, 914, 20))),
            ("steel 304", "aluminium 6061", "acrylic", "birch plywood"),
            (1, 2),
            (20.0, 90.0),
            (5, 40),
            (Characteristic("kerf width", "mm", 0.2, 0.15, 0.25),),
            ("laser_pct", "feed_mm_min", "power_kw"),
            "dxf",
        ),
        KindSpec(
            "injection_molder",
            "injection_molding",
            (("Arburg Allrounder 370 S", (370, 370, 250)), ("Engel e-mac 100", (420, 420, 300))),
            ("ABS", "polypropylene", "PC", "nylon PA66"),
            (1, 1),
            (18.0, 45.0),
            (40, 200),
            (Characteristic("part weight", "g", 42.0, 41.2, 42.8),),
            ("barrel_c", "mould_c", "power_kw"),
            "step",
        ),
        KindSpec(
            "inspection",
            "inspection",
            (("Zeiss Contura", (700, 1000, 600)), ("Hexagon Global S", (900, 1500, 800))),
            (),  # an inspection machine accepts parts of any material
            (0, 0),
            (60.0, 240.0),
            (1, 10),
            (Characteristic("position deviation", "mm", 0.0, -0.05, 0.05),),
            ("chamber_c", "power_kw"),
            "qif",
        ),
    )
}

ALL_MATERIALS: tuple[str, ...] = tuple(sorted({m for k in KINDS.values() for m in k.materials}))

KIND_MIX: tuple[tuple[str, float], ...] = (
    ("fdm_printer", 6),
    ("sla_printer", 2),
    ("sls_printer", 1),
    ("cnc_mill", 3),
    ("cnc_lathe", 2),
    ("laser_cutter", 2),
    ("injection_molder", 2),
    ("inspection", 2),
)
"""How a node's machines divide between kinds (per 20 machines)."""

PARTS: dict[str, tuple[str, ...]] = {
    "fdm": ("bracket, left", "bracket, right", "enclosure lid", "cable clip", "sensor mount", "jig plate", "fan duct"),
    "sla": ("dental model", "lens housing", "connector shell", "prototype knob", "microfluidic chip"),
    "sls": ("drone arm", "duct elbow", "hinge set", "gripper finger", "lattice insole"),
    "milling": ("gear housing", "motor mount", "manifold block", "fixture plate", "heat sink"),
    "turning": ("drive shaft", "bushing", "spacer sleeve", "valve stem", "pulley hub"),
    "laser_cutting": ("panel blank", "gasket", "name plate", "chassis side", "mounting bracket blank"),
    "injection_molding": ("bottle cap", "switch cover", "clip housing", "knob insert", "battery door"),
    "inspection": ("first article check", "CMM report", "batch sample check"),
}


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """A fault a real shop sees: which kinds, how often (per running hour), what it does and how it ends.

    ``effect``: ``fault`` (machine in fault), ``blocked`` (waits for material or an operator), ``warn`` (an alert
    only; the machine goes on). ``auto_clear_s``: (min, max) simulated seconds until the condition clears by itself or
    floor staff deal with it; ``ready`` faults clear at once with the ``ready`` command. ``scrap``: the part in
    progress is lost. ``fail_job``: the job fails.
    """

    code: str
    kinds: tuple[str, ...]
    per_hour: float
    effect: str
    priority: str
    reason: str
    fault_code: str | None
    auto_clear_s: tuple[float, float]
    scrap: bool = False
    fail_job: bool = False
    ready_clears: bool = False


_PRINTERS = ("fdm_printer", "sla_printer", "sls_printer")
_CNC = ("cnc_mill", "cnc_lathe")

FAULTS: tuple[FaultSpec, ...] = (
    FaultSpec(
        "filament_runout",
        ("fdm_printer",),
        0.05,
        "blocked",
        "medium",
        "filament runout",
        None,
        (900, 2400),
        ready_clears=True,
    ),
    FaultSpec(
        "nozzle_clog", ("fdm_printer",), 0.025, "fault", "high", "nozzle clog", "E-CLOG", (600, 1500), scrap=True
    ),
    FaultSpec(
        "thermal_runaway",
        ("fdm_printer",),
        0.004,
        "fault",
        "critical",
        "thermal runaway",
        "E-THERM",
        (1800, 3600),
        scrap=True,
        fail_job=True,
    ),
    FaultSpec(
        "resin_tank_low",
        ("sla_printer",),
        0.04,
        "blocked",
        "medium",
        "resin tank low",
        None,
        (900, 2400),
        ready_clears=True,
    ),
    FaultSpec(
        "recoater_jam", ("sls_printer",), 0.02, "fault", "high", "recoater jam", "E-RECOAT", (900, 2400), scrap=True
    ),
    FaultSpec("spindle_overload", _CNC, 0.03, "fault", "high", "spindle overload", "E-SPOV", (120, 600), scrap=True),
    FaultSpec("tool_wear", _CNC, 0.05, "warn", "low", "tool wear", None, (1200, 3000)),
    FaultSpec("laser_door_open", ("laser_cutter",), 0.05, "blocked", "high", "laser door open", "E-DOOR", (60, 240)),
    FaultSpec(
        "mould_temp_deviation",
        ("injection_molder",),
        0.04,
        "warn",
        "medium",
        "mould temperature deviation",
        None,
        (600, 1800),
    ),
    FaultSpec(
        "e_stop",
        (*_PRINTERS, *_CNC, "laser_cutter", "injection_molder", "inspection"),
        0.006,
        "fault",
        "high",
        "emergency stop pressed",
        "E-STOP",
        (300, 900),
        scrap=True,
    ),
)
"""Faults, each with a rate per running hour of one machine, chosen so the 120-machine demo sees one every minute
or two of wall time at the default speed."""

BED_NOT_CLEAR = FaultSpec(
    "bed_not_clear", _PRINTERS, 0.0, "blocked", "medium", "bed not clear", None, (1500.0, 3000.0), ready_clears=True
)
"""After a job, a printer's bed may not be clear (a part left behind): the machine waits for ``ready``. When no
operator answers, floor staff clear it after ``auto_clear_s`` (so an unattended demo does not slowly freeze)."""

TOOL_CHANGE = FaultSpec("tool_change", _CNC, 0.0, "maintenance", "low", "tool change", None, (300.0, 720.0))
"""After a job that ran with a worn tool, the machine goes into maintenance for a tool change."""

BED_NOT_CLEAR_P = 0.03
"""Chance that a printer's bed is not clear after a job (a part left behind): the machine waits for ``ready``."""

NODE_OUTAGE_PER_HOUR = 0.06
"""How often a node loses its network (per node per simulated hour) ..."""

NODE_OUTAGE_S = (180.0, 720.0)
"""... and for how long."""
