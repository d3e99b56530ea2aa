"""Did the STEP file read whole? What the file holds against what came out.

OCCT's STEP reader is forgiving: a record it cannot parse, a reference to an entity that
does not exist or a face it cannot build is left out with a message in its check lists,
and the transfer goes on. The shape that comes out can be a smaller, valid-looking solid
(one face of eleven: a 12 mm plate for a 20 mm part) that would pass every rule. So after
reading, :func:`inventory` counts what the file holds — its ``#N =`` records, the entities
the parser kept, the faces each solid's shells list (``MANIFOLD_SOLID_BREP`` and its voids),
the bodies its product structure places (each solid once per placement of its product:
assembly instances and mapped items) and the placements whose chain did not read, the load
and transfer failures — and :func:`judge` compares that with the solids that came out:

* every body the file places came out with every face, and nothing failed: a clean read;
* something failed or was dropped, but each solid that came out has the full face count of
  one the file lists, and every instance the file places came out: a warning with the
  counts (DFM957 partial-read), the part is analysed. So is a file of plain solids (no
  assembly placements) short of a whole solid, and a lone body whose placement did not
  read (the whole part, moved);
* a solid came out with fewer faces than any the file lists, none came out of a file that
  lists some, fewer bodies came out than the file's placements ask for (a 5-instance
  assembly read as 4 whole blocks), a placement did not read whole in a file of several
  bodies (one may stand elsewhere), or an item did not read in a shape that places others
  by mapped items (it may have been one more): an error (DFM918 incomplete-read), never a
  silent pass.

Hostile numbers are refused before OCCT sees them (:func:`bad_number`): the parser accepts
``NaN`` and overflowing reals, and the transfer then loops for ever on them.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from OCP.StepBasic import StepBasic_ProductDefinition
from OCP.StepData import StepData_SelectType
from OCP.StepGeom import StepGeom_GeometricRepresentationItem
from OCP.StepRepr import (
    StepRepr_AssemblyComponentUsage,
    StepRepr_DefinitionalRepresentation,
    StepRepr_MappedItem,
    StepRepr_MechanicalDesignAndDraughtingRelationship,
    StepRepr_NextAssemblyUsageOccurrence,
    StepRepr_ProductDefinitionShape,
    StepRepr_Representation,
    StepRepr_RepresentationMap,
    StepRepr_RepresentationRelationship,
    StepRepr_RepresentationRelationshipWithTransformation,
    StepRepr_ShapeRepresentationRelationship,
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
#: A quoted string (skipped), or a record type that places a body: an assembly instance (its
#: usage occurrence and the representation that positions it) or a mapped item.
_PLACEMENT_RE = re.compile(
    rb"'(?:[^']|'')*'|(?<![A-Za-z0-9_])(?P<kw>NEXT_ASSEMBLY_USAGE_OCCURRENCE|CONTEXT_DEPENDENT_SHAPE_REPRESENTATION"
    rb"|MAPPED_ITEM)[ \t\r\n]*\(",
    re.IGNORECASE,
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
        placed: Body instances the file's product structure asks for: each solid of a
            product once for every placement of that product (assembly instances, mapped
            items), 0 when the file places no solid through products.
        placements: Instance placements on the way (assembly usages and mapped items).
        broken_placements: Of those, placements whose chain did not read whole (a usage
            occurrence, its placement representation, the relationship, the transformation,
            a mapped item or its map missing, unresolved or failed).
        placement_messages: A few of those, in words.
        unread_items: Items that did not read in a shape of the products that places other
            shapes by mapped items: each may have been one more placement.
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
    placed: int = 0
    placements: int = 0
    broken_placements: int = 0
    placement_messages: list[str] = field(default_factory=list)
    unread_items: int = 0

    @property
    def dropped_records(self) -> int:
        """Records of the text the parser did not keep."""
        return max(0, self.records - self.entities)

    @property
    def trouble(self) -> bool:
        """True when anything was dropped or failed on the way."""
        return bool(self.dropped_records or self.load_failed or self.transfer_failed or self.split_shells
                    or self.missing_faces or self.broken_placements or self.unread_items)


def count_records(raw: bytes) -> int:
    """``#N =`` records in a Part 21 text (quoted strings skipped)."""
    return sum(1 for m in _RECORD_RE.finditer(raw) if m.group("rec"))


def _checks(it, model, messages: list[str], numbers: set[int] | None = None) -> int:  # type: ignore[no-untyped-def]
    """Shape entities with failures in an ``Interface_CheckIterator``; a few messages appended.

    The model numbers of every entity with failures, shape entity or not (a placement's
    transformation), are added to ``numbers`` when it is given.
    """
    failed = 0
    it.Start()
    while it.More():
        check = it.Value()
        n = check.NbFails()
        num = it.Number()
        if n and numbers is not None and num > 0:
            numbers.add(num)
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
    failed: set[int] = set()
    inv.load_failed = _checks(ws.ModelCheckList(), model, inv.load_messages, failed)
    tp = ws.TransferReader().TransientProcess() if transferred else None
    if tp is not None:
        inv.transfer_failed = _checks(tp.CheckList(False), model, inv.transfer_messages, failed)
        inv.split_shells = _split_shells(tp)
    _count_placements(inv, model, raw, failed)
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


def _count_placements(inv: Inventory, model, raw: bytes, failed: set[int]) -> None:  # type: ignore[no-untyped-def]
    """Count the body instances the product structure asks for, and the placements that broke.

    A product's bodies are the solids of its shape representations (and of those they link to
    without a transformation); an assembly places each child once per
    ``NEXT_ASSEMBLY_USAGE_OCCURRENCE``, positioned by a ``CONTEXT_DEPENDENT_SHAPE_REPRESENTATION``
    (a representation relationship with an ``ITEM_DEFINED_TRANSFORMATION``) or by a
    ``MAPPED_ITEM``; a mapped item in a shape places its map's representation once more.
    The usage occurrences are read for what the file asks (a broken placement chain leaves
    them standing), the chains for whether each placement read whole; records of those
    types the parser dropped are counted from the text.
    """
    ents = [model.Value(i) for i in range(1, model.NbEntities() + 1)]  # alive: wrappers keep their identity
    number = {id(e): i for i, e in enumerate(ents, 1)}

    def no(e) -> int:  # type: ignore[no-untyped-def]
        return number.get(id(e), 0) if e is not None else 0

    pd_reps: dict[int, list[int]] = defaultdict(list)  # product definition -> shape representations
    rels: list[tuple[int, int, int]] = []  # (relationship, rep1, rep2) without a transformation
    solids: dict[int, set[int]] = defaultdict(set)  # representation -> its solid items
    items: dict[int, list[int]] = defaultdict(list)  # representation -> its mapped items
    unread: Counter[int] = Counter()  # representation -> items it lists that did not read
    usages: dict[int, tuple[int, int]] = {}  # usage occurrence -> (assembly, component) definitions
    cdsrs: list[int] = []
    placing: set[int] = set()  # relationships that position an instance
    kept: Counter[str] = Counter()
    for i, e in enumerate(ents, 1):
        if isinstance(e, StepShape_ShapeDefinitionRepresentation):
            pd = _product_definition(_call(e, "Definition", "PropertyDefinition"))
            rep = _call(e, "UsedRepresentation")
            if pd is not None and rep is not None:
                pd_reps[no(pd)].append(no(rep))
        elif isinstance(e, StepRepr_NextAssemblyUsageOccurrence):
            kept["NEXT_ASSEMBLY_USAGE_OCCURRENCE"] += 1
            usages[i] = (no(_call(e, "RelatingProductDefinition")), no(_call(e, "RelatedProductDefinition")))
        elif isinstance(e, StepShape_ContextDependentShapeRepresentation):
            kept["CONTEXT_DEPENDENT_SHAPE_REPRESENTATION"] += 1
            cdsrs.append(i)
            placing.add(no(_call(e, "RepresentationRelation")))
        elif isinstance(e, StepRepr_MappedItem):
            kept["MAPPED_ITEM"] += 1
        elif isinstance(e, StepRepr_Representation):
            for k in range(1, (_call(e, "NbItems") or 0) + 1):
                it = e.ItemsValue(k)
                if it is None:  # a record it lists did not read: a body or placement, or not
                    unread[i] += 1
                elif isinstance(it, StepShape_ManifoldSolidBrep):
                    solids[i].add(no(it))
                elif isinstance(it, StepRepr_MappedItem):
                    items[i].append(no(it))
        elif (isinstance(e, StepRepr_ShapeRepresentationRelationship)
              and not isinstance(e, StepRepr_RepresentationRelationshipWithTransformation)):
            rels.append((i, no(_call(e, "Rep1")), no(_call(e, "Rep2"))))
    links: dict[int, set[int]] = defaultdict(set)
    for i, a, b in rels:
        if i not in placing and a and b:
            links[a].add(b)
            links[b].add(a)

    closures: dict[int, frozenset[int]] = {}

    def closure(rep: int) -> frozenset[int]:
        if rep not in closures:
            seen, todo = {rep}, [rep]
            while todo:
                for nxt in links[todo.pop()] - seen:
                    seen.add(nxt)
                    todo.append(nxt)
            for r in seen:
                closures[r] = frozenset(seen)
        return closures[rep]

    def mapped_rep(mi: int) -> int:
        return no(_call(ents[mi - 1], "MappingSource", "MappedRepresentation"))

    bodies_memo: dict[frozenset[int], int] = {}
    shown: set[frozenset[int]] = set()  # the shapes of products, and those mapped into them
    placed_maps: list[int] = []  # mapped items that place solids

    def bodies(c: frozenset[int], stack: frozenset[frozenset[int]]) -> int:
        if c in bodies_memo:
            return bodies_memo[c]
        if c in stack:  # a cycle of maps: nothing more to count
            return 0
        n = len(set().union(*(solids[r] for r in c)))
        shown.add(c)
        for r in sorted(c):
            for mi in items[r]:
                target = mapped_rep(mi)
                if not target:  # its map did not read: it may have placed a body
                    placed_maps.append(mi)
                    continue
                t = closure(target)
                if t == c:  # the shape mapped into itself: the same body
                    continue
                k = bodies(t, stack | {c})
                if k:
                    placed_maps.append(mi)
                n += k
        bodies_memo[c] = n
        return n

    children: dict[int, list[int]] = defaultdict(list)
    for a, b in usages.values():
        if a and b:
            children[a].append(b)
    related = {b for a, b in usages.values() if b}
    product_memo: dict[int, int] = {}

    def product(pd: int, stack: frozenset[int]) -> int:
        if pd in product_memo:
            return product_memo[pd]
        if pd in stack:
            return 0
        n = sum(bodies(c, frozenset()) for c in {closure(r) for r in pd_reps.get(pd, []) if r})
        n += sum(product(child, stack | {pd}) for child in children[pd])
        product_memo[pd] = n
        return n

    # Top-level products; two that share their shapes (an AP209 design and analysis definition of
    # one solid) transfer to one shape, read once.
    roots: dict[tuple[frozenset[frozenset[int]], tuple[int, ...]], int] = {}
    for pd in sorted((set(pd_reps) | set(children)) - related - {0}):
        solid_shapes = frozenset(c for c in {closure(r) for r in pd_reps.get(pd, []) if r}
                                 if bodies(c, frozenset()) > 0)
        key = (solid_shapes, tuple(sorted(children[pd])))
        roots.setdefault(key, pd)
    inv.placed = sum(product(pd, frozenset()) for pd in roots.values())
    placed_maps = sorted(set(placed_maps))
    inv.placements = len(usages) + len(placed_maps)
    # Items that did not read in a shape that places others by mapped items: each may have
    # been one more placement. (Elsewhere an item that did not read is most often the
    # shape's axis, shared by all of a file's shapes: corrupted files lose it everywhere.)
    maps_placing = set(placed_maps)
    inv.unread_items = sum(unread[r] for c in shown for r in c if maps_placing.intersection(items[r]))
    if not inv.placed:
        return

    def whole(*es) -> bool:  # type: ignore[no-untyped-def]
        return all(e is not None and no(e) not in failed for e in es)

    def name(pd: int, unknown: str) -> str:
        prod = _call(ents[pd - 1], "Formation", "OfProduct") if pd else None
        text = _call(prod, "Name", "ToCString") if prod is not None else None
        return f"'{text}'" if text else unknown

    def note(text: str) -> None:
        if text not in inv.placement_messages and len(inv.placement_messages) < _QUOTED:
            inv.placement_messages.append(text)

    # Usage occurrences positioned by a whole chain.
    placed_usages: set[int] = set()
    stray = 0  # placement representations that reach no usage occurrence
    for c in cdsrs:
        e = ents[c - 1]
        pds = _call(e, "RepresentedProductRelation")
        nauo = _call(pds, "Definition", "ProductDefinitionRelationship") if pds is not None else None
        if not isinstance(nauo, StepRepr_NextAssemblyUsageOccurrence):
            stray += 1
            continue
        rr = _call(e, "RepresentationRelation")
        chain = [e, pds, nauo, rr, _call(rr, "Rep1"), _call(rr, "Rep2")] if rr is not None else [None]
        if isinstance(rr, StepRepr_RepresentationRelationshipWithTransformation):
            op = _call(rr, "TransformationOperator")
            idt = _call(op, "ItemDefinedTransformation") if op is not None else None
            if idt is not None:
                chain += [idt, _call(idt, "TransformItem1"), _call(idt, "TransformItem2")]
            elif op is None or _call(op, "Value") is None:
                chain.append(None)
        if whole(*chain):
            placed_usages.add(no(nauo))

    def shapes(pd: int) -> set[int]:
        return {r for rep in pd_reps.get(pd, []) if rep for r in closure(rep)}

    def mapped_into(pd: int) -> set[int]:  # representations the product's shapes place by mapped items
        return {r for rep in shapes(pd) for mi in items[rep] if mapped_rep(mi) for r in closure(mapped_rep(mi))}

    broken_usages = []
    for u, (a, b) in sorted(usages.items()):
        if u in placed_usages or (a and b and mapped_into(a) & shapes(b)):
            continue  # positioned by a whole chain, or by a mapped item of the assembly's shape
        if b and not product(b, frozenset()):
            continue  # it places nothing solid
        broken_usages.append(u)
        note(f"the placement of {name(b, 'a component')} in {name(a, 'an assembly')}")
    broken_maps = 0
    for mi in placed_maps:
        e = ents[mi - 1]
        rm = _call(e, "MappingSource")
        if not whole(e, rm, _call(e, "MappingTarget"), _call(rm, "MappedRepresentation") if rm else None,
                     _call(rm, "MappingOrigin") if rm else None):
            broken_maps += 1
            note("a mapped item (a shape placed inside another)")
    # Records of these types the parser did not keep: the text holds more of them than the model.
    text = Counter(m.group("kw").upper().decode("ascii") for m in _PLACEMENT_RE.finditer(raw) if m.group("kw"))
    lost = {k: max(0, n - kept[k]) for k, n in text.items()}
    if any(lost.values()):
        note(", ".join(f"{n} {k} record(s)" for k, n in sorted(lost.items()) if n) + " dropped by the parser")
    inv.placements = (max(len(usages) + lost.get("NEXT_ASSEMBLY_USAGE_OCCURRENCE", 0),
                          len(cdsrs) + lost.get("CONTEXT_DEPENDENT_SHAPE_REPRESENTATION", 0))
                      + len(placed_maps) + lost.get("MAPPED_ITEM", 0))
    inv.broken_placements = (max(len(broken_usages) + lost.get("NEXT_ASSEMBLY_USAGE_OCCURRENCE", 0),
                                 stray + lost.get("CONTEXT_DEPENDENT_SHAPE_REPRESENTATION", 0))
                             + broken_maps + lost.get("MAPPED_ITEM", 0))


def _call(obj, *names: str):  # type: ignore[no-untyped-def]
    """``obj.a().b()...``, or None where a link is null or not of the type asked for."""
    for n in names:
        if obj is None:
            return None
        try:
            obj = getattr(obj, n)()
        except (AttributeError, RuntimeError, TypeError, ValueError):
            return None
        if isinstance(obj, StepData_SelectType) and obj.IsNull():  # a SELECT that holds nothing
            return None
    return obj


def _product_definition(pds):  # type: ignore[no-untyped-def]
    """The product definition a ``PRODUCT_DEFINITION_SHAPE`` is of, or None."""
    if not isinstance(pds, StepRepr_ProductDefinitionShape):
        return None
    pd = _call(pds, "Definition", "ProductDefinition")
    return pd if isinstance(pd, StepBasic_ProductDefinition) else None


def judge(inv: Inventory, got: list[int], instances: int | None = None) -> tuple[str | None, str]:
    """Compare the inventory with the solids that came out.

    Args:
        inv: What the file holds.
        got: Face counts of the distinct solids that came out (an instance placed twice is one).
        instances: How many bodies came out, every placed instance counted (None: not known).

    Returns:
        (``None``, "") for a clean read; (``"partial-read"``, message) when something failed
        but every body the file places came out, whole; (``"incomplete-read"``, message) when
        a solid came out short, fewer bodies came out than the file places, or a placement
        of one did not read whole.
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
    # Bodies short of what the file places, counted where it places instances (assembly
    # usages, mapped items); a file of plain solids short of one is the `missing` case below.
    lacking = inv.placed - instances if instances is not None and inv.placed and inv.placements else 0
    k, u = inv.broken_placements, inv.unread_items
    if lacking > 0 or u or (k and (instances is None or instances > 1)):
        # An assembly instance that did not come out, or one whose placement did not read:
        # the bodies shown are not the part uploaded, even if each is whole. (A lone body in
        # the wrong place is still the whole part: a warning, below.)
        details = []
        if k:
            details.append(f"{k} of its {max(k, inv.placements)} placement(s) did not read whole"
                           + (f" ({'; '.join(inv.placement_messages)})" if inv.placement_messages else ""))
        if u:
            details.append(f"{u} item(s) of a shape that places others by mapped items did not read")
        if lacking > 0:
            head = "; ".join([f"it places {inv.placed} bodies but {instances} came out ({lacking} missing)", *details])
        else:
            head = ("; ".join(details) + ": a body may be missing or not stand where the file puts it"
                    + (f" ({instances} came out)" if instances is not None else ""))
        what = _what_failed(inv, placements=False)
        return "incomplete-read", f"the file did not read whole: {head}{'; ' + what if what else ''}"
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


def _what_failed(inv: Inventory, placements: bool = True) -> str:
    parts = []
    if placements and inv.broken_placements:
        parts.append(f"{inv.broken_placements} placement(s) did not read whole"
                     + (f" ({'; '.join(inv.placement_messages)})" if inv.placement_messages else ""))
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
