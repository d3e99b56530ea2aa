"""Shared pieces of the report tests: fixed analysis results for the generator parts.

The gold reports must change only when the report changes, not whenever the analysers,
rules, tooling or CAM (written at the same time) change their output. So these results take
the real geometry (bodies, faces, sizes) from ``api.analyze`` with the body stages turned
off, and add findings, features, tools, anodize rows and a machining plan written here, in
the shapes of ``docs/features.md`` and ``dfm/model.py``, on face ids checked against the
generator's geometry (see ``test_synthetic_faces_are_the_named_geometry``).
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from dfm import api
from dfm.model import DfmResult, Feature, Finding, Severity, ToolChoice

GOLD = Path(__file__).resolve().parent / "gold" / "report"
TIMESTAMP = "2026-01-01T00:00:00Z"

#: name -> (generator function, keyword arguments)
PARTS = {
    "plate_with_pockets": ("plate_with_pockets", {}),
    "slotted_block": ("slotted_block", {}),
    "holes_block": ("holes_block", {}),
    "lens_barrel": ("lens_barrel", {}),
}


def bare_result(path: Path, monkeypatch, **options) -> DfmResult:
    """``api.analyze`` with no body stage: geometry facts only."""
    monkeypatch.setattr(api, "body_stages", lambda: [])
    return api.analyze(path, generated_at=TIMESTAMP, **options)


def _f(code, name, sev, msg, value, limit, unit, faces, why, fix, feature=None):
    return Finding(code=code, name=name, severity=sev, message=msg, value=value, limit=limit, unit=unit,
                   faces=tuple(faces), feature=feature, why=why, fix=fix)


def _tool(id_, dia, reach, flute, role, features, kind="flat-end-mill", r=0.0):
    return ToolChoice(id=id_, kind=kind, diameter_mm=dia, reach_mm=reach, flute_length_mm=flute, flutes=2,
                      source="rules/tools/ns-tool-long-neck-square.toml", role=role, features=tuple(features),
                      corner_radius_mm=r, name=f"{id_} Ø{dia:g}")


def _plan(ops, cycle_s):
    return {"setups": [{"index": 1, "operations": ops}], "cycle_time_s": cycle_s}


def _op(name, kind, features, tool_id, dia, time_s):
    return {"name": name, "kind": kind, "features": features, "tool": {"id": tool_id, "diameter_mm": dia},
            "time_s": time_s}


def synthetic(name: str, base: DfmResult) -> tuple[DfmResult, dict | None]:
    """``base`` (a bare result of generator part ``name``) with fixed analysis content, and a plan."""
    body = base.bodies[0]
    cam = None
    if name == "plate_with_pockets":
        feats = (
            Feature("pocket-1", "pocket", (7, 8, 9, 10, 11, 12, 13, 14, 23),
                    {"width_mm": 5.0, "length_mm": 4.0, "depth_mm": 2.0, "min_corner_radius_mm": 0.25,
                     "floor_radius_mm": 0.0, "depth_width_ratio": 0.4, "depth_radius_ratio": 8.0},
                    {"approach": [0, 0, 1], "open": False, "through": False, "floor": "flat"}, (-2.1, 0.0, 1.0)),
            Feature("pocket-2", "pocket", (15, 16, 17, 18, 19, 20, 21, 22, 24),
                    {"width_mm": 5.0, "length_mm": 4.0, "depth_mm": 2.0, "min_corner_radius_mm": 0.25,
                     "floor_radius_mm": 0.0, "depth_width_ratio": 0.4, "depth_radius_ratio": 8.0},
                    {"approach": [0, 0, 1], "open": False, "through": False, "floor": "flat"}, (2.1, 0.0, 1.0)),
            Feature("wall-1", "wall", (13, 22), {"thickness_mm": 0.2, "height_mm": 2.0, "height_thickness_ratio": 10.0},
                    {"approach": [0, 0, 1], "faces_pair": [13, 22]}, (0.0, 0.0, 2.0)),
            # Type II: growth 2.5-12.5 um per surface, so a width shrinks 5-25 um and a wall grows as much.
            # The web (faces 13, 22) is below ISO 2768's 0.5 mm: untoleranced, the window hits the nominal.
            Feature("anodize-1", "anodize_allowance", (13, 22),
                    {"finished_mm": 0.2, "premachine_min_mm": 0.175, "premachine_max_mm": 0.195, "growth_min_um": 2.5,
                     "growth_max_um": 12.5, "tolerance_band_um": 0.0, "plus_um": 0.0, "minus_um": 0.0},
                    {"target": "wall", "source": "iso-2768-m", "explicit": False, "count": 1, "feasible": False,
                     "toleranced": False, "feature": "wall-1", "features": ["wall-1"],
                     "action": "ISO 2768-1 gives no general tolerance below 0.5 mm: put a tolerance on it; to hit "
                               "the nominal machine it to 0.1750-0.1950 mm"}),
            # The 4 mm widths (x walls 8|13 and 18|22): pocket-1's from the spec (+30/0 um), pocket-2's ISO 2768-m.
            Feature("anodize-2", "anodize_allowance", (8, 13),
                    {"finished_mm": 4.0, "premachine_min_mm": 4.025, "premachine_max_mm": 4.035, "growth_min_um": 2.5,
                     "growth_max_um": 12.5, "tolerance_band_um": 30.0, "plus_um": 30.0, "minus_um": 0.0},
                    {"target": "width", "source": "spec", "explicit": True, "count": 1, "feasible": True,
                     "select": "feature pocket-1", "feature": "pocket-1", "features": ["pocket-1"],
                     "action": "machine it to 4.0250-4.0350 mm"}),
            Feature("anodize-3", "anodize_allowance", (18, 22),
                    {"finished_mm": 4.0, "premachine_min_mm": 3.925, "premachine_max_mm": 4.105, "growth_min_um": 2.5,
                     "growth_max_um": 12.5, "tolerance_band_um": 200.0, "plus_um": 100.0, "minus_um": 100.0},
                    {"target": "width", "source": "iso-2768-m", "explicit": False, "count": 1, "feasible": True,
                     "feature": "pocket-2", "features": ["pocket-2"], "action": "machine it to 3.9250-4.1050 mm"}),
        )
        access = {"undercut_faces": [], "setups": [{"approach": [0.0, 0.0, 1.0], "features": 2, "tilt_deg": 0.0}]}
        findings = (
            _f("DFM101", "thin-wall", Severity.ERROR, "Wall 0.2 mm thick is thinner than 0.5 mm.", 0.2, 0.5, "mm",
               (13, 22), "A thin wall deflects under the cutter and chatters.", "Make the web at least 0.5 mm thick.",
               "wall-1"),
            _f("DFM203", "corner-depth-radius", Severity.WARNING,
               "Corner radius 0.25 mm at 2 mm depth needs a tool 8 × its radius long.", 8.0, 6.0, "ratio",
               (7, 10, 11, 14), "Long slender cutters deflect and break.", "Use corner radius 0.35 mm or more.",
               "pocket-1"),
            _f("DFM203", "corner-depth-radius", Severity.WARNING,
               "Corner radius 0.25 mm at 2 mm depth needs a tool 8 × its radius long.", 8.0, 6.0, "ratio",
               (15, 17, 19, 21), "Long slender cutters deflect and break.", "Use corner radius 0.35 mm or more.",
               "pocket-2"),
        )
        tools = (_tool("NS-MHR230-0.4", 0.4, 2.5, 0.6, "finish", ["pocket-1", "pocket-2"]),
                 _tool("NS-MX230-1.0", 1.0, 3.0, 2.0, "rough", ["pocket-1", "pocket-2"]))
        cam = _plan([_op("pocket-1 rough", "pocket", ["pocket-1"], "NS-MX230-1.0", 1.0, 312.0),
                     _op("pocket-2 rough", "pocket", ["pocket-2"], "NS-MX230-1.0", 1.0, 312.0),
                     _op("pockets finish", "finish-wall", ["pocket-1", "pocket-2"], "NS-MHR230-0.4", 0.4, 276.0)],
                    900.0)
    elif name == "slotted_block":
        feats = (Feature("slot-1", "slot", (7, 8, 9, 10, 11),
                         {"width_mm": 0.4, "length_mm": 2.0, "depth_mm": 1.0, "min_corner_radius_mm": 0.2,
                          "floor_radius_mm": 0.0, "depth_width_ratio": 2.5, "depth_radius_ratio": 5.0},
                         {"approach": [0, 0, 1], "open": False, "through": False, "floor": "flat"}, (0.0, 0.0, 2.0)),)
        findings = (_f("DFM301", "deep-slot", Severity.INFO, "Slot depth/width 2.5 is above 2.", 2.5, 2.0, "ratio",
                       (7, 8, 9, 10, 11), "Chips pack in narrow slots.", "Open the slot or make it shallower.",
                       "slot-1"),)
        tools = (_tool("NS-MHR230-0.4", 0.4, 1.5, 0.6, "slot", ["slot-1"]),)
        access = {"undercut_faces": [], "setups": [{"approach": [0.0, 0.0, 1.0], "features": 1, "tilt_deg": 0.0}]}
    elif name == "holes_block":
        feats = (
            Feature("hole-1", "hole", (7,), {"diameter_mm": 0.3, "depth_mm": 3.0, "depth_diameter_ratio": 10.0},
                    {"through": True, "bottom": "through", "approach": [0, 0, 1]}, (-3.0, 0.0, 3.0), (0, 0, 1)),
            Feature("hole-2", "hole", (8, 12), {"diameter_mm": 1.25, "depth_mm": 2.0, "depth_diameter_ratio": 1.6},
                    {"through": False, "bottom": "flat", "candidate_thread": "M1.6x0.35", "approach": [0, 0, 1]},
                    (-1.0, 0.0, 3.0), (0, 0, 1)),
            Feature("hole-3", "hole", (9, 13), {"diameter_mm": 0.5, "depth_mm": 1.5, "depth_diameter_ratio": 3.0,
                                                "point_angle_deg": 118.0, "total_depth_mm": 1.650203},
                    {"through": False, "bottom": "drill-point", "approach": [0, 0, 1]}, (1.5, 0.0, 3.0), (0, 0, 1)),
            Feature("hole-4", "hole", (10, 11, 14), {"diameter_mm": 1.0, "depth_mm": 3.0, "depth_diameter_ratio": 3.0},
                    {"through": True, "bottom": "through", "approach": [0, 0, 1],
                     "stack": [{"kind": "counterbore", "diameter_mm": 1.8, "depth_mm": 0.5}]},
                    (3.5, 0.0, 3.0), (0, 0, 1)),
            Feature("thread-1", "thread", (8,), {"major_diameter_mm": 1.6, "minor_diameter_mm": 1.221,
                                                 "pitch_mm": 0.35, "pitch_diameter_mm": 1.373, "length_mm": 2.0},
                    {"designation": "M1.6x0.35", "internal": True, "source": "spec", "hole": "hole-2"}),
        )
        findings = (
            _f("DFM401", "deep-hole", Severity.ERROR, "Hole Ø0.3 mm is 10 × its diameter deep; the limit is 6.",
               10.0, 6.0, "ratio", (7,), "Micro drills wander and break in deep holes.",
               "Drill from both sides or make it 1.8 mm deep.", "hole-1"),
            _f("DFM402", "small-hole", Severity.WARNING, "Hole Ø0.3 mm is below the 0.5 mm a shop drills routinely.",
               0.3, 0.5, "mm", (7,), "Sub-0.5 mm drills need a high-speed spindle.",
               "Use Ø0.5 mm if the design allows.",
               "hole-1"),
            _f("DFM411", "tapped-hole-depth", Severity.INFO, "M1.6 thread length 2 mm is 1.25 × its diameter.",
               1.25, 1.5, "ratio", (8,), "Taps break in small holes.", "Thread-mill it.", "thread-1"),
        )
        tools = (_tool("DRILL-0.3", 0.3, 3.5, 3.5, "drill", ["hole-1"], kind="drill"),)
        access = {"undercut_faces": [], "setups": [{"approach": [0.0, 0.0, 1.0], "features": 4, "tilt_deg": 0.0}]}
    else:
        feats, findings, tools, access = (), (), (), {}  # no access model: the report says so
    return replace(base, bodies=(replace(body, features=feats, findings=findings, tools=tools, access=access),)), cam


_SVG = re.compile(r"(<svg class=\"part\"[^>]*>)(.*?)(</svg>)", re.S)
_GROUP = re.compile(r'<g data-face="(\d+)"[^>]*><path class="f" fill="([^"]*)"')


def _svg_summary(m: re.Match) -> str:
    groups = _GROUP.findall(m.group(2))
    faces: dict[int, set[str]] = {}
    for face, fill in groups:
        faces.setdefault(int(face), set()).add(fill)
    lines = [f"{len(groups)} paths"]
    lines += [f"face {f}: {len(c)} shades, {min(c)}..{max(c)}" for f, c in sorted(faces.items())]
    return m.group(1) + "\n<!-- " + "\n".join(lines) + " -->\n" + m.group(3)


def scrub(html: str, *paths: str) -> str:
    """The report with the given paths replaced by PART and each picture summarised.

    A picture's path data depends on the tessellation; the gold file keeps, per face, how
    many shades it was drawn in and their range, which is what the severity colouring sets.
    """
    for p in paths:
        html = html.replace(p, "PART")
    return _SVG.sub(_svg_summary, html)
