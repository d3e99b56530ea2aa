"""Speeds and feeds from the material table, capped by the machine.

* Spindle speed: n = vc / (π D), with vc the low end of the material row's cutting-speed
  range, capped at the machine's maximum rpm (for micro tools the cap usually binds).
* Feed per tooth: fz = (fz/D) · D from the row (low end), raised to the minimum chip
  thickness h_min = (h_min/r_edge) · r_edge so the tool cuts instead of rubbing, then
  corrected for radial chip thinning when the engagement ae is under D/2:
  fz_prog = fz · D / (2 √(ae (D − ae))).
* Feed: F = n · z · fz_prog, capped at the machine's maximum feed.
"""

from __future__ import annotations

import math

from dfm.cam.data import Cutter, Material, Settings
from dfm.cam.model import CuttingData


def _spindle(vc: float, d: float, settings: Settings, warnings: list[str]) -> tuple[float, float]:
    """(n = vc / (π D), that capped at the machine's maximum rpm); a warning when the cap binds."""
    rpm_raw = vc * 1000.0 / (math.pi * d)
    rpm = min(rpm_raw, settings["max_rpm"])
    if rpm < rpm_raw:
        warnings.append(f"rpm capped at the machine maximum {settings['max_rpm']:.0f} "
                        f"(vc {vc:g} m/min would need {rpm_raw:.0f})")
    return rpm_raw, rpm


def cutting_data(cutter: Cutter, material: Material, settings: Settings, *, ae_mm: float | None = None,
                 ap_mm: float | None = None) -> CuttingData:
    """Speeds and feeds of ``cutter`` in ``material`` at radial engagement ``ae_mm``.

    Args:
        cutter: The catalogue tool.
        material: The material row.
        settings: Machine and shop settings.
        ae_mm: Radial engagement (default: slotting, ae = D).
        ap_mm: Axial depth per pass (default: ``ap_over_d`` · D).
    """
    d = cutter.diameter_mm
    ae = d if ae_mm is None else min(max(ae_mm, 1e-6), d)
    ap = settings["ap_over_d"] * d if ap_mm is None else ap_mm
    warnings: list[str] = []
    vc = material.vc_min_m_min
    rpm_raw, rpm = _spindle(vc, d, settings, warnings)
    fz_chart = material.fz_per_d_min * d
    hmin = material.hmin_over_redge_max * settings["edge_radius_mm"]
    fz = max(fz_chart, hmin)
    thinning = 1.0
    if ae < d / 2:
        thinning = d / (2.0 * math.sqrt(ae * (d - ae)))
    fz_prog = fz * thinning
    z = cutter.flutes
    feed = rpm * z * fz_prog
    if feed > settings["max_feed_mm_min"]:
        warnings.append(f"feed capped at the machine maximum {settings['max_feed_mm_min']:.0f} mm/min")
        feed = settings["max_feed_mm_min"]
        if feed / (rpm * z) / thinning < hmin:
            warnings.append("capped feed gives a chip thinner than h_min: the tool rubs")
    lines = (
        f"vc {vc:g} m/min = vc_min_m_min of materials.toml [[material]] name={material.name!r}",
        f"n = vc/(pi D) = {rpm_raw:.0f} rpm, machine max_rpm {settings['max_rpm']:.0f} -> S{rpm:.0f}",
        f"fz = fz_per_d_min {material.fz_per_d_min:g} x D {d:g} = {fz_chart:.5f} mm; "
        f"h_min = hmin_over_redge_max {material.hmin_over_redge_max:g} x edge_radius_mm "
        f"{settings['edge_radius_mm']:g} = {hmin:.5f} mm -> fz {fz:.5f} mm",
        f"chip thinning at ae {ae:.4f} mm: x{thinning:.3f} -> fz {fz_prog:.5f} mm; "
        f"F = n x z{z}{' (flutes assumed)' if cutter.flutes_assumed else ''} x fz = {feed:.1f} mm/min",
        f"ap {ap:.4f} mm = ap_over_d {settings['ap_over_d']:g} x D" if ap_mm is None
        else f"ap {ap:.4f} mm (set by the operation)",
    )
    return CuttingData(rpm=round(rpm), feed_mm_min=round(feed, 1), fz_mm=fz_prog, ap_mm=ap, ae_mm=ae,
                       lines=lines, warnings=tuple(warnings), fz_max_mm=largest_chip(cutter, material, settings))


def largest_chip(cutter: Cutter, material: Material, settings: Settings) -> float:
    """The largest chip (mm) the table allows ``cutter``: fz_per_d_max · D, never below h_min.

    Where the minimum chip thickness is above the chart's largest fz (the smallest tools),
    the programmed chip is h_min and that is the limit.
    """
    return max(material.fz_per_d_max * cutter.diameter_mm, material.hmin_over_redge_max * settings["edge_radius_mm"])


def chip_at(feed_mm_min: float, rpm: float, flutes: int, radius: float, near_mm: float, edge_factor: float = 1.0
            ) -> float:
    """The thickest chip (mm) of a move at ``feed_mm_min`` cutting material ``near_mm`` from its path.

    ``near_mm`` is measured in XY, across the path; ``feed_mm_min`` is the tool centre's.

    A tooth meets material at lateral distance d from the path where its edge has turned
    through an angle whose sine is √(1 − (d/r)²) from the feed direction's normal, and there
    the chip is fz times that: fz · √(1 − (d/r)²). Material on the path (a slot, a head-on
    entry, a ramp in solid) gives the whole fz; material only at the side, d = r − ae, gives
    fz · 2√(ae (D − ae)) / D, the usual radial chip thinning. ``edge_factor``: how much faster
    the cutting edge runs than the centre (on an arc whose material lies outside the centre's
    path, the largest radius of that material over the path's radius).
    """
    if rpm <= 0 or flutes <= 0 or radius <= 0 or not math.isfinite(near_mm):
        return 0.0
    d = min(max(near_mm, 0.0), radius)
    return feed_mm_min / (rpm * flutes) * math.sqrt(max(0.0, 1.0 - (d / radius) ** 2)) * max(edge_factor, 1.0)


def drilling_data(cutter: Cutter, material: Material, settings: Settings) -> CuttingData:
    """Speeds and feeds for peck drilling with a catalogue drill, from the material's drill rows.

    * vc: the low end of the row's carbide drilling speed for a carbide drill, else of its HSS
      drilling speed (HSS, HSS-E, unknown tool material, or no carbide row: never faster
      than a source gives).
    * n = vc / (π D), capped at the machine's maximum rpm.
    * Feed per revolution f = (f/D)_min · D, raised to two lips × h_min so each lip cuts a
      chip at least the minimum chip thickness; F = n · f, capped at the machine's feed.
    * Pecks of ``peck_over_d`` · D (a setting: no source gives a micro-drill peck step).

    A material without drill rows falls back to the end-mill row (stated in the header).
    """
    d = cutter.diameter_mm
    peck = settings["peck_over_d"] * d
    peck_line = f"peck {peck:.4f} mm = peck_over_d {settings['peck_over_d']:g} x D (a setting)"
    if material.drill_f_per_d is None or material.drill_vc_hss_m_min is None:
        base = cutting_data(cutter, material, settings, ae_mm=d, ap_mm=0.0)
        lines = base.lines[:-1] + (f"drilling: end-mill vc and fz/D used (no drill rows for {material.name}); "
                                   + peck_line,)
        return CuttingData(rpm=base.rpm, feed_mm_min=base.feed_mm_min, fz_mm=base.fz_mm, ap_mm=0.0,
                           ae_mm=d, peck_mm=peck, lines=lines, warnings=base.warnings)
    warnings: list[str] = []
    carbide = (cutter.tool_material or "").strip().lower() == "carbide"
    if carbide and material.drill_vc_carbide_m_min is not None:
        vc, which = material.drill_vc_carbide_m_min, "drill_vc_carbide_min_m_min"
    else:
        vc, which = material.drill_vc_hss_m_min, "drill_vc_hss_min_m_min"
    why = ("" if not carbide or which.startswith("drill_vc_carbide") else
           " (carbide drill: the table has no carbide drilling speed for this material)")
    if not cutter.tool_material:
        why = " (drill material not in the catalogue: HSS speed)"
    rpm_raw, rpm = _spindle(vc, d, settings, warnings)
    f_chart = material.drill_f_per_d * d
    hmin = material.hmin_over_redge_max * settings["edge_radius_mm"]
    f_rev = max(f_chart, 2.0 * hmin)
    feed = rpm * f_rev
    if feed > settings["max_feed_mm_min"]:
        warnings.append(f"feed capped at the machine maximum {settings['max_feed_mm_min']:.0f} mm/min")
        feed = settings["max_feed_mm_min"]
    row = f"materials.toml [[material]] name={material.name!r}"
    lines = (
        f"vc {vc:g} m/min = {which} of {row}{why}; drill_sources {', '.join(material.drill_sources)}",
        f"n = vc/(pi D) = {rpm_raw:.0f} rpm, machine max_rpm {settings['max_rpm']:.0f} -> S{rpm:.0f}",
        f"f = drill_f_per_d_min {material.drill_f_per_d:g} x D {d:g} = {f_chart:.5f} mm/rev; 2 lips x h_min "
        f"{hmin:.5f} mm = {2 * hmin:.5f} -> f {f_rev:.5f} mm/rev; F = n x f = {feed:.1f} mm/min",
        peck_line,
    )
    return CuttingData(rpm=round(rpm), feed_mm_min=round(feed, 1), fz_mm=f_rev / 2.0, ap_mm=0.0, ae_mm=d,
                       peck_mm=peck, lines=lines, warnings=tuple(warnings))


def circular_engagement(tool_radius: float, helix_radius: float, bore_radius: float) -> float:
    """Equivalent radial engagement ae of internal circular milling (thread milling, helical boring).

    The tool's centre runs on a circle of radius R inside a bore of radius Rw (before the
    pass); the cutting edge is in fresh material from its outermost point to where it
    crosses the old bore, an engagement angle θ with cos θ = (Rw² − R² − r²) / (2 R r). The
    straight-line cut with the same engagement angle has ae = r (1 − cos θ): the ae that
    makes the chip-thinning correction of :func:`cutting_data` right for the arc (it equals
    the usual (Dm² − Dw²) / (4 (Dm − Dc)) of internal circular interpolation).
    """
    r, big, rw = tool_radius, helix_radius, bore_radius
    if big <= 0 or rw >= big + r:
        return 0.0
    cos_t = max(-1.0, min(1.0, (rw * rw - big * big - r * r) / (2 * big * r)))
    return r * (1.0 - cos_t)
