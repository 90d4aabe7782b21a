"""The benchmark's named mixes (`stunscope-synth --mix`), checked against independent truth:
the packets themselves (read here with `struct`, not by stunscope) and each template
capture analysed on its own.

- relay-heavy is the default generator with fixed arguments (byte for byte).
- control-heavy: every session a template replay with its own addresses, relay ports and ICE
  names, so the analyser finds as many allocations, Binding sessions and ICE sessions as the
  templates it replays hold, added up; no relayed address is held by two live allocations.
- --max-alive bounds how many sessions are alive at once, as measured on the written packets.

No timings here: the benchmark itself is scripts/bench, outside CI.
"""
import json
import os
import re
import struct
import subprocess
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("STUNSCOPE_BIN", str(ROOT / ".build" / "debug" / "stunscope"))
SYNTH_BIN = os.environ.get("STUNSCOPE_SYNTH_BIN", str(Path(BIN).parent / "stunscope-synth"))
CAPTURES = ROOT / "captures"
IDLE_HORIZON = 30.0  # seconds a session without an allocation stays alive after its last packet


def run(binary, *args, check=True):
    r = subprocess.run([binary, *map(str, args)], capture_output=True, timeout=300, cwd=ROOT)
    if check:
        assert r.returncode == 0, r.stderr.decode()
    return r


def synth(*args):
    return run(SYNTH_BIN, *args).stderr.decode()


def analyze(path, *extra):
    return json.loads(run(BIN, "analyze", "--format", "json", "--jobs", 1, *extra, path).stdout)


# What the generator replays of a template: whole, unfragmented IPv4/UDP datagrams in untagged frames.
REPLAYED = ("--filter", "ip and udp and ip[6:2] & 0x3fff = 0")


def drawn(report):
    """Template name -> times drawn, from the generator's report."""
    return {m[1]: int(m[2]) for m in re.finditer(r"^  template (.+?): .* drawn (\d+) times$", report, re.M)}


def packets(path):
    """(time in seconds, IPv4 source, IPv4 destination) of each frame of a classic
    microsecond pcap of untagged Ethernet/IPv4 frames (what the generator writes)."""
    data = Path(path).read_bytes()
    assert struct.unpack_from("<I", data, 0)[0] == 0xA1B2C3D4
    offset, out = 24, []
    while offset < len(data):
        seconds, micros, caplen, _ = struct.unpack_from("<IIII", data, offset)
        frame = data[offset + 16:offset + 16 + caplen]
        assert frame[12:14] == b"\x08\x00"
        out.append((seconds + micros / 1e6, frame[26:30], frame[30:34]))
        offset += 16 + caplen
    return out


def test_relay_heavy_is_the_default_generator_with_fixed_arguments(tmp_path):
    mix, fixed = tmp_path / "mix.pcap", tmp_path / "fixed.pcap"
    report = synth("--mix", "relay-heavy", "--packets", 4000, "-o", mix)
    assert " 0 relayed ICE checks, " in report.splitlines()[0]
    used = list(drawn(report))
    skipped = re.findall(r"^  skipped (\S+) \(relayed ICE checks\)$", report, re.M)
    # The ICE scenarios whose checks go through the relay (captures/README.md).
    assert sorted(Path(s).name for s in skipped) == [
        "ice-direct.turn-server.pcap", "ice-relay-only.turn-server.pcap",
        "ice-relay-symmetric.turn-server.pcap", "sip-ice-call.turn-server.pcap"]
    args = [a for name in used for a in ("--template", CAPTURES / name)]
    synth("--packets", 4000, "--allocations", 1300, "--relay-share", 1, *args, "-o", fixed, "--quiet")
    assert mix.read_bytes() == fixed.read_bytes()
    assert analyze(mix)["stats"]["nestedMessages"] == 0  # no STUN inside ChannelData or DATA


def test_default_mix_is_the_generator_without_a_mix(tmp_path):
    a, b = tmp_path / "a.pcap", tmp_path / "b.pcap"
    synth("--packets", 3000, "--allocations", 20, "--seed", 9, "-o", a, "--quiet")
    synth("--mix", "default", "--packets", 3000, "--allocations", 20, "--seed", 9, "-o", b, "--quiet")
    assert a.read_bytes() == b.read_bytes()


@pytest.fixture(scope="module")
def control_heavy(tmp_path_factory):
    path = tmp_path_factory.mktemp("control-heavy") / "control-heavy.pcap"
    report = synth("--mix", "control-heavy", "--sessions", 1500, "--seed", 4, "-o", path)
    return path, report, analyze(path)


def test_control_heavy_sessions_add_up_to_their_templates(control_heavy):
    """Each replay is sessions of its own: the analyser finds, for each kind, the sum over the
    drawn templates of what it finds in the part of that template the generator replays (one-shot
    Binding exchanges: one Binding session each)."""
    path, report, doc = control_heavy
    counts = drawn(report)
    first = report.splitlines()[0]
    assert re.match(r"synth: \d+ packets, 1500 sessions, ", first)
    assert sum(counts.values()) == 1500
    expected = Counter()
    for name, times in counts.items():
        if " one-shot Binding " in name:
            expected["bindings"] += times
            continue
        alone = analyze(CAPTURES / name, *REPLAYED)
        for key in ("allocations", "bindings", "iceSessions"):
            expected[key] += times * len(alone[key])
    assert all(expected[k] > 0 for k in ("allocations", "bindings", "iceSessions"))
    assert {k: len(doc[k]) for k in expected} == dict(expected)
    assert f" 1500 sessions, {expected['allocations']} allocations, " in first


def test_control_heavy_fields_stay_valid(control_heavy):
    path, _, doc = control_heavy
    assert doc["stats"]["malformed"] == 0
    lines = [json.loads(l) for l in run(BIN, "messages", "--format", "ndjson", path).stdout.splitlines()]
    stun = [l for l in lines if l.get("kind") == "stun"]
    assert stun and all(l.get("fingerprint") in (None, "valid") for l in stun)


def test_control_heavy_relayed_addresses_are_never_shared(control_heavy):
    """A relay port is taken again only after the allocation holding it was deleted or expired."""
    _, _, doc = control_heavy
    held = {}
    for a in doc["allocations"]:
        for relayed in a["relayed"]:
            held.setdefault(relayed, []).append((a["start"], a["end"] if a["end"] is not None else float("inf")))
    for spans in held.values():
        spans.sort()
        assert all(later[0] >= earlier[1] for earlier, later in zip(spans, spans[1:]))
    clients = Counter(a["client"] for a in doc["allocations"])
    assert max(clients.values()) == 1


def test_max_alive_bounds_concurrent_sessions(tmp_path):
    """decode-merge.server.pcap is one Binding client (three exchanges): each replay is one client
    address. 300 clients arriving within 10 s with room for 40: the packets show at most 40
    clients alive at once (from a client's first packet to 30 s after its last), and exactly 40."""
    out = tmp_path / "bounded.pcap"
    report = synth("--mix", "control-heavy", "--template", CAPTURES / "decode-merge.server.pcap",
                   "--sessions", 300, "--max-alive", 40, "--spread", 10, "-o", out)
    assert re.search(r"^  mix control-heavy: at most 40 sessions alive at once", report, re.M)
    span = {}
    for time, source, destination in packets(out):
        for address in (source, destination):
            if address[0] == 100 and 64 <= address[1] < 128:  # clients are in 100.64.0.0/10
                first, last = span.get(address, (time, time))
                span[address] = (min(first, time), max(last, time))
    assert len(span) == 300
    # A session ending at the instant another starts still counts as alive then.
    events = sorted([(first, 1) for first, _ in span.values()] + [(last + IDLE_HORIZON, -1) for _, last in span.values()],
                    key=lambda e: (e[0], -e[1]))
    alive = most = 0
    for _, step in events:
        alive += step
        most = max(most, alive)
    assert most == 40


def test_mix_options_are_checked():
    for args in (("--sessions", 10), ("--max-alive", 10)):
        assert run(SYNTH_BIN, "--mix", "default", *args, "-o", "/dev/null", check=False).returncode == 64
    assert run(SYNTH_BIN, "--mix", "control-heavy", "--allocations", 10, "-o", "/dev/null", check=False).returncode == 64
