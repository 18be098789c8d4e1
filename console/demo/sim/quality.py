"""Quality: measurements with drift and noise (SPC series), and OEE from what the machines actually did.

Each machine measures one sample per finished batch for each characteristic of its process. A capable process is
in control most of the time: its mean wanders a little (a damped random walk, ~0.1 sigma) around the nominal. Now
and then an assignable cause starts a drift episode on one machine (a step shift of 1-2 sigma, or a ramp), which
lasts some 8-25 samples until it is found and removed; a wearing cutting tool walks the mean steadily until the tool
change. So at any moment a minority of control charts break Western Electric rules (about 10-20 % of machines), as
real ones do, and most machines are capable (Cpk ~1.2-2), a few poor ones below.

Control limits are the chart's, from the process sigma of its baseline (the noise plus the in-control wander), around
the nominal; the rules are judged on the windows that end in the newest ``RECENT_POINTS`` samples (what is happening
now, not a violation long scrolled into history).

OEE over the window (``WINDOW_H``) from booked time and counts:
``availability = run / (run + down)`` (idle and operator pauses are not planned production and count for neither),
``performance = ideal time of the parts made / run time``, ``quality_rate = good / (good + scrap)``,
``first_pass_yield = good without rework / (good + scrap)``; each clamped to 0..1, and ``oee`` is their product.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from itertools import pairwise

from console.api.models import Quality, SpcSeries

from .catalog import KINDS, Characteristic
from .construct import build_quality, build_spc_series
from .draws import gauss
from .spc import cpk, western_electric
from .world import MachineRec

__all__ = [
    "SPC_POINTS",
    "WINDOW_H",
    "MachineSpc",
    "Measurements",
    "machine_totals",
    "quality_model",
    "spc_of",
]

WINDOW_H = 8.0
WINDOW_S = WINDOW_H * 3600.0
SPC_POINTS = 30  # values per series: a chart's screenful (every machine's Quality carries them: snapshot weight)
RECENT_POINTS = 3  # Western Electric rules are judged on windows ending in the newest points
WANDER_PHI = 0.9  # in control, the mean's damped random walk: offset = phi * offset + N(0, WANDER * sigma)
WANDER = 0.05
WANDER_SD = WANDER / math.sqrt(1.0 - WANDER_PHI**2)  # its stationary spread, in sigmas (~0.11)
LIMIT_SIGMA = math.sqrt(1.0 + WANDER_SD**2)  # the baseline's sigma, in units of the noise's
EPISODE_P = 0.006  # chance per sample that an assignable cause starts a drift episode
EPISODE_LEN = (8, 25)  # samples until the cause is found and removed
POOR_P = 0.1  # share of machines whose process is barely capable
_HOUR = 3600.0


class _Char:
    __slots__ = ("built", "drift", "episode_left", "offset", "shift", "sigma", "spec", "values")

    def __init__(self, spec: Characteristic, sigma: float, offset: float) -> None:
        self.spec = spec
        self.sigma = sigma
        self.offset = offset  # the in-control wander of the mean
        self.shift = 0.0  # an assignable cause's share of it (a step, or a ramp growing by ``drift`` per sample)
        self.drift = 0.0
        self.episode_left = 0
        self.values: list[float] = []
        self.built: SpcSeries | None = None  # the chart of ``values`` as last built (``spc_of``); None once they move


class MachineSpc:
    """A machine's measurement process: its own random generator (seeded from the simulation seed and the machine),
    so it can be created lazily without changing any other draw."""

    def __init__(self, seed: int, machine: MachineRec) -> None:
        self.rng = random.Random(seed * 1_000_003 + machine.idx * 7_919 + 17)
        self.chars: list[_Char] = []
        poor = self.rng.random() < POOR_P
        for spec in machine.spec.characteristics:
            half = min(spec.usl - spec.nominal, spec.nominal - spec.lsl)
            cp = 0.95 + self.rng.random() * 0.35 if poor else 1.45 + self.rng.random() * 0.75
            sigma = half / (3.0 * cp)
            c = _Char(spec, sigma, gauss(self.rng, WANDER_SD * sigma))
            self.chars.append(c)
            for _ in range(30):  # the recent past (``_draw`` keeps each value)
                self._draw(c, wear=False)

    def _draw(self, c: _Char, wear: bool) -> float:
        rng = self.rng
        c.offset = c.offset * WANDER_PHI + gauss(rng, WANDER * c.sigma)
        if c.episode_left > 0:
            c.episode_left -= 1
            c.shift += c.drift
            if c.episode_left == 0:
                c.drift = 0.0
        else:
            c.shift *= 0.5  # the cause was removed: the process settles back
            if rng.random() < EPISODE_P:  # an assignable cause: a step shift, or a ramp
                sign = 1.0 if rng.random() < 0.5 else -1.0
                c.episode_left = rng.randint(*EPISODE_LEN)
                if rng.random() < 0.5:
                    c.shift = sign * (1.0 + rng.random()) * c.sigma
                else:
                    c.drift = sign * (0.1 + 0.1 * rng.random()) * c.sigma
        if wear:
            c.shift += 0.35 * c.sigma
        value = c.spec.nominal + c.offset + c.shift + gauss(rng, c.sigma)
        if c.spec.lsl >= 0.0 and c.spec.nominal > 0.0:
            value = max(0.0, value)  # flatness, roughness, weight are never negative
        value = round(value, 4)  # a gauge's resolution; more digits only weigh on the wire
        c.values.append(value)
        if len(c.values) > SPC_POINTS:
            del c.values[0 : len(c.values) - SPC_POINTS]
        c.built = None
        return value

    def measure(self, batch_n: int, defect_p: float, wear: bool) -> tuple[int, int, int]:
        """Make a batch of ``batch_n`` parts: returns (good, scrap, reworked among good)."""
        scrap = sum(1 for _ in range(batch_n) if self.rng.random() < defect_p)
        rework = 0
        out_of_spec = False
        for c in self.chars:
            v = self._draw(c, wear)
            if not c.spec.lsl <= v <= c.spec.usl:
                out_of_spec = True
        if out_of_spec and scrap < batch_n:
            if self.rng.random() < 0.5:
                rework = 1  # reworked to spec: good, but not first pass
            else:
                scrap += 1
        scrap = min(scrap, batch_n)
        return batch_n - scrap, scrap, min(rework, batch_n - scrap)

    def assignable_cause(self, sigmas: float, samples: int) -> None:
        """An assignable cause starts now (the opening scene's): every characteristic's mean steps ``sigmas`` process
        sigmas off nominal for the next ``samples`` samples (no random draw: the machine's story is otherwise kept)."""
        for c in self.chars:
            c.shift = sigmas * c.sigma
            c.drift = 0.0
            c.episode_left = samples

    def reset_drift(self) -> None:
        """A tool change or maintenance re-centres the process."""
        for c in self.chars:
            c.offset = gauss(self.rng, WANDER_SD * c.sigma)
            c.shift = c.drift = 0.0
            c.episode_left = 0


def spc_of(spc: MachineSpc) -> list[SpcSeries]:
    """The machine's control charts. A chart is built again only when its values moved since it was last built: a
    machine's quality is sent (and read) far more often than it finishes a batch, and building the series (limits,
    rules, Cpk, a validated record) was a fifth of the simulation's time. The records are frozen, so sharing one
    between two ``Quality`` records changes nothing anyone can see."""
    out: list[SpcSeries] = []
    for c in spc.chars:
        series = c.built
        if series is None:
            s = c.spec
            series = c.built = build_spc_series(
                characteristic=s.name,
                unit=s.unit,
                nominal=float(s.nominal),
                lsl=float(s.lsl),
                usl=float(s.usl),
                lcl=round(s.nominal - 3 * c.sigma * LIMIT_SIGMA, 4),
                ucl=round(s.nominal + 3 * c.sigma * LIMIT_SIGMA, 4),
                values=list(c.values),
                violations=western_electric(c.values, s.nominal, c.sigma * LIMIT_SIGMA, recent=RECENT_POINTS),
                cpk=cpk(c.values, s.lsl, s.usl),
            )
        out.append(series)
    return out


def _shared_names() -> set[str]:
    """Characteristic names measured by more than one process (with other limits): pooled series qualify them."""
    by_name: dict[str, set[str]] = {}
    for spec in KINDS.values():
        for c in spec.characteristics:
            by_name.setdefault(c.name, set()).add(spec.process)
    return {name for name, processes in by_name.items() if len(processes) > 1}


_SHARED = _shared_names()


class Measurements:
    """The recent measurements of a group of machines (a node, or the whole cluster), per characteristic of a process,
    newest last, in the order they were made: the data of a pooled control chart.

    Machines of one process measure the same characteristics with the same nominal and limits everywhere, so a series
    of one node compares with the same series of another (the point of a cluster: the same quality at every site).
    """

    __slots__ = ("built", "order", "series")

    def __init__(self) -> None:
        self.series: dict[tuple[str, str], tuple[Characteristic, list[float]]] = {}
        self.built: dict[tuple[str, str], SpcSeries] = {}  # series whose values have not moved since ``spc`` built them
        self.order: list[tuple[str, str]] | None = None  # the keys in ``spc``'s order (None after a new key)

    def add(self, process: str, spec: Characteristic, value: float) -> None:
        key = (process, spec.name)
        entry = self.series.get(key)
        if entry is None:
            entry = self.series[key] = (spec, [])
            self.order = None
        values = entry[1]
        values.append(value)
        if len(values) > SPC_POINTS:
            del values[0 : len(values) - SPC_POINTS]
        self.built.pop(key, None)

    def spc(self) -> list[SpcSeries]:
        """One series per characteristic measured (two values at least), sorted by name. The pooled process sigma is
        estimated from the average moving range (``MR / 1.128``, as for an individuals chart); limits, rules and Cpk
        are then computed like a machine's.

        A series is built again only when a value was added since it was last built: the flush asks every minute for
        every node that changed, most of whose series did not (this was the simulation's largest single cost)."""
        order = self.order
        if order is None:
            order = self.order = sorted(self.series, key=lambda key: (key[1], key[0]))
        built = self.built
        out: list[SpcSeries] = []
        for key in order:
            series = built.get(key)
            if series is None:
                s, values = self.series[key]
                if len(values) < 2:
                    continue
                series = built[key] = self._build(key[0], s, values)
            out.append(series)
        return out

    @staticmethod
    def _build(process: str, s: Characteristic, values: list[float]) -> SpcSeries:
        mr = sum(abs(b - a) for a, b in pairwise(values)) / (len(values) - 1)
        sigma = mr / 1.128
        label = f"{s.name} ({process})" if s.name in _SHARED else s.name
        return build_spc_series(
            characteristic=label,
            unit=s.unit,
            nominal=float(s.nominal),
            lsl=float(s.lsl),
            usl=float(s.usl),
            lcl=round(s.nominal - 3 * sigma, 4),
            ucl=round(s.nominal + 3 * sigma, 4),
            values=list(values),
            violations=western_electric(values, s.nominal, sigma, recent=RECENT_POINTS),
            cpk=cpk(values, s.lsl, s.usl),
        )


def book(m: MachineRec, t0: float, t1: float, slot: int) -> None:
    """Add the interval [t0, t1] to bucket field ``slot`` (0 run, 1 down), split at hour boundaries."""
    while t1 > t0:
        hour = int(t0 // _HOUR)
        end = min(t1, (hour + 1) * _HOUR)
        bucket = m.buckets.get(hour)
        if bucket is None:
            bucket = m.buckets[hour] = [0.0] * 6
            for old in [h for h in m.buckets if h < hour - WINDOW_H - 1]:
                del m.buckets[old]
        bucket[slot] += end - t0
        t0 = end


def add_count(m: MachineRec, t: float, slot: int, value: float) -> None:
    """Add ``value`` to bucket field ``slot`` (2 ideal, 3 good, 4 scrap, 5 first pass good) at time ``t``."""
    hour = int(t // _HOUR)
    bucket = m.buckets.get(hour)
    if bucket is None:
        bucket = m.buckets[hour] = [0.0] * 6
    bucket[slot] += value


def machine_totals(m: MachineRec, t: float) -> list[float]:
    """[run, down, ideal, good, scrap, first_pass_good] over the window ending at ``t``. Does not change ``m``.

    Called for every machine of every changed node once a simulated minute: the six sums are kept in locals (the
    same additions in the same order as a loop over the fields, so the same floats), which halves its cost."""
    first_hour = int(t // _HOUR) - int(WINDOW_H) + 1
    weight = max(0.0, 1.0 - t / WINDOW_S)
    h_run, h_down, h_ideal, h_good, h_scrap, h_fpg = m.history
    run, down, ideal, good, scrap, fpg = (
        h_run * weight,
        h_down * weight,
        h_ideal * weight,
        h_good * weight,
        h_scrap * weight,
        h_fpg * weight,
    )
    for hour, bucket in m.buckets.items():
        if hour >= first_hour:
            b_run, b_down, b_ideal, b_good, b_scrap, b_fpg = bucket
            run += b_run
            down += b_down
            ideal += b_ideal
            good += b_good
            scrap += b_scrap
            fpg += b_fpg
    ongoing = t - max(m.acct_since, first_hour * _HOUR)
    if ongoing > 0:
        if m.state == "running":
            run += ongoing
        elif m.state in ("fault", "blocked", "maintenance"):
            down += ongoing
    return [run, down, ideal, good, scrap, fpg]


def _frac(x: float) -> float:
    if not math.isfinite(x):
        return 0.0
    return round(min(1.0, max(0.0, x)), 4)


def quality_model(scope: str, scope_id: str, totals: Iterable[float], spc: list[SpcSeries]) -> Quality:
    run, down, ideal, good, scrap, fpg = totals
    made = good + scrap
    availability = _frac(run / (run + down)) if run + down > 0 else 1.0
    performance = _frac(ideal / run) if run > 0 else 0.0
    quality_rate = _frac(good / made) if made > 0 else 1.0
    fpy = _frac(fpg / made) if made > 0 else 1.0
    scrap_rate = _frac(scrap / made) if made > 0 else 0.0
    return build_quality(
        scope=scope,
        id=scope_id,
        window_h=WINDOW_H,
        oee=_frac(availability * performance * quality_rate),
        availability=availability,
        performance=performance,
        quality_rate=quality_rate,
        first_pass_yield=fpy,
        scrap_rate=scrap_rate,
        good_count=max(0, round(good)),
        scrap_count=max(0, round(scrap)),
        spc=spc,
    )
