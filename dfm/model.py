"""The data dfm passes between its layers: frozen dataclasses, no OCP.

Lengths are millimetres everywhere. Face and edge ids are 1-based, in the order of the
body's topological explorer (FreeCAD's ``Face7`` is our face 7).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

RESULT_SCHEMA = "dfm-result/1"

Vec3 = tuple[float, float, float]


class Severity(str, enum.Enum):  # noqa: UP042 - StrEnum would turn str()/format() 'Severity.ERROR' into 'error'
    """How bad a finding is. Ordered: error > warning > info."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for the worst severity, so that sorting puts errors first."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True)
class Measurement:
    """A named value measured on a body, with where it was found.

    Attributes:
        name: Key in the JSON ``measurements`` map, unit-suffixed (``min_wall_thickness_mm``).
        value: The value in the unit its name says.
        faces: 1-based face ids the value comes from.
        location_mm: A point where the value was measured, if any.
    """

    name: str
    value: float
    faces: tuple[int, ...] = ()
    location_mm: Vec3 | None = None


@dataclass(frozen=True)
class Feature:
    """A recognised feature: a hole, slot, pocket, thread, wall, corner...

    Attributes:
        id: Unique in its body (``hole-3``).
        kind: ``hole`` | ``slot`` | ``pocket`` | ``step`` | ``thread`` | ``wall`` | ``corner`` |
            ``anodize_allowance`` | ...
        faces: 1-based face ids of the feature.
        dims: Numeric dimensions with unit suffixes (``diameter_mm``, ``depth_mm``, ``ratio``).
        props: Non-numeric facts (``through``: bool, ``designation``: "M2x0.4", ``source``...).
        location_mm: A representative point.
        axis: Unit direction of the feature's axis or approach, if it has one.
    """

    id: str
    kind: str
    faces: tuple[int, ...] = ()
    dims: Mapping[str, float] = field(default_factory=dict)
    props: Mapping[str, Any] = field(default_factory=dict)
    location_mm: Vec3 | None = None
    axis: Vec3 | None = None


@dataclass(frozen=True)
class Finding:
    """One judgement of a rule on a body.

    Attributes:
        code: Stable rule code (``DFM101``).
        name: Kebab-case rule name (``thin-wall``).
        severity: error, warning or info.
        message: One sentence with the measured value and the limit.
        value: Measured value (in ``unit``), if the rule compares a number.
        limit: The limit it was compared with.
        unit: Unit of value and limit (``mm``, ``ratio``, ``um``...).
        faces: Face ids concerned.
        location_mm: Where, in the model's coordinates.
        feature: Id of the feature the finding is about, if any.
        why: Why this is bad to make.
        fix: What to change.
    """

    code: str
    name: str
    severity: Severity
    message: str
    value: float | None = None
    limit: float | None = None
    unit: str = ""
    faces: tuple[int, ...] = ()
    location_mm: Vec3 | None = None
    feature: str | None = None
    why: str = ""
    fix: str = ""

    def sort_key(self) -> tuple[int, str, tuple[int, ...], str]:
        """Deterministic order: severity, code, faces, message."""
        return (self.severity.rank, self.code, self.faces, self.message)


@dataclass(frozen=True)
class ToolChoice:
    """A cutter recommended for a body, with the features it machines."""

    id: str
    kind: str
    diameter_mm: float
    reach_mm: float
    flute_length_mm: float
    flutes: int
    source: str
    role: str
    features: tuple[str, ...] = ()
    corner_radius_mm: float = 0.0
    name: str = ""


@dataclass(frozen=True)
class BodyResult:
    """What dfm found on one solid of the file."""

    index: int
    name: str
    bbox_mm: Vec3
    bbox_min_mm: Vec3
    volume_mm3: float
    faces: int
    edges: int
    measurements: Mapping[str, Measurement] = field(default_factory=dict)
    features: tuple[Feature, ...] = ()
    findings: tuple[Finding, ...] = ()
    tools: tuple[ToolChoice, ...] = ()
    #: Where cutters come from (``dfm.features.access``): ``undercut_faces`` [face ids] and
    #: ``setups`` [{approach [x, y, z], features, tilt_deg}], most-used first.
    access: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ErrorInfo:
    """Why a file could not be analysed."""

    code: str
    name: str
    message: str


@dataclass(frozen=True)
class DfmResult:
    """The one result object every front end reads.

    ``status`` is ``ok`` or ``error``; with ``error`` the ``error`` field says why and
    ``bodies`` is empty.
    """

    file: str
    status: str
    error: ErrorInfo | None = None
    source_units: str = "unknown"
    source_schema: str = ""
    product_names: tuple[str, ...] = ()
    bodies: tuple[BodyResult, ...] = ()
    findings: tuple[Finding, ...] = ()  # file-level (units, size, input repairs)
    settings: Mapping[str, Any] = field(default_factory=dict)
    generated_at: str | None = None
    dfm_version: str = ""
    #: The machining plan's summary (``dfm.cam``): cycle time per operation and program, tools.
    cam: Mapping[str, Any] | None = None

    @property
    def all_findings(self) -> tuple[Finding, ...]:
        """File-level and body findings together."""
        out = list(self.findings)
        for body in self.bodies:
            out.extend(body.findings)
        return tuple(out)

    @property
    def verdict(self) -> str:
        """``fail`` on an input error or any error finding, ``warn`` on warnings, else ``pass``."""
        if self.status != "ok":
            return "fail"
        severities = {f.severity for f in self.all_findings}
        if Severity.ERROR in severities:
            return "fail"
        if Severity.WARNING in severities:
            return "warn"
        return "pass"

    @property
    def exit_code(self) -> int:
        """0 no error findings, 1 error findings, 2 input error."""
        if self.status != "ok":
            return 2
        return 1 if self.verdict == "fail" else 0
