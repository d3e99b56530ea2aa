"""The ``dfm-result/1`` JSON contract (schema in ``dfm/schema/dfm-result-1.schema.json``)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

from dfm.model import RESULT_SCHEMA, BodyResult, DfmResult, Feature, Finding, Measurement, ToolChoice

#: Lengths are rounded to 1 nm so that output is stable across platforms.
_DIGITS = 6


def num(value: float | None) -> float | None:
    """A JSON-safe, rounded number (NaN and infinities become None)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value  # type: ignore[return-value]
    f = float(value)
    if not math.isfinite(f):
        return None
    r = round(f, _DIGITS)
    return 0.0 if r == 0 else r


def _vec(v: Iterable[float] | None) -> list[float | None] | None:
    return None if v is None else [num(x) for x in v]


def _jsonable(value: Any) -> Any:
    if isinstance(value, float):
        return num(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in sorted(value.items())}
    return value


def measurement_dict(m: Measurement) -> dict[str, Any]:
    """One entry of ``measurements``."""
    return {"value": num(m.value), "faces": list(m.faces), "location_mm": _vec(m.location_mm)}


def feature_dict(f: Feature) -> dict[str, Any]:
    """One entry of ``features``."""
    out: dict[str, Any] = {
        "id": f.id,
        "kind": f.kind,
        "faces": list(f.faces),
        "dims": {k: num(v) for k, v in sorted(f.dims.items())},
    }
    if f.props:
        out["props"] = _jsonable(dict(f.props))
    if f.location_mm is not None:
        out["location_mm"] = _vec(f.location_mm)
    if f.axis is not None:
        out["axis"] = _vec(f.axis)
    return out


def finding_dict(f: Finding) -> dict[str, Any]:
    """One entry of ``findings``."""
    return {
        "code": f.code,
        "name": f.name,
        "severity": f.severity.value,
        "message": f.message,
        "value": num(f.value),
        "limit": num(f.limit),
        "unit": f.unit,
        "faces": list(f.faces),
        "location_mm": _vec(f.location_mm),
        "feature": f.feature,
        "why": f.why,
        "fix": f.fix,
    }


def tool_dict(t: ToolChoice) -> dict[str, Any]:
    """One entry of a body's ``tools``."""
    return {
        "id": t.id,
        "name": t.name,
        "kind": t.kind,
        "diameter_mm": num(t.diameter_mm),
        "corner_radius_mm": num(t.corner_radius_mm),
        "reach_mm": num(t.reach_mm),
        "flute_length_mm": num(t.flute_length_mm),
        "flutes": t.flutes,
        "source": t.source,
        "role": t.role,
        "features": list(t.features),
    }


def body_dict(b: BodyResult) -> dict[str, Any]:
    """One entry of ``bodies``."""
    return {
        "index": b.index,
        "name": b.name,
        "bbox_mm": _vec(b.bbox_mm),
        "bbox_min_mm": _vec(b.bbox_min_mm),
        "volume_mm3": num(b.volume_mm3),
        "faces": b.faces,
        "edges": b.edges,
        "measurements": {k: measurement_dict(m) for k, m in sorted(b.measurements.items())},
        "features": [feature_dict(f) for f in b.features],
        "findings": [finding_dict(f) for f in b.findings],
        "tools": [tool_dict(t) for t in b.tools],
        "access": {
            "undercut_faces": [int(i) for i in (b.access or {}).get("undercut_faces", [])],
            "setups": [{"approach": _vec(tuple(s["approach"])), "features": int(s["features"]),
                        "tilt_deg": num(s["tilt_deg"])} for s in (b.access or {}).get("setups", [])],
        },
    }


def result_dict(r: DfmResult) -> dict[str, Any]:
    """The whole result as the ``dfm-result/1`` JSON object."""
    counts = {"error": 0, "warning": 0, "info": 0}
    cam = getattr(r, "cam", None)
    for f in r.all_findings:
        counts[f.severity.value] += 1
    return {
        "schema": RESULT_SCHEMA,
        "dfm_version": r.dfm_version,
        "file": r.file,
        "status": r.status,
        "error": None if r.error is None else {"code": r.error.code, "name": r.error.name,
                                               "message": r.error.message},
        "verdict": r.verdict,
        "exit_code": r.exit_code,
        "units": "mm",
        "source_units": r.source_units,
        "source_schema": r.source_schema,
        "product_names": list(r.product_names),
        "generated_at": r.generated_at,
        "settings": _jsonable(dict(r.settings)),
        "counts": counts,
        "findings": [finding_dict(f) for f in r.findings],
        "bodies": [body_dict(b) for b in r.bodies],
        **({"cam": _jsonable(dict(cam))} if cam is not None else {}),
    }


def dumps(results: DfmResult | list[DfmResult]) -> str:
    """JSON text: one object for one result, an array for several."""
    if isinstance(results, DfmResult):
        payload: Any = result_dict(results)
    else:
        payload = [result_dict(r) for r in results]
    return json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
