"""Kernel work in a child process, with a time limit and a memory cap.

OpenCASCADE can segfault, loop or eat memory on a hostile file, and a Python process
cannot catch any of that. So every front end (``dfm check``, ``report``, ``tools``,
``gcode``, ``batch``, the FreeCAD workbench) reads and analyses each file in a child
process: a crash, a hang or memory exhaustion of one file becomes one clear error for that
file (DFM913 worker-crashed, DFM914 analysis-timeout, DFM915 out-of-memory) and the other
files go on. ``dfm.api.analyze`` itself stays in-process, for Python callers who choose.

How a child is made:

* Forked from a *fork server* (``multiprocessing``'s ``forkserver``) that has already
  imported OCP and the analysers, so a child starts in milliseconds instead of ~2 s; or,
  where ``multiprocessing`` may not create children (a daemonic Dask worker), exec'd as
  ``python -m dfm.isolation REQUEST WORKDIR``.
* The child caps its own address space (``RLIMIT_AS``), turns core dumps off, asks the
  kernel to kill it when its parent dies (``PR_SET_PDEATHSIG``), sends its stdout/stderr
  to a log in its work folder, runs ``module:function(*args, **kwargs)`` and pickles what it
  returned (or the :class:`~dfm.errors.DfmError` it raised) into the work folder.
* The parent waits up to the time limit, kills the child on expiry, reads the pickle, and
  otherwise explains the exit (signal, memory cap) in one line.

Work folders live under one folder per parent process (``$TMPDIR/dfm-run-PID``). It is
removed when the parent ends; if the parent is killed outright (SIGKILL), the fork server
removes it as it exits, and any later run sweeps folders of processes that are gone.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import importlib
import multiprocessing
import os
import pickle
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dfm.errors import DfmError, UsageError, scrub_addresses

#: Default seconds one file may take (every command; ``--timeout``).
DEFAULT_TIMEOUT_S = 300.0
#: Default address-space cap of one file's process, MiB (``--memory``). Address space, not
#: resident memory: the loaded kernel libraries alone take about 600 MiB of it.
DEFAULT_MEMORY_MB = 4096
#: Room a small part needs above the process's own size (measured: a 700-face part peaks
#: about 150 MiB above it); a cap below baseline + this is refused as a usage error.
MIN_HEADROOM_MB = 256

#: Modules the fork server imports once, so that each child starts warm.
PRELOAD = ("dfm.isolation", "dfm._forkserver")

RETURN_PICKLE = "return.pickle"
CHILD_LOG = "child.log"
_ROOT_PREFIX = "dfm-run-"

_SIGNAL_NOTES = {
    signal.SIGSEGV: "segmentation fault",
    signal.SIGBUS: "bus error",
    signal.SIGABRT: "abort",
    signal.SIGKILL: "killed, e.g. by the system's out-of-memory killer",
    signal.SIGFPE: "arithmetic fault",
    signal.SIGILL: "illegal instruction",
}
#: Words a process prints (or raises) when an allocation failed under the cap.
_OOM_WORDS = re.compile(
    r"bad_alloc|MemoryError|OutOfMemory|Cannot allocate memory|failed to map segment|out of memory|"
    r"cannot allocate|Memory allocation|allocation failed",
    re.IGNORECASE,
)

_lock = threading.Lock()
_active: set[Any] = set()
_stopping = threading.Event()
_ctx: Any = None
_baseline: int | None = None
_root: Path | None = None


@dataclass(frozen=True)
class Limits:
    """Time limit and memory cap of one file's process.

    Attributes:
        timeout: Seconds before the process is killed (None: no limit).
        memory_mb: Address-space cap in MiB (None: no cap).
        in_process: Run in the calling process instead (``--in-process``: no limit, no cap,
            no protection; for debugging, profiling and trusted files).
    """

    timeout: float | None = DEFAULT_TIMEOUT_S
    memory_mb: int | None = DEFAULT_MEMORY_MB
    in_process: bool = False


@dataclass(frozen=True)
class Returned:
    """What came back from a child.

    Attributes:
        ok: True when the function returned; ``value`` is what it returned.
        value: The return value.
        raised: A :class:`DfmError` the function raised (``ok`` is False).
        error: When the process failed: the diagnostic name (``worker-crashed``,
            ``analysis-timeout``, ``out-of-memory``, ``worker-error``).
        cause: When the process failed: what happened, in one short line.
        seconds: Wall time of the child.
    """

    ok: bool
    value: Any = None
    raised: DfmError | None = None
    error: str | None = None
    cause: str = ""
    seconds: float = 0.0


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: handled like Ctrl-C (children killed, temporary folders removed)."""


# -- the child ------------------------------------------------------------------------------------


def _die_with_parent(parent: int) -> None:
    """Ask Linux to SIGKILL this process when its parent dies (and die now if it already has)."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    if parent and os.getppid() != parent:
        os._exit(1)


def _release_server_pipe() -> None:
    """Close this child's copy of the pipe by which the fork server watches its parent.

    multiprocessing hands every forked child a copy of the write end; while one child holds
    it, the server never sees its parent die, so a parent killed outright (SIGKILL) left the
    server and a hung child running for ever. Without the copy, the server exits when the
    parent does, and on its way out kills its children (:mod:`dfm._forkserver`).
    """
    with contextlib.suppress(Exception):
        from multiprocessing import forkserver

        server: Any = forkserver._forkserver  # noqa: SLF001 - the only handle on that descriptor
        fd = getattr(server, "_forkserver_alive_fd", None)
        if fd is not None:
            os.close(fd)
            server._forkserver_alive_fd = None


def limit_resources(memory_mb: int | None) -> None:
    """Cap this process: no core dumps, and at most ``memory_mb`` MiB of address space."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if memory_mb:
        cap = int(memory_mb) * 1024 * 1024
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def resolve(spec: str) -> Callable[..., Any]:
    """The function named ``module:function``."""
    mod_name, _, fn_name = spec.partition(":")
    return getattr(importlib.import_module(mod_name), fn_name)  # type: ignore[no-any-return]


def _to_log(workdir: Path) -> None:
    """Send this process's fd 1 and 2 to the work folder's log (read back to explain a death)."""
    fd = os.open(workdir / CHILD_LOG, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def child_main(target: str, args: Sequence[Any], kwargs: Mapping[str, Any], workdir: str,
               memory_mb: int | None, parent: int = 0) -> None:
    """Body of a child: cap, run ``target(*args, **kwargs)``, pickle the outcome last."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _release_server_pipe()
    _die_with_parent(parent)
    work = Path(workdir)
    _to_log(work)
    limit_resources(memory_mb)
    outcome: tuple[Any, ...]
    try:
        outcome = ("ok", resolve(target)(*args, **kwargs))
    except DfmError as err:
        outcome = ("raised", err)
    except BaseException as err:  # noqa: BLE001 - any failure of one file is reported, not raised
        outcome = ("failed", *_classify_exception(err, memory_mb))
    try:
        data = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as err:  # noqa: BLE001 - an unpicklable result is a bug, reported as such
        data = pickle.dumps(("failed", "worker-error", f"the result could not be sent back ({type(err).__name__})"))
    tmp = work / (RETURN_PICKLE + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, work / RETURN_PICKLE)
    sys.stdout.flush()
    sys.stderr.flush()


def _classify_exception(err: BaseException, memory_mb: int | None) -> tuple[str, str]:
    """(diagnostic name, short cause) of an exception that escaped the child's work."""
    name = type(err).__name__
    text = f"{name}: {err}"
    memory_errno = isinstance(err, OSError) and err.errno == errno.ENOMEM
    if isinstance(err, MemoryError) or memory_errno or _OOM_WORDS.search(text):
        cap = f"the {memory_mb} MB memory cap" if memory_mb else "the memory available"
        return "out-of-memory", f"it needed more than {cap} ({name})"
    last = traceback.extract_tb(err.__traceback__)[-1:]
    where = f" at {Path(last[0].filename).name}:{last[0].lineno}" if last else ""
    return "worker-error", _short(f"{text}{where}")


def _short(text: str, limit: int = 240) -> str:
    line = scrub_addresses(" ".join(str(text).split()))
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _vm_size_mb() -> int:
    """Address space of the calling process in MiB (``VmSize``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) // 1024
    return 0


def preload() -> None:
    """Import the heavy modules and read the shipped data once (in the fork server).

    Each child then starts warm: without this, every file paid ~0.25 s for numpy's import
    and the rule, profile and catalogue files. Nothing here runs the kernel, and BLAS is
    kept to one thread, so the server forks with a single thread.
    """
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import numpy  # noqa: F401

    import dfm.api
    import dfm.kernel  # noqa: F401
    import dfm.report.jsonout  # noqa: F401
    import dfm.stages

    dfm.stages.body_stages()
    dfm.diagnostics.diagnostics()
    with contextlib.suppress(Exception):  # a bad rule file is each file's error, not the server's
        from dfm.rules import resolve

        resolve(dfm.api.Options(), None)
    with contextlib.suppress(Exception):
        from dfm.tooling.catalogue import default_catalogue
        from dfm.tooling.rules import default_rules

        default_catalogue()
        default_rules()


# -- the parent -----------------------------------------------------------------------------------


def _fork_context() -> Any:
    global _ctx
    with _lock:
        if _ctx is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(list(PRELOAD))
            _ctx = ctx
        return _ctx


def can_fork_children() -> bool:
    """False inside a daemonic process (a Dask nanny's worker), where multiprocessing refuses."""
    return not multiprocessing.current_process().daemon


def warm() -> None:
    """Start the fork server now, from this thread (call it from the main thread before any pool)."""
    if can_fork_children():
        from multiprocessing import forkserver

        _fork_context()
        forkserver.ensure_running()


def root_dir() -> Path:
    """The folder of this process's work folders (``$TMPDIR/dfm-run-PID``), created on first use."""
    global _root
    with _lock:
        if _root is None or not _root.is_dir():
            _sweep_stale()
            _root = Path(tempfile.gettempdir()) / f"{_ROOT_PREFIX}{os.getpid()}"
            _root.mkdir(mode=0o700, exist_ok=True)
            import atexit

            atexit.register(_remove_root, os.getpid())
        return _root


def _remove_root(pid: int) -> None:
    if os.getpid() == pid and _root is not None:
        shutil.rmtree(_root, ignore_errors=True)


def root_of(pid: int) -> Path:
    """The folder of work folders of process ``pid``."""
    return Path(tempfile.gettempdir()) / f"{_ROOT_PREFIX}{pid}"


def _sweep_stale() -> None:
    """Remove work folders of dfm processes that no longer exist (killed outright)."""
    for p in Path(tempfile.gettempdir()).glob(f"{_ROOT_PREFIX}*"):
        pid = p.name[len(_ROOT_PREFIX):]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(p, ignore_errors=True)
        except OSError:
            pass


@contextlib.contextmanager
def workdir() -> Any:
    """A private work folder under :func:`root_dir`, removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="w", dir=root_dir()))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def run_child(target: str, args: Sequence[Any] = (), kwargs: Mapping[str, Any] | None = None,
              limits: Limits | None = None, work: Path | None = None) -> Returned:
    """Run ``target(*args, **kwargs)`` in a fresh process and collect what it returned.

    Args:
        target: ``module:function``; it and its arguments must be picklable.
        args: Positional arguments.
        kwargs: Keyword arguments.
        limits: Time limit and memory cap (default :class:`Limits`).
        work: Work folder the child may write into (default: a fresh one, removed after).

    Returns:
        A :class:`Returned`; the parent never raises for what happened in the child.
    """
    limits = limits or Limits()
    if limits.in_process:
        t0 = time.monotonic()
        try:
            value = resolve(target)(*args, **dict(kwargs or {}))
        except DfmError as err:
            return Returned(False, raised=err, seconds=time.monotonic() - t0)
        return Returned(True, value=value, seconds=time.monotonic() - t0)
    if _stopping.is_set():
        return Returned(False, error="worker-error", cause="the run was interrupted before this file started")
    if work is None:
        with workdir() as tmp:
            return run_child(target, args, kwargs, limits, tmp)
    kwargs = dict(kwargs or {})
    t0 = time.monotonic()
    if can_fork_children():
        returncode, timed_out, peak = _run_forked(target, args, kwargs, work, limits)
    else:
        returncode, timed_out, peak = _run_exec(target, args, kwargs, work, limits)
    seconds = time.monotonic() - t0
    if timed_out:
        return Returned(False, error="analysis-timeout", seconds=seconds,
                        cause=f"the analysis did not finish within {limits.timeout:g} s and was stopped")
    path = work / RETURN_PICKLE
    if path.exists():
        try:
            outcome = pickle.loads(path.read_bytes())  # noqa: S301 - our own child wrote it
        except Exception as err:  # noqa: BLE001 - a half-written pickle is a crash
            outcome = ("failed", "worker-crashed", f"its result could not be read ({type(err).__name__})")
        if outcome[0] == "ok":
            return Returned(True, value=outcome[1], seconds=seconds)
        if outcome[0] == "raised":
            return Returned(False, raised=outcome[1], seconds=seconds)
        return Returned(False, error=outcome[1], cause=outcome[2], seconds=seconds)
    error, cause = explain_exit(returncode, _log_tail(work), limits.memory_mb, peak)
    return Returned(False, error=error, cause=cause, seconds=seconds)


def _log_tail(work: Path) -> str:
    try:
        with open(work / CHILD_LOG, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 4096))
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""


def explain_exit(returncode: int | None, log: str = "", memory_mb: int | None = None,
                 peak_mb: int = 0) -> tuple[str, str]:
    """(diagnostic name, cause) for a child that ended without a result.

    A death is put down to the memory cap when the child said so (``bad_alloc``,
    ``MemoryError``...) or was last seen within 10 % of its cap.
    """
    died = describe_exit(returncode)
    if memory_mb and (_OOM_WORDS.search(log) or peak_mb >= 0.9 * memory_mb):
        how = f"; last seen at {peak_mb} MB" if peak_mb else ""
        return "out-of-memory", f"it needed more than the {memory_mb} MB memory cap ({died}{how})"
    return "worker-crashed", died


def describe_exit(returncode: int | None) -> str:
    """Words for how a child process ended."""
    if returncode is None:
        return "the analysis process did not report"
    if returncode < 0:
        try:
            sig = signal.Signals(-returncode)
        except ValueError:
            return f"the analysis process was killed by signal {-returncode}"
        note = _SIGNAL_NOTES.get(sig)
        return f"the analysis process was killed by signal {-returncode} ({sig.name}{', ' + note if note else ''})"
    return f"the analysis process exited with status {returncode} without writing its result"


def _peak_mb(pid: int | None) -> int:
    """``VmPeak`` of a live process in MiB (0 when it cannot be read)."""
    if not pid:
        return 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmPeak:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _wait(poll: Callable[[float], int | None], pid: int | None, timeout: float | None) -> tuple[int | None, int]:
    """Wait for a child up to ``timeout``; (exit code or None on expiry, last seen VmPeak)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    peak = 0
    while True:
        step = 0.25 if deadline is None else max(0.0, min(0.25, deadline - time.monotonic()))
        code = poll(step)
        if code is not None:
            return code, peak
        peak = max(peak, _peak_mb(pid))
        if deadline is not None and time.monotonic() >= deadline:
            return None, peak


def _run_forked(target: str, args: Sequence[Any], kwargs: Mapping[str, Any], work: Path,
                limits: Limits) -> tuple[int | None, bool, int]:
    ctx = _fork_context()
    proc = ctx.Process(target=child_main, args=(target, tuple(args), dict(kwargs), str(work), limits.memory_mb,
                                                0), daemon=True)
    with _lock:
        proc.start()
        _active.add(proc)

    def poll(step: float) -> int | None:
        proc.join(step)
        return proc.exitcode

    try:
        code, peak = _wait(poll, proc.pid, limits.timeout)
        if code is None:
            proc.kill()
            proc.join()
            return -signal.SIGKILL, True, peak
        return int(code), False, peak
    except BaseException:  # Ctrl-C or SIGTERM in the parent: the child goes too
        proc.kill()
        proc.join()
        raise
    finally:
        with _lock:
            _active.discard(proc)
        proc.close()


def _run_exec(target: str, args: Sequence[Any], kwargs: Mapping[str, Any], work: Path,
              limits: Limits) -> tuple[int | None, bool, int]:
    request = work / "request.pickle"
    request.write_bytes(pickle.dumps((target, tuple(args), dict(kwargs), limits.memory_mb, os.getpid())))
    proc = subprocess.Popen([sys.executable, "-m", "dfm.isolation", str(request), str(work)],
                            stdin=subprocess.DEVNULL, start_new_session=True)
    with _lock:
        _active.add(proc)

    def poll(step: float) -> int | None:
        try:
            return proc.wait(step)
        except subprocess.TimeoutExpired:
            return None

    try:
        code, peak = _wait(poll, proc.pid, limits.timeout)
        if code is None:
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return -signal.SIGKILL, True, peak
        return code, False, peak
    except BaseException:  # Ctrl-C or SIGTERM in the parent: the child goes too
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    finally:
        with _lock:
            _active.discard(proc)
        request.unlink(missing_ok=True)


def stop_all() -> int:
    """Start no new child from now on (until :func:`allow_new`) and kill the running ones."""
    _stopping.set()
    return kill_all()


def allow_new() -> None:
    """Undo :func:`stop_all` (a new run in the same process)."""
    _stopping.clear()


def kill_all() -> int:
    """Kill every child this process started and is waiting for (on Ctrl-C or SIGTERM)."""
    with _lock:
        procs = list(_active)
    for p in procs:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            p.kill()
    return len(procs)


# -- what front ends call -------------------------------------------------------------------------


def baseline_mb() -> int:
    """Address space of a fresh child before it reads anything (the loaded kernel), MiB."""
    global _baseline
    if _baseline is None:
        got = run_child("dfm.isolation:_vm_size_mb", limits=Limits(timeout=120, memory_mb=None))
        _baseline = int(got.value) if got.ok else 0
    return _baseline


def check_limits(limits: Limits, option: str = "--memory") -> None:
    """Refuse a memory cap that dfm itself does not fit in.

    Raises:
        UsageError: The cap is below the child's own size plus the room a small part needs.
    """
    if limits.in_process:
        return
    if limits.timeout is not None and limits.timeout <= 0:
        raise UsageError(f"--timeout must be positive (0 on the command line: no limit), not {limits.timeout:g}")
    if not limits.memory_mb:
        return
    if limits.memory_mb < 0:
        raise UsageError(f"{option} must be positive (0: no cap), not {limits.memory_mb}")
    base = baseline_mb()
    need = base + MIN_HEADROOM_MB
    if base and limits.memory_mb < need:
        raise UsageError(f"{option} {limits.memory_mb}: dfm's analysis process takes {base} MiB of address space "
                         f"before it reads a part (the loaded kernel libraries); give at least {need} MiB "
                         f"(default {DEFAULT_MEMORY_MB}, 0: no cap)")


def call(target: str, *args: Any, path: str | Path, limits: Limits | None = None, **kwargs: Any) -> Any:
    """``target(*args, **kwargs)`` run in a child; what it returned, or an error naming ``path``.

    Raises:
        InputError: The child crashed, timed out or ran out of memory (DFM913-916), naming
            ``path``.
        DfmError: What the function raised in the child, as it was.
    """
    got = run_child(target, args, kwargs, limits)
    if got.ok:
        return got.value
    if got.raised is not None:
        raise got.raised
    raise failure(got, path)


def failure(got: Returned, path: str | Path) -> DfmError:
    """The InputError (DFM913-916) for a child that failed on ``path``."""
    from dfm.diagnostics import input_error

    return input_error(got.error or "worker-error", path, got.cause)


def install_sigterm() -> Any:
    """Turn SIGTERM into :class:`Terminated` in the main thread, so children and folders are cleaned up.

    Returns:
        The handler it replaced (for :func:`restore_sigterm`), or None off the main thread.
    """
    if threading.current_thread() is not threading.main_thread():
        return None

    def on_term(_signum: int, _frame: Any) -> None:
        raise Terminated()

    return signal.signal(signal.SIGTERM, on_term)


def restore_sigterm(previous: Any) -> None:
    """Put back the SIGTERM handler :func:`install_sigterm` replaced."""
    if previous is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, previous)


def _exec_main(argv: Sequence[str]) -> int:
    """``python -m dfm.isolation REQUEST WORKDIR``: the exec'd child."""
    target, args, kwargs, memory_mb, parent = pickle.loads(Path(argv[0]).read_bytes())  # noqa: S301 - ours
    child_main(target, args, kwargs, argv[1], memory_mb, parent)
    return 0


if __name__ == "__main__":
    sys.exit(_exec_main(sys.argv[1:]))
