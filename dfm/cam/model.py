"""Toolpath data: immutable steps, operations, setups and the program.

Strategies return steps; filters return new step tuples (``dataclasses.replace``); posts
only format them. Coordinates are tool-centre positions (tool tip, flat bottom) in the
setup's work coordinates, mm.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dfm.cam.data import Cutter


@dataclass(frozen=True)
class Rapid:
    """G0 to (x, y, z)."""

    x: float
    y: float
    z: float


@dataclass(frozen=True)
class Feed:
    """G1 to (x, y, z). ``role``: cut | ramp | link | lead | descend; ``feed`` set by a filter."""

    x: float
    y: float
    z: float
    role: str = "cut"
    feed: float | None = None


@dataclass(frozen=True)
class Arc:
    """G2/G3 in the XY plane to (x, y, z) about the absolute centre (cx, cy); helical if z changes."""

    x: float
    y: float
    z: float
    cx: float
    cy: float
    ccw: bool
    role: str = "cut"
    feed: float | None = None


@dataclass(frozen=True)
class DrillCycle:
    """G83 peck drilling at (x, y) from the R plane ``r`` to ``z``, pecks of ``peck`` mm."""

    x: float
    y: float
    z: float
    r: float
    peck: float
    feed: float | None = None


@dataclass(frozen=True)
class ToolChange:
    """Load tool number ``number`` (T.. M6)."""

    number: int
    cutter_id: str


@dataclass(frozen=True)
class Spindle:
    """Spindle clockwise at ``rpm`` (M3), or stopped when ``rpm`` is 0 (M5)."""

    rpm: float


@dataclass(frozen=True)
class Comment:
    """A comment line."""

    text: str


Step = Rapid | Feed | Arc | DrillCycle | ToolChange | Spindle | Comment
MOTION = (Rapid, Feed, Arc, DrillCycle)


@dataclass(frozen=True)
class CuttingData:
    """Speeds and feeds of one tool in one operation, with where each number came from.

    Attributes:
        rpm: Spindle speed.
        feed_mm_min: Cutting feed (tool centre, straight moves).
        fz_mm: Programmed feed per tooth (after chip-thinning correction).
        ap_mm: Axial depth per pass.
        ae_mm: Radial engagement the feed was computed for.
        peck_mm: Peck depth (drilling).
        fz_max_mm: The largest chip the material table allows this tool (0: none given);
            the guard lowers the feed of any move whose simulated engagement would exceed it.
        lines: Header lines that cite the table rows and settings behind each number.
        warnings: Limits that bind (rpm capped, feed capped, chip thinner than h_min...).
    """

    rpm: float
    feed_mm_min: float
    fz_mm: float
    ap_mm: float
    ae_mm: float
    peck_mm: float = 0.0
    lines: tuple[str, ...] = ()
    fz_max_mm: float = 0.0
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Tool:
    """A tool in the program: its T number and catalogue row."""

    number: int
    cutter: Cutter

    @property
    def radius(self) -> float:
        """Cutting radius, mm."""
        return self.cutter.diameter_mm / 2.0


@dataclass(frozen=True)
class Operation:
    """One machining operation: a strategy's steps with one tool.

    Attributes:
        name: Unique in the program (``pocket-1 rough``).
        kind: facing | pocket | slot | step | profile | drill | helix | finish-wall | ...
        features: Feature ids machined.
        tool: The tool.
        cutting: Speeds and feeds.
        steps: The toolpath (after filters: feeds set, retracts inserted).
        notes: Remarks for the header (rest material left, assumptions).
        into_part_mm: How far past the modelled surface this operation cuts on purpose (a
            finishing pass machined to a pre-finish size); the guard allows that much.
    """

    name: str
    kind: str
    features: tuple[str, ...]
    tool: Tool
    cutting: CuttingData
    steps: tuple[Step, ...]
    notes: tuple[str, ...] = ()
    into_part_mm: float = 0.0


@dataclass(frozen=True)
class Setup:
    """One clamping: an approach direction and its operations.

    Attributes:
        index: 1 for the first setup.
        approach: Direction the tool comes from, in model coordinates.
        orientation: Sentence stating how program axes map to model axes.
        stock_min, stock_max: Stock box in the setup's coordinates.
        part_top: Part top (z) in the setup's coordinates.
        operations: Operations in order.
        unmachined: Features this setup should cut but cannot, with the reason.
        partly: Features this setup machines only in part: what is left, and why (a hole's
            countersink with no tool planned for it, while its bore is machined).
    """

    index: int
    approach: tuple[float, float, float]
    orientation: str
    stock_min: tuple[float, float, float]
    stock_max: tuple[float, float, float]
    part_top: float
    operations: tuple[Operation, ...]
    unmachined: tuple[tuple[str, str], ...] = ()
    partly: tuple[tuple[str, str], ...] = ()
    safe_z: float = 0.0
    part_bottom: float = 0.0


@dataclass(frozen=True)
class Program:
    """The whole program: setups, tools and what could not be machined.

    Attributes:
        part: Part file name.
        material: Material row name.
        setups: Setups in order.
        tools: Every tool used, by T number.
        settings: Settings used (name → value) and their sources.
        unreachable: Features no axis direction reaches, with the reason.
        meta: Extra header facts (dfm version, timestamp passed in).
    """

    part: str
    material: str
    material_sources: tuple[str, ...]
    setups: tuple[Setup, ...]
    tools: tuple[Tool, ...]
    settings: Mapping[str, float]
    settings_source: Mapping[str, str]
    unreachable: tuple[tuple[str, str], ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)
