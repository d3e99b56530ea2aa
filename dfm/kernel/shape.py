"""A solid with stable 1-based face and edge ids, and its basic properties."""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import functools
import os
import pickle
import select
import signal
import threading
from collections.abc import Callable, Sequence
from typing import Any

from OCP.Bnd import Bnd_Box
from OCP.BRep import BRep_Tool
from OCP.BRepBndLib import BRepBndLib
from OCP.BRepCheck import BRepCheck_Analyzer
from OCP.BRepGProp import BRepGProp
from OCP.GProp import GProp_GProps
from OCP.TopAbs import TopAbs_EDGE, TopAbs_FACE, TopAbs_REVERSED, TopAbs_VERTEX
from OCP.TopExp import TopExp, TopExp_Explorer
from OCP.TopoDS import TopoDS, TopoDS_Edge, TopoDS_Face, TopoDS_Shape
from OCP.TopTools import TopTools_IndexedMapOfShape

from dfm.model import Vec3


class Solid:
    """One analysed body: an OCCT solid plus its face and edge index.

    Ids are 1-based and follow ``TopExp::MapShapes`` order on the solid, which is the
    numbering FreeCAD shows (``Face1``, ``Edge1``...).

    Attributes:
        shape: The ``TopoDS_Solid`` (already placed in the file's coordinates, in mm).
        name: Product or label name from the file, or ``body-N``.
        index: 1-based position of the body in the file.

    """

    def __init__(self, shape: TopoDS_Shape, name: str, index: int) -> None:
        self.shape = shape
        self.name = name
        self.index = index
        self._faces = TopTools_IndexedMapOfShape()
        TopExp.MapShapes_s(shape, TopAbs_FACE, self._faces)
        self._edges = TopTools_IndexedMapOfShape()
        TopExp.MapShapes_s(shape, TopAbs_EDGE, self._edges)

    # --- topology -------------------------------------------------------------------
    @property
    def face_count(self) -> int:
        """Number of faces."""
        return self._faces.Extent()

    @property
    def edge_count(self) -> int:
        """Number of edges."""
        return self._edges.Extent()

    def face(self, face_id: int) -> TopoDS_Face:
        """The face with 1-based id ``face_id``."""
        return TopoDS.Face_s(self._faces.FindKey(face_id))

    def faces(self) -> list[TopoDS_Face]:
        """All faces, index 0 holding face 1."""
        return [TopoDS.Face_s(self._faces.FindKey(i)) for i in range(1, self.face_count + 1)]

    def face_id(self, face: TopoDS_Shape) -> int:
        """1-based id of ``face`` (orientation ignored); 0 if it is not a face of this body."""
        return self._faces.FindIndex(face)

    def edge(self, edge_id: int) -> TopoDS_Edge:
        """The edge with 1-based id ``edge_id``."""
        return TopoDS.Edge_s(self._edges.FindKey(edge_id))

    def edge_id(self, edge: TopoDS_Shape) -> int:
        """1-based id of ``edge``; 0 if it is not an edge of this body."""
        return self._edges.FindIndex(edge)

    @functools.cached_property
    def edge_faces(self) -> dict[int, tuple[int, ...]]:
        """For each edge id, the ids of the faces it bounds."""
        out: dict[int, set[int]] = {}
        orient: dict[tuple[int, int], bool] = {}
        find_face, find_edge = self._faces.FindKey, self._edges.FindIndex  # bound once: 50 000 calls
        for fid in range(1, self.face_count + 1):
            exp = TopExp_Explorer(find_face(fid), TopAbs_EDGE)
            more, current, step = exp.More, exp.Current, exp.Next
            while more():
                cur = current()
                eid = find_edge(cur)
                got = out.get(eid)
                if got is None:
                    out[eid] = {fid}
                else:
                    got.add(fid)
                orient[(eid, fid)] = cur.Orientation() == TopAbs_REVERSED
                step()
        self._edge_reversed_in = orient
        return {eid: tuple(sorted(out[eid])) for eid in sorted(out)}

    def edge_reversed_in(self, edge_id: int, face_id: int) -> bool:
        """True when edge ``edge_id`` runs reversed in the boundary of face ``face_id``."""
        _ = self.edge_faces
        return self._edge_reversed_in[(edge_id, face_id)]

    def free_edges(self) -> list[int]:
        """Edges that bound exactly one face and are not degenerate (an open boundary)."""
        out = []
        for eid, fids in self.edge_faces.items():
            if len(fids) != 1:
                continue
            edge = self.edge(eid)
            if BRep_Tool.Degenerated_s(edge):
                continue
            # A seam edge appears twice in the same face: it is closed, not free.
            if BRep_Tool.IsClosed_s(edge, self.face(fids[0])):
                continue
            out.append(eid)
        return out

    # --- properties -----------------------------------------------------------------
    @functools.cached_property
    def bbox(self) -> tuple[Vec3, Vec3]:
        """Exact axis-aligned bounding box (min corner, max corner) in mm.

        ``BRepBndLib::AddOptimal`` of a shape is the union of its faces' optimal boxes (plus
        edges outside faces and vertices outside edges): the union of :meth:`face_box`, which
        the face records need anyway, is the same box without computing each face's twice.
        """
        boxes = [self.face_box(fid) for fid in range(1, self.face_count + 1)]
        loose = (TopExp_Explorer(self.shape, TopAbs_EDGE, TopAbs_FACE).More()
                 or TopExp_Explorer(self.shape, TopAbs_VERTEX, TopAbs_EDGE).More())
        if boxes and not loose and all(b is not None for b in boxes):
            x0, y0, z0 = (min(b[k] for b in boxes) for k in range(3))  # type: ignore[index]
            x1, y1, z1 = (max(b[k] for b in boxes) for k in range(3, 6))  # type: ignore[index]
            return (x0, y0, z0), (x1, y1, z1)
        box = Bnd_Box()
        BRepBndLib.AddOptimal_s(self.shape, box, False, False)
        if box.IsVoid():
            return (0.0, 0.0, 0.0), (0.0, 0.0, 0.0)
        x0, y0, z0, x1, y1, z1 = box.Get()
        return (x0, y0, z0), (x1, y1, z1)

    def face_box(self, face_id: int) -> tuple[float, float, float, float, float, float] | None:
        """Optimal box (xmin, ymin, zmin, xmax, ymax, zmax) of face ``face_id`` (cached), None when void."""
        cache: dict[int, tuple[float, float, float, float, float, float] | None] = \
            self.__dict__.setdefault("_face_boxes", {})
        if face_id in cache:
            return cache[face_id]
        # (not in an ``except KeyError`` block: OCP calls made while an exception is being
        # handled cost ten times as much)
        box = Bnd_Box()
        BRepBndLib.AddOptimal_s(self._faces.FindKey(face_id), box, False, False)
        got = cache[face_id] = None if box.IsVoid() else box.Get()
        return got

    @property
    def size(self) -> Vec3:
        """Bounding-box extents (dx, dy, dz) in mm."""
        lo, hi = self.bbox
        return (hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2])

    @functools.cached_property
    def volume(self) -> float:
        """Enclosed volume in mm³ (negative for an inside-out solid)."""
        props = GProp_GProps()
        BRepGProp.VolumeProperties_s(self.shape, props)
        return float(props.Mass())

    #: A face with more boundary loops than this is checked loop by loop, not as a whole:
    #: BRepCheck's wire-against-wire test is quadratic (a plate with 500 holes took 19 s).
    MAX_WIRES_FULL_CHECK = 64

    def check(self) -> str | None:
        """None if the solid is valid, else a short reason.

        The whole solid goes through BRepCheck unless one of its faces has very many
        boundary loops; then each face is checked on its own (the heavy face's edges and
        loops, not the intersection of every loop with every other), plus closure and volume.
        """
        from OCP.TopAbs import TopAbs_WIRE

        heavy = []
        for fid in range(1, self.face_count + 1):
            exp = TopExp_Explorer(self._faces.FindKey(fid), TopAbs_WIRE)
            n = 0
            while exp.More():
                n += 1
                exp.Next()
            if n > self.MAX_WIRES_FULL_CHECK:
                heavy.append(fid)
        if not heavy:
            if not BRepCheck_Analyzer(self.shape).IsValid():
                return "BRepCheck finds the topology or geometry invalid"
        else:
            for fid in range(1, self.face_count + 1):
                target = self._faces.FindKey(fid)
                if fid in heavy:
                    exp = TopExp_Explorer(target, TopAbs_WIRE)
                    while exp.More():
                        if not BRepCheck_Analyzer(exp.Current()).IsValid():
                            return f"BRepCheck finds a boundary loop of face {fid} invalid"
                        exp.Next()
                elif not BRepCheck_Analyzer(target).IsValid():
                    return f"BRepCheck finds face {fid} invalid"
            if self.free_edges():
                return "its boundary is not closed"
        if self.volume <= 0.0:
            return f"its volume is {self.volume:.6g} mm³ (inside-out or empty)"
        return None


#: Solids with fewer faces than this in all are checked in the caller's process (a fork costs
#: more than their check).
FORK_CHECK_MIN_FACES = 300


def can_fork() -> bool:
    """True where :class:`Beside` may fork: Linux, the main thread, no other Python threads, not ``DFM_SERIAL=1``.

    A GUI calling :func:`dfm.api.analyze` from a worker thread (the FreeCAD workbench without
    its own interpreter) never forks: a fork copies only the calling thread.
    """
    return (hasattr(os, "fork") and os.environ.get("DFM_SERIAL", "") in ("", "0")
            and (os.cpu_count() or 1) > 1
            and threading.current_thread() is threading.main_thread() and threading.active_count() == 1)


class Beside:
    """``fn(*args)`` computed in a forked child while the caller goes on.

    OCCT holds Python's lock while it works, so threads cannot overlap kernel work; a forked
    child can: it runs the same code on the same data (a copy of this process), so it
    returns what the call would have returned here, pickled through a pipe. Where
    :func:`can_fork` says no, when ``fork`` is False, and whenever the child gives no
    answer (it crashed, or could not start), the call runs in this process, so the caller
    gets the same answer (or the same crash) as without the child.
    """

    def __init__(self, fn: Callable[..., Any], *args: Any, fork: bool = True) -> None:
        self.fn, self.args = fn, args
        self._pid = 0
        self._fd = -1
        self._chunks: list[bytes] = []
        self._done = False
        self._value: Any = None
        if fork and can_fork():
            self._fork()

    @property
    def forked(self) -> bool:
        """True while a child computes the answer."""
        return bool(self._pid)

    def _fork(self) -> None:
        r, w = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(r)
            os.close(w)
            return
        if pid == 0:  # the child: compute, send, leave without running any of the parent's cleanup
            code = 1
            try:
                os.close(r)
                with contextlib.suppress(Exception):
                    ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
                data = memoryview(pickle.dumps(self.fn(*self.args), protocol=pickle.HIGHEST_PROTOCOL))
                while data:
                    data = data[os.write(w, data):]
                code = 0
            finally:
                os._exit(code)
        os.close(w)
        self._pid, self._fd = pid, r

    def _read(self, block: bool) -> bool:
        """Read what the child sent; True once it closed the pipe."""
        while True:
            if not block and not select.select([self._fd], [], [], 0)[0]:
                return False
            chunk = os.read(self._fd, 1 << 20)
            if not chunk:
                return True
            self._chunks.append(chunk)

    def ready(self) -> bool:
        """True when the answer is known now (never waits)."""
        if not self._done and self._pid and self._read(block=False):
            self._finish()
        return self._done

    def result(self) -> Any:
        """The answer (waits for the child; computes it here when there is none)."""
        if not self._done:
            if self._pid:
                self._read(block=True)
            self._finish()
        return self._value

    def _finish(self) -> None:
        ok = False
        if self._pid:
            os.close(self._fd)
            _, status = os.waitpid(self._pid, 0)
            self._pid, self._fd = 0, -1
            if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
                with contextlib.suppress(Exception):
                    self._value = pickle.loads(b"".join(self._chunks))
                    ok = True
            self._chunks = []
        if not ok:  # no child, or it died: here (a crash then is this process's, as before)
            self._value = self.fn(*self.args)
        self._done = True

    def close(self) -> None:
        """Stop a child still running (the caller gave up) and reap it."""
        if self._pid:
            with contextlib.suppress(OSError):
                os.kill(self._pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.close(self._fd)
            with contextlib.suppress(OSError):
                os.waitpid(self._pid, 0)
            self._pid, self._fd = 0, -1


@dataclasses.dataclass(frozen=True)
class Verdict:
    """What :meth:`Solid.check` and :meth:`Solid.free_edges` said of one solid.

    Attributes:
        reason: :meth:`Solid.check`'s reason, or None for a valid solid.
        free: The free edges (looked for only when ``reason`` is None).
        volume: The solid's volume when the check computed it, else None.
    """

    reason: str | None
    free: tuple[int, ...]
    volume: float | None


def _verdicts(solids: Sequence[Solid]) -> list[Verdict]:
    """The verdicts of ``solids`` in order, up to and including the first bad one."""
    out = []
    for s in solids:
        reason = s.check()
        free = tuple(s.free_edges()) if reason is None else ()
        out.append(Verdict(reason, free, s.__dict__.get("volume")))
        if reason is not None or free:
            break
    return out


def checks_fork(solids: Sequence[Solid]) -> bool:
    """True when :class:`SolidChecks` will check ``solids`` in a forked child."""
    return sum(s.face_count for s in solids) >= FORK_CHECK_MIN_FACES and can_fork()


class SolidChecks:
    """The validity verdicts of a file's solids, computed beside the analysis (#18).

    BRepCheck takes about a quarter of a millisecond per face, as long as the rest of the
    analysis on a large part: with 300 faces or more the check runs :class:`Beside` the
    analysis (the same verdict), and :meth:`verdicts` collects it. Otherwise (a small part,
    no fork) it runs here and now, before any analyser sees the solids, as before.
    """

    def __init__(self, solids: Sequence[Solid]) -> None:
        self.solids = list(solids)
        self._job = Beside(_verdicts, self.solids, fork=checks_fork(self.solids))
        if not self._job.forked:
            self._job.result()
        self._kept = False

    def ready(self) -> list[Verdict] | None:
        """The verdicts if they are known now (never waits), else None."""
        return self.verdicts() if self._job.ready() else None

    def verdicts(self) -> list[Verdict]:
        """The verdicts of the solids in order, up to and including the first bad one (waits for them)."""
        got: list[Verdict] = self._job.result()
        if not self._kept:
            self._kept = True
            for s, v in zip(self.solids, got, strict=False):
                if v.volume is not None:
                    s.__dict__.setdefault("volume", v.volume)  # the same computation: keep it
        return got

    def close(self) -> None:
        """Stop a child still running and reap it."""
        self._job.close()
