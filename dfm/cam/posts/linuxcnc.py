"""LinuxCNC (rs274ngc): metric, tool-length offsets from the tool table, G83 pecks."""

from __future__ import annotations

from dfm.cam.posts.base import Post


class LinuxCncPost(Post):
    """LinuxCNC 2.9 dialect (the program runs in the standalone ``rs274`` as it is)."""

    name = "linuxcnc"
    description = "LinuxCNC / rs274ngc (G43 from the tool table, G83, M30)"

    def modes(self) -> list[str]:
        """Metric, absolute, XY plane, absolute arc centres off (I/J incremental)."""
        return ["G21 G90 G17 G94 G40 G49 G80 G91.1", "G54", "G64 P0.001"]
