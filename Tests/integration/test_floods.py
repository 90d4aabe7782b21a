"""Floods (docs/SECURITY.md): adversarial captures that overrun every
bounded table, from Tests/integration/floods.py, run through `analyze`.

Each run must stay under the documented peak-RSS cap (256 MiB, measured
by GNU time's %M for the stunscope process alone), finish within its time
limit, and say what it evicted: `stats.evicted` in the JSON document counts
at least everything beyond the cap, and the `capture.state.evicted` finding
(shown by the text output too) is there.

  transactions  1,000,000 unanswered Binding requests, 62,500 client flows
                (caps: 100,000 pending transactions, 20,000 Binding sessions)
  allocations   100,000 allocations (cap 20,000)
  turnrequests  300,000 unanswered Refresh/CreatePermission/ChannelBind
                requests and 150,000 permissions on ONE allocation
                (per-allocation caps: 256 open requests, 4,096 permissions/peers)
  tcp           100,000 TCP connections, each with a gap and a buffered
                segment (caps: 65,536 connections, 64 MiB out-of-order bytes)
  fragments     1,000,000 first fragments that never complete (cap 4,096)

These run only when STUNSCOPE_FLOODS=1 (CI's flood step in .ci/run, with the
optimised binary users run: under a minute, against a few minutes with the
debug one), so the README's test command stays fast.
STUNSCOPE_FLOOD_SCALE=0.25 shrinks every flood (each still at least twice
its cap except `transactions`).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import floods  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("STUNSCOPE_BIN", os.path.join(REPO, ".build", "debug", "stunscope"))
SCALE = float(os.environ.get("STUNSCOPE_FLOOD_SCALE", "1"))
RSS_CAP_MIB = 256
TIME_LIMIT = int(os.environ.get("STUNSCOPE_FLOOD_TIMEOUT", "600"))

pytestmark = [
    pytest.mark.skipif(os.environ.get("STUNSCOPE_FLOODS") != "1",
                       reason="floods run in CI's flood step (STUNSCOPE_FLOODS=1, see .ci/run)"),
    pytest.mark.skipif(not os.access(BIN, os.X_OK), reason=f"stunscope binary not built: {BIN}"),
    pytest.mark.skipif(not os.access("/usr/bin/time", os.X_OK), reason="GNU time (Debian package 'time') measures peak RSS"),
]

# kind: (count, {evicted counter: minimum evicted at full scale (count - cap)})
FLOODS = {
    "transactions": (1_000_000, {"transactions": 1_000_000 - 100_000, "bindings": 62_500 - 20_000}),
    "allocations": (100_000, {"allocations": 100_000 - 20_000}),
    "turnrequests": (300_000, {"allocationDetail": 300_000 - 256}),
    "tcp": (100_000, {"tcpStreams": 100_000 - 65_536}),
    "fragments": (1_000_000, {"ipFragments": 1_000_000 - 4_096}),
}


TIME = "/usr/bin/time"


def measure(args, out_path):
    """Runs stunscope under GNU time; returns (exit status, seconds, peak RSS in MiB, stderr).

    wait4's ru_maxrss from this (big) Python process would count the RSS the child
    inherited at fork (Linux keeps the pre-exec high-water mark), so the child is
    forked by the small `time` process instead.
    """
    start = time.monotonic()
    with open(out_path, "wb") as out, open(out_path + ".rss", "w") as rss_file:
        p = subprocess.Popen([TIME, "-f", "%M", "-o", rss_file.name, BIN] + args, stdout=out, stderr=subprocess.PIPE)
        try:
            _, stderr = p.communicate(timeout=TIME_LIMIT)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            pytest.fail(f"{args} did not finish in {TIME_LIMIT} s")
    elapsed = time.monotonic() - start
    with open(out_path + ".rss") as f:
        kib = int(f.read().split()[-1])
    return p.returncode, elapsed, kib / 1024, stderr.decode(errors="replace")


@pytest.fixture(scope="module")
def flood_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("floods")


@pytest.mark.parametrize("kind", list(FLOODS))
def test_flood_stays_bounded_and_reports_evictions(kind, flood_dir):
    count, expected = FLOODS[kind]
    n = max(1, int(count * SCALE))
    pcap = str(flood_dir / f"{kind}.pcap")
    packets = floods.generate(kind, n, pcap)
    out = str(flood_dir / f"{kind}.json")
    status, seconds, rss, stderr = measure(["analyze", "--format", "json", pcap], out)
    with open(out) as f:
        doc = json.load(f)
    evicted = doc["stats"]["evicted"]
    print(f"\nflood {kind}: {n} items, {packets} packets, {seconds:.1f} s, peak RSS {rss:.0f} MiB, evicted {evicted}")
    assert status == 0, stderr
    assert doc["stats"]["packets"] == packets
    assert rss < RSS_CAP_MIB, f"{kind}: peak RSS {rss:.0f} MiB >= {RSS_CAP_MIB} MiB"
    for counter, full_scale_minimum in expected.items():
        cap = count - full_scale_minimum
        minimum = max(0, n - cap) if counter != "bindings" else max(0, n // 16 - 20_000)
        assert evicted.get(counter, 0) >= minimum, f"{kind}: evicted.{counter} = {evicted.get(counter)}, expected >= {minimum}"
    if sum(v for v in evicted.values() if isinstance(v, int)) > 0:
        codes = [f["code"] for f in doc["findings"]]
        assert "capture.state.evicted" in codes, f"{kind}: evictions not reported as a finding"


def test_text_output_says_what_was_evicted(flood_dir):
    pcap = str(flood_dir / "fragments-small.pcap")
    floods.generate("fragments", 20_000, pcap)
    r = subprocess.run([BIN, "analyze", pcap], capture_output=True, timeout=TIME_LIMIT)
    assert r.returncode == 0, r.stderr
    text = r.stdout.decode()
    assert "capture.state.evicted" in text and "incomplete IP datagrams" in text, text[:2000]


def test_messages_says_what_its_tables_forgot(flood_dir):
    pcap = str(flood_dir / "tcp-small.pcap")
    floods.generate("tcp", 70_000, pcap)
    r = subprocess.run([BIN, "messages", "--format", "ndjson", pcap], capture_output=True, timeout=TIME_LIMIT)
    assert r.returncode == 0, r.stderr
    note = [l for l in r.stderr.decode().splitlines() if "bounded tables forgot" in l]
    assert note and " 0 TCP streams" not in note[0], r.stderr[:500]
