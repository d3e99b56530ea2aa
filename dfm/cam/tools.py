"""Which catalogue cutter machines what, until and unless ``dfm.tooling`` has chosen.

``dfm.tooling`` (the largest-usable-tool search) records its choices on the body as
``ToolChoice`` rows (role rough/finish/rest/drill, with the features they machine); the
planner uses those first. For what they do not cover (the outside profile, facing, a
feature the search left out) this module picks from the same catalogue with the same
principle: the largest square end mill that fits and reaches, shortest reach first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dfm.cam.data import Cutter
from dfm.model import ToolChoice


def pick_endmill(catalogue: Sequence[Cutter], *, max_d: float, reach: float, min_d: float = 0.0) -> Cutter | None:
    """The largest square end mill with ``min_d ≤ D ≤ max_d`` and reach ≥ ``reach`` (shortest reach wins)."""
    ok = [c for c in catalogue if c.kind == "square" and min_d - 1e-9 <= c.diameter_mm <= max_d + 1e-9
          and c.reach_mm is not None and c.reach_mm >= reach - 1e-9]
    if not ok:
        return None
    return min(ok, key=lambda c: (-c.diameter_mm, c.reach_mm, c.id))


def pick_drill(catalogue: Sequence[Cutter], *, diameter: float, reach: float, match: float) -> Cutter | None:
    """A drill of the hole's diameter (within ``match``) that reaches, shortest first."""
    ok = [c for c in catalogue if c.kind == "drill" and abs(c.diameter_mm - diameter) <= match + 1e-9
          and c.reach_mm is not None and c.reach_mm >= reach - 1e-9]
    return min(ok, key=lambda c: (c.reach_mm, c.id)) if ok else None


def from_tooling(choices: Sequence[ToolChoice], catalogue: Sequence[Cutter]) -> dict[tuple[str, str], Cutter]:
    """(feature id, role) → cutter, from ``dfm.tooling``'s choices on the body."""
    by_id: Mapping[str, Cutter] = {c.id: c for c in catalogue}
    out: dict[tuple[str, str], Cutter] = {}
    for tc in choices:
        cutter = by_id.get(tc.id)
        if cutter is None:
            continue
        for fid in tc.features:
            out.setdefault((fid, tc.role), cutter)
    return out


def pick_thread_mill(catalogue: Sequence[Cutter], *, major: float, pitch: float, bore: float, reach: float,
                     clearance: float, thread_length: float) -> tuple[Cutter | None, list[str]]:
    """The largest thread mill that cuts ``pitch`` inside a bore of Ø``bore`` up to Ø``major``.

    A thread mill fits when its pitch range holds the pitch, its tip diameter D leaves
    ``clearance`` each side in the bore (it enters along the axis), D is below the major
    diameter (the helix radius major/2 − D/2 is positive), it reaches ``reach`` below the
    part top, and what is above its teeth clears the thread's crests on the helix: the neck
    (``neck_diameter_mm``) with ``clearance``, or no neck at all when the toothed length covers
    the whole thread (``thread_length`` plus one pitch). Largest D wins, then the shortest reach.

    Returns:
        (the tool or None, why each thread mill of the catalogue was rejected).
    """
    ok: list[Cutter] = []
    why: list[str] = []
    for c in catalogue:
        if c.kind != "thread-mill":
            continue
        rc = c.diameter_mm / 2
        helix = major / 2 - rc
        neck_ok = (c.neck_diameter_mm is not None and helix + c.neck_diameter_mm / 2 <= bore / 2 - clearance + 1e-9) \
            or (c.flute_length_mm is not None and c.flute_length_mm >= thread_length + pitch - 1e-9)
        if c.pitch_min_mm is None or c.pitch_max_mm is None or not (
                c.pitch_min_mm - 1e-9 <= pitch <= c.pitch_max_mm + 1e-9):
            why.append(f"{c.id}: pitch range does not hold P{pitch:g}")
        elif c.diameter_mm > bore - 2 * clearance + 1e-9:
            why.append(f"{c.id}: Ø{c.diameter_mm:g} does not enter the Ø{bore:g} bore with {clearance:g} mm clearance")
        elif helix <= 1e-3:
            why.append(f"{c.id}: Ø{c.diameter_mm:g} leaves no helix inside the Ø{major:g} major diameter")
        elif c.reach_mm is None or c.reach_mm < reach - 1e-9:
            why.append(f"{c.id}: reach {c.reach_mm if c.reach_mm is not None else '?'} mm < {reach:g} mm")
        elif not neck_ok:
            why.append(f"{c.id}: its neck (Ø{c.neck_diameter_mm if c.neck_diameter_mm is not None else '?'}) "
                       f"would rub the thread crests on the R{helix:.4g} helix")
        else:
            ok.append(c)
    if not ok:
        return None, why
    return min(ok, key=lambda c: (-c.diameter_mm, c.reach_mm, c.id)), why
