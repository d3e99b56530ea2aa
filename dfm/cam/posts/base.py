"""The post base: turns a sequenced step list into G-code lines. Formatting only."""

from __future__ import annotations

from collections.abc import Sequence

from dfm.cam.geom2d import POST_DIGITS
from dfm.cam.model import Arc, Comment, DrillCycle, Feed, Rapid, Spindle, Step, ToolChange


def num(x: float, digits: int = POST_DIGITS) -> str:
    """Fixed decimals, no negative zero (deterministic output).

    :func:`dfm.cam.geom2d.arc_postable` checks arcs with these same decimals.
    """
    s = f"{x:.{digits}f}"
    if float(s) == 0.0:
        s = f"{0.0:.{digits}f}"
    return s


def wrap(text: str, width: int = 120) -> list[str]:
    """Split a long comment at spaces (rs274 rejects lines over 255 characters)."""
    words = text.split(" ")
    out: list[str] = []
    cur = ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            out.append(cur)
            cur = "  " + w
        else:
            cur = f"{cur} {w}" if cur else w
    out.append(cur)
    return out


class Post:
    """A G-code dialect.

    Attributes:
        name: Registry name.
        description: One line for ``--help``.
        canned_cycles: True if the controller runs G83 (otherwise pecks are expanded first).
        tool_table: True if the controller reads a LinuxCNC-style tool table.
    """

    _coolant_on = False
    name = "base"
    description = ""
    canned_cycles = True
    tool_table = True
    #: Set by :meth:`format`: seconds to dwell after each M3, coolant M code (0 none, 7, 8).
    spindle_ramp_s = 0.0
    coolant_m = 0

    # --- hooks a dialect overrides ---------------------------------------------------
    def comment(self, text: str) -> str:
        """A comment line; parentheses in the text become brackets (a comment cannot nest them)."""
        clean = text.replace("(", "[").replace(")", "]").replace("\n", " ")
        return f"({clean})"

    def preamble(self, title: str) -> list[str]:
        """Lines before the header comments."""
        return ["%"]

    def modes(self) -> list[str]:
        """Modal set-up after the header."""
        return ["G21 G90 G17 G94 G40 G49 G80", "G54"]

    def tool_change(self, step: ToolChange, safe_z: float) -> list[str]:
        """Lines that load a tool (the spindle is already stopped)."""
        return [f"T{step.number} M6", f"G0 G43 H{step.number} Z{num(safe_z)}"]

    def ending(self, safe_z: float) -> list[str]:
        """Lines that end the program."""
        return [f"G0 Z{num(safe_z)}", "M30", "%"]

    def dwell(self, seconds: float) -> str:
        """A dwell (G4 P in seconds: LinuxCNC, grbl)."""
        return f"G4 P{seconds:.2f}"

    def spindle_on(self, rpm: float) -> list[str]:
        """Spindle on clockwise, the run-up dwell, then coolant (machine settings)."""
        out = [f"S{rpm:.0f} M3"]
        if self.spindle_ramp_s > 0:
            out.append(self.dwell(self.spindle_ramp_s))
        if self.coolant_m and not self._coolant_on:
            out.append(f"M{self.coolant_m}")
            self._coolant_on = True
        return out

    def spindle_off(self) -> list[str]:
        """Coolant off, spindle stop."""
        out = ["M9"] if self._coolant_on else []
        self._coolant_on = False
        return out + ["M5"]

    # --- formatting --------------------------------------------------------------------
    def format(self, title: str, header: Sequence[str], steps: Sequence[Step], safe_z: float, *,
               spindle_ramp_s: float = 0.0, coolant_m: int = 0) -> str:
        """The whole program text.

        ``spindle_ramp_s``: dwell after each M3 so the spindle is at speed before it cuts
        (0: none); ``coolant_m``: 7 or 8 switched on after M3 and off (M9) before M5 (0: none).
        """
        self.spindle_ramp_s, self.coolant_m, self._coolant_on = float(spindle_ramp_s), int(coolant_m), False
        lines = self.preamble(title)
        for h in header:
            lines += [self.comment(part) for part in wrap(h)]
        lines += self.modes()
        lines += self.body(steps, safe_z)
        lines += self.ending(safe_z)
        return "\n".join(lines) + "\n"

    def body(self, steps: Sequence[Step], safe_z: float) -> list[str]:
        """Motion and machine lines, with modal feed (F only when it changes)."""
        out: list[str] = []
        pos: tuple[float, float, float] | None = None
        feed: float | None = None
        for s in steps:
            if isinstance(s, Comment):
                out.append(self.comment(s.text))
            elif isinstance(s, ToolChange):
                out += self.tool_change(s, safe_z)
                pos = None
            elif isinstance(s, Spindle):
                out += self.spindle_on(s.rpm) if s.rpm > 0 else self.spindle_off()
            elif isinstance(s, Rapid):
                out.append(f"G0 X{num(s.x)} Y{num(s.y)} Z{num(s.z)}")
                pos = (s.x, s.y, s.z)
            elif isinstance(s, Feed):
                f = ""
                if s.feed != feed:
                    f, feed = f" F{s.feed:.1f}", s.feed
                out.append(f"G1 X{num(s.x)} Y{num(s.y)} Z{num(s.z)}{f}")
                pos = (s.x, s.y, s.z)
            elif isinstance(s, Arc):
                if pos is None:
                    raise ValueError("an arc needs a known start point")
                f = ""
                if s.feed != feed:
                    f, feed = f" F{s.feed:.1f}", s.feed
                g = "G3" if s.ccw else "G2"
                out.append(f"{g} X{num(s.x)} Y{num(s.y)} Z{num(s.z)} I{num(s.cx - pos[0])} J{num(s.cy - pos[1])}{f}")
                pos = (s.x, s.y, s.z)
            elif isinstance(s, DrillCycle):
                out += self.drill(s)
                feed = s.feed
                pos = (s.x, s.y, s.r)
        return out

    def drill(self, s: DrillCycle) -> list[str]:
        """A G83 peck cycle, cancelled at once (the R plane is also the return plane)."""
        return [f"G99 G83 X{num(s.x)} Y{num(s.y)} Z{num(s.z)} R{num(s.r)} Q{num(s.peck)} F{s.feed:.1f}", "G80"]
