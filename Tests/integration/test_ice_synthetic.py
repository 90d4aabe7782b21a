"""ICE-TCP, SIP over TCP, 487 Role Conflict, renomination and a consent gap,
on a capture built byte by byte by synth_ice.py (the expectations come from
the builder, not from stunscope)."""

import json
import os
import subprocess

import pytest

import synth_ice

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("STUNSCOPE_BIN", os.path.join(REPO, ".build", "debug", "stunscope"))

pytestmark = pytest.mark.skipif(not os.path.exists(BIN), reason=f"stunscope binary not built ({BIN})")


@pytest.fixture(scope="module")
def capture(tmp_path_factory):
    path = tmp_path_factory.mktemp("synth") / "ice-tcp-sip-tcp.pcap"
    expected = synth_ice.build(str(path))
    r = subprocess.run([BIN, "analyze", "--format", "json", str(path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    text = subprocess.run([BIN, "analyze", str(path)], capture_output=True, text=True, timeout=120).stdout
    nd = subprocess.run([BIN, "messages", "--format", "ndjson", str(path)], capture_output=True, text=True, timeout=120).stdout
    return str(path), expected, json.loads(r.stdout), text, [json.loads(x) for x in nd.splitlines() if x.strip()]


def test_session_roles_and_conflict(capture):
    _, exp, doc, _, _ = capture
    assert len(doc["iceSessions"]) == 1
    s = doc["iceSessions"][0]
    assert sorted(s["ufrags"]) == exp["ufrags"]
    assert s["controllingUfrag"] == exp["controlling"]
    assert s["roleConflicts"] == 1
    a = next(x for x in s["agents"] if x["ufrag"] == "aaaa")
    assert a["initialRole"] == "controlling" and a["role"] == "controlled"
    assert a["roleSwitches"] == [{"frame": exp["switch_frame"], "time": a["roleSwitches"][0]["time"],
                                  "from": "controlling", "to": "controlled", "conflictFrame": exp["conflict_frame"]}]
    codes = {f["code"] for f in doc["findings"]}
    assert "ice.role.conflict" in codes
    assert s["checks"] == exp["checks"]


def test_renomination_selects_the_ice_tcp_pair(capture):
    _, exp, doc, _, _ = capture
    s = doc["iceSessions"][0]
    assert s["nomination"] == exp["nomination"]
    sel = s["selectedPair"]
    local, remote, transport = exp["selected"]
    assert (sel["local"], sel["remote"]) == (local, remote)
    assert sel["nominationFrame"] == exp["renominated_frame"]
    pair = next(p for p in s["pairs"] if p["local"] == local and p["remote"] == remote)
    assert pair["transport"] == transport and pair["nominated"] and pair["state"] == "succeeded"
    assert pair["mediaPackets"] == 4
    assert s["transports"] == ["tcp", "udp"]
    assert sel["localType"] == "host" and sel["remoteType"] == "host"


def test_consent_gap(capture):
    _, exp, doc, _, _ = capture
    s = doc["iceSessions"][0]
    c = s["consent"]
    assert c["checks"] == exp["consent_checks"] and c["responses"] == exp["consent_checks"]
    assert 39.9 < c["longestGap"] < 40.2
    assert "ice.consent.gap" in {f["code"] for f in doc["findings"]}


def test_sip_over_tcp_and_integrity(capture):
    _, exp, doc, text, records = capture
    assert len(doc["sipCalls"]) == 1
    call = doc["sipCalls"][0]
    assert call["callId"] == synth_ice.CALL_ID and call["transport"] == "tcp"
    assert [m["line"].split(" ")[0] for m in call["messages"]] == exp["sip_lines"]
    assert call["messages"][0]["frame"] == exp["invite_frame"] + 1   # the segment that completes it
    assert call["iceSession"] == doc["iceSessions"][0]["id"]
    assert call["offer"]["iceOptions"] == "ice2" and call["answer"]["iceUfrag"] == "bbbb"
    assert any(c.endswith("tcptype active") for c in call["offer"]["candidates"])
    assert call["signalledCandidates"] == 4
    # The ICE-TCP active candidate is signalled with port 9 and used from an ephemeral port.
    assert "192.0.2.1:9" not in call["neverChecked"] and call["checkedCandidates"] == 4
    s = doc["iceSessions"][0]
    assert s["integrity"] == "valid"
    checks = [m for m in records if m.get("method") == "Binding"]
    assert checks and {m["integrity"] for m in checks} == {"valid"}
    for pwd in exp["passwords"]:
        assert pwd not in text and pwd not in json.dumps(doc)
    assert "ICE session 1" in text and "SIP call" in text
