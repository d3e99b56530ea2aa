"""The geometry kernel: the only package of dfm that imports OCP (OpenCASCADE)."""

from __future__ import annotations

from dfm.kernel.io import LoadedFile, load
from dfm.kernel.shape import Solid

__all__ = ["LoadedFile", "Solid", "load"]
