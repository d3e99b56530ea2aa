"""The setup sheet: for each setup, how the part is held, where G54 is zeroed, what came before.

Written from the program alone (its setups, their approaches and stock boxes, and the
``part_box`` / ``stock_margin_mm`` / ``choice`` facts the generator puts in ``Program.meta``),
so the G-code header and the report say the same. Directions are named both ways: program
axes (what the operator jogs) and model axes (what the drawing shows).
"""

from __future__ import annotations

from collections.abc import Sequence

from dfm.cam.model import Program, Setup
from dfm.cam.orient import axis_name
from dfm.cam.program import turn_point, turn_rows

Vec3 = tuple[float, float, float]


def _f(x: float) -> str:
    """Three decimals, no negative zero."""
    t = f"{x:.3f}"
    return "0.000" if float(t) == 0.0 else t


def _model(rows: Sequence[Sequence[float]], j: int, sign: int) -> str:
    """The model direction of program axis ``j`` (0 X, 1 Y, 2 Z) taken with ``sign``."""
    return axis_name(tuple(sign * float(x) for x in rows[j]))


def _neg(k: Sequence[float]) -> Vec3:
    return (-float(k[0]) + 0.0, -float(k[1]) + 0.0, -float(k[2]) + 0.0)


def _part_box(program: Program, su: Setup) -> tuple[Vec3, Vec3] | None:
    box = program.meta.get("part_box")
    if not box:
        return None
    lo, hi = box
    pts = [turn_point(su.approach, (x, y, z)) for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])]
    return (tuple(min(p[i] for p in pts) for i in range(3)),  # type: ignore[return-value]
            tuple(max(p[i] for p in pts) for i in range(3)))


def _jaws(rows: Sequence[Sequence[float]], dx: float, dy: float) -> tuple[str, str]:
    """(program sides, model faces) the vise jaws close on: across the shorter in-plane size."""
    j = 1 if dy <= dx + 1e-9 else 0
    axis = "XY"[j]
    return (f"program {axis}- and {axis}+ sides", f"model {_model(rows, j, -1)} and {_model(rows, j, 1)} faces")


def sheet(program: Program, su: Setup) -> list[str]:
    """The setup sheet lines of setup ``su`` of ``program``."""
    n = len(program.setups)
    first = program.setups[0]
    k1 = tuple(first.approach)
    k = tuple(su.approach)
    rows = turn_rows(k)
    out = [f"SETUP {su.index} of {n}: tool from model {axis_name(k)}; program X = model {_model(rows, 0, 1)}, "
           f"Y = model {_model(rows, 1, 1)}, Z = model {_model(rows, 2, 1)}"]
    if su.index == 1:
        out += [f"  why: {r}" for r in program.meta.get("choice") or ()]
    box = _part_box(program, su)
    profiled = any(op.kind == "profile" for op in first.operations)
    base = first.part_bottom - first.stock_min[2]
    if su.index == 1:
        sx, sy, sz = (su.stock_max[i] - su.stock_min[i] for i in range(3))
        sides, faces = _jaws(rows, sx, sy)
        hold = (f"  hold: stock {_f(sx)} x {_f(sy)} x {_f(sz)} mm (program X x Y x Z), model {axis_name(k)} up, "
                f"in the vise with the jaws on its {sides} ({faces})")
        if profiled and base > 1e-9:
            hold += (f"; the outside profile runs down to the part bottom Z{_f(su.part_bottom)}, so the jaws grip "
                     f"only the {_f(base)} mm of stock below it (more: a larger stock_margin_mm or --stock margin)")
        out.append(hold)
        top_note = (" (the stock top is the part top: no facing)" if abs(su.stock_max[2] - su.part_top) < 1e-9
                    else f" (faced down to the part top Z{_f(su.part_top)})")
        out.append(f"  G54: X0 Y0 Z0 = the model origin in these axes; touch off the stock: its X- side "
                   f"(model {_model(rows, 0, -1)}) at X{_f(su.stock_min[0])}, its Y- side "
                   f"(model {_model(rows, 1, -1)}) at Y{_f(su.stock_min[1])}, its top at Z{_f(su.stock_max[2])}"
                   + top_note)
        if profiled and base > 1e-9:
            nxt = ("; it comes off before setup 2 (there: saw and face)" if n > 1
                   and tuple(program.setups[1].approach) == _neg(k1) else "; saw it off and face that side")
            out.append(f"  after: the part stays on a {_f(base)} mm base of stock on its model {axis_name(_neg(k1))} "
                       f"side{nxt}")
        return out
    dx = (box[1][0] - box[0][0]) if box else su.stock_max[0] - su.stock_min[0]
    dy = (box[1][1] - box[0][1]) if box else su.stock_max[1] - su.stock_min[1]
    sides, faces = _jaws(rows, dx, dy)
    flip = k == _neg(k1)
    how = ("turned over from setup 1: the model " + axis_name(k1) + " face cut in setup 1" if flip
           else "on its side: the model " + axis_name(_neg(k)) + " face")
    out.append(f"  hold: the part {how} down on parallels, model {axis_name(k)} up, the vise jaws on its {sides} "
               f"({faces}; finished in setup 1: soft jaws)")
    earlier = [s for s in program.setups if s.index < su.index]
    if profiled and base > 1e-9:
        if flip:
            out.append(f"  before: the {_f(base)} mm base setup 1 left on the model {axis_name(k)} side is on top now: "
                       f"saw it off and face the part to Z{_f(su.part_top)} (its modelled {axis_name(k)} face)")
        elif not any(tuple(s.approach) == _neg(k1) for s in earlier):
            out.append(f"  before: saw off the {_f(base)} mm base setup 1 left on the model {axis_name(_neg(k1))} side "
                       "and face that side")
    if box is not None:
        out.append(f"  G54: X0 Y0 Z0 = the model origin in these axes; touch off the part: its X- side "
                   f"(model {_model(rows, 0, -1)}) at X{_f(box[0][0])}, its Y- side (model {_model(rows, 1, -1)}) at "
                   f"Y{_f(box[0][1])}, the parallels under it at Z{_f(su.part_bottom)}")
    else:
        out.append(f"  G54: X0 Y0 Z0 = the model origin in these axes; the part's bottom at Z{_f(su.part_bottom)}, "
                   f"its top at Z{_f(su.part_top)}")
    done = ", ".join(f"setup {s.index} the model {axis_name(s.approach)} side" for s in earlier)
    out.append(f"  done before: {done}" + (" and the outside profile" if profiled else ""))
    return out
