"""Sized surfaces of a body: every diameter, width and wall a tolerance or a finish can act on.

A size is a dimension between surfaces, whatever feature the recogniser put them in: the
concave cylinders of one axis and radius are one bore (a hole's bore, its counterbore, a
hole in a pocket floor, the through bore a recogniser took for a counterbore), the convex
ones a shaft (a boss, the outside of a barrel); a slot's or pocket's width is a width; a
``wall`` feature's thickness is a wall. Sizes are read from the features (every run) and,
when the body's solid is there, from the faces themselves (cylinders no feature lists).

This only measures (no judgement): the finish allowance (``dfm.rules.anodize``) and the
spec's selections read it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dfm.model import Feature

#: A set of cylinder faces covering more than this angle around their axis is a diameter
#: (a bore or a shaft); less is a fillet, a slot end or a corner round.
MIN_SPAN_DEG = 181.0
#: Same radius (mm) and same axis line (mm) when grouping cylinder faces into one size.
SAME_MM = 1e-4

SIZE_KINDS = ("bore", "shaft", "width", "wall")


@dataclass(frozen=True)
class Size:
    """One size of the body.

    Attributes:
        kind: ``bore`` | ``shaft`` (a diameter), ``width`` (slot/pocket, between walls),
            ``wall`` (thickness between two faces).
        nominal_mm: The modelled size.
        faces: The faces that make it (1-based ids; empty for synthetic features).
        feature: The feature it is the main size of (``hole-1`` for its bore), if any.
        part_of: The feature whose faces it belongs to (a counterbore's hole), if any.
        role: ``bore`` | ``counterbore`` | ``countersink`` | ``shaft`` | ``wall``, or for a
            width the feature kind (``slot`` | ``pocket`` | ``step``).
        location_mm: A point of it (on the axis for a diameter).
        axis: The axis of a diameter, the approach of a width.
    """

    kind: str
    nominal_mm: float
    faces: tuple[int, ...] = ()
    feature: str | None = None
    part_of: str | None = None
    role: str = ""
    location_mm: tuple[float, float, float] | None = None
    axis: tuple[float, float, float] | None = None

    @property
    def is_diameter(self) -> bool:
        """A bore or a shaft."""
        return self.kind in ("bore", "shaft")

    def label(self) -> str:
        """``bore Ø4 mm`` / ``wall 1 mm``."""
        sym = "Ø" if self.is_diameter else ""
        return f"{self.kind} {sym}{self.nominal_mm:.4g} mm"


def _sub(a: Sequence[float], b: Sequence[float]) -> tuple[float, float, float]:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _same_line(o1: Sequence[float], d1: Sequence[float], o2: Sequence[float], d2: Sequence[float]) -> bool:
    if abs(abs(_dot(d1, d2)) - 1.0) > 1e-6:
        return False
    rel = _sub(o2, o1)
    h = _dot(rel, d1)
    perp = _sub(rel, (d1[0] * h, d1[1] * h, d1[2] * h))
    return math.sqrt(_dot(perp, perp)) < SAME_MM


def _owner(faces: Sequence[int], features: Sequence[Feature]) -> tuple[str | None, str | None, str]:
    """(feature, part_of, role) of a diameter made of ``faces``."""
    fs = set(faces)
    for f in features:
        if f.kind != "hole" or not fs & set(f.faces):
            continue
        if fs & set(f.props.get("bore_faces") or ()):
            return f.id, f.id, "bore"
        for st in f.props.get("stack") or ():
            if isinstance(st, dict) and fs & set(st.get("faces") or ()):
                return None, f.id, str(st.get("kind", "counterbore"))
        return f.id, f.id, "bore"
    for f in features:
        if f.kind in ("pocket", "slot", "step", "boss") and fs & set(f.faces):
            return None, f.id, "bore"
    return None, None, "bore"


def diameters_from_faces(faces: Any, features: Sequence[Feature]) -> list[Size]:
    """Bores and shafts from the body's cylinder faces (``faces``: id → ``FaceInfo``-like)."""
    groups: list[dict[str, Any]] = []
    for fid in sorted(faces):
        fi = faces[fid]
        if fi.kind != "cylinder" or fi.radius is None or fi.axis is None or fi.origin is None:
            continue
        for g in groups:
            if g["concave"] == bool(fi.concave) and abs(g["r"] - fi.radius) < SAME_MM \
                    and _same_line(g["o"], g["d"], fi.origin, fi.axis):
                g["ids"].append(fid)
                g["span"] += float(fi.span_deg or 0.0)
                break
        else:
            groups.append({"concave": bool(fi.concave), "r": float(fi.radius), "o": fi.origin, "d": fi.axis,
                           "ids": [fid], "span": float(fi.span_deg or 0.0)})
    out = []
    for g in groups:
        if g["span"] < MIN_SPAN_DEG:
            continue
        ids = tuple(g["ids"])
        cents = [faces[i].centroid for i in ids]
        c = tuple(sum(p[k] for p in cents) / len(cents) for k in range(3))
        d = g["d"]
        h = _dot(_sub(c, g["o"]), d)
        on_axis = (g["o"][0] + d[0] * h, g["o"][1] + d[1] * h, g["o"][2] + d[2] * h)
        if g["concave"]:
            feat, part_of, role = _owner(ids, features)
            kind = "bore"
        else:
            feat, part_of, role = None, None, "shaft"
            kind = "shaft"
        out.append(Size(kind, 2 * g["r"], ids, feat, part_of, role, on_axis, tuple(d)))  # type: ignore[arg-type]
    return out


def _side_faces(f: Feature, faces: Any) -> tuple[int, ...]:
    """The walls of a slot/pocket (faces along its approach), or all its faces without geometry."""
    appr = f.props.get("approach")
    if faces is None or not appr:
        return tuple(f.faces)
    out = []
    for fid in f.faces:
        fi = faces.get(fid)
        if fi is None:
            continue
        if fi.kind == "plane" and fi.normal is not None and abs(_dot(fi.normal, appr)) < 1e-6:
            out.append(fid)
        elif fi.kind == "cylinder" and fi.axis is not None and abs(abs(_dot(fi.axis, appr)) - 1) < 1e-6:
            out.append(fid)
    return tuple(out) or tuple(f.faces)


def body_sizes(features: Sequence[Feature], faces: Any = None) -> list[Size]:
    """Every size of a body.

    Args:
        features: The body's features (holes, slots, pockets, walls).
        faces: Per-face geometry (id → ``dfm.kernel.geom.FaceInfo``), or None (synthetic
            features: sizes come from the features' dims alone).

    Returns:
        Sizes, diameters first, each surface in at most one diameter.
    """
    out: list[Size] = []
    if faces is not None:
        out.extend(diameters_from_faces(faces, features))
    seen = {fid for s in out for fid in s.faces}
    for f in features:
        if f.kind != "hole":
            continue
        bore = tuple(f.props.get("bore_faces") or f.faces)
        dia = f.dims.get("diameter_mm")
        if dia is not None and not (bore and set(bore) <= seen):
            out.append(Size("bore", float(dia), bore, f.id, f.id, "bore", f.location_mm, f.axis))
        for st in f.props.get("stack") or ():
            if not isinstance(st, dict) or st.get("kind") != "counterbore" or st.get("diameter_mm") is None:
                continue
            sf = tuple(st.get("faces") or ())
            if sf and set(sf) <= seen:
                continue
            out.append(Size("bore", float(st["diameter_mm"]), sf, None, f.id, "counterbore", f.location_mm, f.axis))
    for f in features:
        if f.kind in ("slot", "pocket", "step") and f.dims.get("width_mm") is not None:
            appr = f.props.get("approach")
            out.append(Size("width", float(f.dims["width_mm"]), _side_faces(f, faces), f.id, f.id, f.kind,
                            f.location_mm, tuple(appr) if appr else None))
        elif f.kind == "wall" and f.dims.get("thickness_mm") is not None:
            pair = tuple(f.props.get("faces_pair") or f.faces)
            out.append(Size("wall", float(f.dims["thickness_mm"]), pair, f.id, f.id, "wall", f.location_mm))
    return out


__all__ = ["MIN_SPAN_DEG", "SIZE_KINDS", "Size", "body_sizes", "diameters_from_faces"]
