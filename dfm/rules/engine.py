"""The rule engine: features + settings -> findings.

Each rule reads features of the kinds it names. For every feature its ``where`` selects, the
engine evaluates ``value`` and walks the bands worst-first; the first band whose limit the value
is beyond gives the finding's severity. A name an expression needs that the feature does not
have (a dim that does not apply) skips the feature: no value, no finding.
"""

from __future__ import annotations

import re
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
    nearest_drill,
    nearest_radius_gap,
    thread_by_designation,
)
from dfm.rules.sizes import Size, body_sizes
from dfm.rules.spec import Select, ToleranceSpec
from dfm.rules.units import DISPLAY, MESSAGE_DIGITS, fmt, to_display

#: Relative margin for comparing a value with a limit: a value *at* the limit passes.
REL_EPS = 1e-6
ABS_EPS = 1e-9


def threaded_holes(features: Iterable[Feature]) -> frozenset[str]:
    """The ids of the holes a thread feature names (its ``hole`` prop)."""
    return frozenset(h for f in features if f.kind == "thread" and isinstance(h := f.props.get("hole"), str))


def feature_env(feat: Feature, features: Mapping[str, Feature], settings: Settings,
                threaded: frozenset[str] | None = None) -> dict[str, Any]:
    """The names a rule expression may read for ``feat``: dims, scalar props and derived values.

    ``threaded``: :func:`threaded_holes` of ``features``, when the caller has it (else it is
    found here: a scan of every feature per hole).
    """
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
        env["threaded"] = feat.id in (threaded if threaded is not None else threaded_holes(features.values()))
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
        if (isinstance(value, list | tuple) and value and not format_spec
                and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)):
            return "(" + ", ".join(fmt(float(v), 3) for v in value) + ")"  # a direction, not a Python list
        return super().format_field(value, format_spec)


#: ``[? … ?]`` in a message: kept (without the marks) when every field in it is known, else dropped.
_OPTIONAL = re.compile(r"\[\?(.*?)\?\]", re.S)


def _optional_parts(template: str, fields: Mapping[str, Any]) -> str:
    def keep(m: re.Match[str]) -> str:
        names = [name for _, name, _, _ in string.Formatter().parse(m.group(1)) if name]
        known = all(re.split(r"[.\[]", n, maxsplit=1)[0] in fields for n in names)
        return m.group(1) if known else ""

    return _OPTIONAL.sub(keep, template)


_FORMATTER = _Fmt()

#: Per message template: its text between the optional parts and, per optional part, the part
#: and the field roots it needs (what :func:`_optional_parts` looks for at each call).
_TEMPLATES: dict[str, tuple[list[str], list[tuple[str, frozenset[str]]]]] = {}
#: Per filled-in template: :meth:`string.Formatter.parse`'s items with each field name split
#: (``_string.formatter_field_name_split``), or None where the fast path does not apply.
_PARSED: dict[str, list[tuple[str, str | None, list[tuple[bool, Any]], str, str | None]] | None] = {}
_UNPARSED: Any = object()


def _message(template: str, fields: _Fields) -> str:
    """``_FORMATTER.vformat(_optional_parts(template, fields), (), fields)``, with both parses kept per template.

    The same steps as ``string.Formatter.vformat`` (literal text, ``get_value`` through the
    fields' ``__missing__``, attribute and index lookups, conversion, ``format_field``) on
    templates whose fields are all named and whose format specs hold no field; any other
    template goes through ``vformat`` itself.
    """
    import _string

    split = _TEMPLATES.get(template)
    if split is None:
        texts, opts, pos = [], [], 0
        for m in _OPTIONAL.finditer(template):
            texts.append(template[pos:m.start()])
            names = [name for _, name, _, _ in string.Formatter().parse(m.group(1)) if name]
            opts.append((m.group(1), frozenset(re.split(r"[.\[]", n, maxsplit=1)[0] for n in names)))
            pos = m.end()
        texts.append(template[pos:])
        split = _TEMPLATES[template] = (texts, opts)
    texts, opts = split
    if opts:
        parts = [texts[0]]
        for (text, roots), after in zip(opts, texts[1:], strict=True):
            parts.append(text if all(r in fields for r in roots) else "")
            parts.append(after)
        filled = "".join(parts)
    else:
        filled = texts[0]
    parsed = _PARSED.get(filled, _UNPARSED)
    if parsed is _UNPARSED:
        items: list[tuple[str, str | None, list[tuple[bool, Any]], str, str | None]] | None = []
        for literal, name, spec, conversion in _FORMATTER.parse(filled):
            if name is not None and (name == "" or name[0].isdigit() or "{" in (spec or "")):
                items = None  # positional fields or nested specs: vformat's own way
                break
            if name is None:
                items.append((literal, None, [], "", None))  # type: ignore[union-attr]
            else:
                first, rest = _string.formatter_field_name_split(name)
                items.append((literal, first, list(rest), spec or "", conversion))  # type: ignore[union-attr]
        parsed = _PARSED[filled] = items
    if parsed is None:
        return _FORMATTER.vformat(filled, (), fields)
    out = []
    for literal, first, rest, spec, conversion in parsed:
        out.append(literal)
        if first is None:
            continue
        obj = fields[first]
        for is_attr, i in rest:
            obj = getattr(obj, i) if is_attr else obj[i]
        obj = _FORMATTER.convert_field(obj, conversion)
        out.append(_FORMATTER.format_field(obj, spec))
    return "".join(out)


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
        message = _message(rule.message, fields)
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


def spec_features(settings: Settings, features: list[Feature], pmi: Sequence[ToleranceSpec] = (),
                  faces: Any = None) -> tuple[list[Feature], list[Finding]]:
    """Features the spec adds (called-out threads, anodize allowances) and spec notes.

    Under an anodize finish every size of the body (``dfm.rules.sizes``) gets an allowance:
    its explicit tolerance, else the general one (the spec's ISO 2768-1 class, ``m`` by default).

    Args:
        settings: The run's settings (spec, finish variables).
        features: The body's measured features.
        pmi: Tolerances read from the file's AP242 PMI; the spec wins where both give one.
        faces: Per-face geometry (id → FaceInfo) of the body, for the diameters no feature
            lists; None for synthetic features.
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

    sizes = body_sizes(everything, faces)
    if env.get("finish_kind") != "anodize":
        # Nothing to allow for without a coating, but an entry that selects nothing is still a typo to report.
        for tol in spec.tolerances:
            stands_alone = (tol.nominal_mm or tol.select.value_mm) is not None and tol.kind is not None
            if not stands_alone and not any(tol.select.matches_size(s, tol.plus_um, tol.minus_um) for s in sizes):
                unmatched("tolerance", tol.select)
        return added, notes
    film = (float(env["film_min_um"]), float(env["film_max_um"]), float(env["growth_fraction"]))
    threaded = {str(t.props.get("hole")) for t in everything if t.kind == "thread"}

    def thread_governs(s: Size) -> bool:
        return s.role == "bore" and (s.feature in threaded or s.part_of in threaded)

    general = spec.general_tolerance or anodize.DEFAULT_GENERAL_CLASS
    allows = anodize.size_allowances(sizes, list(spec.tolerances) + list(pmi), film, general_class=general,
                                     masks=spec.masking, skip=thread_governs,
                                     unmatched=lambda sel: unmatched("tolerance", sel))
    added.extend(allows)
    count = len(allows)

    def add_allowance(target: str, nominal: float, plus: float, minus: float, base: Feature, source: str,
                      designation: str) -> None:
        nonlocal count
        count += 1
        a = anodize.allowance(target, nominal, plus, minus, *film)
        props: dict[str, Any] = {"target": "thread", "feasible": a.feasible, "masked": masked(base),
                                 "source": source, "window": "tolerance" if a.feasible else "nominal",
                                 "action": anodize.action_text(a), "explicit": True, "toleranced": True,
                                 "feature": base.id, "designation": designation, "size": f"thread {designation}",
                                 "count": 1}
        added.append(Feature(
            id=f"anodize-{count}", kind="anodize_allowance", faces=base.faces, dims=a.dims(),
            props=props, location_mm=base.location_mm, axis=base.axis,
        ))

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
    threaded = threaded_holes(features)
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
                envs[feat.id] = {**ctx_env, **(feature_env(feat, by_id, settings, threaded)
                                               if feat.kind != "part" else {})}
            finding = evaluate_rule(rule, feat, envs[feat.id])
            if finding is not None:
                out.append(finding)
    return sorted(out, key=Finding.sort_key)


def worst(findings: Iterable[Finding], code: str) -> Severity | None:
    """The worst severity among findings of ``code`` (None if there is none)."""
    sev = [f.severity for f in findings if f.code == code]
    return min(sev, key=lambda s: s.rank) if sev else None


__all__ = ["evaluate", "evaluate_rule", "feature_env", "spec_features", "worst"]
