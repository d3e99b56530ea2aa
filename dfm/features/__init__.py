"""Feature analysers: they measure, never judge (judgement lives in rules).

``analyse(ctx)`` is the first stage of the body pipeline (``dfm/stages.py``). It fills
``ctx.measurements`` and ``ctx.features`` following ``docs/features.md``.
"""

from __future__ import annotations

from dfm.features.common import Analysis
from dfm.kernel.geom import geometry
from dfm.stages import BodyContext, timed


def records(solid) -> None:  # type: ignore[no-untyped-def]
    """Compute the face and edge records every analyser reads (once: they are kept with the solid)."""
    geo = geometry(solid)
    with timed("features.faces"):
        _ = geo.faces
    with timed("features.edges"):
        _ = geo.edges


def analyse_solid(solid) -> Analysis:  # type: ignore[no-untyped-def]
    """Run every analyser on a kernel solid and return what they found."""
    from dfm.features import access, corners, holes, pockets, threads, unrecognised, walls

    an = Analysis(geo=geometry(solid))
    records(solid)  # before the rays fork: the pages the records write are then this process's own
    cast = walls.start_cast(an)  # the walls' rays, beside the other analysers where it can
    try:
        with timed("features.holes"):
            holes.find_holes(an)
        with timed("features.pockets"):
            pockets.find_pockets(an)
        with timed("features.threads"):
            threads.find_threads(an)
        with timed("features.access"):
            access.assess(an)  # undercuts need the features; corners are judged against their approach
        with timed("features.corners"):
            corners.find_corners(an)
        with timed("features.walls"):
            walls.find_walls(an, cast)
        with timed("features.unrecognised"):
            unrecognised.find_unrecognised(an)  # last: every region feature is known
    finally:
        cast.close()
    return an


def analyse(ctx: BodyContext) -> None:
    """Pipeline stage: measure the body."""
    an = analyse_solid(ctx.solid)
    ctx.features.extend(an.features)
    ctx.measurements.update(an.measurements)
    ctx.scratch["analysis"] = an
    ctx.scratch["access"] = an.access
