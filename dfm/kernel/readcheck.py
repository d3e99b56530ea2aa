"""Did the STEP file read whole? What the file holds against what came out.

OCCT's STEP reader is forgiving: a record it cannot parse, a reference to an entity that
does not exist or a face it cannot build is left out with a message in its check lists,
and the transfer goes on. The shape that comes out can be a smaller, valid-looking solid
(one face of eleven: a 12 mm plate for a 20 mm part) that would pass every rule. So after
reading, :func:`inventory` counts what the file holds — its ``#N =`` records, the entities
the parser kept, the faces each solid's shells list (``MANIFOLD_SOLID_BREP`` and its voids),
the load and transfer failures — and :func:`judge` compares that with the solids that came
out:

* every solid the file lists came out with every face, and nothing failed: a clean read;
* something failed or was dropped, but each solid that came out has the full face count of
  one the file lists: a warning with the counts (DFM957 partial-read), the part is analysed;
* a solid came out with fewer faces than any the file lists, or none came out of a file that
  lists some: an error (DFM918 incomplete-read), never a silent pass.

Hostile numbers are refused before OCCT sees them (:func:`bad_number`): the parser accepts
``NaN`` and overflowing reals, and the transfer then loops for ever on them.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from OCP.StepGeom import StepGeom_GeometricRepresentationItem
from OCP.StepRepr import (
    StepRepr_AssemblyComponentUsage,
    StepRepr_DefinitionalRepresentation,
    StepRepr_MappedItem,
    StepRepr_MechanicalDesignAndDraughtingRelationship,
    StepRepr_RepresentationMap,
    StepRepr_RepresentationRelationship,
)
from OCP.StepShape import (
    StepShape_BrepWithVoids,
    StepShape_ContextDependentShapeRepresentation,
    StepShape_ManifoldSolidBrep,
    StepShape_ShapeDefinitionRepresentation,
    StepShape_ShapeDimensionRepresentation,
    StepShape_ShapeRepresentation,
    StepShape_TopologicalRepresentationItem,
)

#: Entities whose failure can change the part's shape: geometry, topology, and the structure
#: that places shapes in the product (representations, their links, assembly instances).
#: Failures elsewhere (PMI values, styles, properties, descriptions) are common in valid
#: exports from CAD systems OCCT does not fully follow, and say nothing about the solid.
_SHAPE_ENTITIES = (
    StepGeom_GeometricRepresentationItem,
    StepShape_TopologicalRepresentationItem,
    StepRepr_DefinitionalRepresentation,  # the 2D curves (pcurves) of edges on faces
    StepShape_ShapeDefinitionRepresentation,
    StepShape_ShapeRepresentation,
    StepShape_ContextDependentShapeRepresentation,
    StepRepr_RepresentationRelationship,
    StepRepr_AssemblyComponentUsage,
    StepRepr_MappedItem,
    StepRepr_RepresentationMap,
)
#: ...of which these belong to the PMI (semantic dimensions, the drawing's link to the model).
_PMI_ENTITIES = (StepShape_ShapeDimensionRepresentation, StepRepr_MechanicalDesignAndDraughtingRelationship)

#: A quoted string (skipped), or a number/word no CAD system writes for a length: NaN, Inf,
#: or a real of magnitude 1e100 and more (overflowing ones become inf in the parser).
_NUMBER_RE = re.compile(
    rb"'(?:[^']|'')*'"
    rb"|(?P<word>(?<![A-Za-z0-9_.#$])(?:NAN|INF|INFINITY)(?![A-Za-z0-9_(]))"
    rb"|(?P<big>(?<![A-Za-z0-9_#])[-+]?[0-9]+\.?[0-9]*E\+?0*[1-9][0-9]{2,})",
    re.IGNORECASE,
)
#: A quoted string (skipped), or the start of a ``#N =`` record, a damaged one too (``#1?9 =``,
#: ``#228  VECTOR(``: the parser drops those, which is what is counted); a reference that
#: starts a continuation line (``    #678));``) is neither.
_RECORD_RE = re.compile(
    rb"'(?:[^']|'')*'|(?P<rec>(?:^|;)[ \t\r\n]*#[0-9][^,);=\r\n]*(?:=|[ \t]+[A-Za-z_]+[ \t]*\())",
    re.MULTILINE,
)
#: Most messages quoted in a diagnostic.
_QUOTED = 2


def bad_number(raw: bytes) -> str | None:
    """Where the DATA section holds a non-finite or absurd number (``"NaN on line 60"``), or None."""
    start = raw.find(b"DATA;")
    if start < 0:
        return None
    for m in _NUMBER_RE.finditer(raw, start):
        token = m.group("word") or m.group("big")
        if token:
            line = raw.count(b"\n", 0, m.start()) + 1
            return f"{token.decode('ascii', 'replace')} on line {line}"
    return None


@dataclass
class Inventory:
    """What a STEP file holds and what its reading reported.

    Attributes:
        records: ``#N =`` records in the text.
        entities: Entities the parser kept.
        load_failed: Entities the parser marked as failed (bad type, unresolved reference).
        load_messages: A few of those failures, in OCCT's words.
        transfer_failed: Entities whose transfer to shapes failed.
        transfer_messages: A few of those failures.
        split_shells: Shells the transfer split apart because they did not connect.
        solids: Face count of each solid the transfer took up (as its shells list them).
        unused_solids: Solids of the file the transfer did not take up (construction
            geometry in a representation outside the product's shape, for instance).
        missing_faces: Faces listed by those shells that do not resolve to a face.
    """

    records: int = 0
    entities: int = 0
    load_failed: int = 0
    load_messages: list[str] = field(default_factory=list)
    transfer_failed: int = 0
    transfer_messages: list[str] = field(default_factory=list)
    split_shells: int = 0
    solids: list[int] = field(default_factory=list)
    unused_solids: int = 0
    missing_faces: int = 0

    @property
    def dropped_records(self) -> int:
        """Records of the text the parser did not keep."""
        return max(0, self.records - self.entities)

    @property
    def trouble(self) -> bool:
        """True when anything was dropped or failed on the way."""
        return bool(self.dropped_records or self.load_failed or self.transfer_failed or self.split_shells
                    or self.missing_faces)


def count_records(raw: bytes) -> int:
    """``#N =`` records in a Part 21 text (quoted strings skipped)."""
    return sum(1 for m in _RECORD_RE.finditer(raw) if m.group("rec"))


def _checks(it, model, messages: list[str]) -> int:  # type: ignore[no-untyped-def]
    """Shape entities with failures in an ``Interface_CheckIterator``; a few messages appended."""
    failed = 0
    it.Start()
    while it.More():
        check = it.Value()
        n = check.NbFails()
        num = it.Number()
        shape = 0 < num <= model.NbEntities() and _is_shape_entity(model.Value(num))
        if n and shape:
            failed += 1
            for i in range(1, n + 1):
                if len(messages) < _QUOTED:
                    text = " ".join(str(check.CFail(i, True)).split())
                    if text and text not in messages:
                        messages.append(text)
        it.Next()
    return failed


def _is_shape_entity(ent) -> bool:  # type: ignore[no-untyped-def]
    if not isinstance(ent, _SHAPE_ENTITIES) or isinstance(ent, _PMI_ENTITIES):
        return False
    # Callouts, annotation curves and styles are geometric items too, but of the drawing.
    return not type(ent).__name__.startswith(("StepVisual_", "StepDimTol_"))


def _split_shells(tp) -> int:  # type: ignore[no-untyped-def]
    n = 0
    it = tp.CheckList(False)
    it.Start()
    while it.More():
        check = it.Value()
        for i in range(1, check.NbWarnings() + 1):
            if "split into parts" in str(check.CWarning(i, True)):
                n += 1
        it.Next()
    return n


def inventory(step_reader, raw: bytes, transferred: bool = True) -> Inventory:  # type: ignore[no-untyped-def]
    """Count what the file holds and what reading it reported.

    Args:
        step_reader: The ``STEPControl_Reader`` that read the file (for XDE, ``reader.Reader()``).
        raw: The file's bytes.
        transferred: True once the shapes were transferred (transfer checks are read too).
    """
    model = step_reader.StepModel()
    ws = step_reader.WS()
    inv = Inventory(records=count_records(raw), entities=model.NbEntities())
    inv.load_failed = _checks(ws.ModelCheckList(), model, inv.load_messages)
    tp = ws.TransferReader().TransientProcess() if transferred else None
    if tp is not None:
        inv.transfer_failed = _checks(tp.CheckList(False), model, inv.transfer_messages)
        inv.split_shells = _split_shells(tp)
    # Entities the transfer went through. Compared by Python identity: pybind11 hands back the
    # same wrapper for the same entity while one is alive (``model.Number``/``MapIndex`` on a
    # wrapper find nothing in this binding).
    mapped = [tp.Mapped(k) for k in range(1, tp.NbMapped() + 1)] if tp is not None else []
    visited = {id(x) for x in mapped}
    for i in range(1, model.NbEntities() + 1):
        ent = model.Value(i)
        if not isinstance(ent, StepShape_ManifoldSolidBrep):
            continue
        if tp is not None and id(ent) not in visited:
            inv.unused_solids += 1  # the transfer never went there: not part of the product's shape
            continue
        shells = [ent.Outer()]
        if isinstance(ent, StepShape_BrepWithVoids):
            shells += [ent.VoidsValue(j) for j in range(1, ent.NbVoids() + 1)]
        faces = 0
        for shell in shells:
            if shell is None:
                continue
            for j in range(1, shell.NbCfsFaces() + 1):
                if shell.CfsFacesValue(j) is None:
                    inv.missing_faces += 1
                else:
                    faces += 1
        inv.solids.append(faces)
    return inv


def judge(inv: Inventory, got: list[int]) -> tuple[str | None, str]:
    """Compare the inventory with the face counts of the distinct solids that came out.

    Returns:
        (``None``, "") for a clean read; (``"partial-read"``, message) when something failed
        but every solid that came out is one the file lists, whole; (``"incomplete-read"``,
        message) when a solid came out short or the file's solids did not come out.
    """
    expected = Counter(inv.solids)
    have = Counter(got)
    listed = sum(inv.solids) + inv.missing_faces
    short = [n for n in got if n not in expected]
    whole = not (have - expected)  # every solid read is one the file lists, face for face
    missing = sum((expected - have).values())
    what = _what_failed(inv)
    if inv.solids and (short or not got or not whole):
        read = ", ".join(str(n) for n in sorted(got, reverse=True)) or "none"
        lists = ", ".join(str(n) for n in sorted(inv.solids, reverse=True))
        return "incomplete-read", (
            f"the file did not read whole: its {len(inv.solids)} solid(s) list {listed} faces "
            f"({lists} per solid{f', {inv.missing_faces} of them missing' if inv.missing_faces else ''}) but "
            f"the solid(s) read have {read}{'; ' + what if what else ''}")
    if not inv.trouble and not missing:
        return None, ""
    if missing:
        return "partial-read", (
            f"{missing} of the file's {len(inv.solids)} solids did not come through{'; ' + what if what else ''}; "
            f"the {len(got)} that did are complete ({', '.join(map(str, sorted(got, reverse=True)))} faces, "
            "as the file lists them) and were analysed")
    if not inv.solids:
        return "partial-read", f"the file did not read cleanly ({what}); check that the bodies read are the whole part"
    return "partial-read", (
        f"the file did not read cleanly ({what}); the {len(got)} solid(s) read are complete "
        f"({', '.join(map(str, sorted(got, reverse=True)))} faces, as the file lists them) and were analysed")


def _what_failed(inv: Inventory) -> str:
    parts = []
    if inv.dropped_records:
        parts.append(f"{inv.dropped_records} of {inv.records} records were dropped by the parser")
    if inv.load_failed:
        parts.append(f"{inv.load_failed} entities failed to load")
    if inv.transfer_failed:
        parts.append(f"{inv.transfer_failed} entities failed to transfer")
    if inv.split_shells:
        parts.append(f"{inv.split_shells} shell(s) did not connect and were split")
    if inv.unused_solids:
        parts.append(f"{inv.unused_solids} solid(s) of the file were not transferred")
    quoted = (inv.load_messages + inv.transfer_messages)[:_QUOTED]
    text = ", ".join(parts)
    if quoted:
        text += " (" + "; ".join(q[:120] for q in quoted) + ")"
    return text
