"""The solid check runs beside the analysis (a forked child) and says what it said in line (#18)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dfm import api
from dfm.kernel import shape

PLATE = Path(__file__).resolve().parents[1] / "example_parts" / "thin_web_plate.step"


def _open_box(path):  # type: ignore[no-untyped-def]
    """A box whose top face was removed, wrapped as a solid (an open shell)."""
    from OCP.BRep import BRep_Builder
    from OCP.BRepPrimAPI import BRepPrimAPI_MakeBox
    from OCP.BRepTools import BRepTools
    from OCP.TopAbs import TopAbs_FACE
    from OCP.TopExp import TopExp_Explorer
    from OCP.TopoDS import TopoDS_Shell, TopoDS_Solid

    box = BRepPrimAPI_MakeBox(1.0, 1.0, 1.0).Shape()
    b = BRep_Builder()
    shell = TopoDS_Shell()
    b.MakeShell(shell)
    exp = TopExp_Explorer(box, TopAbs_FACE)
    n = 0
    while exp.More():
        if n < 5:
            b.Add(shell, exp.Current())
        n += 1
        exp.Next()
    solid = TopoDS_Solid()
    b.MakeSolid(solid)
    b.Add(solid, shell)
    BRepTools.Write_s(solid, str(path))
    return path


@pytest.fixture
def forked(monkeypatch):  # type: ignore[no-untyped-def]
    """Every part's check in a child, however small."""
    monkeypatch.setattr(shape, "FORK_CHECK_MIN_FACES", 0)
    monkeypatch.delenv("DFM_SERIAL", raising=False)


def test_a_bad_solid_gives_the_same_error_checked_in_a_child(tmp_path, forked, monkeypatch):
    path = _open_box(tmp_path / "open.brep")
    in_child = api.analyze(path)
    monkeypatch.setenv("DFM_SERIAL", "1")
    in_line = api.analyze(path)
    assert in_child.status == in_line.status == "error"
    assert in_child.error == in_line.error
    assert in_child.error is not None and in_child.error.code in ("DFM907", "DFM908")


def test_the_child_runs_and_its_verdict_and_volume_are_the_solids(forked):
    from dfm import kernel

    loaded = kernel.load(PLATE)
    checks = shape.SolidChecks(loaded.solids)
    assert checks._job.forked  # noqa: SLF001 - the check went to a child
    got = checks.verdicts()
    fresh = kernel.load(PLATE)
    want = shape._verdicts(fresh.solids)  # noqa: SLF001
    assert got == want and got[0].reason is None and not got[0].free
    assert loaded.solids[0].volume == fresh.solids[0].volume


def test_a_child_that_dies_is_replaced_by_the_check_in_line(forked):
    import os

    from dfm import kernel

    loaded = kernel.load(PLATE)
    checks = shape.SolidChecks(loaded.solids)
    os.kill(checks._job._pid, 9)  # noqa: SLF001
    assert checks.verdicts() == shape._verdicts(loaded.solids)  # noqa: SLF001


def test_the_walls_rays_cast_in_a_child_give_the_pairs_cast_in_line(forked, monkeypatch):
    from dfm import kernel
    from dfm.features import walls
    from dfm.features.common import Analysis
    from dfm.kernel.geom import Geometry

    monkeypatch.setattr(walls, "BESIDE_MIN_FACES", 0)
    solid = kernel.load(PLATE).solids[0]
    an = Analysis(geo=Geometry(solid))
    _ = an.geo.faces
    cast = walls.start_cast(an)
    assert cast.forked
    in_child = cast.result()
    assert in_child[0] and in_child == walls._cast_pairs(Geometry(solid), walls.PROBE_MM)  # noqa: SLF001


def test_nothing_forks_off_the_main_thread(forked):
    import threading

    got = []
    t = threading.Thread(target=lambda: got.append(shape.Beside(len, (1, 2, 3))))
    t.start()
    t.join()
    assert not got[0].forked and got[0].result() == 3
