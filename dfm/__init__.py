"""dfm: design-for-manufacturability checks for micro-milled parts."""

from __future__ import annotations

__version__ = "0.1.0"
