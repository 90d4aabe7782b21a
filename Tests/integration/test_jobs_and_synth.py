"""--jobs over several files, and the benchmark capture generator (`stunscope-synth`).

Several files are one timestamp-ordered stream for analyze, messages and
export --merge whatever --jobs says: the output is compared byte for byte
across --jobs 1, 2 and 4, ignoring nothing. The same packet captured at two
points (decode-merge.{client,server}.pcap) is one send, not a retransmission.

No timings here: the benchmark itself is scripts/bench, outside CI.
"""
import hashlib
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


# Several files analysed together: a rotated set, one exchange seen at both ends, unrelated captures.
FILE_SETS = {
    "rotate": [CAPTURES / f"decode-rotate.{i}.pcap" for i in range(4)],
    "merge-pair": [CAPTURES / "decode-merge.client.pcap", CAPTURES / "decode-merge.server.pcap"],
    "unrelated": [CAPTURES / "turn-udp-channels.server.pcap", CAPTURES / "stun-classic.public.pcap"],
    "vantage-points": sorted(CAPTURES.glob("sip-ice-call.*.pcap")),
    "tcp-vantage-points": sorted(CAPTURES.glob("turn-tcp.*.pcap")),
}
JOBS = (1, 2, 4)


def analyze_json(files, *extra):
    return run("analyze", "--format", "json", *extra, *files).stdout


@pytest.mark.parametrize("name", FILE_SETS)
def test_analyze_is_one_stream_for_every_jobs(name):
    """Byte-identical documents for every --jobs (ids and all: nothing is ignored)."""
    files = FILE_SETS[name]
    outputs = {j: analyze_json(files, "--jobs", j) for j in JOBS}
    assert outputs[1] and all(outputs[j] == outputs[1] for j in JOBS), name
    assert outputs[1] == analyze_json(files)  # the default (number of cores)
    assert [c["file"] for c in json.loads(outputs[1])["captures"]] == [str(f) for f in files]


def test_analyze_synth_pair_is_one_stream_for_every_jobs(synth_pair):
    outputs = {j: analyze_json(synth_pair, "--jobs", j) for j in JOBS}
    assert outputs[1] and all(outputs[j] == outputs[1] for j in JOBS)
    doc = json.loads(outputs[1])
    singles = [json.loads(analyze_json([f])) for f in synth_pair]
    assert doc["stats"]["packets"] == sum(s["stats"]["packets"] for s in singles)
    assert [x["id"] for x in doc["allocations"]] == list(range(1, len(doc["allocations"]) + 1))


@pytest.mark.parametrize("name", FILE_SETS)
def test_messages_are_one_stream_for_every_jobs(name):
    """Per-file workers gave other lines (ICE passwords from SIP in another file, TCP copies): one stream now."""
    files = FILE_SETS[name]
    outputs = {j: run("messages", "--format", "ndjson", "--jobs", j, *files).stdout for j in JOBS}
    assert outputs[1] and all(outputs[j] == outputs[1] for j in JOBS), name


@pytest.mark.parametrize("name", FILE_SETS)
def test_export_merge_agrees_with_analyze(name):
    """export --merge is analyze's document plus each capture's sha256 (all that export adds for several files)."""
    files = FILE_SETS[name]
    doc = json.loads(analyze_json(files))
    for j in (1, 2):
        exported = json.loads(run("export", "--merge", "--format", "json", "--output", "-", "--jobs", j, *files).stdout)
        for c, f in zip(exported["captures"], files):
            assert c.pop("sha256") == hashlib.sha256(f.read_bytes()).hexdigest()
        assert exported == doc, (name, j)


def test_rotated_set_keeps_its_session_whole():
    """tcpdump -G 1 rotation of one run of 12 STUN requests (captures/README.md, Foundation): one Binding session."""
    doc = json.loads(analyze_json(FILE_SETS["rotate"], "--jobs", 4))
    assert len(doc["bindings"]) == 1
    assert doc["stats"]["transactions"] == 12
    assert doc["stats"]["unansweredTransactions"] == 0
    assert all(t["state"] == "success" for t in doc["transactions"])


def test_copies_from_two_capture_points_are_not_retransmissions():
    """decode-merge: the same 3 IPv4 + 3 IPv6 Binding exchanges captured at both ends of the veth
    (captures/README.md, Foundation; captures/gen/foundation_captures.sh): 6 transactions, none retransmitted."""
    client, server = FILE_SETS["merge-pair"]
    doc = json.loads(analyze_json([client, server]))
    one = {f: json.loads(analyze_json([f])) for f in (client, server)}
    assert doc["stats"]["packets"] == 24  # every frame read is still counted
    assert doc["stats"]["transactions"] == 6 and doc["stats"]["retransmissions"] == 0
    assert doc["stats"]["stunMessages"] == 12  # copies are not messages of their own
    assert all(b["retransmissions"] == 0 for b in doc["bindings"])
    for i, t in enumerate(doc["transactions"]):
        assert t["retransmissions"] == 0 and len(t["requestFrames"]) == 1 and t["state"] == "success"
        # RTT from the first sighting of the request (client side) to the first of the answer (server side):
        # between what the server saw and what the client saw.
        rtts = sorted(one[f]["transactions"][i]["rtt"] for f in (client, server))
        assert rtts[0] - 1e-6 <= t["rtt"] <= rtts[1] + 1e-6


@pytest.mark.parametrize("stem", ["ice-direct", "ice-prflx-public", "ice-relay-symmetric", "sip-ice-call",
                                  "turn-udp-channels", "turn-ipv6"])
def test_vantage_point_sets_count_each_retransmission_once(stem):
    """Files of one scenario captured at several points: a retransmission seen in one file is counted,
    its copies in the others are not (never more than the files' own counts added up)."""
    files = sorted(CAPTURES.glob(f"{stem}.*.pcap"))
    assert len(files) >= 2
    single = [json.loads(analyze_json([f]))["stats"]["retransmissions"] for f in files]
    merged = json.loads(analyze_json(files))["stats"]["retransmissions"]
    assert max(single) <= merged <= sum(single), (single, merged)


def test_jobs_exit_status_when_one_file_is_damaged():
    good = CAPTURES / "turn-udp-channels.server.pcap"
    bad = CAPTURES / "broken" / "truncated-last-record.pcap"
    for args in (("messages", "--format", "ndjson"), ("analyze", "--format", "json")):
        r = run(*args, "--jobs", 2, good, bad, check=False)
        assert r.returncode == 2, (args, r.stderr.decode())
        assert b"truncated record at byte offset" in r.stderr
        assert r.stdout
