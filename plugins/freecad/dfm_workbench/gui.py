"""Commands and task panels of the DFM workbench (FreeCAD + Qt only; dfm is reached through the bridge).

No logic lives here: the bridge prepares, runs and maps a check; this module picks the
objects, runs the bridge in a worker thread, paints faces, lists findings and shows errors
as one line in the report view (``dfm: <message>``, as the CLI prints it).
"""

from __future__ import annotations

import functools
import os
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import FreeCAD
import FreeCADGui
from PySide2 import QtCore, QtGui, QtWidgets

from dfm_workbench import settings

ICONS = Path(__file__).resolve().parent.parent / "Resources" / "icons"
COMMANDS = ["DFM_Check", "DFM_Settings", "DFM_Tools", "DFM_Program", "DFM_Report"]
#: Set to 1 to write files without opening them (tests, batch use).
ENV_NO_OPEN = "DFM_FREECAD_NO_OPEN"

#: The last panel shown (tests and macros read it).
LAST_PANEL: Any = None
#: Workers of cancelled checks, kept alive until they finish (a QThread must not be destroyed while running).
_DETACHED: list[Any] = []

_bridge: Any = None


def bridge() -> Any:
    """The bridge module, with dfm's environment on ``sys.path`` (done once)."""
    global _bridge
    if _bridge is None:
        from dfm_workbench import dfm_bridge

        dfm_bridge.configure_path()
        _bridge = dfm_bridge
    return _bridge


def error(message: str) -> None:
    """One line in the report view, red; never a dialog."""
    FreeCAD.Console.PrintError(message.rstrip("\n") + "\n")


def guarded(fn):  # type: ignore[no-untyped-def]
    """Turn any exception of a GUI callback into one report-view line (and the traceback into the log)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            return fn(*args, **kwargs)
        except Exception as err:  # noqa: BLE001 - a GUI callback must never raise into Qt
            b = _bridge
            if b is not None and isinstance(err, b.BridgeError):
                error(f"dfm: {err}")
            else:
                error(f"dfm: internal error: {type(err).__name__}: {' '.join(str(err).split())}")
                FreeCAD.Console.PrintLog(traceback.format_exc())
            return None

    return wrapper


def activated() -> None:
    """Workbench activated: say where dfm comes from, or how to point at it."""
    ok, message = bridge().dfm_status()
    if not ok:
        error(f"dfm: {message}")
        return
    settings.log(f"DFM workbench: {message}")
    if bridge().isolated_python():
        settings.log(f"DFM workbench: dfm runs in its own process ({bridge().isolated_python()})")
        return
    bar = FreeCADGui.getMainWindow().statusBar()
    bar.showMessage("DFM: loading dfm and OpenCASCADE…")
    QtWidgets.QApplication.processEvents()
    started = time.monotonic()
    try:
        bridge().warm_up()
    except Exception as err:  # noqa: BLE001 - reported, the first check reports it again
        error(f"dfm: loading dfm failed: {type(err).__name__}: {' '.join(str(err).split())}")
    finally:
        bar.clearMessage()
    settings.log(f"DFM workbench: dfm loaded in {time.monotonic() - started:.1f} s")


# --------------------------------------------------------------------------- targets


def _display_object(obj: Any) -> Any:
    """The object whose faces the user sees: a PartDesign Body shows its Tip."""
    if obj.TypeId == "PartDesign::Body" and getattr(obj, "Tip", None) is not None:
        return obj.Tip
    return obj


def targets(doc: Any) -> list[Any]:
    """The selected solids, or else the document's visible solids."""
    def solid(o: Any) -> bool:
        shape = getattr(o, "Shape", None)
        return shape is not None and not shape.isNull() and bool(shape.Solids)

    chosen = [o for o in FreeCADGui.Selection.getSelection(doc.Name) if solid(o)]
    if not chosen:
        for o in doc.Objects:
            if not solid(o) or o.ViewObject is None or not o.ViewObject.Visibility:
                continue
            if any(p.TypeId == "PartDesign::Body" for p in o.InList):
                continue  # shown through its Body
            chosen.append(o)
    out, seen = [], set()
    for o in chosen:
        d = _display_object(o)
        if d.Name not in seen:
            seen.add(d.Name)
            out.append(d)
    return out


# --------------------------------------------------------------------------- worker


class Worker(QtCore.QThread):
    """Runs ``bridge.run`` for each prepared job off the GUI thread."""

    progress = QtCore.Signal(int, str)
    finished_all = QtCore.Signal(object)

    def __init__(self, jobs: list[Any], fn: Any) -> None:
        super().__init__()
        self.jobs = jobs
        self.fn = fn  # job -> (DfmResult, extra); runs here, touches no FreeCAD object

    def run(self) -> None:  # noqa: D102
        results: list[Any] = []
        for i, job in enumerate(self.jobs):
            self.progress.emit(i, job.label)
            try:
                results.append(self.fn(job))
            except Exception as err:  # noqa: BLE001 - handed back to the GUI thread
                results.append(err)
                FreeCAD.Console.PrintLog(traceback.format_exc())
        self.finished_all.emit(results)


# --------------------------------------------------------------------------- check panel

SEVERITY_BRUSH = {"error": "#d91a1a", "warning": "#e69500", "info": "#3973ac"}
UNDERCUT_BRUSH = "#8e44ad"


class CheckPanel:
    """Task panel: progress while dfm runs, then the findings; a selected row selects its faces.

    Args:
        doc: The document.
        objects: Objects to check (their ``Shape``).
        then: What to do after the check: ``check``, ``tools``, ``program`` or ``report``.
    """

    def __init__(self, doc: Any, objects: list[Any], then: str = "check") -> None:
        self.doc = doc
        self.objects = objects
        self.then = then
        self.outcomes: list[Any] = []
        self.files: list[Path] = []
        self.tools: list[dict[str, Any]] = []
        self.finished = False
        self.ticks = 0  # GUI timer ticks while the worker ran (the window stayed responsive)
        self.max_gap = 0.0  # longest time (s) the GUI thread did not get to run while dfm worked
        self._last_tick = 0.0
        self.worker: Worker | None = None
        self.cancelled = False
        self.started = time.monotonic()
        self.elapsed = 0.0

        self.form = QtWidgets.QWidget()
        self.form.setWindowTitle("DFM check")
        lay = QtWidgets.QVBoxLayout(self.form)
        self.status = QtWidgets.QLabel("Preparing…")
        self.status.setWordWrap(True)
        self.bar = QtWidgets.QProgressBar()
        self.bar.setRange(0, 0)
        self.tree = QtWidgets.QTreeWidget()
        self.tree.setColumnCount(4)
        self.tree.setHeaderLabels(["Severity", "Code", "Finding", "Faces"])
        self.tree.setRootIsDecorated(False)
        self.tree.setSelectionMode(QtWidgets.QAbstractItemView.SingleSelection)
        self.tree.itemSelectionChanged.connect(self.on_select)
        self.detail = QtWidgets.QLabel("")
        self.detail.setWordWrap(True)
        self.tool_table = QtWidgets.QPlainTextEdit()
        self.tool_table.setReadOnly(True)
        self.tool_table.setLineWrapMode(QtWidgets.QPlainTextEdit.NoWrap)
        self.tool_table.setFont(QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.FixedFont))
        self.tool_table.setVisible(False)
        self.open_button = QtWidgets.QPushButton("Open")
        self.open_button.setVisible(False)
        self.open_button.clicked.connect(self.open_files)
        self.tabs = QtWidgets.QTabWidget()
        self._tab("Findings", self.tree, self.detail)
        # where the cutters come from: setups and undercut faces (violet on the model)
        self.access_label = QtWidgets.QLabel("")
        self.access_label.setWordWrap(True)
        self.setup_tree = self._tree(["Setup", "Direction", "Features", "Faces", "Findings"])
        self.undercut_tree = self._tree(["Undercut", "Faces", "Findings"])
        self._tab("Access", self.access_label,
                  QtWidgets.QLabel("<b>Setups the part needs</b> (the cutter comes in along)"), self.setup_tree,
                  QtWidgets.QLabel("<b>Undercut faces</b> (violet on the model)"), self.undercut_tree)
        # the finish: what to machine each size to, grouped by (kind, finished size) as in the report
        self.sizes_label = QtWidgets.QLabel("")
        self.sizes_label.setWordWrap(True)
        self.size_tree = self._tree(["Size", "Kind", "Surfaces", "Faces", "Machine to", "Finished", "Growth",
                                     "Tolerance from"])
        self.size_tree.setRootIsDecorated(True)
        self._tab("Pre-finish sizes", self.sizes_label, self.size_tree)
        if then == "tools":
            self.tabs.addTab(self.tool_table, "Tools")
        for w in (self.status, self.bar, self.tabs, self.open_button):
            lay.addWidget(w)
        self.timer = QtCore.QTimer()
        self.timer.setInterval(100)
        self.timer.timeout.connect(self.tick)

    def _tab(self, title: str, *widgets: QtWidgets.QWidget) -> None:
        """A tab of ``self.tabs`` holding ``widgets`` one above the other, without margins."""
        page = QtWidgets.QWidget()
        lay = QtWidgets.QVBoxLayout(page)
        lay.setContentsMargins(0, 0, 0, 0)
        for w in widgets:
            lay.addWidget(w)
        self.tabs.addTab(page, title)

    def _tree(self, headers: list[str]) -> QtWidgets.QTreeWidget:
        """A list like the findings' one: a selected row selects its faces."""
        tree = QtWidgets.QTreeWidget()
        tree.setColumnCount(len(headers))
        tree.setHeaderLabels(headers)
        tree.setRootIsDecorated(False)
        tree.setSelectionMode(QtWidgets.QAbstractItemView.SingleSelection)
        tree.itemSelectionChanged.connect(functools.partial(self.on_select_in, tree))
        return tree

    # task panel protocol
    def getStandardButtons(self) -> int:  # noqa: N802
        return int(QtWidgets.QDialogButtonBox.Close)

    def reject(self) -> bool:
        if self.worker is not None and self.worker.isRunning():
            # dfm cannot be interrupted mid-analysis: let the worker finish unseen, without
            # blocking the window, and drop its result (the panel's widgets are gone by then)
            self.cancelled = True
            self.timer.stop()
            _DETACHED.append(self.worker)
            FreeCADGui.getMainWindow().statusBar().clearMessage()
            settings.log("DFM: check cancelled; its result will be ignored")
        FreeCADGui.Control.closeDialog()
        return True

    def accept(self) -> bool:
        return self.reject()

    @guarded
    def start(self) -> None:
        """Prepare the shapes (GUI thread), then analyse them in the worker."""
        b = bridge()
        ok, message = b.dfm_status()
        if not ok:
            self._fail(f"dfm: {message}")
            return
        values = settings.read(self.doc)
        workdir = Path(tempfile.mkdtemp(prefix="dfm-fc-"))
        try:
            spec = b.write_spec(values, workdir / "part.dfm.toml", source=self.doc.Name)
        except b.BridgeError as err:
            self._fail(f"dfm: {err}")
            return
        opts = b.options(values, spec)
        self.jobs = []
        for obj in self.objects:
            try:
                # one folder per object: labels need not be unique, names are
                self.jobs.append((obj, b.prepare(obj.Shape, obj.Label, workdir / obj.Name)))
            except b.BridgeError as err:
                error(f"dfm: {err}")
        if not self.jobs:
            self._fail("Nothing to check: no solid selected or visible.")
            return
        self.status.setText(f"Analysing {', '.join(o.Label for o, _ in self.jobs)} with dfm…")
        if b.isolated_python():
            task = "program" if self.then == "program" else "check"

            def fn(job: Any) -> Any:
                return b.run_isolated(job, opts, task, values)
        elif self.then == "program":
            def fn(job: Any) -> Any:
                try:
                    return b.run_program(job, opts, values)
                except b.BridgeError as err:  # CAM missing: still show the check
                    return b.run(job, opts), err
        else:
            def fn(job: Any) -> Any:
                return b.run(job, opts), None
        self.worker = Worker([j for _, j in self.jobs], fn)
        self.worker.progress.connect(self.on_progress)
        self.worker.finished_all.connect(self.on_done)
        self.started = self._last_tick = time.monotonic()
        self.timer.start()
        self.worker.start()

    def tick(self) -> None:
        now = time.monotonic()
        self.max_gap = max(self.max_gap, now - self._last_tick)
        self._last_tick = now
        self.ticks += 1
        seconds = f"{now - self.started:.1f} s"
        FreeCADGui.getMainWindow().statusBar().showMessage(f"DFM: analysing… {seconds}")
        self.bar.setFormat(seconds)

    def on_progress(self, index: int, label: str) -> None:
        if self.cancelled:
            return
        if len(self.jobs) > 1:
            self.bar.setRange(0, len(self.jobs))
            self.bar.setValue(index)
        self.status.setText(f"Analysing {label} with dfm ({index + 1} of {len(self.jobs)})…")

    @guarded
    def on_done(self, results: list[Any]) -> None:
        if self.cancelled:
            if self.worker in _DETACHED:
                _DETACHED.remove(self.worker)
            self.finished = True
            return
        self.timer.stop()
        now = time.monotonic()
        self.max_gap = max(self.max_gap, now - self._last_tick)
        self.elapsed = now - self.started
        FreeCADGui.getMainWindow().statusBar().clearMessage()
        try:
            self._show(results)
        finally:
            self.bar.setRange(0, 1)
            self.bar.setValue(1)
            self.bar.setFormat(f"done in {self.elapsed:.1f} s")
            self.finished = True

    def _show(self, results: list[Any]) -> None:
        b = bridge()
        for tree in (self.tree, self.setup_tree, self.undercut_tree, self.size_tree):
            tree.clear()
        lines = []
        access_lines: list[str] = []
        size_lines: list[str] = []
        prefix_all = len(self.jobs) > 1
        self.extras: dict[str, Any] = {}
        for (obj, job), item in zip(self.jobs, results, strict=True):
            if isinstance(item, b.BridgeError):
                error(f"dfm: {item}")
                continue
            if isinstance(item, Exception):
                error(f"dfm: internal error: {type(item).__name__}: {' '.join(str(item).split())}")
                continue
            result, self.extras[obj.Name] = item
            try:
                out = b.outcome(job, result)
            except b.BridgeError as err:
                error(f"dfm: {err}")
                continue
            self.outcomes.append((obj, out))
            if not out.ok:
                error(out.error)
                lines.append(f"{obj.Label}: not analysed — {out.error}")
                continue
            if obj.ViewObject is not None:
                obj.ViewObject.DiffuseColor = out.colors
            counts = {s: sum(1 for r in out.rows if r.severity == s) for s in ("error", "warning", "info")}
            lines.append(f"{obj.Label}: {out.verdict.upper()} — {counts['error']} errors, "
                         f"{counts['warning']} warnings, {counts['info']} notes"
                         + (f"; {out.access_summary}" if out.access_summary else ""))
            self._fill_access(obj, out, prefix_all, access_lines)
            self._fill_sizes(obj, out, prefix_all, size_lines)
            for row in out.rows:
                item = QtWidgets.QTreeWidgetItem([row.severity, row.code, row.message,
                                                  " ".join(row.face_names)])
                item.setForeground(0, QtGui.QBrush(QtGui.QColor(SEVERITY_BRUSH.get(row.severity, "#000000"))))
                item.setToolTip(2, "\n".join(x for x in (row.message, row.fix and f"Fix: {row.fix}") if x))
                detail = "\n".join(x for x in (row.message, row.fix and f"Fix: {row.fix}") if x)
                item.setData(0, QtCore.Qt.UserRole, (obj.Name, list(row.face_names), detail))
                self.tree.addTopLevelItem(item)
            settings.log(f"DFM: {lines[-1]} ({self.elapsed:.1f} s)")
        for col in (0, 1):
            self.tree.resizeColumnToContents(col)
        self.tree.setColumnWidth(2, max(self.tree.columnWidth(2), 260))
        for tree in (self.setup_tree, self.undercut_tree, self.size_tree):
            tree.expandAll()
            for col in range(tree.columnCount()):
                tree.resizeColumnToContents(col)
        self.access_label.setText("\n".join(access_lines))
        self.sizes_label.setText("\n".join(size_lines))
        self.status.setText("\n".join(lines) or "No result.")
        if self.then != "check":
            self._after()

    @staticmethod
    def _item(values: list[str], obj: Any, faces: str, detail: str) -> QtWidgets.QTreeWidgetItem:
        item = QtWidgets.QTreeWidgetItem(values)
        item.setData(0, QtCore.Qt.UserRole, (obj.Name, faces.split(), detail))
        for col in range(len(values)):
            item.setToolTip(col, detail)
        return item

    def _fill_access(self, obj: Any, out: Any, prefix_all: bool, notes: list[str]) -> None:
        """The setups and undercut groups of one checked object."""
        pre = f"{obj.Label}: " if prefix_all else ""
        if not out.access_summary:
            notes.append(f"{pre}no access model in this result (the feature analysers did not run)")
            return
        notes.append(f"{pre}{out.access_summary}")
        for s in out.setups:
            codes = ", ".join(link.code for link in s.findings)
            detail = "\n".join([f"Setup {s.number}: {s.direction}", f"Features: {s.features_text}"] +
                                [f"{link.code}: {link.message}" for link in s.findings])
            self.setup_tree.addTopLevelItem(self._item(
                [f"{pre}{s.number}", s.direction, s.features_text, s.faces_text, codes], obj, s.faces_text, detail))
        for u in out.undercuts:
            codes = ", ".join(link.code for link in u.findings)
            detail = "\n".join([f"{u.label}: {u.faces_text}"] + [f"{link.code}: {link.message}" for link in u.findings])
            item = self._item([f"{pre}{u.label}", u.faces_text, codes], obj, u.faces_text, detail)
            item.setForeground(0, QtGui.QBrush(QtGui.QColor(UNDERCUT_BRUSH)))
            self.undercut_tree.addTopLevelItem(item)

    def _fill_sizes(self, obj: Any, out: Any, prefix_all: bool, notes: list[str]) -> None:
        """The pre-finish sizes of one checked object: a row per (kind, finished size); a group with
        several tolerance sources lists them as its children."""
        pre = f"{obj.Label}: " if prefix_all else ""
        if not out.sizes:
            if out.sizes_note:
                notes.append(f"{pre}{out.sizes_note}")
            return
        notes.append(f"{pre}machine each size into its band; the finish brings it to the finished size")
        for g in out.sizes:
            first = g.rows[0]
            one = len(g.rows) == 1
            values = [f"{pre}{g.size}", g.kind, g.surfaces, g.faces_text,
                      first.premachine if one else f"{len(g.rows)} tolerances", first.finished if one else "",
                      first.growth if one else "", first.source if one else ""]
            detail = "\n".join(f"{r.faces_text}: {r.action} ({r.source})" for r in g.rows)
            item = self._item(values, obj, g.faces_text, detail)
            if any(not r.feasible for r in g.rows):
                item.setForeground(4, QtGui.QBrush(QtGui.QColor(SEVERITY_BRUSH["warning"])))
            if not one:
                for r in g.rows:
                    item.addChild(self._item(["", "", r.surfaces, r.faces_text, r.premachine, r.finished, r.growth,
                                              r.source], obj, r.faces_text, f"{r.action} ({r.source})"))
            self.size_tree.addTopLevelItem(item)

    def _fail(self, message: str) -> None:
        error(message)
        self.status.setText(message)
        self.bar.setRange(0, 1)
        self.finished = True

    def _after(self) -> None:
        """Tools, program or report, on the analysed objects."""
        b = bridge()
        folder = settings.output_folder(self.doc)
        if folder is None and self.then in ("program", "report"):
            folder = Path(tempfile.mkdtemp(prefix="dfm-out-"))
            settings.log(f"DFM: the document is not saved; writing to {folder}")
        folder = folder or Path(tempfile.gettempdir())
        stem_base = Path(self.doc.FileName).stem if self.doc.FileName else self.doc.Name
        ok_outcomes = [(o, out) for o, out in self.outcomes if out.ok]
        for obj, out in ok_outcomes:
            stem = stem_base if len(ok_outcomes) == 1 else f"{stem_base}_{obj.Label}"
            try:
                if self.then == "tools":
                    rows = b.tool_rows(out.result)
                    self.tools.extend(rows)
                    self.tool_table.appendPlainText(b.tool_table_text(out.result, obj.Label))
                    self.tool_table.setVisible(True)
                    self.tabs.setCurrentWidget(self.tool_table)
                    if not rows:
                        settings.log(f"DFM: {obj.Label}: dfm recommended no tools")
                elif self.then == "program":
                    self.files.extend(b.write_program(self.extras.get(obj.Name), folder, stem))
                elif self.then == "report":
                    self.files.append(b.write_report(out.result, Path(folder) / f"{stem}.html"))
            except b.BridgeError as err:
                error(f"dfm: {err}")
                self.status.setText(self.status.text() + f"\n{err}")
        for path in self.files:
            settings.log(f"DFM: wrote {path}")
        if self.files:
            self.open_button.setText("Open program" if self.then == "program" else "Open report")
            self.open_button.setVisible(True)
            if self.then == "report":
                self.open_files()

    @guarded
    def open_files(self) -> None:
        if os.environ.get(ENV_NO_OPEN):
            return
        for path in self.files:
            if self.then == "report" or path.suffix.lower() in (".ngc", ".nc", ".tap", ".gcode", ".tbl"):
                QtGui.QDesktopServices.openUrl(QtCore.QUrl.fromLocalFile(str(path)))

    @guarded
    def on_select(self) -> None:
        items = self.tree.selectedItems()
        if not items:
            return
        name, faces, detail = items[0].data(0, QtCore.Qt.UserRole)
        self.detail.setText(detail)
        self._select_faces(name, faces)

    @guarded
    def on_select_in(self, tree: Any) -> None:
        """A row of the access or sizes lists: select its faces."""
        items = tree.selectedItems()
        if not items or items[0].data(0, QtCore.Qt.UserRole) is None:
            return
        name, faces, _detail = items[0].data(0, QtCore.Qt.UserRole)
        self._select_faces(name, faces)

    def _select_faces(self, name: str, faces: list[str]) -> None:
        obj = self.doc.getObject(name)
        FreeCADGui.Selection.clearSelection()
        if obj is None or not faces:
            return
        for face in faces:
            FreeCADGui.Selection.addSelection(obj, face)
        FreeCADGui.SendMsgToActiveView("ViewSelection")

    def rows(self) -> list[list[str]]:
        """The listed rows, as text (tests)."""
        return [[self.tree.topLevelItem(i).text(c) for c in range(4)] for i in range(self.tree.topLevelItemCount())]

    @staticmethod
    def tree_rows(tree: Any) -> list[dict[str, Any]]:
        """A list's rows as text, each with its children (tests)."""
        def row(item: Any) -> dict[str, Any]:
            return {"cells": [item.text(c) for c in range(tree.columnCount())],
                    "children": [row(item.child(k)) for k in range(item.childCount())]}
        return [row(tree.topLevelItem(i)) for i in range(tree.topLevelItemCount())]


def _open_panel(then: str) -> None:
    global LAST_PANEL
    doc = FreeCAD.ActiveDocument
    if doc is None:
        error("dfm: no active document")
        return
    if FreeCADGui.Control.activeDialog():
        if isinstance(LAST_PANEL, CheckPanel) and LAST_PANEL.worker is not None and LAST_PANEL.worker.isRunning():
            error("dfm: a check is still running")
            return
        FreeCADGui.Control.closeDialog()
    _DETACHED[:] = [w for w in _DETACHED if w.isRunning()]
    if _DETACHED:
        error("dfm: a cancelled check is still finishing; try again in a moment")
        return
    panel = CheckPanel(doc, targets(doc), then)
    LAST_PANEL = panel
    FreeCADGui.Control.showDialog(panel)
    panel.start()


# --------------------------------------------------------------------------- settings panel


class SettingsPanel:
    """Part settings (stored on the document) and where dfm is installed (a preference)."""

    def __init__(self, doc: Any) -> None:
        self.doc = doc
        values = settings.read(doc)
        try:
            names = bridge().known_names() if bridge().dfm_status()[0] else {"material": [], "finish": ["none"]}
        except Exception:  # noqa: BLE001 - only the suggestions are lost
            names = {"material": [], "finish": ["none"]}
        self.form = QtWidgets.QWidget()
        self.form.setWindowTitle("DFM part settings")
        lay = QtWidgets.QFormLayout(self.form)
        self.material = self._combo(names["material"], values["material"])
        self.finish = self._combo([f for f in bridge().FINISHES if f], values["finish"])
        self.general = self._combo([g for g in bridge().GENERAL_TOLERANCES if g], values["general_tolerance"])
        self.machine = QtWidgets.QLineEdit(values["machine"])
        self.profile = QtWidgets.QLineEdit(values["profile"])
        self.tools = QtWidgets.QLineEdit(values["tools"])
        self.extra = QtWidgets.QPlainTextEdit(values["spec_extra"])
        self.extra.setPlaceholderText('[[tolerance]]\nselect = { diameter_mm = 1.0 }\nplus_um = 5\nminus_um = 0')
        self.pypath = QtWidgets.QLineEdit(FreeCAD.ParamGet(bridge().PREF_GROUP).GetString("PythonPath", ""))
        self.pypath.setToolTip(f"Folders where dfm is installed, separated by '{os.pathsep}' "
                               f"(the environment variable {bridge().ENV_PATH} wins over this preference)")
        lay.addRow("Material", self.material)
        lay.addRow("Finish", self.finish)
        lay.addRow("General tolerance (ISO 2768)", self.general)
        lay.addRow("Machine profile", self.machine)
        lay.addRow("Profile file", self.profile)
        lay.addRow("Tool catalogue", self.tools)
        lay.addRow("More spec (TOML)", self.extra)
        lay.addRow(QtWidgets.QLabel("<b>This computer</b>"))
        lay.addRow("dfm Python path", self.pypath)
        self.pyexe = QtWidgets.QLineEdit(FreeCAD.ParamGet(bridge().PREF_GROUP).GetString("PythonExecutable", ""))
        self.pyexe.setToolTip(f"The Python that runs dfm in its own process, with a time limit and a memory cap "
                              f"(the environment variable {bridge().ENV_PYTHON} wins); empty = the Python of dfm's "
                              f"own environment when one is found; '{bridge().IN_PROCESS}' = dfm runs inside FreeCAD")
        lay.addRow("dfm in own process (Python)", self.pyexe)

    @staticmethod
    def _combo(items: list[str], current: str) -> QtWidgets.QComboBox:
        box = QtWidgets.QComboBox()
        box.setEditable(True)
        box.addItems([""] + items)
        box.setEditText(current)
        return box

    def values(self) -> dict[str, Any]:
        return {
            "material": self.material.currentText().strip(),
            "finish": self.finish.currentText().strip(),
            "general_tolerance": self.general.currentText().strip(),
            "machine": self.machine.text().strip(),
            "profile": self.profile.text().strip(),
            "tools": self.tools.text().strip(),
            "spec_extra": self.extra.toPlainText().strip(),
        }

    @guarded
    def accept(self) -> bool:
        values = self.values()
        # refuse settings that do not make a valid spec (BridgeError -> one line in the report view)
        bridge().write_spec(values, Path(tempfile.mkdtemp(prefix="dfm-spec-")) / "check.dfm.toml")
        self.doc.openTransaction("DFM settings")
        settings.write(self.doc, values)
        self.doc.commitTransaction()
        FreeCAD.ParamGet(bridge().PREF_GROUP).SetString("PythonPath", self.pypath.text().strip())
        FreeCAD.ParamGet(bridge().PREF_GROUP).SetString("PythonExecutable", self.pyexe.text().strip())
        spec = settings.spec_path(self.doc)
        if spec is not None:
            bridge().write_spec(values, spec, source=Path(self.doc.FileName).name)
            settings.log(f"DFM: wrote {spec}")
        else:
            settings.log("DFM: settings stored on the document; save it to also write <name>.dfm.toml beside it")
        FreeCADGui.Control.closeDialog()
        return True

    def reject(self) -> bool:
        FreeCADGui.Control.closeDialog()
        return True


# --------------------------------------------------------------------------- commands


class _Command:
    icon = ""
    menu = ""
    tip = ""
    then = "check"

    def GetResources(self) -> dict[str, str]:  # noqa: N802
        return {"Pixmap": str(ICONS / self.icon), "MenuText": self.menu, "ToolTip": self.tip}

    def IsActive(self) -> bool:  # noqa: N802
        return FreeCAD.ActiveDocument is not None

    @guarded
    def Activated(self) -> None:  # noqa: N802
        _open_panel(self.then)


class CheckCommand(_Command):
    icon, menu, then = "dfm_check.svg", "Check part", "check"
    tip = ("Run dfm on the selected solids (or all visible solids): colour faces by their worst finding "
           "and list the findings")


class ToolsCommand(_Command):
    icon, menu, then = "dfm_tools.svg", "Recommend tools", "tools"
    tip = "Check the part and list the end mills and drills dfm recommends"


class ProgramCommand(_Command):
    icon, menu, then = "dfm_program.svg", "Generate program", "program"
    tip = "Check the part and write its G-code program and tool table next to the document"


class ReportCommand(_Command):
    icon, menu, then = "dfm_report.svg", "Open report", "report"
    tip = "Check the part, write the HTML report next to the document and open it in the browser"


class SettingsCommand(_Command):
    icon, menu = "dfm_settings.svg", "Part settings"
    tip = "Material, finish, tolerances and machine of the part (stored in the document)"

    @guarded
    def Activated(self) -> None:  # noqa: N802
        global LAST_PANEL
        doc = FreeCAD.ActiveDocument
        if FreeCADGui.Control.activeDialog():
            FreeCADGui.Control.closeDialog()
        LAST_PANEL = SettingsPanel(doc)
        FreeCADGui.Control.showDialog(LAST_PANEL)


_REGISTERED = False


def register() -> None:
    """Add the commands to FreeCAD (once)."""
    global _REGISTERED
    if _REGISTERED:
        return
    FreeCADGui.addCommand("DFM_Check", CheckCommand())
    FreeCADGui.addCommand("DFM_Settings", SettingsCommand())
    FreeCADGui.addCommand("DFM_Tools", ToolsCommand())
    FreeCADGui.addCommand("DFM_Program", ProgramCommand())
    FreeCADGui.addCommand("DFM_Report", ReportCommand())
    _REGISTERED = True
