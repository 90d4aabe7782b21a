"""ICE reconstruction and SIP/SDP correlation against independent oracles.

1. The ICE captures in captures/ (ice-direct, ice-relay-symmetric,
   ice-prflx-public, sip-ice-call, at every vantage point) against their
   *.truth.json, written from aioice's own state: `stunscope analyze
   --format json` must give the selected pair (as the wire shows it at this
   vantage point), its candidate types, the controlling agent, the
   nomination mode and the peer-reflexive candidates that aioice reported,
   or say in the session's `visibility` that this vantage point could not
   see them.
2. The SIP capture: the call (Call-ID) is tied to its ICE session by the
   ufrags, signalled vs checked candidates add up, and every check and
   response verifies (`integrity: valid`) with the ice-pwd from the SDP in
   `stunscope messages --format ndjson`; a wrong password given with
   `--credentials` or `--sdp` makes them `invalid`.
3. Public captures with ICE checks: sessions, candidate pairs, checks,
   responses and retransmissions counted by tshark (not by stunscope).

Run from the repository root: python3 -m pytest Tests/integration
"""

import collections
import glob
import json
import os
import shutil
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("STUNSCOPE_BIN", os.path.join(REPO, ".build", "debug", "stunscope"))
SHARED = os.environ.get("STUNSCOPE_SHARED_CAPTURES",
                        os.path.normpath(os.path.join(REPO, "..", "shared", "captures")))
CAPTURES = os.path.join(REPO, "captures")

need_bin = pytest.mark.skipif(not os.path.exists(BIN), reason=f"stunscope binary not built ({BIN})")
need_tshark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")


def _ice_truths():
    out = []
    for p in sorted(glob.glob(os.path.join(CAPTURES, "*.truth.json"))):
        with open(p) as f:
            t = json.load(f)
        if "ice" in t:
            out.append(p)
    return out


ICE_TRUTHS = _ice_truths()
SIP_TRUTHS = [p for p in ICE_TRUTHS if "sip" in json.load(open(p))]


def _truth(path):
    with open(path) as f:
        return json.load(f)


def _capture(truth_path, truth):
    return os.path.join(CAPTURES, truth["capture"])


_cache = {}


def analyze(capture, *args):
    key = (capture, args)
    if key not in _cache:
        r = subprocess.run([BIN, "analyze", "--format", "json", *args, capture],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        _cache[key] = json.loads(r.stdout)
    return _cache[key]


def messages(capture, *args):
    r = subprocess.run([BIN, "messages", "--format", "ndjson", *args, capture],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


def agents(truth):
    return {a["name"]: a for a in truth["ice"]["agents"]}


def session_for(doc, truth):
    ufrags = sorted(a["ufrag"] for a in truth["ice"]["agents"])
    found = [s for s in doc["iceSessions"] if sorted(s["ufrags"]) == ufrags]
    assert len(found) == 1, f"expected one ICE session with ufrags {ufrags}, got {[s['ufrags'] for s in doc['iceSessions']]}"
    return found[0]


def says(session, *words):
    """Whether one visibility sentence mentions all the words."""
    return any(all(w in v for w in words) for v in session["visibility"])


def _id(path):
    return os.path.basename(path).replace(".truth.json", "")


# ---------------------------------------------------------------- 1. truth


@need_bin
@pytest.mark.parametrize("truth_path", ICE_TRUTHS, ids=_id)
def test_controlling_agent(truth_path):
    t = _truth(truth_path)
    s = session_for(analyze(_capture(truth_path, t)), t)
    expected = agents(t)[t["ice"]["controlling"]]["ufrag"]
    if s.get("controllingUfrag") is None:
        assert says(s, "roles unknown"), s["visibility"]
        return
    assert s["controllingUfrag"] == expected
    # The controlling endpoint is that agent's side of the pairs.
    assert s["controlling"] in next(a for a in s["agents"] if a["ufrag"] == expected)["addresses"]


@need_bin
@pytest.mark.parametrize("truth_path", ICE_TRUTHS, ids=_id)
def test_nomination_mode(truth_path):
    t = _truth(truth_path)
    s = session_for(analyze(_capture(truth_path, t)), t)
    if s["nomination"] == "none":
        assert t["ice"]["nomination"] != "none"
        assert says(s, "nomination:"), s["visibility"]
    else:
        assert s["nomination"] == t["ice"]["nomination"]


def _accepted_selected_addresses(t):
    """The selected pair as the wire can show it, local = controlling side."""
    ice = t["ice"]
    sel, selb = ice["selectedPair"], ice["selectedPairB"]
    ok = {(sel["local"], sel["remote"]), (selb["remote"], selb["local"])}
    for c in ice["selectedPairChecks"]:
        if c["encapsulation"] == "none":
            ok.add((c["src"], c["dst"]) if c["from"] == ice["controlling"] else (c["dst"], c["src"]))
    return ok


@need_bin
@pytest.mark.parametrize("truth_path", ICE_TRUTHS, ids=_id)
def test_selected_pair_and_types(truth_path):
    t = _truth(truth_path)
    s = session_for(analyze(_capture(truth_path, t)), t)
    ice = t["ice"]
    got = s.get("selectedPair")
    if not ice["selectedPairChecks"]:
        # aioice's selected pair never passed this vantage point.
        assert got is None, got
        assert says(s, "selected pair"), s["visibility"]
        return
    assert got is not None, s["visibility"]
    assert (got["local"], got["remote"]) in _accepted_selected_addresses(t)
    assert got["viaRelay"] == ice["relayed"] or not ice["relayed"] and got["viaRelay"] is False
    sel, selb = ice["selectedPair"], ice["selectedPairB"]
    # Types as the controlling agent sees the pair, then as the controlled agent does.
    checks = [("localType", sel["localType"], got["local"]), ("remoteType", sel["remoteType"], got["remote"]),
              ("controlledLocalType", selb["localType"], got["remote"]),
              ("controlledRemoteType", selb["remoteType"], got["local"])]
    for field, want, address in checks:
        if got[field] != want:
            # Only where the output says it cannot tell (srflx vs host after the NAT).
            assert says(s, "cannot be told apart", address), (field, got[field], want, s["visibility"])


@need_bin
@pytest.mark.parametrize("truth_path", ICE_TRUTHS, ids=_id)
def test_prflx_candidates(truth_path):
    t = _truth(truth_path)
    s = session_for(analyze(_capture(truth_path, t)), t)
    expected = {c for a in t["ice"]["agents"] for c in a["prflxRemoteCandidates"]}
    got = {c["address"] for c in s["candidates"] if c["type"] == "prflx"}
    assert got <= expected, f"prflx candidates aioice never learnt: {got - expected}"
    for c in s["candidates"]:
        if c["type"] == "prflx":
            assert c.get("reason") in ("symmetric-nat", "nested-nat", "unknown-nat", "unsignalled"), c
            assert c.get("explanation")
            owner = next(a for a in t["ice"]["agents"] if a["ufrag"] == c["agent"])
            learner = next(a for a in t["ice"]["agents"] if a["ufrag"] == c.get("learntBy"))
            assert c["address"] in learner["prflxRemoteCandidates"] and owner is not learner
    if got != expected:
        assert s.get("selectedPair") is None or says(s, "peer-reflexive"), s["visibility"]


@need_bin
@pytest.mark.parametrize("truth_path", ICE_TRUTHS, ids=_id)
def test_candidate_types_match_agents(truth_path):
    """Every host/srflx/relay candidate stunscope lists with a type is, for
    the agent it names, a candidate aioice had with that type."""
    t = _truth(truth_path)
    s = session_for(analyze(_capture(truth_path, t)), t)
    by_agent = {a["ufrag"]: a for a in t["ice"]["agents"]}
    for c in s["candidates"]:
        if c["type"] not in ("host", "srflx", "relay"):
            continue
        owner = by_agent[c["agent"]]
        types = {x["type"] for x in owner["candidates"] if x["address"] == c["address"]}
        if not types:
            # Not a candidate of this agent: must be one of its sockets (e.g. the TURN client socket).
            assert any(x["socket"] == c["address"] for x in owner["sockets"]) or says(s, c["address"]), c
            continue
        if c["type"] not in types:
            assert says(s, "cannot be told apart", c["address"]), (c, types)


@need_bin
@pytest.mark.parametrize("truth_path", ICE_TRUTHS, ids=_id)
def test_selected_pair_carries_the_data(truth_path):
    t = _truth(truth_path)
    s = session_for(analyze(_capture(truth_path, t)), t)
    if s.get("selectedPair") is None:
        return
    sel = s.get("selectedPair")
    pair = next(p for p in s["pairs"] if p["local"] == sel["local"] and p["remote"] == sel["remote"])
    assert pair["nominated"] and pair["state"] == "succeeded"
    data = t["ice"]["dataPackets"]
    assert pair["mediaPackets"] == data["aToB"] + data["bToA"]
    assert s.get("connectTime") is not None and 0 <= s["connectTime"] < 5
    assert s.get("firstMediaTime") is not None


# ---------------------------------------------------------------- 2. SIP


def _sip_visible(t):
    return t["sip"].get("visible", True) and t["vantage"] != "turn-server"


@need_bin
@pytest.mark.parametrize("truth_path", SIP_TRUTHS, ids=_id)
def test_sip_call_tied_to_ice_session(truth_path):
    t = _truth(truth_path)
    doc = analyze(_capture(truth_path, t))
    sip = t["sip"]
    calls = [c for c in doc["sipCalls"] if c["callId"] == sip["callId"]]
    if not _sip_visible(t):
        assert not calls
        return
    assert len(calls) == 1
    call = calls[0]
    assert [m["line"].split(" ")[0] for m in call["messages"]] == sip["messages"]
    s = session_for(doc, t)
    assert call.get("iceSession") == s["id"] and s.get("call") == sip["callId"]
    assert call["offer"]["iceUfrag"] == sip["offer"]["ufrag"] and call["offer"]["hasIcePwd"]
    assert call["answer"]["iceUfrag"] == sip["answer"]["ufrag"] and call["answer"]["hasIcePwd"]
    # Signalled vs checked.
    signalled = [" ".join(c.split()[4:6]) for c in sip["offer"]["candidates"] + sip["answer"]["candidates"]]
    signalled = [a.replace(" ", ":") for a in signalled]
    assert sorted(c["address"] for c in call["candidates"]) == sorted(signalled)
    assert call["signalledCandidates"] == len(signalled)
    assert call["checkedCandidates"] + len(call["neverChecked"]) == len(signalled)
    checked = {c["address"] for c in call["candidates"] if c["checked"]}
    sel = s.get("selectedPair")
    assert sel["local"] in checked or sel["remote"] in checked
    # The types of the session's candidates come from the SDP.
    for c in s["candidates"]:
        if c["source"] == "signalled":
            assert c["address"] in signalled


def _checks_and_responses(records):
    checks = [m for m in records if m.get("kind") == "stun" and m["method"] == "Binding" and m["class"] == "request"
              and any(a["name"] == "USERNAME" and ":" in str(a.get("value", "")) for a in m["attributes"])]
    ids = {m["transactionId"] for m in checks}
    responses = [m for m in records if m.get("kind") == "stun" and m["method"] == "Binding"
                 and m["class"] in ("success", "error") and m["transactionId"] in ids]
    return checks, responses


@need_bin
@pytest.mark.parametrize("truth_path", SIP_TRUTHS, ids=_id)
def test_sip_sdp_verifies_every_check(truth_path):
    t = _truth(truth_path)
    if not _sip_visible(t):
        pytest.skip("no SIP at this vantage point")
    checks, responses = _checks_and_responses(messages(_capture(truth_path, t)))
    assert checks and responses
    assert {m["integrity"] for m in checks + responses} == {"valid"}
    s = session_for(analyze(_capture(truth_path, t)), t)
    assert s.get("integrity") == "valid"


@need_bin
@pytest.mark.parametrize("truth_path", SIP_TRUTHS, ids=_id)
def test_wrong_password_is_invalid(truth_path, tmp_path):
    t = _truth(truth_path)
    if not _sip_visible(t):
        pytest.skip("no SIP at this vantage point")
    capture = _capture(truth_path, t)
    creds = tmp_path / "wrong.txt"
    creds.write_text("".join(f"{a['ufrag']}:not-the-password-{a['name']}\n" for a in t["ice"]["agents"]))
    checks, responses = _checks_and_responses(messages(capture, "--credentials", str(creds)))
    assert {m["integrity"] for m in checks + responses} == {"invalid"}
    sdp = tmp_path / "wrong.sdp"
    sdp.write_text("".join(f"v=0\r\nm=audio 9 RTP/AVP 0\r\na=ice-ufrag:{a['ufrag']}\r\na=ice-pwd:wrongwrongwrongwrong{a['name']}\r\n"
                           for a in t["ice"]["agents"]))
    checks, responses = _checks_and_responses(messages(capture, "--sdp", str(sdp)))
    assert {m["integrity"] for m in checks + responses} == {"invalid"}
    s = session_for(analyze(capture, "--sdp", str(sdp)), t)
    assert s.get("integrity") == "invalid"
    # The password never appears in the output.
    out = subprocess.run([BIN, "analyze", capture], capture_output=True, text=True).stdout
    for a in t["ice"]["agents"]:
        assert a["pwd"] not in out
    assert a["pwd"] not in json.dumps(analyze(capture))


@need_bin
@pytest.mark.parametrize("truth_path", [p for p in ICE_TRUTHS if p not in SIP_TRUTHS], ids=_id)
def test_sdp_file_signals_candidates_and_passwords(truth_path, tmp_path):
    """--sdp with the agents' real offer/answer (from the truth file): checks
    verify, and the candidates become `signalled` with aioice's types."""
    t = _truth(truth_path)
    capture = _capture(truth_path, t)
    files = []
    for a in t["ice"]["agents"]:
        lines = ["v=0", f"o=- 1 1 IN IP4 {a['candidates'][0]['address'].rsplit(':', 1)[0]}", "s=-", "t=0 0",
                 "m=audio 9 RTP/AVP 0", f"a=ice-ufrag:{a['ufrag']}", f"a=ice-pwd:{a['pwd']}"]
        for c in a["candidates"]:
            ip, port = c["address"].rsplit(":", 1)
            line = f"a=candidate:{c['foundation']} 1 udp {c['priority']} {ip} {port} typ {c['type']}"
            if c.get("relatedAddress"):
                rip, rport = c["relatedAddress"].rsplit(":", 1)
                line += f" raddr {rip} rport {rport}"
            lines.append(line)
        f = tmp_path / f"{a['name']}.sdp"
        f.write_text("\r\n".join(lines) + "\r\n")
        files += ["--sdp", str(f)]
    s = session_for(analyze(capture, *files), t)
    assert s.get("integrity") == "valid"
    checks, responses = _checks_and_responses(messages(capture, *files))
    assert {m["integrity"] for m in checks + responses} == {"valid"}
    signalled = {c["address"]: c for c in s["candidates"] if c["source"] == "signalled"}
    for a in t["ice"]["agents"]:
        for c in a["candidates"]:
            if c["address"] in signalled and signalled[c["address"]]["agent"] == a["ufrag"]:
                assert signalled[c["address"]]["type"] in {x["type"] for x in a["candidates"] if x["address"] == c["address"]}
    assert signalled, "no candidate came from --sdp"
    # With every agent's SDP known, an address no SDP signalled is never srflx (RFC 8445 7.2.5.3.1 /
    # 7.3.1.3: it is peer-reflexive, or a host address), in the candidate list and in the pairs.
    sdp_addresses = {c["address"] for a in t["ice"]["agents"] for c in a["candidates"]}
    for c in s["candidates"]:
        if c["type"] == "srflx":
            assert c["address"] in sdp_addresses, c
    for p in s["pairs"]:
        for field, addr in (("remoteType", p.get("remoteCandidate")), ("controlledRemoteType", p.get("controlledRemoteCandidate"))):
            if p.get(field) == "srflx":
                assert addr in sdp_addresses, (field, p)


@need_bin
@pytest.mark.parametrize("truth_path", ICE_TRUTHS, ids=_id)
def test_one_classification_per_agent_and_address(truth_path):
    """Item 3 of issue 14: a pair's types are the candidate list's for the same
    agent and address (`localCandidate` etc. name the address each type is about)."""
    t = _truth(truth_path)
    s = session_for(analyze(_capture(truth_path, t)), t)
    listed = {(c["agent"], c["address"]): c["type"] for c in s["candidates"]}
    ctl, ctd = s["controllingUfrag"], s["controlledUfrag"]
    for p in s["pairs"]:
        for agent, addr_field, type_field in ((ctl, "localCandidate", "localType"), (ctd, "remoteCandidate", "remoteType"),
                                              (ctd, "controlledLocalCandidate", "controlledLocalType"),
                                              (ctl, "controlledRemoteCandidate", "controlledRemoteType")):
            addr, typ = p.get(addr_field), p.get(type_field)
            if addr is None or typ in (None, "unknown"):
                continue
            assert listed.get((agent, addr)) == typ, (p["local"], p["remote"], agent, addr, typ, listed.get((agent, addr)))


@need_bin
@pytest.mark.parametrize("truth_path", ICE_TRUTHS, ids=_id)
def test_pair_rtt_without_retransmission_artefacts(truth_path):
    """Item 2: the namespaces add no delay; a response to a retransmitted check
    gives no RTT sample (Karn's rule), so no pair reports the 0.5 s retransmission timer."""
    t = _truth(truth_path)
    doc = analyze(_capture(truth_path, t))
    for s in doc["iceSessions"]:
        for p in s["pairs"]:
            if p.get("rtt"):
                assert p["rtt"]["max"] < 0.05, (p["local"], p["remote"], p["rtt"])
    for tx in doc["transactions"]:
        if tx["retransmissions"]:
            assert "rtt" not in tx, tx


# ---------------------------------------------------------------- 3. public captures


PUBLIC = ["zeek-spicy-stun/stun-ice-testcall.pcap", "tea/h5-play-stun.pcapng", "ndpi/stun_zoom.pcapng"]


def tshark_ice_counts(path):
    """Sessions (unordered ufrag pairs of USERNAME "a:b"), candidate pairs
    (unordered endpoint pairs of the checks), and per pair: distinct check
    transactions, retransmitted sends, and checks with a success response."""
    fields = ["frame.number", "ip.src", "ipv6.src", "udp.srcport", "ip.dst", "ipv6.dst", "udp.dstport",
              "stun.type", "stun.id", "stun.att.username", "turnchannel"]
    cmd = ["tshark", "-r", path, "-Y", "stun || turnchannel", "-T", "fields", "-E", "separator=\t", "-E", "occurrence=f"]
    for f in fields:
        cmd += ["-e", f]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    requests = []
    successes = set()
    for line in r.stdout.splitlines():
        c = line.split("\t")
        if len(c) < len(fields):
            c += [""] * (len(fields) - len(c))
        assert not c[10], "relayed checks: this oracle only counts direct ones"
        src = (c[1] or c[2]) + ":" + c[3]
        dst = (c[4] or c[5]) + ":" + c[6]
        mtype, tid, user = c[7], c[8], c[9]
        if mtype == "0x0001" and ":" in user:
            requests.append((src, dst, tid, user))
        elif mtype == "0x0101":
            successes.add(tid)
    sessions = collections.defaultdict(lambda: collections.defaultdict(lambda: {"ids": set(), "sends": 0}))
    for src, dst, tid, user in requests:
        receiver, sender = user.split(":", 1)
        pair = sessions[tuple(sorted((receiver, sender)))][tuple(sorted((src, dst)))]
        pair["ids"].add(tid)
        pair["sends"] += 1
    out = {}
    for key, pairs in sessions.items():
        out[key] = {p: {"checks": len(v["ids"]), "retransmissions": v["sends"] - len(v["ids"]),
                        "responses": len(v["ids"] & successes)} for p, v in pairs.items()}
    return out


def public_capture(rel):
    """Path of a public capture under SHARED; skips the test when it is not there."""
    path = os.path.join(SHARED, rel)
    if not os.path.exists(path):
        pytest.skip(f"{path} not present")
    return path


@need_bin
@need_tshark
@pytest.mark.parametrize("rel", PUBLIC)
def test_public_capture_counts_match_tshark(rel):
    path = public_capture(rel)
    expected = tshark_ice_counts(path)
    doc = analyze(path)
    got = {tuple(sorted(s["ufrags"])): s for s in doc["iceSessions"]}
    assert set(got) == set(expected)
    for key, pairs in expected.items():
        s = got[key]
        ours = {tuple(sorted((p["local"], p["remote"]))): p for p in s["pairs"]}
        assert set(ours) == set(pairs)
        for k, want in pairs.items():
            p = ours[k]
            assert p["requestsSent"] == want["checks"], (k, p)
            assert p["retransmissions"] == want["retransmissions"], (k, p)
            assert p["responsesReceived"] == want["responses"], (k, p)
        assert s["checks"] == sum(v["checks"] for v in pairs.values())


# What those counts are, for the record (also derived with tshark above):
#   zeek-spicy-stun/stun-ice-testcall.pcap: 1 session, 4 pairs (2 sockets x RTP/RTCP ports of the SBC)
#   tea/h5-play-stun.pcapng: 1 session, 1 pair, 6 checks, 6 responses (ICE-lite server, regular nomination)
#   ndpi/stun_zoom.pcapng: 2 sessions (two remote ufrags), 1 pair each
PUBLIC_SHAPE = {
    "zeek-spicy-stun/stun-ice-testcall.pcap": {"sessions": 1, "pairs": [4], "nomination": ["aggressive"]},
    "tea/h5-play-stun.pcapng": {"sessions": 1, "pairs": [1], "nomination": ["regular"]},
    "ndpi/stun_zoom.pcapng": {"sessions": 2, "pairs": [1, 1], "nomination": ["aggressive", "aggressive"]},
}


@need_bin
@pytest.mark.parametrize("rel", PUBLIC)
def test_public_capture_shape(rel):
    doc = analyze(public_capture(rel))
    shape = PUBLIC_SHAPE[rel]
    assert len(doc["iceSessions"]) == shape["sessions"]
    assert sorted(len(s["pairs"]) for s in doc["iceSessions"]) == sorted(shape["pairs"])
    assert [s["nomination"] for s in doc["iceSessions"]] == shape["nomination"]
    for s in doc["iceSessions"]:
        assert s["selectedPair"] is not None and s["controllingUfrag"] is not None


# ---------------------------------------------------------------- 4. error answers and NAT view (issue 14, items 12 and 14)


def tshark_check_errors(path):
    """Error responses (class 0x0110) to ICE checks, by transaction: what tshark sees on the wire."""
    cmd = ["tshark", "-r", path, "-Y", "stun", "-T", "fields", "-E", "separator=\t", "-E", "occurrence=f",
           "-e", "frame.number", "-e", "stun.type", "-e", "stun.id", "-e", "stun.att.username",
           "-e", "stun.att.error.class", "-e", "stun.att.error"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    checks, errors = set(), []
    for line in r.stdout.splitlines():
        c = (line.split("\t") + [""] * 6)[:6]
        if c[1] == "0x0001" and ":" in c[3]:
            checks.add(c[2])
        elif c[1] == "0x0111" and c[2] in checks:
            errors.append((int(c[0]), int(c[4] or 0) * 100 + int(c[5] or 0)))
    return errors


@need_bin
@need_tshark
def test_testcall_error_answers_and_nat_mappings():
    path = public_capture("zeek-spicy-stun/stun-ice-testcall.pcap")
    doc = analyze(path)
    (s,) = doc["iceSessions"]
    wire = tshark_check_errors(path)
    assert {code for _, code in wire} == {500, 401}
    assert sum(p["errorResponses"] for p in s["pairs"]) == len(wire)
    refusals = [r for p in s["pairs"] for r in p.get("refusals", [])]
    assert sorted(f for r in refusals for f in r["frames"]) == sorted(f for f, _ in wire)
    # The controlling agent refused the SBC's checks: 500 right after its own success, 401 to the retransmissions.
    assert {r["refusedBy"] for r in refusals} == {s["controllingUfrag"]}
    assert {r["checksFrom"] for r in refusals} == {s["controlledUfrag"]}
    by_code = {r["code"]: r for r in refusals}
    assert by_code[500]["cause"] == "server-error" and by_code[401]["cause"] == "integrity"
    assert sum(r["toRetransmissions"] for r in refusals if r["code"] == 401) == sum(r["count"] for r in refusals if r["code"] == 401)
    for p in s["pairs"]:
        assert sorted(p["errorCodes"]) == sorted({r["code"] for r in p.get("refusals", [])})
    f = [x for x in doc["findings"] if x["code"] == "ice.check.refused"]
    assert len(f) == 1 and f[0]["severity"] == "info"  # every refused pair succeeded all the same
    assert s["controllingUfrag"] in f[0]["message"] and "500" in f[0]["message"] and "401" in f[0]["message"]
    # Zeek's baseline: both sockets' mappings, the second one only from check responses.
    seen = {(n["local"], o["reflexive"]) for n in doc["natMappings"] for o in n["observations"]}
    assert ("192.168.43.155:60020", "70.199.128.46:4604") in seen
    assert ("192.168.43.155:59977", "70.199.128.46:4587") in seen
