"""The one gateway every front end calls: ``analyze(path) -> DfmResult``.

Like CadQuery's ``cqgi``, it never raises for a bad part: the error comes back inside the
result (``status == "error"``), so a GUI or a batch worker never has to catch kernel
exceptions. Programming errors (bugs) in dfm itself still raise.

Two doors to the same analysis:

* :func:`analyze_isolated` (what ``dfm check``, ``tools``, ``report``, ``gcode``, ``batch``
  and the FreeCAD workbench use) reads and analyses the file in a child process with a time
  limit and a memory cap (:mod:`dfm.isolation`): a file that crashes, hangs or exhausts
  the kernel comes back as a DFM913/914/915 error result, and the caller lives on.
* :func:`analyze` runs in the calling process: faster to start, easy to debug and profile,
  but a file that makes OpenCASCADE segfault takes the caller with it, and one that loops
  never returns. Use it for files you trust.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dfm import __version__, diagnostics
from dfm.errors import DfmError, InputError, RuleError
from dfm.model import BodyResult, DfmResult, ErrorInfo, Finding
from dfm.stages import BodyContext, body_stages, timed

#: A part larger than this (mm, any axis) is implausible for a machined part.
IMPLAUSIBLY_LARGE_MM = 2000.0
#: ...and smaller than this is implausible too.
IMPLAUSIBLY_SMALL_MM = 0.005


@dataclass(frozen=True)
class Options:
    """What the caller says about the part beyond its geometry.

    Attributes:
        spec: Path of a part specification TOML (``PART.dfm.toml``), or None to look beside
            the part.
        profile: Path of a user profile/rule file, or None for the shipped defaults.
        material: Material name shortcut (``6061-T6``).
        finish: Finish name shortcut (``anodize-ii``).
        tools: Path of a user tool catalogue, or None for the shipped one.
        generated_at: Timestamp to stamp on the result (passed in for deterministic output).
        extra: Settings for later stages (machine, post...), by name.
    """

    spec: str | None = None
    profile: str | None = None
    material: str | None = None
    finish: str | None = None
    tools: str | None = None
    generated_at: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The settings as they are echoed in the result."""
        out: dict[str, Any] = {
            k: v
            for k, v in (
                ("spec", self.spec),
                ("profile", self.profile),
                ("material", self.material),
                ("finish", self.finish),
                ("tools", self.tools),
            )
            if v is not None
        }
        out.update(self.extra)
        return out


def analyze(path: str | Path, options: Options | None = None, **kwargs: Any) -> DfmResult:
    """Analyse one STEP/BREP file in this process.

    The kernel runs in the calling process: a hostile file can crash it (a segfault in
    OpenCASCADE) or never return. For untrusted files use :func:`analyze_isolated`.

    Args:
        path: The part file.
        options: Settings; keyword arguments (``material="6061-T6"``...) override them.
        **kwargs: ``Options`` fields to replace in ``options`` (unknown names raise ``TypeError``).

    Returns:
        A :class:`DfmResult`; on bad input its ``status`` is ``error`` and ``error`` says why.
    """
    opts = replace(options or Options(), **kwargs) if kwargs else (options or Options())
    base = DfmResult(
        file=str(path),
        status="ok",
        settings=opts.as_dict(),
        generated_at=opts.generated_at,
        dfm_version=__version__,
    )
    try:
        return _analyze(Path(path), opts, base)
    except InputError as err:
        return replace(base, status="error", error=ErrorInfo(err.code, err.name, str(err)))
    except RuleError as err:  # a rule, profile, spec or catalogue file is bad (rules/input.toml DFM909)
        diag = diagnostics.diagnostics()["bad-settings-file"]
        return replace(base, status="error", error=ErrorInfo(diag.code, diag.name, f"{err} [{diag.code} {diag.name}]"))
    except DfmError as err:
        return replace(base, status="error", error=ErrorInfo("DFM900", "analysis-error", f"{path}: {err}"))


def analyze_isolated(path: str | Path, options: Options | None = None, *, limits: Any = None,
                     **kwargs: Any) -> DfmResult:
    """Analyse one STEP/BREP file in a child process with a time limit and a memory cap.

    Args:
        path: The part file.
        options: Settings; keyword arguments override them as in :func:`analyze`.
        limits: ``dfm.isolation.Limits`` (default: 300 s, 4096 MiB).
        **kwargs: ``Options`` fields to replace in ``options``.

    Returns:
        What :func:`analyze` returns; when the child crashed, timed out or ran out of
        memory, an error result (DFM913 worker-crashed, DFM914 analysis-timeout, DFM915
        out-of-memory, DFM916 worker-error) naming the file.
    """
    from dfm import isolation

    opts = replace(options or Options(), **kwargs) if kwargs else (options or Options())
    got = isolation.run_child("dfm.api:analyze", (str(path), opts), limits=limits)
    if got.ok:
        return got.value  # type: ignore[no-any-return]
    if got.raised is not None:
        return error_result(path, opts, "worker-error", str(got.raised))
    return error_result(path, opts, got.error or "worker-error", got.cause)


def error_result(path: str | Path, options: Options | None, name: str, cause: str) -> DfmResult:
    """The error result of ``path`` for input diagnostic ``name`` (``worker-crashed``...)."""
    opts = options or Options()
    err = diagnostics.input_error(name, path, cause)
    return DfmResult(file=str(path), status="error", settings=opts.as_dict(), generated_at=opts.generated_at,
                     dfm_version=__version__, error=ErrorInfo(err.code, err.name, str(err)))


def _analyze(path: Path, opts: Options, base: DfmResult) -> DfmResult:
    from dfm import kernel  # imported here so that `dfm --help` does not load OCCT
    from dfm.kernel.shape import SolidChecks, checks_fork

    with timed("load"):
        loaded = kernel.load(path)
    # The analysis builds many small records that live until the result is made: the cyclic
    # collector would walk them again and again (a tenth of plate_m's analysis) and finds next
    # to nothing; reference counting still frees everything as it goes. Off from before the
    # first fork: a collection writes to every object it walks, and each page it writes after
    # a fork is copied (in the children too, which inherit the switch).
    collecting = gc.isenabled()
    gc.disable()
    try:
        with timed("check"):
            file_findings = _file_checks(loaded)
        early = _records_before_fork(loaded) if checks_fork(loaded.solids) else None
        with timed("check"):
            checks = SolidChecks(loaded.solids)  # runs beside the stages where it can (a forked child)
        try:
            if early is not None:
                raise early
            bodies = _run_stages(path, opts, loaded, checks)
            with timed("check"):
                _raise_invalid(path, loaded, checks.verdicts())
        except Exception:
            _raise_invalid(path, loaded, checks.verdicts())  # an invalid solid explains a failed analysis: say so
            raise
        finally:
            checks.close()
    finally:
        if collecting:
            _age_survivors()
            gc.enable()
    return replace(
        base,
        source_units=loaded.source_units,
        source_schema=loaded.source_schema,
        product_names=tuple(loaded.product_names),
        bodies=tuple(bodies),
        findings=tuple(sorted(file_findings, key=Finding.sort_key)),
    )


def _records_before_fork(loaded: Any) -> Exception | None:
    """Compute every solid's face and edge records before the check forks (the error, if one was raised).

    Computing them reads the kernel's shapes, which writes to their pages (reference counts):
    each such page the parent writes while a forked child shares it is copied, and at 10 000
    faces those copies took up to a third of the parent's analysis (0.7-1.4 s of system time,
    120 000 page faults, against 34 000 in one process). Written before the fork, the pages are
    the parent's own. An error is kept for after the check has started: an invalid solid
    explains it, as it does any failed analysis.
    """
    from dfm.features import records

    try:
        for solid in loaded.solids:
            records(solid)
    except Exception as err:  # noqa: BLE001 - raised again once the check can explain it
        return err
    return None


def _run_stages(path: Path, opts: Options, loaded: Any, checks: Any) -> list[BodyResult]:
    stages = body_stages()
    bodies = []
    for solid in loaded.solids:  # (the cyclic collector is off: see _analyze)
        ctx = BodyContext(solid=solid, options=opts, source_units=loaded.source_units,
                          scratch={"path": str(path)})
        for stage in stages:
            done = checks.ready()  # a bad solid found meanwhile ends the analysis now
            if done is not None:
                _raise_invalid(path, loaded, done)
            with timed(stage.__module__.removeprefix("dfm.")):
                stage(ctx)
        _raise_invalid(path, loaded, checks.verdicts())  # and the check's volume is the body's
        bodies.append(_body_result(solid, ctx))
    return bodies


def _age_survivors() -> None:
    """Move every tracked object to the oldest generation before the collector is switched back on.

    The records made while it was off are all still alive, and all in the youngest
    generation: the first collection after ``gc.enable`` would walk every one of them (0.2 s
    at 10 000 faces) only to promote them. ``freeze`` + ``unfreeze`` promotes them without the
    walk; cyclic garbage among them is still found by the next full collection. Skipped when
    someone else froze objects (a fork server): unfreezing would undo their freeze.
    """
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()


def _raise_invalid(path: Path, loaded: Any, verdicts: Any) -> None:
    """Raise for the first body that is no valid closed solid (the verdicts of kernel.SolidChecks)."""
    for solid, v in zip(loaded.solids, verdicts, strict=False):
        if v.reason:
            raise diagnostics.input_error(
                "invalid-solid", path, f"body {solid.index} ({solid.name}) is not a valid solid: {v.reason}"
            )
        free = v.free
        if free:
            raise diagnostics.input_error(
                "open-shell", path,
                f"body {solid.index} ({solid.name}) is not closed: {len(free)} edges bound only one face "
                f"(edges {', '.join(map(str, free[:5]))}{'...' if len(free) > 5 else ''})",
            )


def _file_checks(loaded: Any) -> list[Finding]:
    out: list[Finding] = list(getattr(loaded, "findings", ()))  # what the read itself found (DFM957/958)
    out.extend(_duplicates(loaded.solids))
    if loaded.source_units == "unknown" and loaded.format == "step":
        out.append(diagnostics.finding("unknown-units", "The file declares no known length unit; "
                                       "dimensions were read as millimetres."))
    if getattr(loaded, "external_refs", False):
        out.append(diagnostics.finding("external-references", "The file references other files (DOCUMENT_FILE or "
                                       "externally defined items); dfm did not follow them and analysed only the "
                                       "shapes this file holds."))
    canon = getattr(loaded, "canonical", None)
    note = canon.note() if canon is not None else None
    if note:
        out.append(diagnostics.finding("freeform-read-as-analytic", note[0].upper() + note[1:] + "."))
    if loaded.sewn:
        out.append(diagnostics.finding("sewn-solid", f"The file held surfaces only; dfm sewed them into "
                                       f"{len(loaded.solids)} closed solid(s)."))
    if len(loaded.solids) > 1:
        out.append(diagnostics.finding("several-bodies", f"The file holds {len(loaded.solids)} solids; "
                                       "each is analysed as its own body."))
    for solid in loaded.solids:
        big = max(solid.size)
        small = min(solid.size)
        if big > IMPLAUSIBLY_LARGE_MM:
            hint = _unit_hint(loaded.source_units, big)
            out.append(diagnostics.finding(
                "implausible-size",
                f"Body {solid.index} ({solid.name}) is {big:.1f} mm across; that is implausible for a "
                f"machined part.{hint}",
                value=round(big, 6), limit=IMPLAUSIBLY_LARGE_MM, unit="mm",
            ))
        elif big < IMPLAUSIBLY_SMALL_MM or small <= 0.0:
            out.append(diagnostics.finding(
                "implausible-size",
                f"Body {solid.index} ({solid.name}) is only {big * 1000:.3f} µm across; check the export units.",
                value=round(big, 9), limit=IMPLAUSIBLY_SMALL_MM, unit="mm",
            ))
    return out


#: Two bodies closer than this (mm, bounding-box corners) with the same faces and volume are one.
_SAME_PLACE_MM = 1e-6


def _duplicates(solids: Any) -> list[Finding]:
    """DFM959 for bodies that are the same solid at the same place (analysed, and counted, twice)."""
    groups: dict[tuple[int, ...], list[Any]] = {}
    for s in solids:
        lo, hi = s.bbox
        key = (s.face_count, *(round(v / 1e-3) for v in (*lo, *hi)))  # µm buckets; compared exactly below
        groups.setdefault(key, []).append(s)
    out = []
    for group in groups.values():
        first = group[0]
        same = [s for s in group[1:] if _same_solid(first, s)]
        if same:
            names = ", ".join(f"{s.index} ({s.name})" for s in [first, *same])
            out.append(diagnostics.finding(
                "duplicate-solids", f"Bodies {names} are the same solid at the same place "
                f"({first.face_count} faces, {first.volume:.6g} mm³ each); each was analysed.",
                value=float(len(same) + 1), unit="bodies"))
    return out


def _same_solid(a: Any, b: Any) -> bool:
    (alo, ahi), (blo, bhi) = a.bbox, b.bbox
    corners = all(abs(x - y) <= _SAME_PLACE_MM for x, y in zip((*alo, *ahi), (*blo, *bhi), strict=True))
    return corners and abs(a.volume - b.volume) <= 1e-9 * max(1.0, abs(a.volume))


def _unit_hint(units: str, size_mm: float) -> str:
    factor = {"m": 1000.0, "inch": 25.4, "foot": 304.8, "cm": 10.0}.get(units)
    if factor is None:
        return ""
    return (f" The file declares {units}; if its numbers were millimetres the part would be "
            f"{size_mm / factor:.1f} mm across.")


def _body_result(solid: Any, ctx: BodyContext) -> BodyResult:
    lo, _hi = solid.bbox
    return BodyResult(
        index=solid.index,
        name=solid.name,
        bbox_mm=tuple(round(v, 6) for v in solid.size),  # type: ignore[arg-type]
        bbox_min_mm=tuple(round(v, 6) for v in lo),  # type: ignore[arg-type]
        volume_mm3=round(solid.volume, 6),
        faces=solid.face_count,
        edges=solid.edge_count,
        measurements=dict(sorted(ctx.measurements.items())),
        features=tuple(ctx.features),
        findings=tuple(sorted(ctx.findings, key=Finding.sort_key)),
        tools=tuple(ctx.tools),
        access=dict(ctx.scratch.get("access") or {}),
    )


StageFn = Callable[[BodyContext], None]
