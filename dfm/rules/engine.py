"""The rule engine: features + settings -> findings.

Each rule reads features of the kinds it names. For every feature its ``where`` selects, the
engine evaluates ``value`` and walks the bands worst-first; the first band whose limit the value
is beyond gives the finding's severity. A name an expression needs that the feature does not
have (a dim that does not apply) skips the feature: no value, no finding.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from dfm import diagnostics
from dfm.errors import RuleError
from dfm.model import Feature, Finding, Severity
from dfm.rules import anodize
from dfm.rules.expr import Missing
from dfm.rules.loader import monotonic_or_raise
from dfm.rules.model import Rule
from dfm.rules.registry import (
    Settings,
    general_tolerance_mm,
    nearest_drill,
    nearest_radius_gap,
    thread_by_designation,
)
from dfm.rules.spec import Select, ToleranceSpec
from dfm.rules.units import DISPLAY, MESSAGE_DIGITS, fmt, to_display

#: Relative margin for comparing a value with a limit: a value *at* the limit passes.
REL_EPS = 1e-6
ABS_EPS = 1e-9


def feature_env(feat: Feature, features: Mapping[str, Feature], settings: Settings) -> dict[str, Any]:
    """The names a rule expression may read for ``feat``: dims, scalar props and derived values."""
    env: dict[str, Any] = {"id": feat.id, "kind": feat.kind, "faces_count": len(feat.faces)}
    env.update(feat.props)
    env.update(feat.dims)
    d = feat.dims
    if feat.kind == "corner":
        r = d.get("radius_mm")
        if r is not None and r > 0:
            if feat.props.get("orientation") == "vertical":
                env["tool_d_mm"] = 2 * r
            if d.get("depth_mm") is not None:
                env["depth_radius_ratio"] = d["depth_mm"] / r
            if feat.props.get("orientation") == "floor":
                env["floor_tool_gap_mm"] = nearest_radius_gap(r, settings.catalogue.corner_radii_mm)
    elif feat.kind in ("pocket", "slot", "step"):
        w = d.get("width_mm")
        rc = d.get("min_corner_radius_mm")
        cands = [x for x in (w, 2 * rc if rc else None) if x]
        if cands:
            env["tool_d_mm"] = min(cands)
        if rc and d.get("depth_mm") is not None and "depth_radius_ratio" not in d:
            env["depth_radius_ratio"] = d["depth_mm"] / rc
    elif feat.kind == "hole":
        dia = d.get("diameter_mm")
        if dia is not None:
            near = nearest_drill(dia)
            env["nearest_drill_mm"] = near
            env["drill_gap_mm"] = abs(near - dia) if near is not None else None
        env["threaded"] = any(f.kind == "thread" and f.props.get("hole") == feat.id for f in features.values())
        cand = feat.props.get("candidate_thread")
        row = thread_by_designation(str(cand)) if cand else None
        if row is not None:
            env.update(candidate_major_mm=row.major_mm, candidate_system=row.system, candidate_series=row.series)
    elif feat.kind == "thread":
        row = thread_by_designation(str(feat.props.get("designation", "")))
        env["in_table"] = row is not None
        if row is not None:
            env["minor_min_mm"] = row.minor_min_mm
            env["minor_max_mm"] = row.minor_max_mm
            env["pd_tolerance_um"] = row.pd_tolerance_um
        hole = features.get(str(feat.props.get("hole", "")))
        if hole is not None:
            env["hole_diameter_mm"] = hole.dims.get("diameter_mm")
            env["hole_depth_mm"] = hole.dims.get("depth_mm")
            env["hole_through"] = bool(hole.props.get("through", False))
        if d.get("length_mm") and d.get("major_diameter_mm"):
            env["length_diameter_ratio"] = d["length_mm"] / d["major_diameter_mm"]
    return env


class _Fmt(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, float) and not format_spec:
            return fmt(value)
        return super().format_field(value, format_spec)


_FORMATTER = _Fmt()


class _Fields(dict):  # type: ignore[type-arg]
    """Template fields; a name the feature does not have prints as '?'."""

    def __missing__(self, key: str) -> str:
        return "?"


def _close_beyond(value: float, limit: float, compare: str) -> bool:
    eps = max(ABS_EPS, REL_EPS * max(abs(limit), abs(value)))
    return value < limit - eps if compare == "below" else value > limit + eps


def evaluate_rule(rule: Rule, feat: Feature, env: Mapping[str, Any]) -> Finding | None:
    """Judge one feature with one rule (None when the rule does not fire)."""
    scope = {**env, **rule.params}
    try:
        if rule.where is not None and not rule.where(scope):
            return None
        if rule.compare == "present":
            severity, value, limit = rule.bands[0].severity, None, None
        else:
            assert rule.value is not None
            value = float(rule.value(scope))
            limits = [float(b.limit(scope)) for b in rule.bands if b.limit is not None]
            monotonic_or_raise(limits, rule.compare, rule.path, f"rule {rule.code}.bands")
            hit = next(((b, lim) for b, lim in zip(rule.bands, limits, strict=True)
                        if _close_beyond(value, lim, rule.compare)), None)
            if hit is None:
                return None
            severity, limit = hit[0].severity, hit[1]
    except Missing:
        return None
    except (TypeError, ZeroDivisionError, ValueError) as err:
        raise RuleError(rule.path, f"rule {rule.code}", f"cannot evaluate on {feat.id}: {err}") from None
    shown_value = to_display(value, rule.unit) if value is not None and rule.unit in DISPLAY else value
    shown_limit = to_display(limit, rule.unit) if limit is not None and rule.unit in DISPLAY else limit
    unit = "" if rule.unit == "ratio" else rule.unit
    fields = _Fields(scope)
    digits = MESSAGE_DIGITS.get(rule.unit)
    while digits is not None and digits < 4 and shown_value is not None and shown_limit is not None \
            and fmt(shown_value, digits) == fmt(shown_limit, digits):
        digits += 1  # never "47.1 below 47.1": as many decimals as tell them apart
    if digits is None:
        fields.update(value=shown_value, limit=shown_limit)
    else:
        fields.update(value=fmt(shown_value, digits) if shown_value is not None else None,
                      limit=fmt(shown_limit, digits) if shown_limit is not None else None)
    fields.update(unit=unit, severity=severity.value)
    try:
        message = _FORMATTER.vformat(rule.message, (), fields)
    except (KeyError, IndexError, ValueError) as err:
        raise RuleError(rule.path, f"rule {rule.code}.message", f"cannot fill the template: {err}") from None
    return Finding(
        code=rule.code, name=rule.name, severity=severity, message=message,
        value=None if shown_value is None else round(shown_value, 6),
        limit=None if shown_limit is None else round(shown_limit, 6),
        unit=rule.unit if rule.compare != "present" else "",
        faces=tuple(sorted(feat.faces)), location_mm=feat.location_mm, feature=None if feat.kind == "part" else feat.id,
        why=rule.why, fix=rule.fix,
    )


def spec_features(settings: Settings, features: list[Feature], pmi: Sequence[ToleranceSpec] = ()
                  ) -> tuple[list[Feature], list[Finding]]:
    """Features the spec adds (called-out threads, anodize allowances) and spec notes.

    Args:
        settings: The run's settings (spec, finish variables).
        features: The body's measured features.
        pmi: Tolerances read from the file's AP242 PMI; the spec wins where both give one.
    """
    spec = settings.spec
    env = settings.vars
    added: list[Feature] = []
    notes: list[Finding] = []
    by_id = {f.id: f for f in features}

    def unmatched(section: str, sel: Select) -> None:
        notes.append(diagnostics.finding(
            "spec-unmatched", f"{spec.path}: [[{section}]] select = {sel.describe()} matches no feature of this "
            "body; the entry was not applied."))

    # Threads called out in the spec, on the holes they select.
    for n, t in enumerate(spec.threads, 1):
        holes = [f for f in features if f.kind == "hole" and t.select.matches(f)]
        if not holes:
            unmatched("thread", t.select)
            continue
        row = thread_by_designation(t.designation)
        for hole in holes:
            if any(f.kind == "thread" and f.props.get("hole") == hole.id for f in features + added):
                continue  # modelled or PMI thread already there
            dims: dict[str, float] = {}
            if row is not None:
                dims = {"major_diameter_mm": row.major_mm, "pitch_mm": row.pitch_mm}
                if row.pitch_diameter_mm is not None:
                    dims["pitch_diameter_mm"] = float(row.pitch_diameter_mm)
                if row.minor_internal_mm is not None:
                    dims["minor_diameter_mm"] = float(row.minor_internal_mm)
            length = t.length_mm if t.length_mm is not None else hole.dims.get("depth_mm")
            if length is not None:
                dims["length_mm"] = float(length)
            added.append(Feature(
                id=f"thread-spec-{n}" + (f"-{hole.id}" if len(holes) > 1 else ""), kind="thread",
                faces=hole.faces, dims=dims,
                props={"designation": t.designation, "internal": t.internal, "source": "spec", "hole": hole.id,
                       "hand": t.hand},
                location_mm=hole.location_mm, axis=hole.axis,
            ))

    everything = features + added
    by_id.update({f.id: f for f in added})

    def masked(feat: Feature) -> bool:
        hole = by_id.get(str(feat.props.get("hole", "")))
        return any(m.matches(feat) or (hole is not None and m.matches(hole)) for m in spec.masking)

    for m in spec.masking:
        if not any(m.matches(f) for f in everything):
            unmatched("masking", m)

    if env.get("finish_kind") != "anodize":
        # Nothing to allow for without a coating, but an entry that selects nothing is still a typo to report.
        for tol in spec.tolerances:
            stands_alone = (tol.nominal_mm or tol.select.diameter_mm) is not None and tol.kind is not None
            if not stands_alone and not any(f.kind in ("hole", "slot", "pocket", "step") and tol.select.matches(f)
                                            for f in everything):
                unmatched("tolerance", tol.select)
        return added, notes
    film = (float(env["film_min_um"]), float(env["film_max_um"]), float(env["growth_fraction"]))
    count = 0

    def add_allowance(target: str, nominal: float, plus: float, minus: float, base: Feature | None,
                      source: str, designation: str = "", faces: tuple[int, ...] = ()) -> None:
        nonlocal count
        count += 1
        a = anodize.allowance(target, nominal, plus, minus, *film)
        is_thread = target.startswith("thread")
        if is_thread and abs(a.size_change_max_um) > a.tolerance_band_um:
            action = "the shift is larger than the whole band: the thread must be masked or cut after anodizing"
        elif not a.feasible:
            action = "no pre-anodize size holds the band: mask it or finish it after anodizing"
        elif is_thread:
            action = (f"cut the pitch diameter to {a.premachine_min_mm:.4f}-{a.premachine_max_mm:.4f} mm "
                      "(oversize tap or thread mill) or mask it")
        else:
            action = f"machine it to {a.premachine_min_mm:.4f}-{a.premachine_max_mm:.4f} mm"
        props: dict[str, Any] = {"target": "thread" if is_thread else target,
                                 "feasible": a.feasible, "masked": base is not None and masked(base),
                                 "source": source, "window": "tolerance" if a.feasible else "nominal",
                                 "action": action}
        if base is not None:
            props["feature"] = base.id
        if designation:
            props["designation"] = designation
        if base is not None:
            # a hole's size is its bore's: the counterbore or countersink above it is another size
            faces = tuple(base.props.get("bore_faces") or base.faces) if base.kind == "hole" else base.faces
        added.append(Feature(
            id=f"anodize-{count}", kind="anodize_allowance", faces=faces, dims=a.dims(),
            props=props, location_mm=base.location_mm if base else None, axis=base.axis if base else None,
        ))

    covered: set[str] = set()
    for tol in list(spec.tolerances) + list(pmi):
        hits = [f for f in everything if f.kind in ("hole", "slot", "pocket", "step") and tol.select.matches(f)]
        if tol.source != "spec" and hits:
            hits = [f for f in hits if f.id not in covered]
            if not hits:
                continue  # the spec already tolerances this feature
        if not hits:
            nominal = tol.nominal_mm or tol.select.diameter_mm
            if nominal is not None and tol.kind is not None:
                add_allowance(tol.kind, nominal, tol.plus_um, tol.minus_um, None, tol.source, faces=tol.select.faces)
            elif tol.source == "spec":
                unmatched("tolerance", tol.select)
            continue
        for f in hits:
            covered.add(f.id)
            kind = tol.kind or ("bore" if f.kind == "hole" else "width")
            nominal = tol.nominal_mm or f.dims.get("diameter_mm") or f.dims.get("width_mm")
            if nominal is None:
                unmatched("tolerance", tol.select)
                continue
            add_allowance(kind, float(nominal), tol.plus_um, tol.minus_um, f, tol.source)

    if spec.general_tolerance:
        toleranced = {str(a.props.get("feature")) for a in added if a.kind == "anodize_allowance"}
        for f in everything:
            if f.kind != "hole" or f.id in toleranced or f.dims.get("diameter_mm") is None:
                continue
            if any(t.kind == "thread" and t.props.get("hole") == f.id for t in everything):
                continue  # the thread's own PD band governs
            dev = general_tolerance_mm(float(f.dims["diameter_mm"]), spec.general_tolerance)
            if dev is not None:
                add_allowance("bore", float(f.dims["diameter_mm"]), dev * 1000, dev * 1000, f,
                              f"iso-2768-{spec.general_tolerance}")

    for f in everything:
        if f.kind != "thread":
            continue
        row = thread_by_designation(str(f.props.get("designation", "")))
        if row is None or row.pitch_diameter_mm is None or row.pd_tolerance_um is None:
            continue
        internal = bool(f.props.get("internal", True))
        # 6H (internal): PD from basic to basic + T; external threads are judged on the same band.
        plus, minus = (float(row.pd_tolerance_um), 0.0) if internal else (0.0, float(row.pd_tolerance_um))
        add_allowance("thread-internal" if internal else "thread-external", float(row.pitch_diameter_mm),
                      plus, minus, f, str(f.props.get("source", "model")), row.designation)
    return added, notes


def evaluate(rules: Iterable[Rule], features: list[Feature], settings: Settings) -> list[Finding]:
    """Every enabled rule on every feature it reads; findings sorted."""
    by_id = {f.id: f for f in features}
    envs: dict[str, dict[str, Any]] = {}
    ctx_env = dict(settings.vars)
    part = Feature(id="part", kind="part")
    out: list[Finding] = []
    for rule in rules:
        if not rule.enabled:
            continue
        try:
            if rule.when is not None and not rule.when({**ctx_env, **rule.params}):
                continue
        except Missing:
            continue
        targets = [part] if "part" in rule.reads else [f for f in features if f.kind in rule.reads]
        for feat in targets:
            if feat.id not in envs:
                envs[feat.id] = {**ctx_env, **(feature_env(feat, by_id, settings) if feat.kind != "part" else {})}
            finding = evaluate_rule(rule, feat, envs[feat.id])
            if finding is not None:
                out.append(finding)
    return sorted(out, key=Finding.sort_key)


def worst(findings: Iterable[Finding], code: str) -> Severity | None:
    """The worst severity among findings of ``code`` (None if there is none)."""
    sev = [f.severity for f in findings if f.code == code]
    return min(sev, key=lambda s: s.rank) if sev else None


__all__ = ["evaluate", "evaluate_rule", "feature_env", "spec_features", "worst"]
