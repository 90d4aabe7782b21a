"""Findings against what each capture's scenario says must and must not be said (issue 14).

Every capture in captures/ has an `expectedFindings` section, in its truth file
or, for the foundation captures without one, in captures/foundation.findings.json.
It was written from the scenario the generator ran (see captures/README.md,
"Expected findings"), never from StunScope's output. For every capture:

- every `required` finding appears with its severity;
- no WARNING or ERROR appears that is not `required` or `allowed` (a false
  alarm: a support engineer who sees one stops trusting the rest).

The credentials the truth file holds are given to the analyzer, as a user
who has them would.
"""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CAPTURES = ROOT / "captures"
BIN = os.environ.get("STUNSCOPE_BIN", str(ROOT / ".build" / "debug" / "stunscope"))
FOUNDATION = json.loads((CAPTURES / "foundation.findings.json").read_text())


def expectations() -> list[tuple[str, dict, list]]:
    """(capture file name, expectedFindings, credentials) for every capture in captures/."""
    out = []
    for capture in sorted(p for p in CAPTURES.iterdir() if p.suffix in (".pcap", ".pcapng")):
        truth_path = capture.with_name(capture.name.rsplit(".", 1)[0] + ".truth.json")
        if truth_path.exists():
            truth = json.loads(truth_path.read_text())
            out.append((capture.name, truth.get("expectedFindings"), truth.get("credentials") or []))
        else:
            out.append((capture.name, FOUNDATION.get(capture.name), []))
    return out


CASES = expectations()


def credential_lines(credentials: list[dict]) -> list[str]:
    lines = []
    for c in credentials:
        if "realm" in c:
            lines.append(f"{c['username']}:{c['realm']}:{c['password']}")
        elif "ufrag" in c:
            lines.append(f"{c['ufrag']}:{c['password']}")
    return lines


def findings_of(capture: str, credentials: list[dict]) -> list[dict]:
    args = [BIN, "analyze", "--format", "json", "--jobs", "1", str(CAPTURES / capture)]
    with tempfile.NamedTemporaryFile("w", suffix=".creds") as creds:
        lines = credential_lines(credentials)
        if lines:
            creds.write("\n".join(lines) + "\n")
            creds.flush()
            args += ["--credentials", creds.name]
        r = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert r.returncode in (0, 1), r.stderr
    return json.loads(r.stdout)["findings"]


def key(f: dict) -> tuple[str, str]:
    return (f["code"], f["severity"])


def test_every_capture_has_expected_findings():
    missing = [name for name, expected, _ in CASES if expected is None]
    assert missing == [], f"captures without expectedFindings: {missing}"
    stale = sorted(set(FOUNDATION) - {name for name, _, _ in CASES})
    assert stale == [], f"foundation.findings.json names captures that do not exist: {stale}"


def test_expectations_are_well_formed():
    for name, expected, _ in CASES:
        assert expected is not None
        assert expected.get("why"), name
        for entry in expected.get("required", []) + expected.get("allowed", []):
            assert set(entry) == {"code", "severity"}, (name, entry)
            assert entry["severity"] in ("info", "warning", "error"), (name, entry)


@pytest.mark.parametrize("capture,expected,credentials", CASES, ids=[c[0] for c in CASES])
def test_findings_match_the_scenario(capture: str, expected: dict, credentials: list[dict]):
    if expected is None:
        pytest.fail(f"{capture}: no expectedFindings")
    found = findings_of(capture, credentials)
    raised = {key(f) for f in found}
    required = {(e["code"], e["severity"]) for e in expected.get("required", [])}
    allowed = required | {(e["code"], e["severity"]) for e in expected.get("allowed", [])}
    missing = sorted(required - raised)
    false_alarms = sorted(
        f"{f['severity']} {f['code']}: {f['message']}"
        for f in found
        if f["severity"] in ("warning", "error") and key(f) not in allowed
    )
    assert missing == [] and false_alarms == [], (
        f"{capture}: missing required findings {missing}; false alarms {false_alarms}"
    )
