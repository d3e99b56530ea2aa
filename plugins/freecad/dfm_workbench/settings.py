"""Part settings stored on the FreeCAD document, so that they travel with the .FCStd file.

They live as ordinary properties (group "DFM") of one ``App::FeaturePython`` object named
``DFMSettings``. It has no Python proxy, so a document opens cleanly even where the
workbench is not installed. FreeCAD-only: no dfm import here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import FreeCAD

OBJECT_NAME = "DFMSettings"
GROUP = "DFM"

#: key -> (FreeCAD property name, property type, tooltip). The keys are those of the bridge's
#: ``spec_toml``; the spec format itself is dfm's (dfm/rules/spec.py).
PROPERTIES: dict[str, tuple[str, str, str]] = {
    "material": ("Material", "App::PropertyString", "Material name as dfm knows it (6061-T6, 303, Ti-6Al-4V, PEEK...)"),
    "finish": ("Finish", "App::PropertyString",
               "Finish: none, anodize-ii, anodize-iii, passivate (empty = dfm's default)"),
    "general_tolerance": ("GeneralTolerance", "App::PropertyString",
                          "ISO 2768-1 class for untoleranced sizes: f, m, c or v (empty = unset)"),
    "machine": ("Machine", "App::PropertyString", "Machine profile name or file"),
    "profile": ("Profile", "App::PropertyString", "Your own profile or rule file (TOML), optional"),
    "tools": ("ToolCatalogue", "App::PropertyString", "Your own tool catalogue (TOML), optional"),
    "spec_extra": ("SpecExtra", "App::PropertyString",
                   "More of the part specification, as TOML ([[tolerance]], [[thread]], [[masking]] entries)"),
}


def settings_object(doc: Any, create: bool = False) -> Any | None:
    """The document's settings object (created on demand)."""
    obj = doc.getObject(OBJECT_NAME)
    if obj is None and create:
        obj = doc.addObject("App::FeaturePython", OBJECT_NAME)
        obj.Label = "DFM settings"
        for prop, kind, tip in PROPERTIES.values():
            obj.addProperty(kind, prop, GROUP, tip)
    elif obj is not None:
        for prop, kind, tip in PROPERTIES.values():  # documents written by an older workbench
            if prop not in obj.PropertiesList:
                obj.addProperty(kind, prop, GROUP, tip)
    return obj


def read(doc: Any) -> dict[str, Any]:
    """The settings as a plain dict (empty values when the document has none)."""
    obj = settings_object(doc) if doc is not None else None
    out: dict[str, Any] = {}
    for key, (prop, kind, _tip) in PROPERTIES.items():
        default: Any = 0.0 if kind == "App::PropertyFloat" else ""
        out[key] = getattr(obj, prop, default) if obj is not None else default
    return out


def write(doc: Any, values: dict[str, Any]) -> Any:
    """Store settings on the document (unknown keys are ignored); returns the settings object."""
    obj = settings_object(doc, create=True)
    for key, value in values.items():
        if key in PROPERTIES:
            prop, kind, _tip = PROPERTIES[key]
            setattr(obj, prop, float(value or 0.0) if kind == "App::PropertyFloat" else str(value or ""))
    return obj


def spec_path(doc: Any) -> Path | None:
    """Where the part specification goes: ``<document>.dfm.toml`` beside the saved .FCStd file."""
    name = getattr(doc, "FileName", "") if doc is not None else ""
    if not name:
        return None
    path = Path(name)
    return path.with_name(path.stem + ".dfm.toml")


def output_folder(doc: Any) -> Path | None:
    """The folder of the saved document (None while it is unsaved)."""
    name = getattr(doc, "FileName", "") if doc is not None else ""
    return Path(name).parent if name else None


def log(message: str) -> None:
    """One line in the report view."""
    FreeCAD.Console.PrintMessage(message.rstrip("\n") + "\n")
