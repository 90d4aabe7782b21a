"""`stunscope live` against real peers on loopback (issue 8) and under replayed load (issue 15).

coturn (turnserver) and turnutils_peer run on loopback on private ports;
turnutils_uclient makes allocations, channels and relayed traffic while
`stunscope live -i lo` watches. The live summary is compared with coturn's
own verbose log, /metrics is scraped during the run, and the --write file is
checked with tshark. A generated TURN-server capture replayed on lo with
tcpreplay must be captured whole (no kernel drop, nothing shed) and analysed
to the same message counts as the file. Needs root (live capture), coturn or
tcpreplay; each test is skipped without what it needs.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("STUNSCOPE_BIN", str(ROOT / ".build" / "debug" / "stunscope"))
SYNTH_BIN = os.environ.get("STUNSCOPE_SYNTH_BIN", str(Path(BIN).parent / "stunscope-synth"))

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="live capture needs root")
needs_coturn = pytest.mark.skipif(not shutil.which("turnserver") or not shutil.which("turnutils_uclient"),
                                  reason="coturn not installed")

TURN_PORT = 34_878
PEER_PORT = 34_890
METRICS_PORT = 19_471
RELAY_MIN, RELAY_MAX = 51_000, 51_100
FILTER = f"udp port {TURN_PORT} or udp portrange {RELAY_MIN}-{RELAY_MAX} or udp port {PEER_PORT} or udp port {PEER_PORT + 1}"


def _kill(proc: subprocess.Popen | None, sig=signal.SIGTERM):
    if proc and proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture()
def coturn(tmp_path):
    log = tmp_path / "coturn.log"
    pidfile = tmp_path / "turnserver.pid"
    server = subprocess.Popen([
        "turnserver", "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1",
        f"--listening-port={TURN_PORT}", "--lt-cred-mech", "--user=alice:secret", "--realm=example.org",
        "--no-cli", "--no-tls", "--no-dtls", "--allow-loopback-peers", f"--pidfile={pidfile}",
        f"--log-file={log}", "--simple-log", "-V", f"--min-port={RELAY_MIN}", f"--max-port={RELAY_MAX}",
    ], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peer = subprocess.Popen(["turnutils_peer", "-p", str(PEER_PORT), "-L", "127.0.0.1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    try:
        yield log
    finally:
        _kill(peer)
        _kill(server)


def _coturn_facts(log: Path) -> dict:
    text = log.read_text(errors="replace")
    relayed = set(re.findall(r"Local relay addr(?: \(RTCP\))?: (\S+)", text))
    sessions = set(re.findall(r"session (\d+): new,", text))
    channel_binds = len(re.findall(r"incoming packet CHANNEL_BIND processed, success", text))
    # Every lifetime coturn granted per session: at creation, then each refresh (0 = deleted).
    lifetimes: dict[str, list[int]] = {}
    for sid, what, life in re.findall(r"session (\d+): (new|refreshed), .*lifetime=(\d+)", text):
        lifetimes.setdefault(sid, []).append(int(life))
    return {"relayed": relayed, "sessions": len(sessions), "channelBinds": channel_binds,
            "lifetimes": sorted(lifetimes.values())}


def _allocate_lifetime(allocation: dict) -> int:
    for e in allocation["timeline"]:
        if e["event"] == "Allocate success":
            return int(re.search(r"lifetime (\d+) s", e["detail"]).group(1))
    raise AssertionError("no Allocate success in the timeline")


def _scrape() -> dict[str, float]:
    body = urllib.request.urlopen(f"http://127.0.0.1:{METRICS_PORT}/metrics", timeout=3).read().decode()
    values: dict[str, float] = {}
    for line in body.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, _, value = line.rpartition(" ")
        values[name] = float(value)
    return values


@needs_coturn
def test_live_summary_metrics_and_write_agree_with_coturn(coturn, tmp_path):
    written = tmp_path / "live.pcap"
    live = subprocess.Popen([BIN, "live", "-i", "lo", "--filter", FILTER, "--duration", "12", "--format", "ndjson",
                             "--write", str(written), "--metrics", f"127.0.0.1:{METRICS_PORT}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.5)
        client = subprocess.run(["timeout", "15", "turnutils_uclient", "-p", str(TURN_PORT), "-e", "127.0.0.1",
                                 "-r", str(PEER_PORT), "-u", "alice", "-w", "secret", "-n", "10", "-m", "2", "-v",
                                 "127.0.0.1"], capture_output=True, text=True)
        assert "Received relay addr" in client.stdout + client.stderr or client.returncode == 0
        time.sleep(1.0)
        metrics = _scrape()
        out, err = live.communicate(timeout=30)
    finally:
        _kill(live)
    assert live.returncode == 0, err
    lines = [json.loads(l) for l in out.splitlines() if l.strip()]
    events = [l for l in lines if l.get("type") == "event"]
    allocations = [l for l in lines if l.get("type") == "allocation"]
    facts = _coturn_facts(coturn)

    # Allocations and relayed addresses: exactly coturn's sessions.
    assert len(allocations) == facts["sessions"] > 0
    ours = {r for a in allocations for r in a["relayed"]}
    assert ours == facts["relayed"]
    granted = sorted([_allocate_lifetime(a)] + a["refreshes"] for a in allocations)
    assert granted == facts["lifetimes"]
    for a in allocations:
        assert a["outcome"] == ("deleted" if a["refreshes"][-1:] == [0] else "active")
    assert sum(1 for e in events if e["kind"] == "allocation.created") == facts["sessions"]
    # Every successful ChannelBind coturn processed is a bind or re-bind in the summary.
    binds = sum(len(a["channels"]) + sum(c["refreshes"] for c in a["channels"]) for a in allocations)
    assert binds == facts["channelBinds"] > 0
    assert sum(1 for e in events if e["kind"] == "channel.bound") == facts["channelBinds"]

    # Metrics scraped during the run.
    # The client had finished (and deleted some allocations) before the scrape.
    still_alive = facts["sessions"] - sum(1 for l in facts["lifetimes"] if l[-1] == 0)
    assert metrics["stunscope_allocations_active"] == still_alive == sum(a["outcome"] == "active" for a in allocations)
    channeldata = sum(a["traffic"]["channelDataToServer"] + a["traffic"]["channelDataFromServer"] for a in allocations)
    assert metrics.get("turn_traffic_channeldata_total", 0) == channeldata > 0
    assert metrics['stunscope_requests_total{method="Allocate"}'] == sum(
        1 for a in allocations for e in a["timeline"] if e["event"] == "Allocate request")

    # The --write file holds exactly the packets reported.
    captured = int(re.search(r"captured (\d+) packets", err).group(1))
    count = subprocess.run(["capinfos", "-c", "-M", str(written)], capture_output=True, text=True).stdout
    assert int(re.search(r"Number of packets:\s+(\d+)", count).group(1)) == captured
    tshark = subprocess.run(["tshark", "-r", str(written), "-Y", "stun || turnchannel"], capture_output=True, text=True)
    assert tshark.returncode == 0
    assert len(tshark.stdout.splitlines()) > 0


def test_sigint_prints_final_summary_and_exits_zero():
    live = subprocess.Popen([BIN, "live", "-i", "lo", "--filter", "udp port 9"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    live.send_signal(signal.SIGINT)
    out, err = live.communicate(timeout=10)
    assert live.returncode == 0
    assert "StunScope analysis of live:lo" in out
    assert "captured 0 packets on lo" in err


def test_bad_interface_bad_filter_and_bad_buffer_size():
    bad = subprocess.run([BIN, "live", "-i", "nosuchif0", "--duration", "1"], capture_output=True, text=True, timeout=10)
    assert bad.returncode == 3
    assert "no such interface" in bad.stderr
    flt = subprocess.run([BIN, "live", "-i", "lo", "--filter", "udp porrt 3", "--duration", "1"],
                         capture_output=True, text=True, timeout=10)
    assert flt.returncode == 2
    assert "can't parse filter expression" in flt.stderr
    for size in ("0", "2048"):
        buf = subprocess.run([BIN, "live", "-i", "lo", "--buffer-size", size, "--duration", "1"],
                             capture_output=True, text=True, timeout=10)
        assert buf.returncode == 64
        assert "--buffer-size must be 1 to 2047 MiB" in buf.stderr


def test_interfaces_lists_loopback():
    r = subprocess.run([BIN, "interfaces"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0
    assert re.search(r"^lo\s+\[[^]]*loopback", r.stdout, re.M)


# Every packet stunscope-synth writes has a client or peer address in 100.64.0.0/10: the
# filter keeps other loopback traffic (other tests, other tools) out of the counts.
REPLAY_FILTER = "udp and net 100.64.0.0/10"
REPLAY_PACKETS = 20_000
REPLAY_PPS = 10_000
# What depends only on which packets were analysed, not on when they arrived (the replay
# compresses the capture's 60 s; transactions and retransmissions depend on the timing).
TIMING_FREE_STATS = ["packets", "stunMessages", "nestedMessages", "classicStunMessages", "channelDataFrames",
                     "malformed", "icmpErrors", "messagesByMethod", "errorCodes"]


@pytest.mark.skipif(not shutil.which("tcpreplay"), reason="tcpreplay not installed")
def test_replayed_capture_is_captured_whole_and_analysed_as_the_file(tmp_path):
    capture = tmp_path / "replay.pcap"
    subprocess.run([SYNTH_BIN, "--captures", str(ROOT / "captures"), "--packets", str(REPLAY_PACKETS),
                    "--allocations", "40", "--seed", "3", "-o", str(capture), "--quiet"], check=True, timeout=120)
    info = subprocess.run(["capinfos", "-c", "-M", str(capture)], capture_output=True, text=True, check=True).stdout
    packets = int(re.search(r"Number of packets:\s+(\d+)", info).group(1))
    assert packets == REPLAY_PACKETS
    truth = json.loads(subprocess.run([BIN, "analyze", str(capture), "--format", "json"], capture_output=True,
                                      text=True, check=True, timeout=120).stdout)["stats"]

    live = subprocess.Popen([BIN, "live", "-i", "lo", "--filter", REPLAY_FILTER, "--duration", "30",
                             "--format", "ndjson"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.5)
        replay = subprocess.run(["timeout", "20", "tcpreplay", "-i", "lo", "--pps", str(REPLAY_PPS), str(capture)],
                                capture_output=True, text=True)
        assert replay.returncode == 0, replay.stdout + replay.stderr
        assert re.search(rf"Actual: {packets} packets", replay.stdout), replay.stdout
        time.sleep(0.5)
        live.send_signal(signal.SIGINT)
        out, err = live.communicate(timeout=30)
    finally:
        _kill(live)
    assert live.returncode == 0, err

    counters = re.search(r"captured (\d+) packets on lo; libpcap received (\d+), dropped (\d+) \(interface dropped \d+\); "
                         r"analysed (\d+); analysis shed (\d+)", err)
    assert counters, err
    captured, received, dropped, analysed, shed = map(int, counters.groups())
    assert (dropped, shed) == (0, 0)
    assert captured == analysed == packets
    # On lo the kernel hands libpcap each packet twice (sent and received) and libpcap keeps one.
    assert received == 2 * packets

    summary = next(json.loads(l) for l in out.splitlines() if '"type":"capture"' in l)
    assert summary["packets"] == packets
    assert {k: summary["stats"][k] for k in TIMING_FREE_STATS} == {k: truth[k] for k in TIMING_FREE_STATS}
