"""docs/findings.md is the contract for findings (issue 14): it must stay true.

- Every finding code the analyzer defines (Sources/Reconstruction/Model/FindingCode.swift)
  has a catalogue row, and no row names a code that does not exist.
- Every catalogue example ("`capture`: message…") is a real line: analysing that capture
  raises a finding with that code and severity whose message starts with the example.
- The third-party verdict table lists exactly the WARNING/ERROR findings StunScope raises on
  each capture in ../shared/captures (skipped when that folder is absent), so a verdict cannot
  silently change: a new alarm, a vanished one or a changed severity fails here until the
  table (and its verdict, checked by hand against tshark) is updated.
"""
from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("STUNSCOPE_BIN", str(ROOT / ".build" / "debug" / "stunscope"))
DOC = (ROOT / "docs" / "findings.md").read_text()
SHARED = ROOT.parent / "shared" / "captures"


def defined_codes() -> set[str]:
    src = (ROOT / "Sources" / "Reconstruction" / "Model" / "FindingCode.swift").read_text()
    return set(re.findall(r'case \w+ = "([a-z0-9.\-]+)"', src))


def table(section: str) -> list[list[str]]:
    """Rows (cells stripped) of the first table after the heading `section`."""
    start = DOC.index(section)
    rows = []
    for line in DOC[start:].splitlines()[1:]:
        if line.startswith("#"):
            break
        if line.startswith("|") and not line.startswith("|---") and not line.startswith("| code") and not line.startswith("| capture"):
            rows.append([c.strip() for c in line.strip().strip("|").split(" | ")])
    return rows


CATALOGUE = table("## Catalogue")
VERDICTS = table("## Third-party captures")


def analyze(capture: Path) -> list[dict]:
    path = capture
    tmp = None
    if capture.suffix == ".gz":
        tmp = tempfile.NamedTemporaryFile(suffix=".pcap", delete=False)
        with gzip.open(capture) as src:
            shutil.copyfileobj(src, tmp)
        tmp.close()
        path = Path(tmp.name)
    try:
        r = subprocess.run([BIN, "analyze", "--format", "json", "--jobs", "1", str(path)],
                           capture_output=True, text=True, timeout=120)
    finally:
        if tmp:
            os.unlink(tmp.name)
    assert r.stdout, r.stderr
    return json.loads(r.stdout)["findings"]


def unquote(cell: str) -> str:
    return cell.strip().strip("`")


def test_every_code_has_a_catalogue_row():
    documented = {unquote(r[0]) for r in CATALOGUE}
    assert defined_codes() - documented == set(), "codes without a row in docs/findings.md"
    assert documented - defined_codes() == set(), "rows for codes the analyzer does not define"


def test_catalogue_rows_are_complete():
    for r in CATALOGUE:
        assert len(r) == 5, r
        code, severities, rule, example, todo = r
        assert severities and all(s.strip() in ("info", "warning", "error") for s in severities.split("/")), r
        assert rule and todo, r
        assert example, f"{code}: no example"


EXAMPLES = [(unquote(r[0]), r[1], r[3]) for r in CATALOGUE if r[3].startswith("`")]


@pytest.mark.parametrize("code,severities,example", EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_examples_are_real_lines(code: str, severities: str, example: str):
    m = re.match(r"`([^`]+)` \((info|warning|error)\): (.+?)…?$", example)
    assert m, f"{code}: example must read `capture` (severity): message…"
    capture, severity, text = m.group(1), m.group(2), m.group(3).replace("\\|", "|")
    assert severity in [s.strip() for s in severities.split("/")]
    path = (ROOT / capture) if not capture.startswith("../shared/") else (ROOT.parent / capture[3:])
    if not path.exists():
        pytest.skip(f"{capture} absent")
    found = analyze(path)
    assert any(f["code"] == code and f["severity"] == severity and f["message"].startswith(text) for f in found), (
        f"{capture}: no {severity} {code} starting with {text!r}; got "
        + repr([(f["severity"], f["message"][:120]) for f in found if f["code"] == code])
    )


def shared_captures() -> list[Path]:
    if not SHARED.is_dir():
        return []
    return sorted(p for p in SHARED.rglob("*") if p.suffix in (".pcap", ".pcapng") or p.name.endswith(".pcap.gz"))


@pytest.mark.parametrize("capture", shared_captures(), ids=lambda p: str(p.relative_to(SHARED)))
def test_third_party_verdicts_cover_every_alarm(capture: Path):
    name = str(capture.relative_to(SHARED))
    listed = {(unquote(r[1]), r[2]) for r in VERDICTS if unquote(r[0]) == name and r[1] != "—"}
    for r in VERDICTS:
        if unquote(r[0]) == name:
            assert r[3] in ("true", "false", "none"), r
    raised = {(f["code"], f["severity"]) for f in analyze(capture) if f["severity"] in ("warning", "error")}
    assert raised == listed, f"{name}: raised {sorted(raised)}, docs/findings.md lists {sorted(listed)}"


def test_verdict_table_names_existing_captures():
    if not SHARED.is_dir():
        pytest.skip("../shared/captures absent")
    names = {str(p.relative_to(SHARED)) for p in shared_captures()}
    assert {unquote(r[0]) for r in VERDICTS} <= names
