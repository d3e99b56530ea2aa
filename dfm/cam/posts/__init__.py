"""Posts: dialects that only format steps as G-code, registered by name.

Posts are found through the entry-point group ``dfm.posts`` (pyproject.toml), so another
package can add its own; the three shipped ones are also known by name when the package
metadata is not installed (a plain source checkout).
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from dfm.cam.posts.base import Post
from dfm.errors import UsageError

GROUP = "dfm.posts"
_BUILTIN = {
    "linuxcnc": "dfm.cam.posts.linuxcnc:LinuxCncPost",
    "fanuc": "dfm.cam.posts.fanuc:FanucPost",
    "grbl": "dfm.cam.posts.grbl:GrblPost",
}


def _registered() -> dict[str, str]:
    out = dict(_BUILTIN)
    for ep in entry_points(group=GROUP):
        out[ep.name] = ep.value
    return out


def available() -> list[str]:
    """Names of every post, sorted."""
    return sorted(_registered())


def get_post(name: str) -> Post:
    """The post called ``name``.

    Raises:
        UsageError: No post by that name (the message lists the known ones).
    """
    target = _registered().get(name)
    if target is None:
        raise UsageError(f"unknown post '{name}' (available: {', '.join(available())})")
    eps = [ep for ep in entry_points(group=GROUP) if ep.name == name]
    if eps:
        cls = eps[0].load()
    else:
        mod, attr = target.split(":")
        cls = getattr(importlib.import_module(mod), attr)
    post = cls()
    if not isinstance(post, Post):
        raise UsageError(f"post '{name}' ({target}) is not a dfm Post")
    return post
