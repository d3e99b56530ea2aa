"""Test-only functions that misbehave on purpose inside a ``dfm.isolation`` child.

Reached only by name from tests (``isolation.run_child("isolation_trouble:segfault")``);
the production front ends name their own targets, and nothing in a part file can name one.
"""

from __future__ import annotations

import ctypes
import time

from dfm.errors import InputError


def echo(value):
    return value


def segfault():
    ctypes.string_at(0)  # SIGSEGV, as a kernel crash would


def sleep(seconds: float = 3600.0):
    time.sleep(seconds)


def eat_memory(step_mb: int = 64, most_mb: int = 8192):
    hog = []
    for _ in range(most_mb // step_mb):
        hog.append(bytearray(step_mb * 1024 * 1024))
    raise AssertionError("the memory cap did not stop the allocation")


def import_under_cap():
    # what an extension module's import says when RLIMIT_AS leaves no room to map it
    raise ImportError("/venv/lib/OCP.cpython-311-x86_64-linux-gnu.so: failed to map segment from shared object")


def long_error():
    raise RuntimeError("Standard_Failure at 0x55d3c4a1b2c0: " + "x" * 900)


def input_error(path: str):
    raise InputError("DFM904", "corrupt-file", path, "bad at 0x7ffc1234abcd")


def openblas_exit():
    import os
    import sys

    sys.stderr.write("OpenBLAS error: Memory allocation still failed after 10 retries, giving up.\n")
    sys.stderr.flush()
    os._exit(1)
