"""One exception hierarchy for dfm.

Every message names the file (where there is one) and the cause, on one line, so the CLI
can print ``str(err)`` as it is and a batch summary can store it.
"""

from __future__ import annotations

from pathlib import Path


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
        self.cause = " ".join(str(cause).split())  # one line, always
        super().__init__(f"{self.path}: {self.cause} [{code} {name}]")


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


class UsageError(DfmError):
    """A command-line setting is wrong (unknown post, bad value...)."""
