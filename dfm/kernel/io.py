"""Reading STEP and BREP files into solids in millimetres.

OCCT converts every STEP length into ``xstep.cascade.unit``; we set it to millimetres
once per process, so whatever the file declares (inch, metre, foot...) comes out in mm.
The declared unit is still recorded so a wrong declaration can be spotted.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from OCP.BRep import BRep_Builder
from OCP.BRepBuilderAPI import BRepBuilderAPI_MakeSolid, BRepBuilderAPI_Sewing
from OCP.BRepLib import BRepLib
from OCP.BRepTools import BRepTools
from OCP.IFSelect import IFSelect_RetDone
from OCP.Interface import Interface_Static
from OCP.STEPCAFControl import STEPCAFControl_Reader
from OCP.STEPControl import STEPControl_Controller, STEPControl_Reader
from OCP.TCollection import TCollection_ExtendedString
from OCP.TColStd import TColStd_SequenceOfAsciiString
from OCP.TDataStd import TDataStd_Name
from OCP.TDF import TDF_AttributeIterator, TDF_Label, TDF_LabelSequence
from OCP.TDocStd import TDocStd_Document
from OCP.TopAbs import TopAbs_EDGE, TopAbs_FACE, TopAbs_SHELL, TopAbs_SOLID
from OCP.TopExp import TopExp_Explorer
from OCP.TopLoc import TopLoc_Location
from OCP.TopoDS import TopoDS, TopoDS_Shape
from OCP.XCAFDoc import XCAFDoc_DocumentTool, XCAFDoc_ShapeTool

from dfm.diagnostics import finding, input_error
from dfm.errors import KernelError
from dfm.kernel import readcheck
from dfm.kernel.canonical import Canonicalizer, CanonicalStats, may_hold_freeform
from dfm.kernel.capture import captured_output
from dfm.kernel.shape import Solid
from dfm.model import Finding

STEP_SUFFIXES = {".step", ".stp", ".p21"}
BREP_SUFFIXES = {".brep", ".brp"}

_UNIT_NAMES = {
    "millimetre": "mm",
    "millimeter": "mm",
    "mm": "mm",
    "metre": "m",
    "meter": "m",
    "m": "m",
    "centimetre": "cm",
    "centimeter": "cm",
    "cm": "cm",
    "micrometre": "um",
    "micron": "um",
    "inch": "inch",
    "in": "inch",
    "foot": "foot",
    "ft": "foot",
    "mile": "mile",
    "kilometre": "km",
}
_SCHEMA_RE = re.compile(rb"FILE_SCHEMA\s*\(\s*\(\s*'([^']*)'", re.IGNORECASE)
_EXTREF_RE = re.compile(rb"DOCUMENT_FILE|EXTERNALLY_DEFINED|APPLIED_EXTERNAL_IDENTIFICATION", re.IGNORECASE)

_units_set = False


@dataclass
class LoadedFile:
    """What a file held, in mm.

    Attributes:
        path: The file.
        format: ``step`` or ``brep``.
        source_units: Length unit the file declared (``mm``, ``inch``, ``m``, ``unknown``).
        source_schema: STEP schema name from the header (``AUTOMOTIVE_DESIGN``...).
        product_names: Names of the products/labels in the file.
        solids: The bodies to analyse, each with stable face ids.
        sewn: True when the solids were built by sewing free surfaces.
        notes: Remarks from reading, for the result's warnings.
        findings: File-level findings of the read itself (DFM957 partial-read, DFM958
            shapes-dropped), for the result.
        external_refs: True when the file references other files, which were not followed.
        canonical: What the canonical pass did (free-form faces and edges read as the
            planes, cylinders, lines and circles they are; see :mod:`dfm.kernel.canonical`).

    """

    path: Path
    format: str
    source_units: str
    source_schema: str
    product_names: list[str]
    solids: list[Solid]
    sewn: bool = False
    notes: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    #: True when the file references other files, which were not followed (``_load_step_bare``).
    external_refs: bool = False
    canonical: CanonicalStats = field(default_factory=CanonicalStats)
    #: OCCT objects the shapes and attributes came from, kept alive as long as the result
    #: (an XDE document freed under live attribute wrappers crashes the interpreter). The
    #: reader is not kept: nothing read from it outlives the load.
    keepalive: tuple = ()


def _ensure_units() -> None:
    global _units_set
    if not _units_set:
        STEPControl_Controller.Init_s()  # registers the read.step.* statics before they are set
        Interface_Static.SetCVal_s("xstep.cascade.unit", "MM")
        _units_set = True


def _canonical_unit(name: str) -> str:
    key = name.strip().lower().replace(".", "")
    return _UNIT_NAMES.get(key, "unknown" if key in ("", "unknown") else key)


def sniff_format(path: Path, head: bytes) -> str | None:
    """``step``, ``brep`` or None, from the content first and the suffix second."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    while text.startswith(b"/*") and b"*/" in text:  # leading comments are legal in Part 21
        text = text[text.index(b"*/") + 2 :].lstrip(b" \t\r\n")
    if text[:12].upper().startswith(b"ISO-10303-21"):
        return "step"
    if text.startswith((b"DBRep_DrawableShape", b"CASCADE Topology")):
        return "brep"
    return None


def load(path: str | Path) -> LoadedFile:
    """Read a STEP or BREP file into solids in mm.

    Raises:
        InputError: with a DFM9xx code for any file that cannot be analysed.

    """
    p = Path(path)
    if not p.exists():
        raise input_error("file-not-found", p, "no such file")
    if p.is_dir():
        raise input_error("file-not-found", p, "is a directory, not a file")
    try:
        mode = p.stat().st_mode
        if not stat.S_ISREG(mode):  # a FIFO would block the read for ever, /dev/zero never end
            kind = "a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a device or socket"
            raise input_error("not-a-regular-file", p, f"is {kind}, not a regular file; it was not read")
        size = p.stat().st_size
        with p.open("rb") as fh:
            head = fh.read(65536)
    except OSError as err:
        raise input_error("file-not-found", p, f"cannot be read ({err.strerror})") from err
    if size == 0:
        raise input_error("empty-file", p, "the file is empty (0 bytes)")
    fmt = sniff_format(p, head)
    suffix = p.suffix.lower()
    if fmt is None:
        if suffix in STEP_SUFFIXES:
            raise input_error("not-a-cad-file", p, "has a STEP suffix but no ISO-10303-21 header")
        if suffix in BREP_SUFFIXES:
            raise input_error("not-a-cad-file", p, "has a BREP suffix but no OpenCASCADE BREP header")
        raise input_error("not-a-cad-file", p, "is not a STEP or BREP file")
    if fmt == "brep":
        return _load_brep(p)
    return _load_step(p, head)


def _load_brep(p: Path) -> LoadedFile:
    shape = TopoDS_Shape()
    with captured_output() as cap:
        ok = BRepTools.Read_s(shape, str(p), BRep_Builder())
    if not ok or shape.IsNull():
        detail = "; ".join(cap.error_lines()[:1])
        raise input_error("corrupt-file", p, "the BREP file cannot be parsed" + (f": {detail}" if detail else ""))
    solids, sewn = _solids_of(p, shape)
    canon = Canonicalizer()
    named = [canon.body(Solid(s, f"{p.stem}" if len(solids) == 1 else f"{p.stem}-{i}", i))
             for i, s in enumerate(solids, 1)]
    return _noted(LoadedFile(p, "brep", "unknown", "", [], named, sewn=sewn,
                             notes=["BREP files carry no length unit; millimetres assumed"]), canon)


def _label_name(label: TDF_Label) -> str:
    """The label's TDataStd_Name, or "".

    Walks the label's own attributes rather than calling ``FindAttribute`` with a
    Python-made attribute: that binding swaps the handle under the Python wrapper and
    crashed the interpreter at random later points (seen under the full test suite).
    """
    it = TDF_AttributeIterator(label)
    while it.More():
        attr = it.Value()
        if isinstance(attr, TDataStd_Name):
            return fix_mojibake(str(attr.Get().ToExtString()).strip())
        it.Next()
    return ""


def fix_mojibake(name: str) -> str:
    """Undo a legacy 8-bit name read as Latin-1 (Cyrillic CP1251 files are common).

    OCCT maps bytes that are not UTF-8 one-to-one onto U+0000-U+00FF. If the name is all
    such characters and its high bytes are UTF-8 or CP1251 letters, decode it properly.
    """
    if not name or any(ord(c) > 0xFF for c in name) or all(ord(c) < 0x80 for c in name):
        return name
    raw = name.encode("latin-1")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    high = [b for b in raw if b >= 0x80]
    if all(b >= 0xC0 or b in (0xA8, 0xB8) for b in high):
        return raw.decode("cp1251")
    return name


def step_codepage(raw: bytes) -> str:
    """OCCT's ``read.step.codepage`` for a file's raw bytes.

    Part 21 wants non-ASCII text escaped (the X2 directive), but CAD systems write raw 8-bit
    names too. UTF-8 when the bytes decode as UTF-8; otherwise CP1251 when every high byte
    is a Cyrillic letter and they make most of the words they stand in (Russian exports are a
    common case), else CP1252 (Western names: mostly ASCII with accented letters).
    Read as UTF-8, such names come out mangled past repair (``Дет8`` became ``ť``).
    """
    if raw.isascii():
        return "UTF8"
    try:
        raw.decode("utf-8")
        return "UTF8"
    except UnicodeDecodeError:
        pass
    # Cyrillic words are all high bytes; Western words are mostly ASCII with an accent or two.
    words = [w for w in re.findall(rb"[A-Za-z\x80-\xff]+", raw) if not w.isascii()]
    high = [b for w in words for b in w if b >= 0x80]
    letters = sum(len(w) for w in words) - len(high)
    cyrillic = all(b >= 0xC0 or b in (0xA8, 0xB8) for b in high) and len(high) > letters
    return "CP1251" if cyrillic else "CP1252"


_BOM = b"\xef\xbb\xbf"


@contextlib.contextmanager
def _readable_copy(p: Path, raw: bytes) -> Iterator[str]:
    """A path OCCT can read: ``p`` itself, or a copy without the UTF-8 byte-order mark.

    OCCT's parser takes a leading BOM for garbage and fails the whole file (DFM904 on a
    valid part saved by a Windows editor).
    """
    if not raw.startswith(_BOM):
        yield str(p)
        return
    fd, tmp = tempfile.mkstemp(prefix="dfm-bom-", suffix=p.suffix or ".step")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw[len(_BOM):])
        yield tmp
    finally:
        os.unlink(tmp)


def _load_step(p: Path, head: bytes) -> LoadedFile:
    _ensure_units()
    m = _SCHEMA_RE.search(head)
    schema = m.group(1).decode("latin-1").strip() if m else ""
    raw = p.read_bytes()
    bad = readcheck.bad_number(raw)
    if bad:  # the parser takes NaN and overflowing reals, and the transfer then never returns
        raise input_error("corrupt-file", p, "the STEP file holds a number no CAD system writes for a length "
                          f"(NaN, infinite, or 1e100 and beyond): {bad}")
    if not Interface_Static.SetCVal_s("read.step.codepage", step_codepage(raw)):
        raise KernelError(f"{p}: this OCCT has no read.step.codepage setting")
    with _readable_copy(p, raw) as readable:
        if _EXTREF_RE.search(raw):
            return _load_step_bare(p, schema, readable, raw)
        return _load_step_xde(p, schema, readable, raw)


def _load_step_xde(p: Path, schema: str, readable: str, raw: bytes) -> LoadedFile:
    reader = STEPCAFControl_Reader()
    reader.SetNameMode(True)
    for off in ("SetColorMode", "SetLayerMode", "SetGDTMode", "SetMatMode", "SetPropsMode",
                "SetViewMode", "SetSHUOMode", "SetMetaMode", "SetProductMetaMode"):
        getattr(reader, off)(False)
    with captured_output() as cap:
        status = reader.ReadFile(readable)
    if status != IFSelect_RetDone:
        lines = cap.error_lines()
        detail = lines[0] if lines else f"reader status {status.name}"
        detail = re.sub(r"^ERR StepFile\s*:\s*", "", detail)
        raise input_error("corrupt-file", p, f"the STEP file is truncated or corrupted: {detail}")

    source_units = _file_units(reader.Reader())

    doc = TDocStd_Document(TCollection_ExtendedString("XmlOcaf"))
    with captured_output() as cap:
        ok = reader.Transfer(doc)
    if not ok:
        lines = cap.error_lines()
        raise input_error("corrupt-file", p, "the STEP entities cannot be turned into shapes"
                          + (f": {lines[0]}" if lines else ""))

    tool = XCAFDoc_DocumentTool.ShapeTool_s(doc.Main())
    free = TDF_LabelSequence()
    tool.GetFreeShapes(free)
    parts: list[tuple[TopoDS_Shape, str]] = []
    names: list[str] = []
    for i in range(1, free.Length() + 1):
        _walk(free.Value(i), TopLoc_Location(), parts, names)

    shapes = [s for s, _ in parts]
    canon = _Canon(raw)
    solids: list[Solid] = []
    sewn = False
    counts: dict[str, int] = {}
    loose: list[TopoDS_Shape] = []
    outside = 0  # faces of shells and surfaces beside the solids, which are not analysed
    for shape, name in parts:
        found = list(_explore(shape, TopAbs_SOLID))
        if not found:
            loose.append(shape)
        else:
            outside += _count_unique(shape, TopAbs_FACE) - sum(_count_unique(s, TopAbs_FACE) for s in found)
        for s in found:
            counts[name] = counts.get(name, 0) + 1
            solids.append(canon(Solid(s, name, len(solids) + 1)))
    if not solids:
        if not shapes or all(_count(s, TopAbs_FACE) == 0 and _count(s, TopAbs_EDGE) == 0 for s in shapes):
            if _EXTREF_RE.search(raw):
                cause = ("reads as an empty shape: it references external files, which dfm "
                         "does not follow")
            else:
                cause = "reads as an empty shape (no solids, surfaces or wires)"
            raise input_error("empty-shape", p, cause)
        compound = _compound(loose)
        built, sewn = _solids_of(p, compound)
        base = names[0] if names else p.stem
        solids = [canon(Solid(s, base if len(built) == 1 else f"{base}-{i}", i)) for i, s in enumerate(built, 1)]
        outside += _count_unique(compound, TopAbs_FACE) - sum(_count_unique(s, TopAbs_FACE) for s in built)
    else:
        outside += sum(_count_unique(s, TopAbs_FACE) for s in loose)
    findings = _read_findings(p, readcheck.inventory(reader.Reader(), raw), solids, outside)
    # Exporters that name nothing leave their own banner as the product name.
    for s in solids:
        if s.name.startswith("Open CASCADE STEP translator"):
            s.name = p.stem if len(solids) == 1 else f"{p.stem}-{s.index}"
    # Make names unique where one label holds several solids.
    seen: dict[str, int] = {}
    for s in solids:
        if counts.get(s.name, 1) > 1:
            seen[s.name] = seen.get(s.name, 0) + 1
            s.name = f"{s.name}-{seen[s.name]}"
        if not s.name:
            s.name = f"body-{s.index}"
    # The reader's STEP model (every entity of the file) is no longer needed: it is freed
    # here, with the read, not when the analysis ends (10 000 faces: 0.5 s, and the pages the
    # forked checks share stay unwritten). The document keeps the shapes and their names.
    return _noted(LoadedFile(p, "step", source_units, schema, _unique(names), solids, sewn=sewn,
                             findings=findings, keepalive=(doc, tool)), canon)


def _read_findings(p: Path, inv: readcheck.Inventory, solids: list[Solid], outside: int) -> list[Finding]:
    """Judge the read (DFM918 raised, DFM957/958 returned); see :mod:`dfm.kernel.readcheck`."""
    distinct: list[Solid] = []
    for s in solids:  # an instance placed twice is one solid of the file
        if not any(s.shape.IsPartner(d.shape) for d in distinct):
            distinct.append(s)
    verdict, message = readcheck.judge(inv, [s.face_count for s in distinct], len(solids))
    if verdict == "incomplete-read":
        raise input_error("incomplete-read", p, message)
    out = []
    if verdict == "partial-read":
        out.append(finding("partial-read", message[0].upper() + message[1:] + "."))
    dropped = []
    if outside > 0:
        dropped.append(f"{outside} face(s) in shells or surfaces outside its {len(solids)} solid(s)")
    if inv.unused_solids and verdict is None:
        dropped.append(f"{inv.unused_solids} solid(s) outside the part's shape (in no representation the "
                       "product uses, e.g. construction geometry)")
    if dropped:
        out.append(finding("shapes-dropped", f"The file also holds {' and '.join(dropped)}; they were not analysed."))
    return out


def _file_units(step_reader) -> str:  # type: ignore[no-untyped-def]
    units = TColStd_SequenceOfAsciiString()
    angles = TColStd_SequenceOfAsciiString()
    solid_angles = TColStd_SequenceOfAsciiString()
    step_reader.FileUnits(units, angles, solid_angles)
    declared = [units.Value(i).ToCString() for i in range(1, units.Length() + 1)]
    return _canonical_unit(declared[0]) if declared else "unknown"


_PRODUCT_RE = re.compile(rb"PRODUCT\s*\(\s*'((?:[^']|'')*)'", re.IGNORECASE)


def _load_step_bare(p: Path, schema: str, readable: str, raw: bytes) -> LoadedFile:
    """Read a file with external references without following them.

    The XDE reader would open the referenced files next to the upload, which for an
    untrusted upload could pull in other customers' files; the plain reader keeps to the
    file itself, as bare OCCT does.
    """
    reader = STEPControl_Reader()
    with captured_output() as cap:
        status = reader.ReadFile(readable)
    if status != IFSelect_RetDone:
        lines = cap.error_lines()
        detail = re.sub(r"^ERR StepFile\s*:\s*", "", lines[0]) if lines else f"reader status {status.name}"
        raise input_error("corrupt-file", p, f"the STEP file is truncated or corrupted: {detail}")
    source_units = _file_units(reader)
    with captured_output():
        reader.TransferRoots()
    shape = reader.OneShape()
    names = _unique([fix_mojibake(m.decode("latin-1").replace("''", "'")) for m in _PRODUCT_RE.findall(raw)])
    if shape.IsNull() or (_count(shape, TopAbs_FACE) == 0 and _count(shape, TopAbs_EDGE) == 0):
        raise input_error("empty-shape", p, "reads as an empty shape: it references external files, "
                          "which dfm does not follow (upload the part itself)")
    found, sewn = _solids_of(p, shape)
    base = names[0] if names else p.stem
    canon = _Canon(raw)
    solids = [canon(Solid(s, base if len(found) == 1 else f"{base}-{i}", i)) for i, s in enumerate(found, 1)]
    outside = _count_unique(shape, TopAbs_FACE) - sum(_count_unique(s, TopAbs_FACE) for s in found)
    findings = _read_findings(p, readcheck.inventory(reader, raw), solids, outside)
    return _noted(LoadedFile(p, "step", source_units, schema, names, solids, sewn=sewn,
                             notes=["external references were not followed"], findings=findings,
                             external_refs=True), canon)


class _Canon:
    """The canonical pass for one STEP file, or nothing when its text names no free-form entity."""

    def __init__(self, raw: bytes) -> None:
        self.pass_ = Canonicalizer() if may_hold_freeform(raw) else None

    def __call__(self, solid: Solid) -> Solid:
        return self.pass_.body(solid) if self.pass_ is not None else solid

    @property
    def stats(self) -> CanonicalStats:
        return self.pass_.stats if self.pass_ is not None else CanonicalStats()


def _noted(loaded: LoadedFile, canon: _Canon | Canonicalizer) -> LoadedFile:
    """``loaded`` with the canonical pass's figures and note."""
    loaded.canonical = canon.stats
    note = loaded.canonical.note()
    if note:
        loaded.notes.append(note)
    return loaded


def _walk(label: TDF_Label, loc: TopLoc_Location, out: list[tuple[TopoDS_Shape, str]],
          names: list[str]) -> None:
    name = _label_name(label)
    if name:
        names.append(name)
    if XCAFDoc_ShapeTool.IsAssembly_s(label):
        comps = TDF_LabelSequence()
        XCAFDoc_ShapeTool.GetComponents_s(label, comps, False)
        for i in range(1, comps.Length() + 1):
            comp = comps.Value(i)
            ref = TDF_Label()
            if XCAFDoc_ShapeTool.GetReferredShape_s(comp, ref):
                sub = loc.Multiplied(XCAFDoc_ShapeTool.GetLocation_s(comp))
                _walk(ref, sub, out, names)
        return
    shape = XCAFDoc_ShapeTool.GetShape_s(label)
    if shape.IsNull():
        return
    out.append((shape.Moved(loc) if not loc.IsIdentity() else shape, name))


def _explore(shape: TopoDS_Shape, kind) -> list[TopoDS_Shape]:  # type: ignore[no-untyped-def]
    out = []
    exp = TopExp_Explorer(shape, kind)
    while exp.More():
        out.append(exp.Current())
        exp.Next()
    return out


def _count(shape: TopoDS_Shape, kind) -> int:  # type: ignore[no-untyped-def]
    return len(_explore(shape, kind))


def _count_unique(shape: TopoDS_Shape, kind) -> int:  # type: ignore[no-untyped-def]
    """Distinct sub-shapes of ``kind`` (a face shared by two shells counts once)."""
    from OCP.TopExp import TopExp
    from OCP.TopTools import TopTools_IndexedMapOfShape

    seen = TopTools_IndexedMapOfShape()
    TopExp.MapShapes_s(shape, kind, seen)
    return seen.Extent()


def _compound(shapes: list[TopoDS_Shape]) -> TopoDS_Shape:
    from OCP.TopoDS import TopoDS_Compound

    comp = TopoDS_Compound()
    builder = BRep_Builder()
    builder.MakeCompound(comp)
    for s in shapes:
        builder.Add(comp, s)
    return comp


def _solids_of(p: Path, shape: TopoDS_Shape) -> tuple[list[TopoDS_Shape], bool]:
    """Solids of ``shape``; if it has only surfaces, try to sew them into closed solids."""
    solids = _explore(shape, TopAbs_SOLID)
    if solids:
        return solids, False
    n_faces = _count(shape, TopAbs_FACE)
    n_edges = _count(shape, TopAbs_EDGE)
    if n_faces == 0:
        if n_edges:
            raise input_error("no-solid", p, f"holds only wires ({n_edges} edges) and no solid or surface")
        raise input_error("empty-shape", p, "reads as an empty shape (no solids, surfaces or wires)")
    sewing = BRepBuilderAPI_Sewing(1e-3)
    sewing.Add(shape)
    with captured_output():
        sewing.Perform()
    sewed = sewing.SewedShape()
    built = []
    for shell in _explore(sewed, TopAbs_SHELL):
        if not BRep_Tool_IsClosed(shell):
            continue
        maker = BRepBuilderAPI_MakeSolid(TopoDS.Shell_s(shell))
        if maker.IsDone():
            solid = maker.Solid()
            BRepLib.OrientClosedSolid_s(solid)  # sewn shells may face inwards
            built.append(solid)
    if not built:
        raise input_error("no-solid", p, f"holds {n_faces} surfaces but no closed solid (they do not sew shut)")
    return built, True


def BRep_Tool_IsClosed(shell: TopoDS_Shape) -> bool:  # noqa: N802 - mirrors the OCCT name
    """True when every edge of the shell bounds two faces (checked with BRepCheck)."""
    from OCP.BRepCheck import BRepCheck_Shell, BRepCheck_Status

    return BRepCheck_Shell(TopoDS.Shell_s(shell)).Closed(False) == BRepCheck_Status.BRepCheck_NoError


def _unique(items: list[str]) -> list[str]:
    out: list[str] = []
    for it in items:
        if it and it not in out:
            out.append(it)
    return out
