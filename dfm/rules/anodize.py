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

from dataclasses import dataclass

#: Size change per unit of outward build-up g, and its sign (−1 shrinks).
FACTORS: dict[str, tuple[float, int]] = {
    "bore": (2.0, -1),
    "width": (2.0, -1),
    "shaft": (2.0, +1),
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
