"""Turning ``dfm batch`` arguments into a list of part files.

INPUT may be a file, a folder (searched recursively), a glob or a ``.zip`` archive.
Uploads are untrusted, so they are checked before any work starts:

* only regular files are read: a FIFO, device or socket (or a link to one, such as
  ``/dev/zero`` named ``part.step``) is refused with its kind, without opening it, and a
  file above the size limit is refused before it is hashed;
* a member whose name is absolute, has a drive letter or a ``..`` component, or that is a
  link (or any other non-regular file) is refused and never written;
* every written path is checked to resolve inside the extraction folder;
* a zip bomb is stopped by limits on member count, member size, total size and the
  compression ratio; the limits are checked against the member headers *and* against the
  bytes actually inflated, so a header that lies about the size does not get through;
* an archive that cannot be read (bad CRC, broken deflate stream, not a zip at all) is that
  archive's error (its members that did unpack still go on), and one that holds no part is
  reported like an empty folder (DFM901);
* two members with the same name are unpacked apart and reported apart
  (``up.zip!part.step`` and ``up.zip!part.step#2``).

Refused inputs, members and archives become :class:`InputProblem` records, which the batch
reports in its summary like any other unreadable file.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import stat
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

#: Suffixes taken from folders and archives (compared case-insensitively). A file named
#: explicitly on the command line is always taken, so a wrong upload gets its DFM903 error.
CAD_SUFFIXES = frozenset({".step", ".stp", ".p21", ".brep", ".brp"})

_MIB = 1024 * 1024


@dataclass(frozen=True)
class ZipLimits:
    """Limits that stop a zip bomb. The defaults fit a day of quoting-desk uploads.

    Attributes:
        max_members: Most members an archive may list. Each part costs a few seconds of
            analysis, so 10 000 tiny members would keep a batch busy for most of an hour.
        max_member_bytes: Largest uncompressed member, and largest part file read from a
            folder (the largest corpus STEP is 3 MB).
        max_total_bytes: Most uncompressed bytes taken from one archive.
        max_ratio: Largest uncompressed/compressed ratio of a member. STEP text deflates
            about 4-12:1; 100:1 only comes from padding or a bomb.

    """

    max_members: int = 1000
    max_member_bytes: int = 256 * _MIB
    max_total_bytes: int = 2048 * _MIB
    max_ratio: float = 100.0


@dataclass(frozen=True)
class InputItem:
    """One part file to analyse.

    Attributes:
        path: Where the file is on this machine (inside the extraction folder for archives).
        source: How the user knows it: the path given, or ``archive.zip!member/name.step``.
        rel: Path relative to the folder or archive it came from (used to tell apart two
            files with the same name).

    """

    path: Path
    source: str
    rel: PurePosixPath


@dataclass(frozen=True)
class InputProblem:
    """An input that cannot become a part file (unsafe member, bomb, nothing matched).

    Attributes:
        source: The input or member concerned.
        code: Diagnostic code (``DFM9xx``).
        name: Kebab-case name of the code.
        message: One line naming the input and the cause.

    """

    source: str
    code: str
    name: str
    message: str


@dataclass
class Expansion:
    """What the arguments expanded to."""

    items: list[InputItem] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def is_companion_name(name: str) -> bool:
    """True for a part specification (``PART.dfm.toml``), unpacked beside its part."""
    return name.lower().endswith(".dfm.toml")


def companion_of(path: Path) -> Path:
    """Where the part specification of ``path`` would be (``PART.dfm.toml`` beside it)."""
    return path.with_name(path.stem + ".dfm.toml")


def is_cad_name(name: str) -> bool:
    """True when ``name`` has a STEP/BREP suffix (any case)."""
    return PurePosixPath(name).suffix.lower() in CAD_SUFFIXES


def expand(
    inputs: Sequence[str],
    extract_dir: Path,
    limits: ZipLimits | None = None,
) -> Expansion:
    """Expand command-line INPUTs into part files.

    Args:
        inputs: Files, folders, globs and ``.zip`` archives, as typed.
        extract_dir: Folder under which archives are unpacked (one sub-folder per archive,
            named after its content hash so a re-run reuses it).
        limits: Zip bomb limits.

    Returns:
        The items (sorted by source, without duplicates), the problems and ignored names.

    """
    limits = limits or ZipLimits()
    out = Expansion()
    seen: set[str] = set()

    def add(item: InputItem) -> None:
        key = os.path.realpath(item.path) if not item.source.count("!") else item.source
        if key not in seen:
            seen.add(key)
            out.items.append(item)

    for arg in inputs:
        path = Path(arg)
        if path.is_dir():
            _add_folder(path, out, add, extract_dir, limits)
            continue
        if path.exists() or path.is_symlink():
            _add_file(path, arg, out, add, extract_dir, limits)
            continue
        if glob.has_magic(arg):
            matches = sorted(glob.glob(arg, recursive=True))
            if not matches:
                out.problems.append(_problem(arg, "file-not-found", "the pattern matches no file"))
            for m in matches:
                mp = Path(m)
                if mp.is_dir():
                    _add_folder(mp, out, add, extract_dir, limits)
                else:
                    _add_file(mp, m, out, add, extract_dir, limits)
            continue
        # A missing file is still a part the user asked for: the worker reports DFM901.
        add(InputItem(path, arg, PurePosixPath(path.name)))
    out.items.sort(key=lambda i: i.source)
    out.problems = sorted({(p.source, p.code): p for p in out.problems}.values(), key=lambda p: p.source)
    out.ignored.sort()
    return out


def not_regular_reason(path: Path) -> str | None:
    """Why ``path`` (after links) must not be opened, or None for a regular file or a missing one.

    A FIFO blocks the reader forever, a device such as ``/dev/zero`` never ends; neither is
    opened, only ``stat``-ed.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "is a link to nothing" if path.is_symlink() else None
    except OSError as err:
        return f"cannot be examined ({err.strerror or err})"
    if stat.S_ISREG(mode):
        return None
    kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a character device" if stat.S_ISCHR(mode)
            else "a block device" if stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a folder" if stat.S_ISDIR(mode) else "not a regular file")
    via = f" (a link to {os.path.realpath(path)})" if path.is_symlink() else ""
    return f"is {kind}{via}, not a regular file; it was not read"


def _add_file(path: Path, arg: str, out: Expansion, add, extract_dir: Path, limits: ZipLimits) -> None:  # type: ignore[no-untyped-def]
    reason = not_regular_reason(path)
    if reason:
        out.problems.append(_problem(arg, "not-a-regular-file", reason))
        return
    with contextlib.suppress(FileNotFoundError):  # vanished since: reported as missing later
        size = path.stat().st_size
        if size > limits.max_member_bytes:
            out.problems.append(_problem(arg, "file-too-large", f"is {size} bytes; the limit is "
                                         f"{limits.max_member_bytes} (--max-unzipped)"))
            return
    if path.suffix.lower() == ".zip":
        items, problems, ignored = extract_zip(path, extract_dir, limits)
        for it in items:
            add(it)
        out.problems.extend(problems)
        out.ignored.extend(ignored)
    else:
        add(InputItem(path, arg, PurePosixPath(path.name)))


def _add_folder(folder: Path, out: Expansion, add, extract_dir: Path, limits: ZipLimits) -> None:  # type: ignore[no-untyped-def]
    found = _walk(folder)
    if not found:  # an empty upload folder is a mistake to report, not a batch that passed
        out.problems.append(_problem(str(folder), "file-not-found",
                                     "the folder holds no STEP/BREP file or .zip archive"))
    for f in found:
        if f.suffix.lower() == ".zip":
            _add_file(f, str(f), out, add, extract_dir, limits)
            continue
        reason = not_regular_reason(f)
        if reason:
            out.problems.append(_problem(str(f), "not-a-regular-file", reason))
            continue
        if f.stat().st_size > limits.max_member_bytes:
            out.problems.append(_problem(str(f), "file-too-large", f"is {f.stat().st_size} bytes; the limit is "
                                         f"{limits.max_member_bytes} (--max-unzipped)"))
            continue
        add(InputItem(f, str(f), PurePosixPath(f.relative_to(folder).as_posix())))


def _walk(folder: Path) -> Iterable[Path]:
    """CAD files and zip archives under ``folder``, recursively, sorted.

    Hidden folders (the batch's own ``.dfm-batch``) and symlinked folders are not entered.
    Archives inside archives are not opened (no recursion for a bomb to exploit).
    """
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            if is_cad_name(name) or name.lower().endswith(".zip"):
                found.append(Path(root) / name)
    return sorted(found)


def _problem(source: str, name: str, cause: str) -> InputProblem:
    from dfm import diagnostics

    diag = diagnostics.diagnostics()[name]
    return InputProblem(source, diag.code, diag.name, f"{source}: {' '.join(cause.split())} [{diag.code} {diag.name}]")


def unsafe_member_reason(info: zipfile.ZipInfo) -> str | None:
    """Why a member must not be written, or None when it is a plain, contained file."""
    name = info.filename.replace("\\", "/")
    if not name or "\x00" in name:
        return "empty or NUL in member name"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return f"absolute member name {info.filename!r}"
    parts = PurePosixPath(name).parts
    if ".." in parts:
        return f"member name {info.filename!r} climbs out with '..'"
    mode = info.external_attr >> 16
    # Unix archivers store the file type in the high bits; many writers leave it 0 (a file).
    if info.create_system == 3 and stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        kind = "a symbolic link" if stat.S_ISLNK(mode) else "not a regular file"
        return f"member {info.filename!r} is {kind}"
    if info.flag_bits & 0x1:
        return f"member {info.filename!r} is encrypted"
    return None


def extract_zip(
    archive: Path, extract_dir: Path, limits: ZipLimits
) -> tuple[list[InputItem], list[InputProblem], list[str]]:
    """Unpack the CAD members of ``archive`` safely.

    Never raises for what is in the archive: whatever goes wrong is a problem of the archive
    or of one member.

    Returns:
        The part files written, the problems (refused members, or the whole archive when a
        limit is hit, it is not a zip or it cannot be read) and the members ignored as not
        CAD files.

    """
    src = str(archive)
    try:
        items, problems, ignored = _extract_zip(archive, extract_dir, limits)
    except _BombError as err:
        return [], [_problem(src, "archive-bomb", str(err))], []
    except (OSError, zipfile.BadZipFile, zlib.error, ValueError, EOFError, RuntimeError, NotImplementedError,
            KeyError, UnicodeError) as err:
        return [], [_problem(src, "corrupt-file", f"cannot read the zip archive: {type(err).__name__}: {err}")], []
    if not items and not any(p.source == src or p.source.startswith(src + "!") for p in problems):
        problems.append(_problem(src, "file-not-found", "the archive holds no STEP/BREP file"
                                 + (f" ({len(ignored)} other members ignored)" if ignored else "")))
    return items, problems, ignored


def _extract_zip(
    archive: Path, extract_dir: Path, limits: ZipLimits
) -> tuple[list[InputItem], list[InputProblem], list[str]]:
    src = str(archive)
    digest = _file_sha256(archive)[:16]
    target = extract_dir / f"{_safe_stem(archive.stem)}-{digest}"
    items: list[InputItem] = []
    problems: list[InputProblem] = []
    ignored: list[str] = []
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        if len(infos) > limits.max_members:
            raise _BombError(f"the archive lists {len(infos)} members; the limit is {limits.max_members} "
                             "(--max-members)")
        cad = []
        total = 0
        for info in infos:
            member = f"{src}!{info.filename}"
            if info.is_dir():
                continue
            reason = unsafe_member_reason(info)
            if reason:
                problems.append(_problem(member, "unsafe-archive-member", reason))
                continue
            companion = is_companion_name(info.filename)
            if not is_cad_name(info.filename) and not companion:
                ignored.append(member)
                continue
            if info.file_size > limits.max_member_bytes:
                raise _BombError(f"member {info.filename!r} inflates to {info.file_size} bytes; the limit is "
                                 f"{limits.max_member_bytes}")
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_ratio:
                raise _BombError(f"member {info.filename!r} has a compression ratio of {ratio:.0f}:1; the limit is "
                                 f"{limits.max_ratio:.0f}:1")
            total += info.file_size
            cad.append((info, companion))
        if total > limits.max_total_bytes:
            raise _BombError(f"the archive inflates to {total} bytes; the limit is {limits.max_total_bytes}")
        target.mkdir(parents=True, exist_ok=True)
        root = target.resolve()
        written = 0
        copies: dict[str, int] = {}
        for info, companion in cad:
            rel = PurePosixPath(info.filename.replace("\\", "/"))
            key = rel.as_posix().casefold()
            copies[key] = copies.get(key, 0) + 1
            nth = copies[key]
            # A second member of the same name goes to its own folder and keeps its own name.
            dest = target.joinpath(*rel.parts) if nth == 1 else target.joinpath(f".copy{nth}", *rel.parts)
            source = f"{src}!{rel}" if nth == 1 else f"{src}!{rel}#{nth}"
            if not dest.resolve().is_relative_to(root):  # defence in depth (a symlinked parent)
                problems.append(_problem(f"{src}!{info.filename}", "unsafe-archive-member",
                                         "member would be written outside the extraction folder"))
                continue
            try:
                written += _extract_member(zf, info, dest, limits, limits.max_total_bytes - written)
            except _BombError:
                raise
            except (OSError, zipfile.BadZipFile, zlib.error, ValueError, EOFError, RuntimeError,
                    NotImplementedError) as err:
                problems.append(_problem(source, "corrupt-file", f"cannot unpack: {type(err).__name__}: {err}"))
                continue
            if not companion:
                items.append(InputItem(dest, source, rel))
    return items, problems, ignored


class _BombError(Exception):
    pass


def _extract_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path, limits: ZipLimits, budget: int) -> int:
    """Inflate one member through a counter; never trusts the header's size."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    cap = min(info.file_size, limits.max_member_bytes, budget)
    tmp = dest.with_name(f".{dest.name}.part{os.getpid()}")
    n = 0
    try:
        with zf.open(info) as fin, open(tmp, "wb") as fout:
            while True:
                chunk = fin.read(1 << 16)
                if not chunk:
                    break
                n += len(chunk)
                if n > cap:
                    raise _BombError(f"member {info.filename!r} inflates past {cap} bytes (its header says "
                                f"{info.file_size}); unpacking stopped")
                if n > 1 << 20 and n / max(info.compress_size, 1) > limits.max_ratio:
                    raise _BombError(f"member {info.filename!r} inflates more than {limits.max_ratio:.0f}:1; "
                                "unpacking stopped")
                fout.write(chunk)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return n


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _safe_stem(stem: str) -> str:
    out = "".join(c if (c.isalnum() or c in "-_.") else "_" for c in stem).lstrip(".")
    return out[:80] or "archive"
