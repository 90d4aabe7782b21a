"""analyze --stitch against the truth of the multi-vantage captures (issue 16).

Every scenario in captures/ was captured at several points at once (the ICE
runs at lan-a, lan-b, public and turn-server; the TURN runs at client-lan,
public and server), behind real nftables NATs whose conntrack tables the
generators saved into the truth files. Stitching those captures must report
only translations the NATs really made, the mapping behaviour the NATs were
configured with, one packet per datagram however many points saw it, clock
offsets that contain a known shift, and losses on the hop where the scenario
drops packets.
"""
from __future__ import annotations

import collections
import json
import os
import subprocess
from pathlib import Path

import pytest

from tshark import fields, stun_messages, udp_datagrams

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("STUNSCOPE_BIN", str(ROOT / ".build" / "debug" / "stunscope"))
CAPTURES = ROOT / "captures"


def scenarios() -> dict[str, list[tuple[str, Path, dict]]]:
    """Scenario -> [(vantage, capture, truth)], one capture per vantage (the format copies of one
    capture point, server-nano and the like, are the same packets and are left out)."""
    out: dict[str, dict[str, tuple[Path, dict]]] = collections.defaultdict(dict)
    for p in sorted(CAPTURES.glob("*.truth.json")):
        t = json.loads(p.read_text())
        out[t["scenario"]].setdefault(t["vantage"], (p.with_name(t["capture"]), t))
    return {s: [(v, c, t) for v, (c, t) in vs.items()] for s, vs in out.items() if len(vs) >= 2}


SCENARIOS = scenarios()
NAMES = sorted(SCENARIOS)


def stitch(vantages: list[tuple[str, Path]], fmt: str = "json", check: bool = True) -> subprocess.CompletedProcess:
    args = [BIN, "analyze", "--format", fmt]
    for name, path in vantages:
        args += ["--vantage", f"{name}={path}"]
    r = subprocess.run(args, capture_output=True, text=True, timeout=120)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def stitched(scenario: str) -> dict:
    return json.loads(stitch([(v, c) for v, c, _ in SCENARIOS[scenario]]).stdout)


def truth_nats(scenario: str) -> list[dict]:
    """The `nat` section of every vantage's truth (a LAN's truth describes its own router only)."""
    return [t.get("nat") or {} for _, _, t in SCENARIOS[scenario]]


def truth_mappings(scenario: str) -> list[dict]:
    """The conntrack entries of every NAT router, as {router, transport, inside, outside, destination}."""
    out = {}
    for nat in truth_nats(scenario):
        for m in nat.get("mappings") or []:
            if "inside" in m:
                e = {"router": m["router"], "transport": "udp", "inside": m["inside"], "outside": m["outside"],
                     "destination": m.get("destination") or m["remote"]}
            else:  # the TURN generator's spelling: one masquerading router
                e = {"router": "nat", "transport": m.get("proto", "udp"), "inside": m["lan"], "outside": m["public"],
                     "destination": m["remote"]}
            if e["inside"] != e["outside"]:  # an entry the router did not translate
                out[tuple(e.values())] = e
    return list(out.values())


def router_types(scenario: str) -> dict[str, tuple[str, str]]:
    """Router name -> (configured type, public address)."""
    out = {}
    for nat in truth_nats(scenario):
        for name, r in (nat.get("routers") or {}).items():
            out[name] = (r["type"], r["publicAddress"])
        if nat.get("router"):
            out[nat["router"]] = (nat["type"], nat["publicAddress"])
    if not out:
        mappings = truth_mappings(scenario)
        if mappings:
            # "nftables masquerade (Linux NAT, port preserving when free)"
            out["nat"] = ("port-preserving", ip_of(mappings[0]["outside"]))
    return out


def ip_of(endpoint: str) -> str:
    return endpoint.rsplit(":", 1)[0].strip("[]")


# RFC 4787 mapping behaviour each configured NAT type allows.
EXPECTED_MAPPING = {
    "port-preserving": {"endpoint-independent"},
    "symmetric": {"address-dependent", "address-and-port-dependent"},
}


@pytest.mark.parametrize("scenario", NAMES)
def test_translations_are_the_nat_tables(scenario: str):
    """Every translation reported is a conntrack entry of the router with that public
    address; every entry whose two sides some capture shows is reported."""
    doc = stitched(scenario)
    truth = truth_mappings(scenario)
    routers = router_types(scenario)
    by_public = {public: name for name, (_, public) in routers.items()}
    entries = {(m["transport"], m["inside"], m["outside"], m["destination"]): m for m in truth}
    for t in doc["natTranslations"]:
        key = (t["transport"], t["inside"], t["outside"], t["destination"])
        assert key in entries, f"{t} is not in the NAT tables"
        assert by_public.get(t["nat"]) == entries[key]["router"]

    # Which flows some capture shows, from tshark: the inside side and the outside side of each entry.
    seen = set()
    for _, capture, _ in SCENARIOS[scenario]:
        for _, src, dst, _ in udp_datagrams(str(capture)):
            seen.add((src, dst))
    reported = {(t["transport"], t["inside"], t["outside"], t["destination"]) for t in doc["natTranslations"]}
    for key, m in entries.items():
        if m["transport"] != "udp":
            continue
        inside_seen = (m["inside"], m["destination"]) in seen or (m["destination"], m["inside"]) in seen
        outside_seen = (m["outside"], m["destination"]) in seen or (m["destination"], m["outside"]) in seen
        if inside_seen and outside_seen:
            assert key in reported, f"conntrack entry {m} shows on both sides but was not reported"


@pytest.mark.parametrize("scenario", NAMES)
def test_mapping_behaviour_is_the_configured_type(scenario: str):
    doc = stitched(scenario)
    routers = router_types(scenario)
    by_public = {public: (name, kind) for name, (kind, public) in routers.items()}
    for nat in doc["nats"]:
        name, kind = by_public[nat["outsideAddress"]]
        if nat["mapping"] != "unknown":
            assert nat["mapping"] in EXPECTED_MAPPING[kind], f"{name} is {kind}, reported {nat['mapping']}: {nat['mappingEvidence']}"
    # Each NAT whose inside and outside were both captured, with one inside socket towards two
    # destinations (the ICE and STUN runs), gets a verdict.
    verdicts = {nat["outsideAddress"]: nat["mapping"] for nat in doc["nats"]}
    if scenario in ("ice-relay-symmetric", "stun-classic", "stun-rfc5780", "ice-prflx-public"):
        symmetric = [public for _, (kind, public) in routers.items() if kind == "symmetric"]
        assert symmetric and all(verdicts.get(p) in EXPECTED_MAPPING["symmetric"] for p in symmetric)


@pytest.mark.parametrize("scenario", NAMES)
def test_sightings_are_not_retransmissions(scenario: str):
    """A request seen at several points is one request: the stitched count of each plain STUN
    request equals the most copies any one capture shows on one flow (tshark's count)."""
    doc = stitched(scenario)
    most: collections.Counter = collections.Counter()
    for _, capture, _ in SCENARIOS[scenario]:
        counts: collections.Counter = collections.Counter()
        for m in stun_messages(str(capture)):
            if m.channel is None and m.msg_type is not None and (m.msg_type & 0x0110) == 0:
                counts[(m.txid, m.src, m.dst)] += 1
        for (txid, _, _), n in counts.items():
            most[txid] = max(most[txid], n)
    if not most:
        pytest.skip("tshark does not decode RFC 3489 STUN (no magic cookie): no independent count")
    plain = collections.defaultdict(bool)
    for p in doc["packets"]:
        if p.get("transactionId"):
            plain[p["transactionId"]] |= p["summary"].startswith(("ChannelData", "Send", "Data"))
    checked = 0
    for t in doc["transactions"]:
        if plain[t["transactionId"]] or t["transactionId"] not in most:
            continue  # relayed checks travel in two forms; tshark sees one
        assert t["requests"] == most[t["transactionId"]], t
        assert t["retransmissions"] == t["requests"] - 1
        checked += 1
    assert checked > 0
    # The sum over packets of sightings equals the sightings read: nothing counted twice or lost.
    assert sum(len(p["sightings"]) for p in doc["packets"]) == sum(v["sightings"] for v in doc["vantages"])


def shifted_copy(capture: Path, seconds: float, tmp_path: Path) -> Path:
    out = tmp_path / f"shifted{capture.suffix}"
    subprocess.run(["editcap", "-t", str(seconds), str(capture), str(out)], check=True, timeout=60)
    return out


@pytest.mark.parametrize("scenario,shift", [("turn-udp-channels", 3.25), ("ice-relay-symmetric", -0.8), ("turn-stale-nonce", 20.0)])
def test_known_clock_shift_is_within_the_uncertainty(scenario: str, shift: float, tmp_path: Path):
    vantages = [(v, c) for v, c, _ in SCENARIOS[scenario]]
    name, capture = vantages[-1]
    vantages[-1] = (name, shifted_copy(capture, shift, tmp_path))
    doc = json.loads(stitch(vantages).stdout)
    plain = json.loads(stitch([(v, c) for v, c, _ in SCENARIOS[scenario]]).stdout)
    v = next(x for x in doc["vantages"] if x["name"] == name)
    before = next(x for x in plain["vantages"] if x["name"] == name)
    # The captures share one clock (namespaces on one host): the true offset is the shift.
    assert abs(v["clockOffset"] - shift) <= v["uncertainty"] + 1e-9, v
    assert v["uncertainty"] < 0.005
    # Shifting a clock changes nothing else: the same packets, sightings and translations.
    assert [len(p["sightings"]) for p in doc["packets"]] == [len(p["sightings"]) for p in plain["packets"]]
    assert doc["natTranslations"] == plain["natTranslations"]
    assert abs(v["clockOffset"] - before["clockOffset"] - shift) < 1e-6


def test_offset_above_the_capture_span_is_refused(tmp_path: Path):
    vantages = [(v, c) for v, c, _ in SCENARIOS["ice-relay-symmetric"]]
    name, capture = vantages[0]
    vantages[0] = (name, shifted_copy(capture, 3600, tmp_path))
    r = stitch(vantages, check=False)
    assert r.returncode == 2
    assert "stitch refused" in r.stderr and name in r.stderr
    assert r.stdout == ""


def test_captures_that_share_nothing_are_said_to():
    r = stitch([("ice", CAPTURES / "ice-direct.lan-a.pcap"), ("turn", CAPTURES / "turn-udp-channels.client-lan.pcap")])
    doc = json.loads(r.stdout)
    assert [v["linked"] for v in doc["vantages"]] == [False, False]
    assert len(doc["notes"]) == 2 and all("shares no packet" in n for n in doc["notes"])
    assert doc["natTranslations"] == [] and all(len(p["sightings"]) == 1 for p in doc["packets"])
    assert not any(p.get("lost") for p in doc["packets"])


def test_two_calls_at_once_stitch_only_what_matches():
    """The lan-a capture of one ICE run with the public capture of another: nothing of the
    first run is on the second's wire, so nothing is stitched and no packet is called lost."""
    r = stitch([("lan-a", CAPTURES / "ice-direct.lan-a.pcap"), ("public", CAPTURES / "ice-relay-symmetric.public.pcap")])
    doc = json.loads(r.stdout)
    assert all(len(p["sightings"]) == 1 for p in doc["packets"])
    assert not any(p.get("lost") for p in doc["packets"])


def test_symmetric_nat_drops_direct_checks_on_the_right_hop():
    """ice-relay-symmetric: NAT B is symmetric, so its srflx candidate only works towards the STUN
    server; A's direct checks to it cross the public segment and die at NAT B (truth notes).
    Checks to private host candidates die at the sender's own NAT router (blackhole route)."""
    scenario = "ice-relay-symmetric"
    truth = SCENARIOS[scenario][0][2]
    agents = {a["name"]: a for a in truth["ice"]["agents"]}
    routers = router_types(scenario)
    nat_b_public = routers["nat-b"][1]
    nat_a_public = routers["nat-a"][1]
    b_srflx = [c["address"] for c in agents["b"]["candidates"] if c["type"] == "srflx"]
    a_host = [c["address"] for c in agents["a"]["candidates"] if c["type"] == "host"]
    b_host = [c["address"] for c in agents["b"]["candidates"] if c["type"] == "host"]
    doc = stitched(scenario)
    to_srflx = [p for p in doc["packets"] if p["summary"] == "Binding request"
                and any(s["vantage"] == "public" and s["destination"] in b_srflx for s in p["sightings"])]
    assert to_srflx
    for p in to_srflx:
        assert p["lost"] == {"lastSeenAt": "public", "expectedAt": "lan-b", "nat": nat_b_public}, p
    to_private = [p for p in doc["packets"] if p["sightings"][0]["destination"] in a_host + b_host
                  and p["sightings"][0]["vantage"] in ("lan-a", "lan-b") and p["summary"] == "Binding request"]
    assert to_private
    for p in to_private:
        sender = p["sightings"][0]["vantage"]
        assert p["lost"] == {"lastSeenAt": sender, "expectedAt": "public",
                             "nat": nat_a_public if sender == "lan-a" else nat_b_public}, p


def udp_payloads(capture: Path) -> dict[int, tuple[float, str]]:
    """Frame -> (epoch time, UDP payload in hex), from tshark."""
    rows = fields(str(capture), ["frame.number", "frame.time_epoch", "udp.payload"], display_filter="udp and not icmp and not icmpv6")
    return {int(r[0]): (float(r[1]), r[2].replace(":", "")) for r in rows if len(r) > 2 and r[2]}


@pytest.mark.parametrize("scenario", NAMES)
def test_every_loss_is_absent_where_it_was_expected(scenario: str):
    """No false loss: the bytes of every packet called lost appear nowhere near its time (100 ms;
    the captures share the host's clock) in the capture of the vantage point that should have
    seen it (tshark's payloads; a retransmission, same bytes, may arrive later), and the TURN runs, where
    nothing is dropped between the client's LAN and the server, report no loss at all."""
    doc = stitched(scenario)
    files = {v: c for v, c, _ in SCENARIOS[scenario]}
    payloads = {v: udp_payloads(c) for v, c in files.items()}
    lost = [p for p in doc["packets"] if p.get("lost")]
    for p in lost:
        last = next(s for s in reversed(p["sightings"]) if s["vantage"] == p["lost"]["lastSeenAt"])
        sent = payloads[last["vantage"]].get(last["frame"])
        if sent is None:
            continue  # TCP: not a datagram
        near = [f for f, (t, b) in payloads[p["lost"]["expectedAt"]].items() if b == sent[1] and abs(t - sent[0]) < 0.1]
        assert near == [], p
    if scenario.startswith("turn-"):
        assert lost == []


def test_text_and_mermaid_show_the_lanes():
    vantages = [(v, c) for v, c, _ in SCENARIOS["ice-relay-symmetric"]]
    text = stitch(vantages, fmt="text").stdout
    header = next(line for line in text.splitlines() if line.strip().startswith("time"))
    for name, _ in vantages:
        assert name in header
    assert "lost between public and lan-b (NAT 203.0.113.3)" in text
    assert "mapping: address-and-port-dependent" in text
    mermaid = stitch(vantages, fmt="mermaid").stdout
    assert mermaid.startswith("sequenceDiagram\n")
    assert mermaid.count("participant ") == len(vantages)
    assert "-x" in mermaid


@pytest.mark.parametrize("scenario", ["ice-relay-symmetric", "turn-xss-strings", "sip-ice-call"])
def test_export_html_json_and_mermaid(scenario: str, tmp_path: Path):
    """export --stitch writes the same document as analyze --stitch (json), a self-contained page
    whose ladder has a lane per vantage point and per NAT (html), and the sequence diagram."""
    vantages = [(v, c) for v, c, _ in SCENARIOS[scenario]]
    args = []
    for name, path in vantages:
        args += ["--vantage", f"{name}={path}"]
    analyzed = json.loads(stitch(vantages).stdout)
    for fmt in ("json", "html", "mermaid"):
        out = tmp_path / f"stitch.{fmt}"
        r = subprocess.run([BIN, "export", "--format", fmt, "--output", str(out)] + args, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        text = out.read_text()
        if fmt == "json":
            assert json.loads(text) == analyzed
        elif fmt == "html":
            assert text.count("<script") == 1 and "<script nonce=" in text
            assert "default-src 'none'" in text
            heads = text.count('class="lane-head')
            assert heads == len(vantages) + len(analyzed["nats"])
            for nat in analyzed["nats"]:
                assert f">{nat['outsideAddress']}</text>" in text
        else:
            assert text.startswith("sequenceDiagram\n")
    r = subprocess.run([BIN, "export", "--format", "csv", "--output", str(tmp_path / "x")] + args, capture_output=True, text=True)
    assert r.returncode != 0 and "json, html or mermaid" in r.stderr
