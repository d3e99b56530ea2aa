"""Thread milling: which thread mill cuts an internal thread, and how deep its tip must go.

Shared by the tool search (``dfm.tooling``, the part's tool set) and the program generator
(``dfm gcode``), so the thread mill the check recommends is the one the program loads. Works on
any tool row with the catalogue's field names (``dfm.tooling.catalogue.Tool`` or
``dfm.cam.data.Cutter``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from dfm.model import Feature
from dfm.threads import by_designation

#: The helix starts this many pitches below the thread's end: a quarter-pitch lead-in and one
#: whole turn, so that the form is full over the whole called-out length.
LEAD_PITCHES = 1.25


class ThreadMillRow(Protocol):
    """The fields of a catalogue row the pick reads."""

    @property
    def id(self) -> str: ...  # noqa: D102
    @property
    def kind(self) -> str: ...  # noqa: D102
    @property
    def diameter_mm(self) -> float: ...  # noqa: D102
    @property
    def neck_diameter_mm(self) -> float | None: ...  # noqa: D102
    @property
    def flute_length_mm(self) -> float | None: ...  # noqa: D102
    @property
    def pitch_min_mm(self) -> float | None: ...  # noqa: D102
    @property
    def pitch_max_mm(self) -> float | None: ...  # noqa: D102
    @property
    def usable_reach_mm(self) -> float | None: ...  # noqa: D102


T = TypeVar("T", bound=ThreadMillRow)


@dataclass(frozen=True)
class ThreadJob:
    """What milling one internal thread asks of a thread mill (lengths in mm, depths below the hole's opening).

    Attributes:
        major: Major diameter.
        pitch: Pitch.
        bore: Diameter of the bore the thread is cut in (the crests).
        bore_top: Depth of the top of the main bore (below an entry counterbore).
        tip_depth: Deepest point of the tool's tip.
        full_length: Length of full thread the tip depth allows (the called-out length unless
            the hole's floor is in the way).
        length: The called-out length.
        profile_angle_deg: Included flank angle (60° for ISO metric and UN, the only forms in
            rules/data/threads.toml).
    """

    major: float
    pitch: float
    bore: float
    bore_top: float
    tip_depth: float
    full_length: float
    length: float
    profile_angle_deg: float = 60.0

    @property
    def cut_length(self) -> float:
        """Axial length the helix runs over, from the tip's lowest point to the bore's top."""
        return self.tip_depth - self.bore_top

    @property
    def limited(self) -> bool:
        """True when the bore's end, not the called-out length, sets the tip depth."""
        return self.full_length < self.length - 1e-9


def thread_reach(job: ThreadJob, above: float) -> float:
    """Reach a thread mill needs: its tip depth plus ``above`` (the hole's opening below the part's top)."""
    return job.tip_depth + above


class ThreadError(ValueError):
    """The thread cannot be milled as called out (why in the message)."""


def entry_bore_top(hole: Feature) -> float:
    """Depth below the opening of a hole's main bore: under the floors of its entry counterbores."""
    top = 0.0
    for st in hole.props.get("stack") or []:
        if st.get("kind") == "counterbore" and st.get("side", "entry") == "entry":
            top = max(top, float(st.get("from_mm", 0.0)) + float(st["depth_mm"]))
    return top


def through_extra(thread: Feature, hole: Feature, *, breakthrough: float, clearance: float) -> float:
    """How much deeper than ``breakthrough`` a through hole must be cut for its thread.

    A thread that runs out at the part's bottom has full form to the exit only if the thread
    mill's tip can go ``LEAD_PITCHES`` pitches below it, so the hole's drilling or milling goes
    that much further into the stock below the part. 0 for blind holes and short threads.
    """
    if not hole.props.get("through"):
        return 0.0
    try:
        size = _size(thread)
    except ThreadError:
        return 0.0
    length = float(thread.dims.get("length_mm") or hole.dims.get("depth_mm") or 0.0)
    hole_depth = float(hole.props.get("drill_depth_mm", hole.dims.get("depth_mm", 0.0)))
    want = entry_bore_top(hole) + length + LEAD_PITCHES * size[1] + clearance
    return max(0.0, want - hole_depth - breakthrough)


def _size(thread: Feature) -> tuple[float, float]:
    """(major diameter, pitch): the designation's row when it has one, else as measured."""
    d = thread.dims
    row = by_designation(str(thread.props.get("designation", "")))
    if row is not None:  # cut to the named size (a modelled thread measures within a few nm of it)
        return row.major_mm, row.pitch_mm
    for k in ("major_diameter_mm", "pitch_mm"):
        if not d.get(k):
            raise ThreadError(f"the thread's {k} is unknown (designation not in rules/data/threads.toml)")
    return float(d["major_diameter_mm"]), float(d["pitch_mm"])


def thread_job(thread: Feature, hole: Feature, *, breakthrough: float, clearance: float,
               extra: float = 0.0) -> ThreadJob:
    """The thread mill's job for an internal ``thread`` in ``hole``.

    The size is the designation's row of ``rules/data/threads.toml`` when it has one, else the
    measured major diameter and pitch. The tip goes ``LEAD_PITCHES`` pitches below the
    thread's end, but never closer than ``clearance`` to the end of the full-diameter bore:
    its floor, or ``breakthrough`` (+ ``extra``, see :func:`through_extra`) below the part for a
    through hole. Where that stops it,
    the full thread is shorter (``full_length``; the last turn runs out incomplete).

    Raises:
        ThreadError: Unknown major diameter or pitch, a major diameter not above the bore, no
            length, or a bore too shallow for any full thread.
    """
    d = thread.dims
    major, pitch = _size(thread)
    bore = float(hole.dims["diameter_mm"])
    if major <= bore + 1e-9:
        raise ThreadError(f"its major diameter {major:g} mm is not larger than the Ø{bore:g} mm hole")
    length = float(d.get("length_mm") or hole.dims.get("depth_mm") or 0.0)
    if length <= 0:
        raise ThreadError("the thread length is unknown")
    top = entry_bore_top(hole)
    hole_depth = float(hole.props.get("drill_depth_mm", hole.dims.get("depth_mm", 0.0)))
    lead = LEAD_PITCHES * pitch
    tip = top + length + lead
    # the deepest the bore is cut to full diameter: to its floor, or through the part and the
    # breakthrough below it (a drill's point is narrower still)
    cleared = hole_depth + (breakthrough + extra if hole.props.get("through") else 0.0)
    if tip > cleared - clearance + 1e-9:
        tip = cleared - clearance
    full = min(length, tip - lead - top)
    if full <= 0:
        raise ThreadError(f"the bore is too shallow for a thread mill: {cleared - top:.4g} mm of bore below its top, "
                          f"a thread mill needs {lead:.4g} mm ({LEAD_PITCHES:g} pitch) below the thread's end")
    return ThreadJob(major, pitch, bore, top, tip, full, length)


def pick_thread_mill(tools: Iterable[T], job: ThreadJob, *, reach: float, clearance: float
                     ) -> tuple[T | None, list[str]]:
    """The largest thread mill that cuts ``job``, and why each other thread mill does not.

    A thread mill fits when its pitch range holds the pitch, its tip diameter D leaves
    ``clearance`` each side in the bore (it enters along the axis), D is below the major
    diameter (the helix radius major/2 − D/2 is positive), it reaches ``reach`` (the tip
    depth plus whatever lies above the hole's opening), and what is above its teeth clears the
    crests on the helix: the neck (``neck_diameter_mm``) with ``clearance``, or no neck at all
    when the toothed length covers the whole cut plus one pitch. Largest D wins, then the
    shortest reach, then the id.
    """
    ok: list[T] = []
    why: list[str] = []
    p = job.pitch
    for c in tools:
        if c.kind != "thread-mill":
            continue
        rc = c.diameter_mm / 2
        helix = job.major / 2 - rc
        c_reach = c.usable_reach_mm
        neck_ok = (c.neck_diameter_mm is not None
                   and helix + c.neck_diameter_mm / 2 <= job.bore / 2 - clearance + 1e-9) \
            or (c.flute_length_mm is not None and c.flute_length_mm >= job.cut_length + p - 1e-9)
        angle = getattr(c, "profile_angle_deg", None)
        if angle is not None and abs(angle - job.profile_angle_deg) > 0.5:
            why.append(f"{c.id}: its {angle:g}° tooth form is not the thread's {job.profile_angle_deg:g}°")
        elif c.pitch_min_mm is None or c.pitch_max_mm is None or not (
                c.pitch_min_mm - 1e-9 <= p <= c.pitch_max_mm + 1e-9):
            why.append(f"{c.id}: pitch range does not hold P{p:g}")
        elif c.diameter_mm > job.bore - 2 * clearance + 1e-9:
            why.append(f"{c.id}: Ø{c.diameter_mm:g} does not enter the Ø{job.bore:g} bore with {clearance:g} mm "
                       "clearance")
        elif helix <= 1e-3:
            why.append(f"{c.id}: Ø{c.diameter_mm:g} leaves no helix inside the Ø{job.major:g} major diameter")
        elif c_reach is None or c_reach < reach - 1e-9:
            why.append(f"{c.id}: reach {c_reach if c_reach is not None else '?'} mm < {round(reach, 4):g} mm")
        elif not neck_ok:
            why.append(f"{c.id}: its neck (Ø{c.neck_diameter_mm if c.neck_diameter_mm is not None else '?'}) "
                       f"would rub the thread crests on the R{helix:.4g} helix")
        else:
            ok.append(c)
    if not ok:
        return None, why
    return min(ok, key=lambda c: (-c.diameter_mm, c.usable_reach_mm or 0.0, c.id)), why
