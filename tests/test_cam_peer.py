"""dfm against FreeCAD 0.20 CAM on a pocket (#17): benchmarks/cam_peer.py's comparison, asserted.

The same tool, rpm, feed, stepdown and stepover go to FreeCAD's PocketShape (with its ramp
entry dressup at dfm's ramp angle) and Adaptive; both programs are interpreted by LinuxCNC's
rs274 and timed by one calculator, and both are swept over the part's height field. dfm's
clearing with the roughing tool (its roughing and its wall finish) must take at most 0.8 of the
faster peer's time and remove at least as much of the pocket, without cutting into the part.
"""

from __future__ import annotations

import math
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

pytestmark = [
    pytest.mark.freecad,
    pytest.mark.rs274,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("freecadcmd") is None, reason="freecadcmd not installed (apt-get install freecad)"),
    pytest.mark.skipif(shutil.which("rs274") is None, reason="rs274 not installed (apt-get install linuxcnc-uspace)"),
]


@pytest.mark.parametrize("name", ["thin_wall"])
def test_dfm_clears_faster_than_freecad_and_removes_as_much(tmp_path, name):
    import cam_peer

    rows = cam_peer.compare(name, tmp_path, grid_mm=0.01)
    assert rows, "no pocket compared"
    for row in rows:
        assert set(cam_peer.PEERS) <= set(row.seconds), cam_peer.table(rows)  # both peers made a program
        assert row.ratio is not None and row.ratio <= 0.8, cam_peer.table(rows)
        best = max(row.removed[k] for k in cam_peer.PEERS)
        assert row.removed["dfm"] >= best, cam_peer.table(rows)
        assert row.gouge_um["dfm"] == 0.0, cam_peer.table(rows)


def test_canon_time_is_one_model_for_every_program():
    """Feeds at the programmed rate (arcs and helices by their length), rapids at the machine's."""
    from dfm.cam.cycletime import canon_time

    canon = "\n".join([
        "    1 N..... STRAIGHT_TRAVERSE(0.0000, 0.0000, 1.0000, 0.0000, 0.0000, 0.0000)",  # positions: not timed
        "    2 N..... STRAIGHT_TRAVERSE(10.0000, 0.0000, 1.0000, 0.0000, 0.0000, 0.0000)",
        "    3 N..... SET_FEED_RATE(600.0000)",
        "    4 N..... STRAIGHT_FEED(10.0000, 0.0000, 0.0000, 0.0000, 0.0000, 0.0000)",
        "    5 N..... ARC_FEED(10.0000, 0.0000, 9.0000, 0.0000, 1, -0.5000, 0.0000, 0.0000, 0.0000)",
        "    6 N..... CHANGE_TOOL(2)",
    ])
    t = canon_time(canon, 5000.0)
    assert t.rapid_mm == pytest.approx(10.0)
    assert t.rapid_s == pytest.approx(10.0 / 5000 * 60)
    helix = math.hypot(2 * math.pi, 0.5)  # one turn of R1 dropping 0.5
    assert t.feed_mm == pytest.approx(1.0 + helix)
    assert t.feed_s == pytest.approx((1.0 + helix) / 600 * 60)
    assert t.tool_changes == 1 and t.total(8.0) == pytest.approx(t.feed_s + t.rapid_s + 8.0)
