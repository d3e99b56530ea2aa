"""The FreeCAD add-on's files, without FreeCAD: metadata the Addon Manager reads, icons, layout."""

from __future__ import annotations

import ast

from freecad_harness import PLUGIN


def test_plugin_has_addon_manager_metadata():
    import xml.etree.ElementTree as ET

    ns = {"p": "https://wiki.freecad.org/Package_Metadata"}
    root = ET.parse(PLUGIN / "package.xml").getroot()
    wb = root.find("p:content/p:workbench", ns)
    assert wb.find("p:classname", ns).text == "DfmWorkbench"
    assert (PLUGIN / wb.find("p:subdirectory", ns).text / "InitGui.py").is_file()
    for icon in [root.find("p:icon", ns).text, wb.find("p:icon", ns).text]:
        assert (PLUGIN / icon).is_file()
    text = (PLUGIN / "InitGui.py").read_text()
    assert "class DfmWorkbench(Workbench)" in text
    for name in ("dfm_check", "dfm_settings", "dfm_tools", "dfm_program", "dfm_report"):
        ET.parse(PLUGIN / "Resources" / "icons" / f"{name}.svg")  # well-formed SVG


def test_only_the_bridge_imports_dfm():
    """STYLE.md: the GUI holds no logic; one bridge module touches both FreeCAD and dfm."""
    users = []
    for path in sorted(PLUGIN.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            if any(n == "dfm" or n.startswith("dfm.") for n in names):
                users.append(path.name)
    assert sorted(set(users)) == ["dfm_bridge.py"]
