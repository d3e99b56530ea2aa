"""Imported by the fork server only: warm the kernel so each per-file child starts fast.

A failure here must not stop the fork server; the child then imports what it needs itself
and reports any error as that file's ``worker-error``.
"""

from __future__ import annotations

try:
    from dfm.batch.worker import preload

    preload()
except Exception:  # noqa: BLE001, S110 - reported per file by the child instead
    pass
