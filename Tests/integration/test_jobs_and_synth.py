"""--jobs over several files, and the benchmark capture generator (`stunscope-synth`).

No timings here: the benchmark itself is scripts/bench, outside CI.
"""
import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("STUNSCOPE_BIN", str(ROOT / ".build" / "debug" / "stunscope"))
# The generator is its own executable, built next to stunscope.
SYNTH_BIN = os.environ.get("STUNSCOPE_SYNTH_BIN", str(Path(BIN).parent / "stunscope-synth"))
CAPTURES = ROOT / "captures"


def run(*args, check=True, binary=BIN):
    r = subprocess.run([binary, *map(str, args)], capture_output=True, timeout=300, cwd=ROOT)
    if check:
        assert r.returncode == 0, r.stderr.decode()
    return r


def synth(*args, check=True):
    return run(*args, check=check, binary=SYNTH_BIN)


@pytest.fixture(scope="module")
def synth_pair(tmp_path_factory):
    d = tmp_path_factory.mktemp("synth")
    files = []
    for seed in (3, 4):
        f = d / f"s{seed}.pcap"
        synth("--packets", 6000, "--allocations", 40, "--seed", seed, "-o", f, "--quiet")
        files.append(f)
    return files


def test_synth_is_deterministic_and_sized(tmp_path):
    a, b = tmp_path / "a.pcap", tmp_path / "b.pcap"
    synth("--packets", 3000, "--allocations", 20, "--seed", 9, "-o", a, "--quiet")
    synth("--packets", 3000, "--allocations", 20, "--seed", 9, "-o", b, "--quiet")
    assert a.read_bytes() == b.read_bytes()
    stats = json.loads(run("stats", "--format", "json", a).stdout)
    assert stats["packets"] == 3000


def test_synth_reports_templates_it_cannot_use(tmp_path):
    out = tmp_path / "out.pcap"
    r = synth("--packets", 500, "--allocations", 4, "-o", out,
              "--template", CAPTURES / "turn-udp-channels.server.pcap",
              "--template", CAPTURES / "broken" / "truncated-last-record.pcap",
              "--template", CAPTURES / "link-sll.pcap")
    report = r.stderr.decode()
    assert "template turn-udp-channels.server.pcap: " in report
    assert "skipped " + str(CAPTURES / "broken" / "truncated-last-record.pcap") + " (" in report
    assert "truncated record at byte offset" in report
    assert "skipped " + str(CAPTURES / "link-sll.pcap") + " (link type is not Ethernet)" in report
    assert json.loads(run("stats", "--format", "json", out).stdout)["packets"] == 500


def test_synth_is_not_a_stunscope_subcommand():
    assert run("synth", "--packets", 10, "-o", "/dev/null", check=False).returncode == 64


def test_synth_messages_are_valid(synth_pair):
    """Every FINGERPRINT recomputed after rewriting ids, addresses and channels checks valid."""
    lines = [json.loads(l) for l in run("messages", "--format", "ndjson", synth_pair[0]).stdout.splitlines()]
    stun = [l for l in lines if l.get("kind") == "stun"]
    assert stun and [l for l in lines if l.get("kind") == "channeldata"]
    assert all(l.get("fingerprint") in (None, "valid") for l in stun)
    assert not [l for l in lines if l.get("kind") == "malformed"]
    doc = json.loads(run("analyze", "--format", "json", synth_pair[0]).stdout)
    assert len(doc["allocations"]) >= 40


def test_messages_jobs_matches_one_stream(synth_pair):
    one = run("messages", "--format", "ndjson", "--jobs", 1, *synth_pair).stdout
    two = run("messages", "--format", "ndjson", "--jobs", 2, *synth_pair).stdout
    assert one == two and one


def test_analyze_jobs_merges_documents(synth_pair):
    a = json.loads(run("analyze", "--format", "json", "--jobs", 2, *synth_pair).stdout)
    singles = [json.loads(run("analyze", "--format", "json", f).stdout) for f in synth_pair]
    assert [c["file"] for c in a["captures"]] == [str(f) for f in synth_pair]
    assert a["stats"]["packets"] == sum(s["stats"]["packets"] for s in singles)
    assert len(a["allocations"]) == sum(len(s["allocations"]) for s in singles)
    ids = [x["id"] for x in a["allocations"]]
    assert ids == sorted(set(ids))
    sessions = {f["session"] for f in a["findings"] if (f.get("session") or "").startswith("allocation:")}
    assert all(int(s.split(":")[1]) in ids for s in sessions)
    # The second file's timeline entries name their file.
    second = a["allocations"][len(singles[0]["allocations"]):]
    assert all(e.get("fileIndex") == 1 for x in second for e in x["timeline"])


def test_jobs_exit_status_when_one_file_is_damaged():
    good = CAPTURES / "turn-udp-channels.server.pcap"
    bad = CAPTURES / "broken" / "truncated-last-record.pcap"
    for args in (("messages", "--format", "ndjson"), ("analyze", "--format", "json")):
        r = run(*args, "--jobs", 2, good, bad, check=False)
        assert r.returncode == 2, (args, r.stderr.decode())
        assert b"truncated record at byte offset" in r.stderr
        assert r.stdout
