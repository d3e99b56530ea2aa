"""dfm batch: input expansion, safe zips, names, isolation of crashes/hangs/OOM, resume."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import stat
import sys
import zipfile
from pathlib import Path, PurePosixPath

import pytest

from dfm.batch import BatchConfig, ZipLimits, output, run_batch
from dfm.batch import inputs as inp
from dfm.cli import main

ROOT = Path(__file__).resolve().parents[1]
HELPERS = Path(__file__).resolve().parent / "helpers"
sys.path.insert(0, str(HELPERS))
EXAMPLES = ROOT / "example_parts"
TROUBLE = "batch_trouble:entry"


def _zip(path: Path, members: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return path


def _rows(out: Path) -> dict[str, dict]:
    return {r["source"]: r for r in json.loads((out / "summary.json").read_text())["parts"]}


# -- inputs and archives ------------------------------------------------------------------------


def test_zip_slip_links_and_absolute_names_are_refused(tmp_path):
    good = (EXAMPLES / "micro_slot.step").read_bytes()
    archive = _zip(tmp_path / "up.zip", {
        "parts/ok.step": good,
        "../evil.step": b"ISO-10303-21;",
        "/abs.step": b"ISO-10303-21;",
        "parts/..\\..\\win.step": b"ISO-10303-21;",
        "readme.txt": b"hello",
    }, links={"parts/link.step": "/etc/passwd"})
    work = tmp_path / "work"
    exp = inp.expand([str(archive)], work)
    assert [i.source for i in exp.items] == [f"{archive}!parts/ok.step"]
    assert exp.items[0].path.read_bytes() == good
    refused = {p.source.split("!", 1)[1]: p for p in exp.problems}
    assert set(refused) == {"../evil.step", "/abs.step", "parts/..\\..\\win.step", "parts/link.step"}
    assert {p.code for p in exp.problems} == {"DFM911"}
    assert all(str(archive) in p.message for p in exp.problems)
    assert exp.ignored == [f"{archive}!readme.txt"]
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert written == ["up.zip", f"work/{exp.items[0].path.parent.parent.name}/parts/ok.step"]
    assert not any(p.is_symlink() for p in tmp_path.rglob("*"))


def test_zip_bomb_stopped_by_ratio_and_by_size(tmp_path):
    bomb = _zip(tmp_path / "bomb.zip", {"big.step": b"0" * (8 << 20)})
    exp = inp.expand([str(bomb)], tmp_path / "w1")
    assert not exp.items and [p.code for p in exp.problems] == ["DFM912"]
    assert "compression ratio" in exp.problems[0].message
    assert not list((tmp_path / "w1").rglob("*.step"))

    plain = _zip(tmp_path / "two.zip", {"a.step": os.urandom(300_000), "b.step": os.urandom(300_000)})
    exp = inp.expand([str(plain)], tmp_path / "w2", ZipLimits(max_total_bytes=500_000))
    assert not exp.items and exp.problems[0].code == "DFM912" and "inflates to 600000 bytes" in exp.problems[0].message
    exp = inp.expand([str(plain)], tmp_path / "w3", ZipLimits(max_members=1))
    assert exp.problems[0].code == "DFM912" and "2 members" in exp.problems[0].message
    exp = inp.expand([str(plain)], tmp_path / "w4")
    assert len(exp.items) == 2 and not exp.problems


def test_stream_check_does_not_trust_the_header(tmp_path):
    # A member whose inflated stream is larger than its header claims is cut off, not written
    # (zipfile stops at the header size and fails the CRC; our counter backs that up).
    info = zipfile.ZipInfo("liar.step")
    data = b"x" * 4096
    with zipfile.ZipFile(tmp_path / "liar.zip", "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(info, data)
    with zipfile.ZipFile(tmp_path / "liar.zip") as zf:
        member = zf.infolist()[0]
        member.file_size = 100  # what a forged header would say
        with pytest.raises((inp._BombError, zipfile.BadZipFile)):
            inp._extract_member(zf, member, tmp_path / "out" / "liar.step", ZipLimits(), 1 << 30)
    assert not (tmp_path / "out" / "liar.step").exists()


def test_expand_folders_globs_and_missing(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.STEP").write_bytes(b"1")
    (tmp_path / "a" / "notes.pdf").write_bytes(b"2")
    (tmp_path / "b" / "deep").mkdir(parents=True)
    (tmp_path / "b" / "deep" / "y.stp").write_bytes(b"3")
    _zip(tmp_path / "a" / "sub.zip", {"z.brep": b"4", "inner.zip": b"5"})
    exp = inp.expand([str(tmp_path / "a"), str(tmp_path / "b" / "**" / "*.stp"), str(tmp_path / "nope.step"),
                      str(tmp_path / "none-*.step")], tmp_path / "w")
    assert [i.path.name for i in exp.items] == ["z.brep", "x.STEP", "y.stp", "nope.step"]  # by source
    assert exp.items[0].source == f"{tmp_path / 'a' / 'sub.zip'}!z.brep"
    assert exp.ignored == [f"{tmp_path / 'a' / 'sub.zip'}!inner.zip"]  # archives in archives are not opened
    assert [p.code for p in exp.problems] == ["DFM901"]


# -- names and files ------------------------------------------------------------------------------


def test_names_never_clash_and_are_stable():
    src = [
        ("up/a/bracket.step", PurePosixPath("a/bracket.step")),
        ("up/b/bracket.step", PurePosixPath("b/bracket.step")),
        ("up/b/Bracket.STP", PurePosixPath("b/Bracket.STP")),
        ("x.zip!index.step", PurePosixPath("index.step")),
        ("x.zip!Summary.stp", PurePosixPath("Summary.stp")),
        ("q/Деталь №1.step", PurePosixPath("Деталь №1.step")),
        ("q/<script>.step", PurePosixPath("<script>.step")),
    ]
    names = output.assign_names(src)
    assert len({n.casefold() for n in names}) == len(names)
    assert names[:3] == ["a__bracket", "b__bracket", "b__Bracket-2"]
    assert names[3] == "index-part" and names[4] == "Summary-part"
    assert names[5] == "Деталь__1" and names[6] == "script"
    assert output.assign_names(src) == names
    assert all("/" not in n and not n.startswith(".") for n in names)


def test_write_atomic_replaces_whole_file(tmp_path):
    target = tmp_path / "r.json"
    output.write_atomic(target, "old")
    output.write_atomic(target, "new" * 1000)
    assert target.read_text() == "new" * 1000
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_csv_cells_from_uploads_are_not_formulas():
    row = output.problem_row("=cmd|'/c calc'!A1.step", "DFM903", "not-a-cad-file", "=HYPERLINK(x)")
    text = output.summary_csv([row])
    rec = next(csv.DictReader(io.StringIO(text)))
    assert rec["source"].startswith("'=") and rec["error_message"].startswith("'=")


# -- runs -------------------------------------------------------------------------------------------


def test_cli_batch_clashing_names_bad_file_and_resume(tmp_path, capsys):
    up = tmp_path / "uploads"
    for sub in ("a", "b"):
        (up / sub).mkdir(parents=True)
        shutil.copy(EXAMPLES / "micro_slot.step", up / sub / "bracket.step")
    (up / "b" / "bracket.step").write_bytes((EXAMPLES / "thin_web_plate.step").read_bytes())
    (up / "broken.stp").write_text("ISO-10303-21;\nHEADER;\n")
    out = tmp_path / "out"
    rc = main(["batch", str(up), "--out", str(out), "-j", "2", "--timeout", "120",
               "--timestamp", "2026-01-01T00:00:00Z"])
    captured = capsys.readouterr()
    err = captured.err
    assert rc == 2
    assert "[3/3]" in err and "parts/min" in err  # plain log lines when not on a terminal
    assert f"dfm: {up / 'broken.stp'}: " in err and "DFM904" in err
    assert captured.out.startswith("dfm batch: 3 files: ") and str(out / "index.html") in captured.out
    summary = json.loads((out / "summary.json").read_text())
    assert summary["schema"] == "dfm-batch-summary/1" and summary["exit_code"] == 2
    rows = _rows(out)
    a, b, broken = rows[str(up / "a/bracket.step")], rows[str(up / "b/bracket.step")], rows[str(up / "broken.stp")]
    assert (a["name"], b["name"]) == ("a__bracket", "b__bracket")
    # the batch writes exactly what `dfm check --format json` writes for the same part
    from dfm import api
    from dfm.report import jsonout

    for row, src in ((a, EXAMPLES / "micro_slot.step"), (b, EXAMPLES / "thin_web_plate.step")):
        direct = json.loads(jsonout.dumps(api.analyze(src, generated_at="2026-01-01T00:00:00Z")))
        batch = json.loads((out / row["files"]["json"]).read_text())
        assert batch["file"] == row["source"]
        if direct["status"] == "ok":
            assert batch == dict(direct, file=row["source"])
        else:  # the tree is mid-change elsewhere: the batch still reports the same error
            assert batch["error"]["code"] == direct["error"]["code"]
        assert row["status"] == direct["status"] and row["verdict"] == direct["verdict"]
    if a["status"] == "ok":
        assert a["size_mm"] == [8.0, 6.0, 3.0] and b["size_mm"] == [12.0, 8.0, 3.0]
    assert broken["error"]["code"] == "DFM904" and str(up / "broken.stp") in broken["error"]["message"]
    assert {"source": str(up / "broken.stp"), "part": "broken", **broken["error"]} in summary["errors"]
    assert {e["source"] for e in summary["errors"]} == {s for s, r in rows.items() if r["status"] != "ok"}
    for r in (a, b, broken):
        data = json.loads((out / r["files"]["json"]).read_text())
        assert data["schema"] == "dfm-result/1" and data["file"] == r["source"]
        assert data["generated_at"] == "2026-01-01T00:00:00Z"
    html = (out / "index.html").read_text()
    assert "a__bracket.json" in html and "DFM904" in html
    csv_rows = list(csv.DictReader(io.StringIO((out / "summary.csv").read_text())))
    assert {r["name"] for r in csv_rows} == {"a__bracket", "b__bracket", "broken"}

    # unchanged: nothing is analysed again
    rc2 = main(["batch", str(up), "--out", str(out), "-j", "2", "--timestamp", "2026-01-01T00:00:00Z"])
    assert rc2 == 2
    again = _rows(out)
    assert all(r["resumed"] for r in again.values())
    assert {k: dict(v, resumed=False) for k, v in again.items()} == rows

    # one file changed, settings unchanged: only that one is redone
    shutil.copy(EXAMPLES / "micro_slot.step", up / "broken.stp")
    rc3 = main(["batch", str(up), "--out", str(out), "-j", "2", "--timestamp", "2026-01-01T00:00:00Z"])
    third = _rows(out)
    statuses = {r["status"] for r in third.values()}
    assert rc3 == (2 if "error" in statuses else 1 if any(r["verdict"] == "fail" for r in third.values()) else 0)
    assert third[str(up / "broken.stp")]["error"] is None or third[str(up / "broken.stp")]["error"]["code"] != "DFM904"
    assert [s for s, r in sorted(third.items()) if not r["resumed"]] == [str(up / "broken.stp")]

    # a part specification appears beside one part: only that part is redone, with it
    (up / "a" / "bracket.dfm.toml").write_text('material = "brass"\n')
    main(["batch", str(up), "--out", str(out), "-j", "2", "--timestamp", "2026-01-01T00:00:00Z"])
    fourth = _rows(out)
    assert [s for s, r in sorted(fourth.items()) if not r["resumed"]] == [str(up / "a/bracket.step")]

    # settings changed: everything is redone
    main(["batch", str(up), "--out", str(out), "-j", "2", "--material", "brass"])
    assert not any(r["resumed"] for r in _rows(out).values())


def test_crash_hang_and_oom_fail_alone(tmp_path):
    up = tmp_path / "up"
    up.mkdir()
    shutil.copy(EXAMPLES / "micro_slot.step", up / "good.step")
    for name in ("crash-segfault.step", "crash-hang.step", "crash-oom.step"):
        shutil.copy(EXAMPLES / "micro_slot.step", up / name)
    out = tmp_path / "out"
    config = BatchConfig(out_dir=out, jobs=2, timeout=8, memory_mb=1536, entry=TROUBLE, progress="none")
    res = run_batch([str(up)], config)
    assert res.exit_code == 2 and not res.interrupted
    rows = {Path(s).name: r for s, r in _rows(out).items()}
    assert rows["good.step"]["status"] == "ok"
    seg, hang, oom = rows["crash-segfault.step"], rows["crash-hang.step"], rows["crash-oom.step"]
    assert seg["error"]["code"] == "DFM913" and "SIGSEGV" in seg["error"]["message"]
    assert hang["error"]["code"] == "DFM914" and "8 s" in hang["error"]["message"]
    assert oom["error"]["code"] == "DFM915" and "1536 MB" in oom["error"]["message"]
    for r in (seg, hang, oom):
        assert json.loads((out / r["files"]["json"]).read_text())["error"] == r["error"]
        assert str(up / r["source"].rsplit("/", 1)[1]) in r["error"]["message"]
    # failures of the process are retried next time; the good part is kept
    res2 = run_batch([str(up)], BatchConfig(out_dir=out, jobs=2, timeout=3, memory_mb=1536, entry=TROUBLE,
                                            progress="none"))
    rows2 = {Path(s).name: r for s, r in _rows(out).items()}
    assert rows2["good.step"]["resumed"] and not rows2["crash-segfault.step"]["resumed"]
    assert res2.exit_code == 2


def test_interrupt_keeps_finished_parts(tmp_path):
    import signal
    import subprocess
    import time

    up = tmp_path / "up"
    up.mkdir()
    shutil.copy(EXAMPLES / "micro_slot.step", up / "a-good.step")
    shutil.copy(EXAMPLES / "micro_slot.step", up / "crash-hang.step")
    out = tmp_path / "out"
    script = (
        f"import sys; sys.path.insert(0, {str(HELPERS)!r})\n"
        "from pathlib import Path\n"
        "from dfm.batch import BatchConfig, run_batch\n"
        f"r = run_batch([{str(up)!r}], BatchConfig(out_dir=Path({str(out)!r}), jobs=2, timeout=600, "
        f"entry={TROUBLE!r}, progress='lines'))\n"
        "sys.exit(130 if r.interrupted else r.exit_code)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while not (out / ".dfm-batch" / "done" / "a-good.json").exists():
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C on the terminal does
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] and summary["unfinished"] == [str(up / "crash-hang.step")]
    assert [r["name"] for r in summary["parts"]] == ["a-good"]
    assert json.loads((out / "a-good.json").read_text())["status"] == "ok"
    assert not list(out.glob(".*.tmp*")) and not (out / "crash-hang.json").exists()
    res = run_batch([str(up / "a-good.step")], BatchConfig(out_dir=out, entry=TROUBLE, progress="none"))
    assert res.summary["parts"][0]["resumed"]


def test_zip_upload_with_reports_and_gcode(tmp_path):
    import importlib.util

    archive = _zip(tmp_path / "upload.zip", {"job/part.step": (EXAMPLES / "micro_slot.step").read_bytes(),
                                             "job/part.dfm.toml": b'material = "6061-T6"\n'},
                   links={"job/evil.step": "../../etc/passwd"})
    out = tmp_path / "out"
    rc = main(["batch", str(archive), "--out", str(out), "--gcode", "--material", "6061-T6", "--progress", "none"])
    summary = json.loads((out / "summary.json").read_text())
    assert rc == summary["exit_code"] == 2  # the refused link member is an unreadable input
    part = next(r for r in summary["parts"] if r["name"] == "part")
    assert part["source"] == f"{archive}!job/part.step"
    data = json.loads((out / "part.json").read_text())
    assert data["file"] == part["source"] and data["status"] == part["status"]
    assert len(summary["parts"]) == 2 and not summary["ignored"]  # the spec is unpacked beside its part
    assert len(list((out / ".dfm-batch" / "unzipped").rglob("part.dfm.toml"))) == 1
    evil = next(e for e in summary["errors"] if e["source"].endswith("!job/evil.step"))
    assert evil["code"] == "DFM911" and evil["part"] is None
    if importlib.util.find_spec("dfm.report.html") is not None and part["status"] == "ok":
        page = (out / "part.html").read_text()
        assert part["files"]["html"] == "part.html" and "upload.zip!job/part.step" in page
        assert 'href="part.html"' in (out / "index.html").read_text()
    else:
        assert part["files"]["html"] is None
    if importlib.util.find_spec("dfm.cam.gcode") is not None and part["status"] == "ok":
        assert part["files"]["gcode"] == "part.ngc" and part["cycle_time_s"] > 0
        program = (out / "part.ngc").read_text()
        assert "M30" in program or "M2" in program
        assert (out / "part.tbl").is_file()
    else:
        assert part["files"]["gcode"] is None and any("G-code" in n for n in part["notes"])


def test_settings_reach_the_worker_and_the_resume_key(tmp_path):
    from dfm.batch.runner import options_of, settings_hash

    opts = options_of({"material": "brass", "generated_at": "T", "extra": {"machine": "vmc-15k"}})
    assert (opts.material, opts.generated_at, dict(opts.extra)) == ("brass", "T", {"machine": "vmc-15k"})
    base = BatchConfig(out_dir=tmp_path, settings={"material": "brass"})
    other = BatchConfig(out_dir=tmp_path, settings={"material": "brass", "extra": {"machine": "vmc-15k"}})
    assert settings_hash(base) != settings_hash(other)
    assert settings_hash(base) == settings_hash(BatchConfig(out_dir=tmp_path / "x", jobs=7, timeout=1,
                                                            settings={"material": "brass"}))


def test_empty_folder_is_reported_not_passed(tmp_path):
    (tmp_path / "uploads").mkdir()
    exp = inp.expand([str(tmp_path / "uploads")], tmp_path / "w")
    assert exp.items == [] and [p.code for p in exp.problems] == ["DFM901"]
    assert "holds no STEP/BREP file" in exp.problems[0].message


def test_out_that_is_a_file_is_a_usage_error(tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("x")
    rc = main(["batch", str(tmp_path), "--out", str(notes)])
    err = capsys.readouterr().err
    assert rc == 2 and "exists and is not a folder" in err and "Traceback" not in err
