"""Only dfm/kernel may import OCP (CadQuery's occ_impl rule, kept by this test)."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "dfm"
FORBIDDEN = ("OCP", "cadquery", "OCC")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
            "import_module",
            "__import__",
        ):
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                out.add(node.args[0].value.split(".")[0])
    return out


def test_only_kernel_imports_ocp():
    offenders = []
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG)
        if rel.parts[0] == "kernel":
            continue
        bad = _imports(path) & set(FORBIDDEN)
        if bad:
            offenders.append(f"{rel}: {sorted(bad)}")
    assert not offenders, "OCP/cadquery imported outside dfm/kernel: " + "; ".join(offenders)


def test_the_check_sees_an_offender(tmp_path):
    bad = tmp_path / "x.py"
    bad.write_text("from OCP.TopoDS import TopoDS_Shape\nimport importlib\nimportlib.import_module('cadquery')\n")
    assert _imports(bad) >= {"OCP", "cadquery"}


def test_kernel_really_uses_ocp():
    assert "OCP" in _imports(PKG / "kernel" / "io.py")
