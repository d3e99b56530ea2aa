"""Fanuc 0i-style dialect: program number, upper-case comments, G28 home before the end."""

from __future__ import annotations

import re

from dfm.cam.posts.base import Post, num


class FanucPost(Post):
    """Fanuc-style G-code (O-number, G43 with Z, G28 via G91, M30)."""

    name = "fanuc"
    description = "Fanuc 0i style (O-number, G43 H, G83, G28 return, upper-case comments)"

    def comment(self, text: str) -> str:
        """Upper-case comment in parentheses (older controls reject lower case)."""
        clean = re.sub(r"[()]", "", text).replace("\n", " ").upper()
        return f"({clean})"

    def preamble(self, title: str) -> list[str]:
        """``%`` and the program number."""
        name = re.sub(r"[^A-Z0-9 ._-]", "", title.upper())[:16]
        return ["%", f"O0001 ({name})"]

    def modes(self) -> list[str]:
        """Safe start block."""
        return ["G21 G17 G40 G49 G80 G90 G94", "G54"]

    def dwell(self, seconds: float) -> str:
        """G04 with X in seconds (P would be milliseconds on a Fanuc)."""
        return f"G4 X{seconds:.2f}"

    def ending(self, safe_z: float) -> list[str]:
        """Retract, return Z home, end."""
        return [f"G0 Z{num(safe_z)}", "G91 G28 Z0.", "G90", "M30", "%"]
