"""The CLI as a user drives it: exit codes, text, JSON against the schema, batches."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dfm.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "example_parts").glob("*.step"))


def test_examples_exist():
    assert {p.stem for p in EXAMPLES} >= {"thin_web_plate", "micro_holes", "lens_barrel", "micro_slot"}


@pytest.mark.parametrize("part", EXAMPLES, ids=lambda p: p.stem)
def test_json_output_validates(part, capsys, schema_validator):
    rc = main(["check", str(part), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    schema_validator.validate(data)
    assert data["schema"] == "dfm-result/1" and data["status"] == "ok" and data["units"] == "mm"
    assert rc == data["exit_code"] == (1 if data["verdict"] == "fail" else 0)


def test_text_output_has_summary_line(capsys):
    rc = main(["check", str(ROOT / "example_parts/lens_barrel.step")])
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert "lens_barrel.step" in first and "faces" in first and "mm" in first
    assert rc in (0, 1)


def test_batch_with_bad_file_keeps_other_results(tmp_path, capsys, schema_validator):
    bad = tmp_path / "broken.step"
    bad.write_text("ISO-10303-21;\nHEADER;\n")
    good = ROOT / "example_parts/micro_slot.step"
    out = tmp_path / "out.json"
    rc = main(["check", str(bad), str(good), "--format", "json", "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and "broken.step" in err and "DFM90" in err
    data = json.loads(out.read_text())
    assert [d["status"] for d in data] == ["error", "ok"]
    for d in data:
        schema_validator.validate(d)
    assert data[0]["error"]["code"] == "DFM904"
    assert data[1]["bodies"][0]["faces"] > 0


def test_python_dash_m_and_exit_code_2_for_missing_file(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "dfm", "check", str(tmp_path / "missing.stp")],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "missing.stp" in proc.stderr and "no such file" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_help_documents_exit_codes(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["check", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "exit codes" in out and "input error" in out


def test_occt_chatter_does_not_reach_stdout(tmp_path):
    bad = tmp_path / "t.stp"
    bad.write_text("ISO-10303-21;\nHEADER;\nENDSEC;\nDATA;\n#1=FOO(;\n")
    proc = subprocess.run([sys.executable, "-m", "dfm", "check", str(bad), "--format", "json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    json.loads(proc.stdout)  # stdout is pure JSON, no kernel messages mixed in


def test_output_into_a_new_folder_is_created(tmp_path, capsys):
    target = tmp_path / "sub" / "dir" / "out.json"
    rc = main(["check", str(ROOT / "example_parts/micro_slot.step"), "--format", "json", "-o", str(target)])
    assert rc in (0, 1) and json.loads(target.read_text())["status"] == "ok"


def test_an_output_that_cannot_be_written_is_one_line(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    rc = main(["check", str(ROOT / "example_parts/micro_slot.step"), "-o", str(blocker / "out.txt")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and err.startswith("dfm: ") and str(blocker) in err
    assert "Traceback" not in err


def test_multi_body_text_orders_bodies_by_number_and_prints_a_shared_note_once(capsys, corpus):
    main(["check", str(corpus / "occt/odd/bug32314_corrupted.stp")])
    out = capsys.readouterr().out
    bodies = [int(line.split("Body ")[1].split()[0]) for line in out.splitlines() if "      Body " in line]
    assert bodies == sorted(bodies) and len(bodies) >= 2
    assert out.count("DFM955 material-assumed") == 1
    assert "DFM955 material-assumed [bodies 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]" in out
