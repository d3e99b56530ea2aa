"""Quantities with units in rule and profile files: ``"0.15 mm"``, ``"20 um"``, ``"15000 rpm"``.

Units are parsed here, at the edge; inside dfm every length is a float in mm. A bare number
is a ratio (dimensionless).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dfm.errors import RuleError

#: unit spelling -> (dimension, factor to the base unit of that dimension)
UNITS: dict[str, tuple[str, float]] = {
    "mm": ("length", 1.0),
    "um": ("length", 1e-3),
    "µm": ("length", 1e-3),
    "μm": ("length", 1e-3),
    "micron": ("length", 1e-3),
    "cm": ("length", 10.0),
    "m": ("length", 1000.0),
    "in": ("length", 25.4),
    "inch": ("length", 25.4),
    "mil": ("length", 0.0254),
    "deg": ("angle", 1.0),
    "°": ("angle", 1.0),
    "rpm": ("speed", 1.0),
    "m/min": ("velocity", 1.0),
    "%": ("ratio", 0.01),
    "": ("ratio", 1.0),
    "x": ("ratio", 1.0),
}

#: Base unit name of each dimension, as findings print it.
BASE_UNIT = {"length": "mm", "angle": "deg", "speed": "rpm", "velocity": "m/min", "ratio": ""}

#: Display units a rule may ask for: name -> (dimension, factor from the base unit).
DISPLAY: dict[str, tuple[str, float]] = {
    "mm": ("length", 1.0),
    "um": ("length", 1000.0),
    "deg": ("angle", 1.0),
    "rpm": ("speed", 1.0),
    "m/min": ("velocity", 1.0),
    "ratio": ("ratio", 1.0),
    "%": ("ratio", 100.0),
}

_QTY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([^\d\s].*?)?\s*$")


@dataclass(frozen=True)
class Quantity:
    """A parsed value in its dimension's base unit (mm, deg, rpm, m/min, ratio)."""

    value: float
    dimension: str


def parse_quantity(text: object, *, path: str = "", key: str = "") -> Quantity:
    """Parse ``"0.15 mm"``, ``"20 um"``, ``"3"``, ``4.5`` into a :class:`Quantity`.

    Args:
        text: A number (a ratio) or a string "<number> <unit>".
        path: File the value came from (for the error message).
        key: Key the value came from.

    Raises:
        RuleError: The value is not a number with a known unit.

    """
    if isinstance(text, bool):
        raise RuleError(path, key, f"expected a quantity like '0.15 mm', got {text!r}")
    if isinstance(text, int | float):
        return Quantity(float(text), "ratio")
    if not isinstance(text, str):
        raise RuleError(path, key, f"expected a quantity like '0.15 mm', got {text!r}")
    m = _QTY.match(text)
    if not m:
        raise RuleError(path, key, f"cannot read {text!r} as a quantity (write e.g. '0.15 mm' or '20 um')")
    unit = (m.group(2) or "").strip()
    if unit not in UNITS:
        known = ", ".join(sorted(u for u in UNITS if u))
        raise RuleError(path, key, f"unknown unit {unit!r} in {text!r} (known: {known})")
    dim, factor = UNITS[unit]
    return Quantity(float(m.group(1)) * factor, dim)


def to_display(value: float, unit: str) -> float:
    """Convert a base-unit value to the display unit (``um`` multiplies mm by 1000)."""
    return value * DISPLAY[unit][1]


#: Decimals a message shows for a value in this unit (default 4: lengths to 0.1 µm). Cutting
#: speeds and spindle speeds are not known to better than that from any table.
MESSAGE_DIGITS: dict[str, int] = {"m/min": 1, "rpm": 0}


def fmt(value: float | None, digits: int = 4) -> str:
    """Stable short number format: up to ``digits`` decimals, no trailing zeros."""
    if value is None:
        return "?"
    if value != value:  # NaN
        return "nan"
    text = f"{value:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
