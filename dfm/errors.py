"""One exception hierarchy for dfm.

Every message names the file (where there is one) and the cause, on one line, so the CLI
can print ``str(err)`` as it is and a batch summary can store it.
"""

from __future__ import annotations

import re
from pathlib import Path

_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{6,16}\b")


def scrub_addresses(text: str) -> str:
    """``text`` without memory addresses (``0x55d3c4a1b2c0``), which differ from run to run."""
    return _ADDRESS.sub("0x…", text)


class DfmError(Exception):
    """Base of every error dfm raises on purpose."""


class InputError(DfmError):
    """The input file cannot be analysed (missing, not CAD, corrupt, no solid...).

    Attributes:
        code: Stable diagnostic code from ``rules/input.toml`` (``DFM9xx``).
        name: Kebab-case name of the code (``corrupt-file``).
        path: The file concerned.
        cause: The cause, without the file name.
    """

    def __init__(self, code: str, name: str, path: str | Path, cause: str) -> None:
        self.code = code
        self.name = name
        self.path = str(path)
        self.cause = scrub_addresses(" ".join(str(cause).split()))  # one line, always, the same every run
        super().__init__(f"{self.path}: {self.cause} [{code} {name}]")

    def __reduce__(self) -> tuple[type, tuple[str, str, str, str]]:  # sent back from an isolated child
        return (type(self), (self.code, self.name, self.path, self.cause))


class KernelError(DfmError):
    """The geometry kernel failed on an operation dfm asked of it."""


class RuleError(DfmError):
    """A rule, profile, specification or catalogue file is invalid.

    The message names the file, the key and the reason.
    """

    def __init__(self, path: str | Path, key: str, reason: str) -> None:
        self.path = str(path)
        self.key = key
        self.reason = " ".join(str(reason).split())
        where = f"{self.path}: {key}: " if key else f"{self.path}: "
        super().__init__(where + self.reason)

    def __reduce__(self) -> tuple[type, tuple[str, str, str]]:  # sent back from an isolated child
        return (type(self), (self.path, self.key, self.reason))


class UsageError(DfmError):
    """A command-line setting is wrong (unknown post, bad value...)."""
