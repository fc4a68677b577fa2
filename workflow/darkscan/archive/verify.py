"""Check a results archive against its MANIFEST: every checksum, nothing missing, nothing extra."""

from __future__ import annotations

import hashlib
import os
import pathlib
import re
import tarfile

from darkscan.archive.tarball import MANIFEST

_LINE = re.compile(r"^([0-9a-f]{64})  (.+)$")


def _parse_manifest(text: str) -> tuple[dict[str, str], list[str]]:
    expected, problems = {}, []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _LINE.match(line)
        if not match:
            problems.append(f"{MANIFEST}: line {number} is not '<sha256>  <path>': {line!r}")
            continue
        digest, rel = match.groups()
        if rel in expected:
            problems.append(f"{MANIFEST}: {rel} is listed twice")
        expected[rel] = digest
    return expected, problems


def verify_archive(path: str | os.PathLike) -> list[str]:
    """Problems found in the archive at ``path`` (an empty list when it is intact).

    Each problem names the file: a checksum that differs, a file listed in MANIFEST but absent,
    a file present but not listed, an unreadable archive or MANIFEST.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"archive {path} does not exist")
    try:
        tar = tarfile.open(path, mode="r:*")
    except (tarfile.TarError, OSError, EOFError) as err:
        return [f"{path}: not a readable tar archive: {err}"]
    problems: list[str] = []
    actual: dict[str, str] = {}
    manifest_text: str | None = None
    with tar:
        try:
            members = tar.getmembers()
        except (tarfile.TarError, OSError, EOFError) as err:
            return [f"{path}: corrupt tar archive: {err}"]
        tops = {m.name.split("/", 1)[0] for m in members}
        if len(tops) != 1:
            return [f"{path}: expected one top-level directory, found {sorted(tops)}"]
        top = tops.pop()
        for member in members:
            rel = member.name[len(top) + 1 :]
            if not rel or member.isdir():
                continue
            if not member.isfile():
                problems.append(f"{rel}: not a regular file (type {member.type!r})")
                continue
            try:
                data = tar.extractfile(member).read()
            except (tarfile.TarError, OSError, EOFError) as err:
                problems.append(f"{rel}: unreadable: {err}")
                continue
            if rel == MANIFEST:
                manifest_text = data.decode("utf-8", errors="replace")
            elif rel in actual:
                problems.append(f"{rel}: present twice in the archive")
            else:
                actual[rel] = hashlib.sha256(data).hexdigest()
    if manifest_text is None:
        return problems + [f"{MANIFEST}: missing from the archive; nothing can be checked"]
    expected, manifest_problems = _parse_manifest(manifest_text)
    problems += manifest_problems
    for rel in sorted(expected.keys() | actual.keys()):
        if rel not in actual:
            problems.append(f"{rel}: missing (listed in {MANIFEST})")
        elif rel not in expected:
            problems.append(f"{rel}: extra file (not listed in {MANIFEST})")
        elif actual[rel] != expected[rel]:
            problems.append(f"{rel}: checksum differs (sha256 {actual[rel]}, {MANIFEST} says {expected[rel]})")
    return problems


def check_pointer(pointer: str | os.PathLike) -> pathlib.Path:
    """Check the archive named by ``pointer`` (results/archive/latest.json): present, same sha256, intact.

    Raises ValueError naming every problem; returns the archive path when intact.
    """
    import json

    from darkscan.archive.tarfiles import sha256_file

    info = json.loads(pathlib.Path(pointer).read_text())
    archive = pathlib.Path(info["path"])
    if not archive.is_file():
        raise ValueError(
            f"{pointer} names {archive}, which does not exist; "
            "rebuild it with: snakemake --cores all --forcerun tarball archive"
        )
    digest = sha256_file(archive)
    problems = (
        []
        if digest == info["sha256"]
        else [f"{archive}: sha256 {digest} differs from {info['sha256']} recorded in {pointer}"]
    )
    problems += verify_archive(archive)
    if problems:
        raise ValueError(f"archive {archive} is not intact:\n  " + "\n  ".join(problems))
    return archive
