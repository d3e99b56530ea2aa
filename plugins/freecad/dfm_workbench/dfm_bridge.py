"""The one module of the workbench that touches both FreeCAD and dfm.

Everything else in the workbench is FreeCAD/Qt only and talks to dfm through the plain
data returned here (``CheckOutcome``, ``Row``, colour tuples). The GUI holds no logic.

How a check runs (three steps, so that only the middle one leaves the GUI thread):

1. :func:`prepare` (GUI thread) writes the object's shape to a temporary BREP with
   ``Part.Shape.exportBrep`` and records, for every solid, which global ``FaceN`` each of
   its faces is. dfm numbers faces per body (``TopExp::MapShapes`` on the solid, the same
   order FreeCAD uses), FreeCAD numbers them over the whole shape; for a single solid the
   two numberings are identical, for a compound the map translates.
2. :func:`run_isolated` (worker thread) runs dfm on that file in a process of its own, with
   a time limit and a memory cap, whenever an interpreter for dfm is known (by default the
   Python of dfm's own environment: see :data:`ENV_PYTHON`); otherwise :func:`run` calls
   ``dfm.api.analyze`` in the thread. Neither raises for a bad part: the error comes back in
   the result, and in the process of its own a kernel crash or hang is only that error.
3. :func:`outcome` maps the findings back to ``FaceN`` and the worst severity per face.

Where dfm lives: FreeCAD embeds its own Python (Debian: 3.11.2). dfm and its dependencies
(cadquery-ocp...) are installed in another Python 3.11 environment; :func:`configure_path`
puts that environment in front of FreeCAD's ``sys.path`` (it must come before
``/usr/lib/python3/dist-packages``, whose old pyparsing breaks cadquery). The folders come
from the environment variable ``DFM_PYTHONPATH`` (``os.pathsep``-separated) or, when that is
unset, from the preference ``User parameter:BaseApp/Preferences/Mod/DFM`` → ``PythonPath``.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import pickle
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import FreeCAD  # noqa: F401  (FreeCAD must be imported before Part)
import Part

#: Preference group of the workbench.
PREF_GROUP = "User parameter:BaseApp/Preferences/Mod/DFM"
#: Environment variable naming the folders where dfm is installed.
ENV_PATH = "DFM_PYTHONPATH"
#: Environment variable (or preference ``PythonExecutable``) naming a Python 3.11 that runs dfm
#: in a process of its own, with a time limit and a memory cap: the window never waits for
#: OpenCASCADE, and a crash or a hang of the kernel on a bad shape cannot take FreeCAD down (it
#: comes back as a DFM913/914/915 error of that object). Unset: the Python of dfm's own
#: environment when one is found beside the ``DFM_PYTHONPATH`` folders (a virtual
#: environment's ``bin/python3``), so dfm runs isolated by default; :data:`IN_PROCESS` (or no
#: Python found): dfm runs in a thread inside FreeCAD.
ENV_PYTHON = "DFM_PYTHON"
#: The value of ``DFM_PYTHON``/``PythonExecutable`` that keeps dfm inside FreeCAD.
IN_PROCESS = "in-process"
#: Seconds and MiB one isolated run may take (``dfm check --timeout/--memory`` defaults).
ISOLATED_TIMEOUT_S = 300.0
ISOLATED_MEMORY_MB = 4096

#: Face colours (r, g, b, transparency) by worst finding on the face.
COLOR_ERROR = (0.85, 0.10, 0.10, 0.0)
COLOR_WARNING = (1.00, 0.65, 0.00, 0.0)
COLOR_OK = (0.30, 0.75, 0.30, 0.0)
COLORS = {"error": COLOR_ERROR, "warning": COLOR_WARNING, "ok": COLOR_OK}
#: Undercut faces (no straight cutter reaches them): violet, as in the HTML report. An error
#: on the face still shows red; the undercut beats a warning (its DFM650 is one).
COLOR_UNDERCUT = (0.557, 0.267, 0.678, 0.0)
#: Worst first. ``info`` findings do not colour a face (it stays "ok").
_RANK = {"error": 0, "warning": 1, "info": 2, "ok": 3}


class BridgeError(Exception):
    """Something the workbench cannot do; the message is one line, shown as ``dfm: <message>``."""


# --------------------------------------------------------------------------- environment


def configured_paths() -> list[str]:
    """The folders holding dfm, from ``DFM_PYTHONPATH`` or the workbench preference."""
    raw = os.environ.get(ENV_PATH)
    if raw is None:
        raw = FreeCAD.ParamGet(PREF_GROUP).GetString("PythonPath", "")
    return [p for p in raw.split(os.pathsep) if p.strip()]


def configure_path(paths: Sequence[str] | None = None) -> list[str]:
    """Put the dfm environment in front of ``sys.path``.

    Plain path lines of ``.pth`` files in those folders (an editable install of dfm writes
    one) are added right after their folder; ``import`` lines of ``.pth`` files are not run.

    Args:
        paths: Folders to add; None reads :func:`configured_paths`.

    Returns:
        The entries added, in order (already present ones are moved to the front).
    """
    wanted: list[str] = []
    for entry in configured_paths() if paths is None else paths:
        folder = os.path.abspath(os.path.expanduser(entry))
        wanted.append(folder)
        if os.path.isdir(folder):
            for name in sorted(os.listdir(folder)):
                if not name.endswith(".pth"):
                    continue
                try:
                    lines = Path(folder, name).read_text(encoding="utf-8").splitlines()
                except OSError:
                    continue
                for line in lines:
                    line = line.strip()
                    if line and not line.startswith(("#", "import ", "import\t")):
                        extra = os.path.join(folder, line)
                        if os.path.isdir(extra):
                            wanted.append(os.path.abspath(extra))
    out: list[str] = []
    for folder in wanted:
        if folder not in out:
            out.append(folder)
    sys.path[:] = out + [p for p in sys.path if p not in out]
    return out


def shadowed(paths: Sequence[str] | None = None) -> list[str]:
    """Modules FreeCAD loaded before dfm's environment was put in front, which that environment also has.

    Python keeps the first copy it imported (e.g. Debian's older numpy, if another workbench
    loaded it first), so dfm would run with that one. Returns ``["numpy 1.24.2 (/usr/lib/...)"]``.
    """
    folders = [os.path.abspath(p) for p in (configured_paths() if paths is None else paths)]
    out: list[str] = []
    for name, mod in sorted(sys.modules.items()):
        if "." in name or name.startswith("_") or mod is None:
            continue
        where = getattr(mod, "__file__", None) or ""
        if not where or any(where.startswith(f + os.sep) for f in folders):
            continue
        if any(os.path.isdir(os.path.join(f, name)) and os.path.isfile(os.path.join(f, name, "__init__.py"))
               for f in folders):
            out.append(f"{name} {getattr(mod, '__version__', '?')} ({os.path.dirname(where)})")
    return out


def dfm_status() -> tuple[bool, str]:
    """Whether dfm can be imported here, and a one-line explanation."""
    try:
        api = importlib.import_module("dfm.api")
    except Exception as err:  # ImportError, or a broken dependency in the environment
        return False, (f"dfm cannot be imported ({type(err).__name__}: {' '.join(str(err).split())}); "
                       f"set {ENV_PATH} or the DFM preference 'PythonPath' to the folders where dfm is installed")
    import dfm

    message = f"dfm {getattr(dfm, '__version__', '?')} from {Path(api.__file__ or '.').parent}"
    early = [m for m in shadowed() if not m.startswith("dfm ")]
    if early:
        message += ("; note: FreeCAD had already loaded " + ", ".join(early) +
                    " before the DFM workbench, so dfm uses those copies")
    return True, message


def warm_up() -> None:
    """Import dfm's geometry kernel and pipeline now.

    Loading OpenCASCADE's bindings holds Python's GIL for about 3-4 s in one piece; done
    in the worker thread it would freeze the window during the first check anyway, so the
    workbench does it once when it is activated, with a status message, and checks stay
    responsive afterwards.
    """
    importlib.import_module("dfm.kernel")
    from dfm.stages import body_stages

    body_stages()


def optional_module(name: str) -> Any | None:
    """Import a dfm front-end module that may not be part of this installation yet."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as err:
        if err.name is not None and name.startswith(err.name):
            return None
        raise


def known_names() -> dict[str, list[str]]:
    """Material and finish names from dfm's shipped data, for the settings dialog."""
    import tomllib

    from dfm.resources import rules_dir

    out: dict[str, list[str]] = {"material": [], "finish": ["none"]}
    data = rules_dir() / "data"
    for key, fname in (("material", "materials.toml"), ("finish", "finishes.toml")):
        path = data / fname
        if path.is_file():
            with path.open("rb") as fh:
                doc = tomllib.load(fh)
            out[key].extend(str(item["name"]) for item in doc.get(key, []) if "name" in item)
    return out


# --------------------------------------------------------------------------- face mapping


def face_map(shape: Part.Shape) -> list[list[int]]:
    """For each solid of ``shape`` (in ``shape.Solids`` order), the global 1-based FaceN of its faces.

    ``face_map(shape)[b][j - 1]`` is the FreeCAD face number of dfm's face ``j`` of body ``b + 1``.
    """
    globals_ = shape.Faces
    out: list[list[int]] = []
    for solid in shape.Solids:
        ids: list[int] = []
        for face in solid.Faces:
            for k, g in enumerate(globals_):
                if face.isSame(g):
                    ids.append(k + 1)
                    break
            else:
                raise BridgeError(f"a face of solid {len(out) + 1} is not among the shape's faces")
        out.append(ids)
    return out


# --------------------------------------------------------------------------- part settings


#: Finish choices of the settings (``FinishSpec.profile_name`` spelling, as ``dfm check --finish``).
FINISHES = ("", "none", "anodize-ii", "anodize-iii", "passivate")
#: ISO 2768-1 general tolerance classes (``general_tolerance`` of the spec).
GENERAL_TOLERANCES = ("", "f", "m", "c", "v")


def spec_toml(settings: Mapping[str, Any], source: str = "") -> str:
    """The part specification (``PART.dfm.toml``, dfm/rules/spec.py format) for the settings.

    Empty settings are left out so that dfm's defaults apply. ``spec_extra`` (free TOML for
    ``[[tolerance]]``, ``[[thread]]``, ``[[masking]]`` entries) is copied as it is.

    Raises:
        BridgeError: The result is not valid TOML.
    """
    import tomllib

    lines = ["# Part specification for dfm, written by the FreeCAD DFM workbench."]
    if source:
        lines.append(f"# Source document: {source}")
    material = str(settings.get("material") or "").strip()
    if material:
        lines.append(f"material = {_toml_str(material)}")
    general = str(settings.get("general_tolerance") or "").strip().lower()
    if general:
        lines.append(f"general_tolerance = {_toml_str(general)}")
    extra = str(settings.get("spec_extra") or "").strip()
    if extra:
        lines += ["", extra]
    finish = str(settings.get("finish") or "").strip().lower()
    if finish:
        lines += ["", "[finish]"]
        if finish.startswith("anodize"):
            lines += ['kind = "anodize"', f'type = "{"III" if finish.endswith("iii") else "II"}"']
        elif finish.startswith("passiv"):
            lines.append('kind = "passivate"')
        elif finish == "none":
            lines.append('kind = "none"')
        else:
            raise BridgeError(f"unknown finish {finish!r} (use one of {', '.join(f for f in FINISHES if f)})")
    text = "\n".join(lines) + "\n"
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise BridgeError(f"the part settings do not make a valid TOML specification: {err}") from None
    return text


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def validate_spec(path: str | Path) -> None:
    """Check a spec file with dfm's own reader (when this dfm has one).

    Raises:
        BridgeError: The file is not a valid spec; the message is dfm's (file, key, reason).
    """
    spec = optional_module("dfm.rules.spec")
    if spec is None:
        return
    from dfm.errors import DfmError

    try:
        spec.load_spec(Path(path))
    except DfmError as err:
        raise BridgeError(str(err)) from None


def write_spec(settings: Mapping[str, Any], path: str | Path, source: str = "") -> Path:
    """Write :func:`spec_toml` to ``path``, check it with dfm, and return it."""
    path = Path(path)
    path.write_text(spec_toml(settings, source), encoding="utf-8")
    validate_spec(path)
    return path


def options(settings: Mapping[str, Any], spec_path: str | Path | None = None) -> Any:
    """``dfm.api.Options`` for the settings: ``dfm check --spec FILE --material M --finish F --profile --tools``.

    Material and finish are passed both in the spec and as the shortcuts (same values), so
    that everything that reads the run's settings (the report's header) sees them too.
    """
    from dfm.api import Options

    def s(key: str) -> str | None:
        value = settings.get(key)
        return value.strip() if isinstance(value, str) and value.strip() else None

    machine = s("machine")
    return Options(
        spec=str(spec_path) if spec_path else None,
        material=s("material"),
        finish=s("finish"),
        profile=s("profile"),
        tools=s("tools"),
        extra={"machine": machine} if machine else {},
    )


# --------------------------------------------------------------------------- the check


@dataclass(frozen=True)
class Job:
    """A shape written out for dfm, with its face map.

    Attributes:
        label: What the user calls the object (its Label).
        path: The BREP file dfm reads.
        faces: Number of faces of the FreeCAD shape.
        face_map: Per solid, global FaceN of each dfm face id.
    """

    label: str
    path: str
    faces: int
    face_map: tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class Row:
    """One finding as the task panel lists it."""

    severity: str
    code: str
    name: str
    message: str
    faces: tuple[int, ...]  # global FaceN numbers
    body: int  # 0 = file-level
    value: float | None = None
    limit: float | None = None
    unit: str = ""
    fix: str = ""

    @property
    def face_names(self) -> tuple[str, ...]:
        """``('Face3', 'Face7')``."""
        return tuple(f"Face{n}" for n in self.faces)


@dataclass(frozen=True)
class CheckOutcome:
    """What one check found on one object, in FreeCAD's terms.

    Attributes:
        label: The object's label.
        ok: False when dfm could not analyse the shape (``error`` says why).
        error: The one-line message, exactly as the CLI prints it (``dfm: ...``).
        rows: Findings, worst first (dfm's order).
        face_severity: Worst severity per FaceN (``error``/``warning``/``info``/``ok``), index = FaceN - 1.
        verdict: ``pass`` | ``warn`` | ``fail``.
        result: The ``dfm.model.DfmResult`` (for tools, program and report).
    """

    label: str
    ok: bool
    error: str
    rows: tuple[Row, ...]
    face_severity: tuple[str, ...]
    verdict: str
    result: Any = field(default=None, compare=False, repr=False)
    #: FaceN of every undercut face (all bodies).
    undercut_faces: tuple[int, ...] = ()
    #: Setups (``dfm.report.viewmodel.SetupRow``, faces as FaceN), per body in order.
    setups: tuple[Any, ...] = ()
    #: Undercut groups (``UndercutRow``, faces as FaceN).
    undercuts: tuple[Any, ...] = ()
    #: Pre-finish sizes grouped by (kind, finished size) (``SizeGroup``, faces as FaceN), smallest first.
    sizes: tuple[Any, ...] = ()
    #: Why there are no pre-finish sizes, when there are none (the report's words).
    sizes_note: str = ""
    #: ``setups +Z, −X; 5 undercut faces`` (empty without an access model).
    access_summary: str = ""

    @property
    def colors(self) -> list[tuple[float, float, float, float]]:
        """One DiffuseColor entry per face."""
        return face_colors(self.face_severity, self.undercut_faces)


def prepare(shape: Part.Shape, label: str, workdir: str | Path | None = None) -> Job:
    """Write ``shape`` to a BREP file for dfm (call from the GUI thread).

    Raises:
        BridgeError: The shape has no solid.
    """
    if shape is None or shape.isNull():
        raise BridgeError(f"{label}: the object has no shape")
    if not shape.Solids:
        raise BridgeError(f"{label}: the shape holds no solid (dfm analyses solids only) [DFM906 no-solid]")
    folder = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="dfm-fc-"))
    folder.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in label) or "part"
    path = folder / f"{safe}.brep"
    shape.exportBrep(str(path))
    fmap = face_map(shape)
    return Job(label=label, path=str(path), faces=len(shape.Faces), face_map=tuple(tuple(m) for m in fmap))


def isolated_python() -> str | None:
    """The interpreter for out-of-process runs, or None when dfm runs inside FreeCAD.

    ``DFM_PYTHON``, else the preference ``PythonExecutable``; when neither is set, the
    Python of dfm's own environment (:func:`environment_python`). :data:`IN_PROCESS` in
    either turns isolation off.
    """
    raw = os.environ.get(ENV_PYTHON)
    if raw is None:
        raw = FreeCAD.ParamGet(PREF_GROUP).GetString("PythonExecutable", "")
    raw = raw.strip()
    if raw.lower() == IN_PROCESS:
        return None
    return raw or environment_python()


def environment_python(paths: Sequence[str] | None = None) -> str | None:
    """``bin/python3`` of the virtual environment holding the dfm folders, if there is one.

    A folder ``ENV/lib/python3.X/site-packages`` gives ``ENV/bin/python3``; a checkout with a
    ``.venv`` gives ``.venv/bin/python3``. Only a runnable file whose environment has a
    ``pyvenv.cfg`` counts, so a system folder never picks the system Python by accident.
    """
    for entry in configured_paths() if paths is None else paths:
        folder = Path(os.path.abspath(os.path.expanduser(entry)))
        envs = [folder / ".venv"]
        if folder.name == "site-packages" and len(folder.parents) > 2:
            envs.insert(0, folder.parents[2])
        for env in envs:
            for name in ("python3", "python"):
                exe = env / "bin" / name
                if (env / "pyvenv.cfg").is_file() and exe.is_file() and os.access(exe, os.X_OK):
                    return str(exe)
    return None


#: What the separate dfm process runs: cap itself, analyse (and for ``program`` generate the
#: G-code), then pickle ``(DfmResult, Generated | ("error", message) | None)`` to the ``out`` file.
_CHILD = r"""
import json, pickle, sys
with open(sys.argv[1], encoding="utf-8") as fh:
    req = json.load(fh)
from dfm.isolation import limit_resources
limit_resources(req.get("memory_mb"))
from dfm import api
from dfm.errors import DfmError
opts = api.Options(**req["options"])
extra = None
try:
    from dfm.cam import gcode
except ModuleNotFoundError:
    gcode = None
if req["task"] == "program" and gcode is None:
    result = api.analyze(req["path"], opts)
    extra = ("unavailable", "G-code generation is not available in this dfm installation (no dfm.cam.gcode)")
elif req["task"] == "program":
    cam = req["cam"]
    try:
        extra, result = gcode.generate(req["path"], material=cam["material"], machine=cam["machine"],
                                       tools=cam["tools"], options=opts)
    except DfmError as err:
        result, extra = api.analyze(req["path"], opts), ("error", " ".join(str(err).split()))
else:
    result = api.analyze(req["path"], opts)
with open(req["out"], "wb") as fh:
    pickle.dump((result, extra), fh)
"""


def run_isolated(job: Job, opts: Any, task: str = "check", settings: Mapping[str, Any] | None = None,
                 python: str | None = None, timeout: float | None = ISOLATED_TIMEOUT_S,
                 memory_mb: int | None = ISOLATED_MEMORY_MB) -> tuple[Any, Any]:
    """Run dfm on the prepared file in a separate Python process (:data:`ENV_PYTHON`).

    The process caps its own address space at ``memory_mb`` and is killed after ``timeout``
    seconds. A crash, a hang or memory exhaustion of the kernel on this shape comes back as
    the object's error result (DFM913 worker-crashed, DFM914 analysis-timeout, DFM915
    out-of-memory), exactly as ``dfm check`` reports it; FreeCAD is not touched.

    Returns:
        ``(DfmResult, extra)``: for ``task="program"`` extra is the generated program or a
        :class:`BridgeError`; otherwise None.

    Raises:
        BridgeError: No interpreter is configured, it cannot be started, or dfm cannot be
            imported in it.
    """
    python = python or isolated_python()
    if not python:
        raise BridgeError(f"no Python interpreter for dfm: set {ENV_PYTHON} or the DFM preference 'PythonExecutable'")
    settings = settings or {}
    machine = str(settings.get("machine") or "").strip()
    folder = Path(job.path).parent
    req_path, out_path = folder / f"{Path(job.path).stem}.request.json", folder / f"{Path(job.path).stem}.result.pickle"
    out_path.unlink(missing_ok=True)
    request = {
        "path": job.path, "task": task, "out": str(out_path), "memory_mb": memory_mb,
        "options": dataclasses.asdict(opts) if opts is not None else {},
        "cam": {"material": str(settings.get("material") or "").strip() or None,
                "machine": machine if machine and Path(machine).is_file() else None,
                "tools": str(settings.get("tools") or "").strip() or None},
    }
    req_path.write_text(json.dumps(request), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "PYTHONPATH")}
    env["PYTHONPATH"] = os.pathsep.join(configured_paths())
    try:
        proc = subprocess.run([python, "-c", _CHILD, str(req_path)], env=env, cwd=str(folder), capture_output=True,
                              text=True, errors="replace", timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return _failed(job, opts, task, "analysis-timeout",
                       f"the analysis did not finish within {timeout:g} s and was stopped")
    except OSError as err:
        raise BridgeError(f"the dfm process could not run ({python}): {' '.join(str(err).split())}") from None
    if proc.returncode != 0 or not out_path.is_file():
        from dfm.isolation import explain_exit

        name, cause = explain_exit(proc.returncode, proc.stderr[-4096:], memory_mb)
        if proc.returncode < 0 or name == "out-of-memory":  # the kernel died on this shape
            return _failed(job, opts, task, name, cause)
        last = [ln for ln in proc.stderr.splitlines() if ln.strip()][-1:] or ["no message"]
        raise BridgeError(f"the dfm process failed (exit {proc.returncode}): {last[0].strip()}")
    with out_path.open("rb") as fh:
        result, extra = pickle.load(fh)  # our own child wrote it, from files we wrote
    if isinstance(extra, tuple) and extra and extra[0] == "error":
        extra = BridgeError(f"no program: {extra[1]}")
    elif isinstance(extra, tuple) and extra and extra[0] == "unavailable":
        extra = BridgeError(str(extra[1]))
    return result, extra


def _failed(job: Job, opts: Any, task: str, name: str, cause: str) -> tuple[Any, Any]:
    """The error result of a dfm process that crashed, hung or ran out of memory on ``job``."""
    from dfm import api

    result = api.error_result(job.path, opts, name, cause)
    extra = BridgeError(f"no program: {result.error.message}") if task == "program" else None
    return result, extra


def run(job: Job, opts: Any = None) -> Any:
    """Run dfm on the prepared file in this process, in the calling thread.

    No FreeCAD object is touched, so it is safe in a worker thread, but a kernel crash on a
    bad shape takes FreeCAD with it: the workbench uses :func:`run_isolated` whenever
    :func:`isolated_python` finds an interpreter.
    """
    from dfm import api

    return api.analyze(job.path, opts)


def outcome(job: Job, result: Any) -> CheckOutcome:
    """Map a ``DfmResult`` back to FreeCAD's FaceN numbers."""
    if result.status != "ok":
        message = result.error.message if result.error is not None else "analysis failed"
        return CheckOutcome(job.label, False, f"dfm: {message}", (), ("ok",) * job.faces, "fail", result)
    if len(result.bodies) != len(job.face_map):
        raise BridgeError(f"{job.label}: dfm read {len(result.bodies)} bodies but the shape has "
                          f"{len(job.face_map)} solids; faces cannot be mapped")
    rows = [_row(f, 0, ()) for f in result.findings]
    for body in result.bodies:
        fmap = job.face_map[body.index - 1]
        if body.faces != len(fmap):
            raise BridgeError(f"{job.label}: body {body.index} has {body.faces} faces in dfm but "
                              f"{len(fmap)} in FreeCAD; faces cannot be mapped")
        rows.extend(_row(f, body.index, fmap) for f in body.findings)
    return CheckOutcome(job.label, True, "", tuple(rows), worst_per_face(job.faces, rows), result.verdict, result,
                        **_sections(job, result))


def _facen(fmap: Sequence[int], faces: Iterable[int]) -> tuple[int, ...]:
    return tuple(sorted({fmap[i - 1] for i in faces if 0 < i <= len(fmap)}))


def _names(faces: Sequence[int]) -> str:
    return " ".join(f"Face{n}" for n in faces)


def _sections(job: Job, result: Any) -> dict[str, Any]:
    """The access model and the pre-finish sizes, as the HTML report builds them, on FreeCAD's FaceN.

    Uses ``dfm.report.viewmodel`` (the report's own grouping and wording), so the panel and the
    report always agree; nothing when this dfm has no such view model.
    """
    vm = optional_module("dfm.report.viewmodel")
    if vm is None or not all(hasattr(vm, n) for n in ("access_vm", "size_groups", "finding_rows", "sizes_note")):
        return {}
    links = vm.finding_rows(result)
    setups: list[Any] = []
    undercuts: list[Any] = []
    sizes: list[Any] = []
    under: set[int] = set()
    summary: list[str] = []
    many = len(result.bodies) > 1
    for body in result.bodies:
        fmap = job.face_map[body.index - 1]
        acc = vm.access_vm(body, links)
        for s in acc.setups:
            faces = _facen(fmap, s.faces)
            setups.append(dataclasses.replace(s, faces=faces, faces_text=_names(faces)))
        for u in acc.undercuts:
            faces = _facen(fmap, u.faces)
            undercuts.append(dataclasses.replace(u, faces=faces, faces_text=_names(faces)))
        under.update(_facen(fmap, acc.undercut_faces))
        if acc.known:
            n = len(acc.undercut_faces)
            text = (f"setups {', '.join(s.direction for s in acc.setups) or 'none'}; "
                    f"{n} undercut face{'' if n == 1 else 's'}")
            summary.append(f"body {body.index}: {text}" if many else text)
        for g in vm.size_groups(body):
            rows = []
            for r in g.rows:
                faces = _facen(fmap, r.faces)
                rows.append(dataclasses.replace(r, faces=faces, faces_text=_names(faces)))
            faces = _facen(fmap, g.faces)
            sizes.append(dataclasses.replace(g, faces=faces, faces_text=_names(faces), rows=tuple(rows)))
    finish = vm.material_and_finish(result)[1]
    return {"undercut_faces": tuple(sorted(under)), "setups": tuple(setups), "undercuts": tuple(undercuts),
            "sizes": tuple(sizes), "sizes_note": vm.sizes_note(result, finish, len(sizes)),
            "access_summary": "; ".join(summary)}


def _row(finding: Any, body: int, fmap: Sequence[int]) -> Row:
    faces = tuple(fmap[i - 1] for i in finding.faces if 0 < i <= len(fmap)) if fmap else ()
    sev = getattr(finding.severity, "value", finding.severity)
    return Row(str(sev), finding.code, finding.name, finding.message, faces, body,
               finding.value, finding.limit, finding.unit, finding.fix)


def worst_per_face(n_faces: int, rows: Iterable[Row]) -> tuple[str, ...]:
    """The worst severity on each face (``ok`` where nothing was found)."""
    worst = ["ok"] * n_faces
    for row in rows:
        for n in row.faces:
            if 0 < n <= n_faces and _RANK.get(row.severity, 3) < _RANK[worst[n - 1]]:
                worst[n - 1] = row.severity
    return tuple(worst)


def face_colors(face_severity: Sequence[str], undercut: Iterable[int] = ()) -> list[tuple[float, float, float, float]]:
    """DiffuseColor entries: red for error, violet for an undercut face (FaceN in ``undercut``),
    orange for warning, green otherwise (info too)."""
    under = set(undercut)
    return [COLOR_UNDERCUT if n in under and s != "error" else COLORS.get(s, COLOR_OK)
            for n, s in enumerate(face_severity, start=1)]


def check(shape: Part.Shape, label: str, settings: Mapping[str, Any] | None = None,
          workdir: str | Path | None = None, spec_path: str | Path | None = None) -> CheckOutcome:
    """The three steps in one call (headless use and tests)."""
    job = prepare(shape, label, workdir)
    if spec_path is None and settings:
        spec_path = write_spec(settings, Path(job.path).with_suffix(".dfm.toml"), source=label)
    return outcome(job, run(job, options(settings or {}, spec_path)))


# --------------------------------------------------------------------------- tools, program, report


def tool_rows(result: Any) -> list[dict[str, Any]]:
    """The recommended tools of every body, for a table.

    Raises:
        BridgeError: dfm's tooling is not part of this installation.
    """
    if optional_module("dfm.tooling") is None:
        raise BridgeError("tool recommendation is not available in this dfm installation (no dfm.tooling)")
    out: list[dict[str, Any]] = []
    for body in result.bodies:
        for tool in body.tools:
            out.append({
                "body": body.index, "id": tool.id, "name": tool.name, "kind": tool.kind,
                "diameter_mm": tool.diameter_mm, "reach_mm": tool.reach_mm,
                "flute_length_mm": tool.flute_length_mm, "flutes": tool.flutes,
                "corner_radius_mm": tool.corner_radius_mm, "role": tool.role,
                "features": ", ".join(tool.features), "source": tool.source,
            })
    return out


def tool_table_text(result: Any, label: str | None = None) -> str:
    """The tool table as ``dfm tools PART`` prints it (headed by ``label`` instead of the temporary file).

    Raises:
        BridgeError: dfm's tooling is not part of this installation.
    """
    cli = optional_module("dfm.tooling.cli")
    if cli is None or not hasattr(cli, "render"):
        raise BridgeError("tool recommendation is not available in this dfm installation (no dfm.tooling)")
    from dataclasses import replace

    return str(cli.render(replace(result, file=label) if label else result))


def write_report(result: Any, target: str | Path) -> Path:
    """Write the HTML report (``dfm.report.html.write_report``) and return its path."""
    html = optional_module("dfm.report.html")
    if html is None:
        raise BridgeError("the HTML report is not available in this dfm installation (no dfm.report.html)")
    target = Path(target)
    out = html.write_report(result, target)
    return Path(out) if isinstance(out, (str, Path)) else target


def run_program(job: Job, opts: Any, settings: Mapping[str, Any] | None = None) -> tuple[Any, Any]:
    """Analyse and generate the G-code program (worker thread): ``(DfmResult, Generated | BridgeError)``.

    Uses ``dfm.cam.gcode.generate``; the part's first body is programmed. The Machine setting
    is passed to CAM when it names an existing machine file (TOML); otherwise it is a profile
    name for the rules only.

    Raises:
        BridgeError: dfm's CAM is not part of this installation.
    """
    gcode = optional_module("dfm.cam.gcode")
    if gcode is None or not hasattr(gcode, "generate"):
        raise BridgeError("G-code generation is not available in this dfm installation (no dfm.cam.gcode)")
    from dfm.errors import DfmError

    settings = settings or {}
    machine = str(settings.get("machine") or "").strip()
    material = str(settings.get("material") or "").strip()
    tools = str(settings.get("tools") or "").strip()
    try:
        generated, result = gcode.generate(job.path, material=material or None,
                                           machine=machine if machine and Path(machine).is_file() else None,
                                           tools=tools or None, options=opts)
    except DfmError as err:
        result = run(job, opts)
        return result, BridgeError(f"no program: {' '.join(str(err).split())}")
    return result, generated


def write_program(generated: Any, folder: str | Path, stem: str) -> list[Path]:
    """Write the program files (``STEM.ngc``, ``STEM.setup2.ngc``...) and the tool table ``STEM.tbl``."""
    if isinstance(generated, BridgeError):
        raise generated
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out: list[Path] = []
    for suffix, text in generated.files:
        path = folder / f"{stem}{suffix}.ngc"
        path.write_text(text, encoding="utf-8")
        out.append(path)
    table = folder / f"{stem}.tbl"
    table.write_text(generated.tool_table, encoding="utf-8")
    out.append(table)
    return out
