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

