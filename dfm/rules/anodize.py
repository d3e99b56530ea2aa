"""Anodize allowance: how much each toleranced size moves, and what to machine before.

Per surface the film builds up ``g = film * growth_fraction`` outward (rules/data/finishes.toml).
A bore or an internal width shrinks by 2g, a shaft grows by 2g, a 60° thread's pitch diameter
moves by 4g (internal PD shrinks, external grows). For a finished band ``[lo, hi]`` and a film
range ``[g_min, g_max]`` the pre-anodize size that lands in the band for every film in the range
is, for a size that shrinks by k·g:  ``lo + k·g_max .. hi + k·g_min``; for one that grows:
``lo − k·g_min .. hi − k·g_max``. It exists only when ``k·(g_max − g_min)`` (the coating's own
range on the size) fits in the band; otherwise the window to hit the *nominal* is reported and
a rule says: mask, or finish the size after anodizing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from dfm.model import Feature
from dfm.rules.registry import general_tolerance_mm
from dfm.rules.sizes import Size
from dfm.rules.spec import Select, ToleranceSpec

#: Size change per unit of outward build-up g, and its sign (−1 shrinks).
FACTORS: dict[str, tuple[float, int]] = {
    "bore": (2.0, -1),
    "width": (2.0, -1),
    "shaft": (2.0, +1),
    "wall": (2.0, +1),  # film on both faces of the wall
    "thread-internal": (4.0, -1),
    "thread-external": (4.0, +1),
}


@dataclass(frozen=True)
class Allowance:
    """The allowance of one size (mm unless the name says um)."""

    target: str
    finished_mm: float
    plus_um: float
    minus_um: float
    growth_min_um: float
    growth_max_um: float
    size_change_min_um: float
    size_change_max_um: float
    premachine_min_mm: float
    premachine_max_mm: float
    feasible: bool

    @property
    def tolerance_band_um(self) -> float:
        """Width of the finished tolerance band."""
        return self.plus_um + self.minus_um

    @property
    def size_change_range_um(self) -> float:
        """How much the coating's own thickness range spreads the size."""
        return abs(self.size_change_max_um - self.size_change_min_um)

    def dims(self) -> dict[str, float]:
        """The ``anodize_allowance`` feature dims (docs/features.md)."""
        return {
            "finished_mm": round(self.finished_mm, 6),
            "premachine_min_mm": round(self.premachine_min_mm, 6),
            "premachine_max_mm": round(self.premachine_max_mm, 6),
            "growth_min_um": round(self.growth_min_um, 4),
            "growth_max_um": round(self.growth_max_um, 4),
            "tolerance_band_um": round(self.tolerance_band_um, 4),
            "size_change_min_um": round(self.size_change_min_um, 4),
            "size_change_max_um": round(self.size_change_max_um, 4),
            "size_change_range_um": round(self.size_change_range_um, 4),
            "plus_um": round(self.plus_um, 4),
            "minus_um": round(self.minus_um, 4),
        }


def allowance(target: str, finished_mm: float, plus_um: float, minus_um: float, film_min_um: float,
              film_max_um: float, growth_fraction: float) -> Allowance:
    """The allowance of one size.

    Args:
        target: ``bore`` | ``width`` | ``shaft`` | ``thread-internal`` | ``thread-external``.
        finished_mm: Nominal finished size (for a thread: its pitch diameter).
        plus_um: Upper deviation of the finished band.
        minus_um: Lower deviation (a positive number: the band is nominal − minus .. nominal + plus).
        film_min_um: Thinnest total film.
        film_max_um: Thickest total film.
        growth_fraction: Share of the film that grows outward.

    Returns:
        The allowance; sizes shrink or grow by ``size_change_*_um`` (signed, on the size).

    """
    k, sign = FACTORS[target]
    g_min = film_min_um * growth_fraction
    g_max = film_max_um * growth_fraction
    c_min, c_max = k * g_min / 1000.0, k * g_max / 1000.0  # mm on the size
    lo = finished_mm - minus_um / 1000.0
    hi = finished_mm + plus_um / 1000.0
    if sign < 0:
        pre_lo, pre_hi = lo + c_max, hi + c_min
        nominal = (finished_mm + c_min, finished_mm + c_max)
    else:
        pre_lo, pre_hi = lo - c_min, hi - c_max
        nominal = (finished_mm - c_max, finished_mm - c_min)
    feasible = pre_lo <= pre_hi + 1e-9
    if not feasible:
        pre_lo, pre_hi = nominal
    return Allowance(
        target=target, finished_mm=finished_mm, plus_um=plus_um, minus_um=minus_um,
        growth_min_um=g_min, growth_max_um=g_max,
        size_change_min_um=sign * k * g_min, size_change_max_um=sign * k * g_max,
        premachine_min_mm=pre_lo, premachine_max_mm=pre_hi, feasible=feasible,
    )


#: Without a general tolerance class in the spec, sizes under a finish get ISO 2768-1 m.
DEFAULT_GENERAL_CLASS = "m"
#: Width kinds the general tolerance covers (a step's width is an extent, not a fit).
_GENERAL_WIDTHS = ("slot", "pocket")


def action_text(a: Allowance, toleranced: bool = True) -> str:
    """What to do with a size (the ``action`` prop the rules quote)."""
    is_thread = a.target.startswith("thread")
    if not toleranced:
        return (f"ISO 2768-1 gives no general tolerance below 0.5 mm: put a tolerance on it; "
                f"to hit the nominal machine it to {a.premachine_min_mm:.4f}-{a.premachine_max_mm:.4f} mm")
    if is_thread and abs(a.size_change_max_um) > a.tolerance_band_um:
        return "the shift is larger than the whole band: the thread must be masked or cut after anodizing"
    if not a.feasible:
        return "no pre-anodize size holds the band: mask it or finish it after anodizing"
    if is_thread:
        return (f"cut the pitch diameter to {a.premachine_min_mm:.4f}-{a.premachine_max_mm:.4f} mm "
                "(oversize tap or thread mill) or mask it")
    return f"machine it to {a.premachine_min_mm:.4f}-{a.premachine_max_mm:.4f} mm"


def size_masked(size: Size, masks: Sequence[Select]) -> bool:
    """Whether a ``[[masking]]`` entry covers ``size`` (its surfaces, or its feature by id)."""
    return any(m.matches_size(size) or (m.feature is not None and m.feature in (size.feature, size.part_of))
               for m in masks)


def size_allowances(sizes: Sequence[Size], tolerances: Sequence[ToleranceSpec], film: tuple[float, float, float],
                    *, general_class: str | None, masks: Sequence[Select] = (), skip: Callable[[Size], bool]
                    = lambda s: False, unmatched: Callable[[Select], None] = lambda s: None, first_id: int = 1
                    ) -> list[Feature]:
    """``anodize_allowance`` features for every size of a body under a finish.

    Explicit tolerances (the spec's first, then PMI on sizes the spec left alone) select sizes
    wherever they are (:meth:`Select.matches_size`); every other size gets the general
    tolerance (``general_class``, ISO 2768-1). Sizes of one kind, nominal, band, source and
    masking make one allowance (one row of the pre-machining table) listing all their faces.

    Args:
        sizes: The body's sizes (``dfm.rules.sizes.body_sizes``).
        tolerances: Spec then PMI tolerances.
        film: (film_min_um, film_max_um, growth_fraction).
        general_class: ISO 2768-1 class for the rest (None: only explicit tolerances).
        masks: The spec's masking selections.
        skip: Sizes the general tolerance must leave (a threaded hole's bore: its thread governs).
        unmatched: Called with a spec selection that matches no size (and cannot stand alone).
        first_id: Number of the first ``anodize-N`` id.

    Returns:
        The allowance features, grouped by size.
    """
    groups: dict[tuple[Any, ...], list[Size]] = {}
    meta: dict[tuple[Any, ...], dict[str, Any]] = {}
    covered: set[int] = set()  # index into sizes
    spec_covered: set[int] = set()

    def put(key: tuple[Any, ...], size: Size | None, info: dict[str, Any]) -> None:
        groups.setdefault(key, [])
        if size is not None:
            groups[key].append(size)
        meta.setdefault(key, info)

    for ti, tol in enumerate(tolerances):
        hits = [i for i, s in enumerate(sizes) if tol.select.matches_size(s, tol.plus_um, tol.minus_um)]
        if tol.kind is not None and tol.select.value_mm is not None:
            hits = [i for i in hits if sizes[i].kind == tol.kind]
        if tol.source != "spec":
            hits = [i for i in hits if i not in spec_covered]
            if not hits and any(tol.select.matches_size(s) for s in sizes):
                continue  # the spec already tolerances these surfaces
        if not hits:
            nominal = tol.nominal_mm or tol.select.value_mm
            if nominal is not None and tol.kind is not None:
                key: tuple[Any, ...] = ("tol", ti, tol.kind, round(nominal, 6), False)
                put(key, None, {"target": tol.kind, "nominal": nominal, "plus": tol.plus_um, "minus": tol.minus_um,
                                "source": tol.source, "select": tol.select.describe(), "faces": tol.select.faces,
                                "explicit": True, "masked": False})
            elif tol.source == "spec":
                unmatched(tol.select)
            continue
        for i in hits:
            s = sizes[i]
            covered.add(i)
            if tol.source == "spec":
                spec_covered.add(i)
            target = tol.kind or s.kind
            nominal = tol.nominal_mm or tol.select.value_mm or s.nominal_mm
            masked = size_masked(s, masks)
            key = ("tol", ti, target, round(nominal, 6), masked)
            put(key, s, {"target": target, "nominal": nominal, "plus": tol.plus_um, "minus": tol.minus_um,
                         "source": tol.source, "select": tol.select.describe(), "explicit": True, "masked": masked})

    if general_class:
        for i, s in enumerate(sizes):
            if i in covered or skip(s) or (s.kind == "width" and s.role not in _GENERAL_WIDTHS):
                continue
            dev = general_tolerance_mm(s.nominal_mm, general_class)
            dev_um = dev * 1000.0 if dev else 0.0
            masked = size_masked(s, masks)
            key = ("general", s.kind, round(s.nominal_mm, 4), dev_um, masked)
            put(key, s, {"target": s.kind, "nominal": round(s.nominal_mm, 6), "plus": dev_um, "minus": dev_um,
                         "source": f"iso-2768-{general_class}", "explicit": False, "masked": masked})

    out: list[Feature] = []
    order = sorted(groups, key=lambda k: (0 if k[0] == "tol" else 1, str(meta[k]["target"]),
                                          float(meta[k]["nominal"]), str(k)))
    for n, key in enumerate(order, first_id):
        info, members = meta[key], groups[key]
        toleranced = info["plus"] + info["minus"] > 0
        a = allowance(info["target"], float(info["nominal"]), info["plus"], info["minus"], *film)
        faces = tuple(sorted({fid for s in members for fid in s.faces})) or tuple(info.get("faces", ()))
        feats = sorted({x for s in members for x in (s.feature or s.part_of,) if x})
        props: dict[str, Any] = {
            "target": info["target"], "feasible": a.feasible and toleranced, "masked": info["masked"],
            "source": info["source"], "window": "tolerance" if a.feasible and toleranced else "nominal",
            "action": action_text(a, toleranced), "explicit": info["explicit"], "toleranced": toleranced,
            "size": f"{info['target']} {'Ø' if info['target'] in ('bore', 'shaft') else ''}{info['nominal']:.4g} mm",
            "count": len(members),
        }
        if feats:
            props["feature"] = feats[0]
            props["features"] = feats
        if info.get("select"):
            props["select"] = info["select"]
        first = members[0] if members else None
        out.append(Feature(id=f"anodize-{n}", kind="anodize_allowance", faces=faces, dims=a.dims(), props=props,
                           location_mm=first.location_mm if first else None, axis=first.axis if first else None))
    return out
