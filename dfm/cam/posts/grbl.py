"""grbl 1.1: no tool changer, no canned cycles, no tool-length table."""

from __future__ import annotations

from dfm.cam.model import ToolChange
from dfm.cam.posts.base import Post, num


class GrblPost(Post):
    """grbl 1.1 dialect: manual tool changes (M0 pause), pecks expanded, no ``%``."""

    name = "grbl"
    description = "grbl 1.1 (manual tool change with M0, pecks expanded to G0/G1, no G43)"
    canned_cycles = False
    tool_table = False

    def preamble(self, title: str) -> list[str]:
        """No ``%``: grbl does not take it."""
        return []

    def modes(self) -> list[str]:
        """Metric, absolute, XY, feed per minute."""
        return ["G21 G90 G17 G94", "G54"]

    def tool_change(self, step: ToolChange, safe_z: float) -> list[str]:
        """Stop for a manual tool change; the operator sets the tool length (touch-off)."""
        return [self.comment(f"change to T{step.number} {step.cutter_id}, set its length, then resume"),
                f"T{step.number}", "M0", f"G0 Z{num(safe_z)}"]

    def ending(self, safe_z: float) -> list[str]:
        """Retract and end."""
        return [f"G0 Z{num(safe_z)}", "M30"]
