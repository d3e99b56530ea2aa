"""Feature analysers: they measure, never judge (judgement lives in rules).

``analyse(ctx)`` is the first stage of the body pipeline (``dfm/stages.py``). It fills
``ctx.measurements`` and ``ctx.features`` following ``docs/features.md``.
"""

from __future__ import annotations

from dfm.features.common import Analysis
from dfm.kernel.geom import geometry
from dfm.stages import BodyContext


def analyse_solid(solid) -> Analysis:  # type: ignore[no-untyped-def]
    """Run every analyser on a kernel solid and return what they found."""
    from dfm.features import access, corners, holes, pockets, threads, walls

    an = Analysis(geo=geometry(solid))
    holes.find_holes(an)
    pockets.find_pockets(an)
    threads.find_threads(an)
    access.assess(an)  # undercuts need the features; corners are judged against their approach
    corners.find_corners(an)
    walls.find_walls(an)
    return an


def analyse(ctx: BodyContext) -> None:
    """Pipeline stage: measure the body."""
    an = analyse_solid(ctx.solid)
    ctx.features.extend(an.features)
    ctx.measurements.update(an.measurements)
    ctx.scratch["analysis"] = an
    ctx.scratch["access"] = an.access
