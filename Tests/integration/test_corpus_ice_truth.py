"""Consistency of the ICE / SIP / STUN captures with their truth files.

For every captures/*.truth.json that has an "ice", "sip" or "stun" key, the
capture is read with tshark (PDML for the STUN attributes, fields for SIP/SDP)
and the truth is checked against it at the packet level:

  * packet count (capinfos) and link type, size limit;
  * ICE: each agent's srflx candidate is the XOR-MAPPED-ADDRESS of a Binding
    success from the STUN server, its relay candidate the XOR-RELAYED-ADDRESS
    of an Allocate success; the selected pair's checks (plain STUN or STUN
    inside ChannelData) run where selectedPairChecks says, with USERNAME
    "<receiver ufrag>:<sender ufrag>", USE-CANDIDATE from the controlling
    agent (first check for aggressive nomination, a later one for regular),
    MESSAGE-INTEGRITY valid under the receiver's ice-pwd, a success response
    with the same transaction ID; the data packets of the selected pairs;
  * NAT mappings from conntrack appear as UDP flows on each side of the NAT;
  * SIP: Call-ID, message sequence, SDP ufrag/pwd/candidates;
  * STUN: reflexive address / MAPPED-ADDRESS / RESPONSE-ORIGIN / OTHER-ADDRESS,
    and the mapping/filtering behaviour claimed by the truth;
  * relay-only ICE (aioice TransportPolicy.RELAY): relay candidates only, no
    server-reflexive discovery and no check outside ChannelData / Data
    indications; other runs offer host candidates;
  * NAT tests captured at the server: every request of stun.clients[].
    serverExchanges (source, destination, CHANGE-REQUEST flags, RESPONSE-PORT,
    count) and its answer's source/destination (the alternate address/port
    for CHANGE-REQUEST), and the claimed mapping behaviour from them;
  * expectedFindings: present, well formed, the root-cause finding where the
    scenario has one.

The mutation tests at the end show that a wrong truth file fails.
"""

import copy
import functools
import glob
import hashlib
import hmac
import json
import os
import shutil
import struct
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tshark as ts  # noqa: E402  (Tests/integration/tshark.py)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CAPTURES = os.path.join(REPO, "captures")
TURN_IPS = {"203.0.113.10", "203.0.113.11"}
MAX_CAPTURE = 1 << 20


GENERATOR = "captures/gen/ice_scenarios.sh"


def _truth_files():
    """Truth files with an "ice", "sip" or "stun" key in the schema of
    captures/gen/ice_scenarios.sh (other generators may use these keys their
    own way)."""
    out = []
    for p in sorted(glob.glob(os.path.join(CAPTURES, "*.truth.json"))):
        with open(p) as f:
            t = json.load(f)
        if any(k in t for k in ("ice", "sip", "stun")) and t.get("generator") == GENERATOR:
            out.append(p)
    return out


TRUTHS = _truth_files()
need_tshark = pytest.mark.skipif(shutil.which("tshark") is None or shutil.which("capinfos") is None,
                                 reason="tshark/capinfos not installed")


# ------------------------------------------------------------------ tshark
# The tshark calls are those of Tests/integration/tshark.py (shared with the
# TURN corpus test); this file only adds the raw UDP payloads (to verify
# MESSAGE-INTEGRITY and to open ChannelData / Data indications), the classic
# STUN and the SIP/SDP fields.

def _addr(ip, port):
    return ts.norm_addr(ip, port)


def _ip(addr):
    return ts.ip_of(addr)


class _Attr:
    """Attribute of a STUN message found inside ChannelData / a Data indication."""

    def __init__(self, atype, value):
        self.type, self.value = atype, value

    def get(self, name, default=None):
        if name == "stun.att.username" and self.type == ts.ATTR["USERNAME"]:
            return self.value.decode(errors="replace")
        return default


class _Inner:
    def __init__(self, msg_type, txid, attrs, raw):
        self.msg_type, self.txid, self.attrs, self.raw = msg_type, txid, attrs, raw

    def attrs_of(self, t):
        return [a for a in self.attrs if a.type == t]


def _parse_stun_raw(b):
    """Minimal STUN parser for messages carried in ChannelData / Data indications."""
    if len(b) < 20 or b[0] & 0xC0 or b[4:8] != b"\x21\x12\xa4\x42":
        return None
    mtype, mlen = struct.unpack("!HH", b[:4])
    attrs, off = [], 20
    while off + 4 <= 20 + mlen and off + 4 <= len(b):
        t, ln = struct.unpack("!HH", b[off:off + 4])
        attrs.append(_Attr(t, b[off + 4:off + 4 + ln]))
        off += 4 + ((ln + 3) & ~3)
    return _Inner(mtype, b[8:20].hex(), attrs, b[:20 + mlen])


@functools.lru_cache(maxsize=None)
def _packets(pcap):
    """Every UDP datagram (ICMP errors excluded) with its STUN message
    (tshark.stun_messages) or ChannelData, and its raw payload."""
    stun = {m.frame: m for m in ts.stun_messages(pcap) if m.transport == "udp"}
    payload = {int(r[0]): bytes.fromhex(r[1].replace(":", "")) for r in
               ts.fields(pcap, ["frame.number", "udp.payload"], "udp and not icmp", occurrence="f")}
    pkts = []
    for frame, src, dst, _ in ts.udp_datagrams(pcap):
        d = {"frame": frame, "src": src, "dst": dst, "payload": payload.get(frame, b"")}
        m = stun.get(frame)
        if m is not None and m.is_channel_data:
            d["channel"] = m.channel
            d["inner"] = _parse_stun_raw(d["payload"][4:4 + m.data_length])
        elif m is not None:
            d["stun"] = m
        pkts.append(d)
    return pkts


@functools.lru_cache(maxsize=None)
def _classic(pcap):
    """Classic (RFC 3489) STUN messages: tshark's classicstun fields. Only the
    address attributes carry ipv4/port, in attribute order."""
    rows = ts.fields(pcap, ["frame.number", "ip.src", "udp.srcport", "ip.dst", "udp.dstport",
                            "classicstun.type", "classicstun.id", "classicstun.att.type",
                            "classicstun.att.ipv4", "classicstun.att.port",
                            "classicstun.att.change.ip", "classicstun.att.change.port"],
                     "classicstun and not icmp")
    out = []
    for r in rows:
        types = [int(t, 16) for t in r[7].split(",") if t]
        ips = [x for x in r[8].split(",") if x]
        ports = [x for x in r[9].split(",") if x]
        addr_types = [t for t in types if t in (0x0001, 0x0002, 0x0004, 0x0005, 0x000B)]
        attrs = {}
        for t, ip, port in zip(addr_types, ips, ports):
            attrs.setdefault(t, []).append(_addr(ip, port))
        change = None
        if r[10] or r[11]:
            change = {"changeIp": r[10] in ("1", "True"), "changePort": r[11] in ("1", "True")}
        out.append({"frame": int(r[0]), "src": _addr(r[1], r[2]), "dst": _addr(r[3], r[4]),
                    "type": int(r[5], 16), "id": r[6], "addrs": attrs, "change": change})
    return out


@functools.lru_cache(maxsize=None)
def _sip(pcap):
    rows = ts.fields(pcap, ["ip.src", "udp.srcport", "ip.dst", "udp.dstport", "sip.Method",
                            "sip.Status-Code", "sip.Call-ID", "sdp.media_attr"], "sip")
    msgs = []
    for f in rows:
        msgs.append({"src": _addr(f[0], f[1]), "dst": _addr(f[2], f[3]),
                     "kind": f[4] or f[5], "callId": f[6],
                     "attrs": f[7].split(",") if f[7] else []})
    return msgs


def _attr(msg, t):
    return msg.attrs_of(t)


def _mapped(a):
    return a.address


# ------------------------------------------------------------------ helpers

BINDING_REQ, BINDING_OK = 0x0001, 0x0101
DATA_INDICATION, DATA_ATTR, XOR_PEER = 0x0017, 0x0013, 0x0012
ALLOCATE_OK = 0x0103
USERNAME, MI, USE_CAND, FPR = 0x0006, 0x0008, 0x0025, 0x8028
XOR_MAPPED, XOR_RELAYED = 0x0020, 0x0016
MAPPED, SOURCE_ADDR, CHANGED_ADDR = 0x0001, 0x0004, 0x0005
RESPONSE_ORIGIN, OTHER_ADDRESS = 0x802B, 0x802C
CHANGE_REQUEST, RESPONSE_PORT = 0x0003, 0x0027
HIDDEN_RELATED = "0.0.0.0:9"   # aioice's related address of a relay candidate under the relay-only policy


def _data_indication(p):
    """(peer, payload) of a TURN Data indication, else None."""
    m = p.get("stun")
    if m is None or m.msg_type != DATA_INDICATION:
        return None
    data, peer = _attr(m, DATA_ATTR), _attr(m, XOR_PEER)
    if not data or not peer:
        return None
    return peer[0].address, bytes.fromhex(data[0].value_hex)


def _turn_payloads(pkts, src, dst, encap):
    """(frame, inner bytes) of the TURN-encapsulated datagrams on one leg:
    ChannelData, plus Data indications where the encapsulation allows them."""
    out = []
    for p in pkts:
        if p["src"] != src or p["dst"] != dst:
            continue
        if "channel" in p:
            ln = struct.unpack("!H", p["payload"][2:4])[0]
            out.append((p["frame"], p["payload"][4:4 + ln]))
        elif encap == "turn" and _data_indication(p):
            out.append((p["frame"], _data_indication(p)[1]))
    return out


def _stun_msgs(pkts, src, dst, encap):
    """(frame, message, raw bytes) of the STUN messages on one leg: plain, or
    inside ChannelData / Data indications."""
    out = []
    if encap == "none":
        for p in pkts:
            if p["src"] == src and p["dst"] == dst and "stun" in p:
                out.append((p["frame"], p["stun"], p["payload"]))
        return out
    for frame, inner in _turn_payloads(pkts, src, dst, encap):
        m = _parse_stun_raw(inner)
        if m:
            out.append((frame, m, m.raw))
    return out


def _username(m):
    for a in _attr(m, USERNAME):
        return a.get("stun.att.username")
    return None


def _check_integrity(raw, key):
    """RFC 5389 MESSAGE-INTEGRITY over the message up to the attribute,
    with the length field covering it."""
    off = 20
    mlen = struct.unpack("!H", raw[2:4])[0]
    while off + 4 <= 20 + mlen:
        t, ln = struct.unpack("!HH", raw[off:off + 4])
        if t == MI:
            hdr = raw[:2] + struct.pack("!H", off + 24 - 20) + raw[4:off]
            return hmac.compare_digest(hmac.new(key, hdr, hashlib.sha1).digest(), raw[off + 4:off + 24])
        off += 4 + ((ln + 3) & ~3)
    return False


def _agent_vantages(agent, vantage):
    return vantage in ("public", "turn-server") or vantage in (f"lan-{agent}", f"host-{agent}")


# ------------------------------------------------------------------ checks

def check_common(truth, pcap):
    assert os.path.getsize(pcap) < MAX_CAPTURE, "capture larger than 1 MiB"
    info = ts.capinfo(pcap)
    assert info["packets"] == truth["packetCount"], f"packet count {info['packets']} != truth {truth['packetCount']}"
    assert info["encapsulation"] == truth["linkType"], info["encapsulation"]
    assert info["file_type"] == truth["format"], info["file_type"]
    assert truth["capture"] == os.path.basename(pcap)


def check_ice(truth, pcap):
    ice, v = truth["ice"], truth["vantage"]
    pkts = _packets(pcap)
    agents = {a["name"]: a for a in ice["agents"]}
    stun_server = truth["turnServer"]["address"]

    # candidates learnt from the STUN/TURN server
    for name, ag in agents.items():
        if not _agent_vantages(name, v):
            continue
        for c in ag["candidates"]:
            if c["type"] == "srflx":
                inside = c["relatedAddress"]
                ok = [p for p in pkts if "stun" in p and p["stun"].msg_type == BINDING_OK
                      and p["src"] == stun_server and p["dst"] in (inside, c["address"])
                      and any(_mapped(a) == c["address"] for a in _attr(p["stun"], XOR_MAPPED))]
                assert ok, f"{name}: srflx {c['address']} is no XOR-MAPPED-ADDRESS from {stun_server} at {v}"
            elif c["type"] == "relay":
                mapped = c.get("turnMappedAddress", c["relatedAddress"])
                if c["relatedAddress"] != HIDDEN_RELATED:
                    assert mapped == c["relatedAddress"]
                ok = [p for p in pkts if "stun" in p and p["stun"].msg_type == ALLOCATE_OK
                      and any(_mapped(a) == c["address"] for a in _attr(p["stun"], XOR_RELAYED))
                      and any(_mapped(a) == mapped for a in _attr(p["stun"], XOR_MAPPED))]
                assert ok, f"{name}: relay {c['address']} / {mapped} not in an Allocate success at {v}"

    # relay-only policy: relay candidates (related address hidden) and nothing
    # else on the wire: no Binding to the STUN server, every check inside TURN
    policies = {ag.get("transportPolicy", "all") for ag in agents.values()}
    for name, ag in agents.items():
        if ag.get("transportPolicy", "all") == "relay":
            assert ag["candidates"] and all(c["type"] == "relay" and c["relatedAddress"] == HIDDEN_RELATED
                                            for c in ag["candidates"]), f"{name}: relay-only but {ag['candidates']}"
        else:
            assert any(c["type"] == "host" for c in ag["candidates"]), f"{name}: no host candidate"
    if policies == {"relay"}:
        sp, spb = ice["selectedPair"], ice["selectedPairB"]
        assert sp["localType"] == sp["remoteType"] == spb["localType"] == spb["remoteType"] == "relay"
        ice_users = {f"{agents['a']['ufrag']}:{agents['b']['ufrag']}", f"{agents['b']['ufrag']}:{agents['a']['ufrag']}"}
        plain = [p for p in pkts if "stun" in p and p["stun"].msg_type == BINDING_REQ]
        assert not [p for p in plain if _username(p["stun"]) in ice_users], "relay-only run with a plain ICE check"
        assert not [p for p in plain if p["dst"] == stun_server], "relay-only run with a STUN Binding to the server"
        assert ice["selectedPairChecks"], f"relay-only run: the relayed checks pass every vantage ({v})"
        assert all(l["encapsulation"] != "none" for l in ice["selectedPairChecks"])

    # the selected pairs' checks, where this vantage sees them
    controlling = ice["controlling"]
    for leg in ice["selectedPairChecks"]:
        snd = leg["from"]
        rcv = "b" if snd == "a" else "a"
        want_user = f"{agents[rcv]['ufrag']}:{agents[snd]['ufrag']}"
        reqs = [(f, m, raw) for f, m, raw in _stun_msgs(pkts, leg["src"], leg["dst"], leg["encapsulation"])
                if m.msg_type == BINDING_REQ and _username(m) == want_user]
        assert reqs, f"no Binding request {want_user} {leg['src']} -> {leg['dst']} ({leg['encapsulation']}) at {v}"
        resps = {m.txid for _, m, _ in _stun_msgs(pkts, leg["dst"], leg["src"], leg["encapsulation"])
                 if m.msg_type == BINDING_OK}
        assert any(m.txid in resps for _, m, _ in reqs), f"no success response for the checks on {leg}"
        key = agents[rcv]["pwd"].encode()
        for f, m, raw in reqs:
            assert _check_integrity(raw, key), \
                f"MESSAGE-INTEGRITY of frame {f} does not verify with {rcv}'s ice-pwd"
        if snd == controlling:
            flags = [bool(_attr(m, USE_CAND)) for _, m, _ in reqs]
            assert any(flags), f"no USE-CANDIDATE on {leg}"
            if ice["nomination"] == "aggressive":
                assert flags[0], "aggressive nomination: the first check should carry USE-CANDIDATE"
            else:
                assert not flags[0], "regular nomination: the first check should not carry USE-CANDIDATE"
        # the data packets follow the selected pair
        n_data = ice["dataPackets"]["aToB" if snd == "a" else "bToA"]
        if leg["encapsulation"] == "none":
            data = [p for p in pkts if p["src"] == leg["src"] and p["dst"] == leg["dst"]
                    and "stun" not in p and "channel" not in p]
        else:
            data = [f for f, inner in _turn_payloads(pkts, leg["src"], leg["dst"], leg["encapsulation"])
                    if _parse_stun_raw(inner) is None]
        assert len(data) == n_data, f"{len(data)} data packets on {leg}, truth says {n_data}"

    # the selected pair is made of signalled or peer-reflexive candidates
    for name, ag in agents.items():
        sp = ag["selectedPair"]
        assert sp["local"] in {c["address"] for c in ag["candidates"]}
        assert sp["remote"] in {c["address"] for c in ag["remoteCandidates"]}
    sp = ice["selectedPair"]
    assert sp == {k: agents["a"]["selectedPair"][k] for k in ("local", "remote", "localType", "remoteType")}


def check_nat(truth, pcap):
    nat, v = truth.get("nat"), truth["vantage"]
    if not nat:
        return
    pkts = _packets(pcap)
    flows = {(p["src"], p["dst"]) for p in pkts}
    # the STUN server's own addresses (vantage "server" of the NAT tests)
    server_ips = set()
    if "stun" in truth:
        server_ips = {_ip(truth["stun"]["server"]), truth["stun"]["serverAlternateIp"]}
    for m in nat.get("mappings", []):
        if m["kind"] == "masquerade":
            if v.startswith("lan-"):
                want = (m["inside"], m["destination"])
            elif v == "public" or (v == "turn-server" and _ip(m["destination"]) in TURN_IPS) \
                    or (v == "server" and _ip(m["destination"]) in server_ips):
                want = (m["outside"], m["destination"])
            else:
                continue
        else:  # port forward
            want = (m["remote"], m["inside"]) if v.startswith("lan-") else (m["remote"], m["outside"])
            if v in ("turn-server", "server"):
                continue
        assert want in flows, f"NAT mapping {m} not visible as {want[0]} -> {want[1]} at {v}"


def check_sip(truth, pcap):
    sip = truth["sip"]
    msgs = _sip(pcap)
    if not sip["visible"]:
        assert not msgs, "SIP messages where the truth says none are visible"
        return
    pair = {sip["callerAddress"], sip["calleeAddress"]}
    msgs = [m for m in msgs if {m["src"], m["dst"]} == pair]
    assert [m["kind"] for m in msgs] == sip["messages"], [m["kind"] for m in msgs]
    assert all(m["callId"] == sip["callId"] for m in msgs), "Call-ID differs"
    assert msgs[0]["src"] == sip["callerAddress"]
    agents = {a["name"]: a for a in truth["ice"]["agents"]}
    for part, kind in (("offer", "INVITE"), ("answer", "200")):
        body = next(m for m in msgs if m["kind"] == kind and m["attrs"])
        exp = sip[part]
        assert f"ice-ufrag:{exp['ufrag']}" in body["attrs"], f"a=ice-ufrag:{exp['ufrag']} not in the {kind} SDP"
        assert f"ice-pwd:{exp['pwd']}" in body["attrs"], f"a=ice-pwd:{exp['pwd']} not in the {kind} SDP"
        cands = [a for a in body["attrs"] if a.startswith("candidate:")]
        assert sorted(cands) == sorted(exp["candidates"])
        ag = agents[exp["from"]]
        assert exp["ufrag"] == ag["ufrag"] and exp["pwd"] == ag["pwd"]
        # each a=candidate line is one of the agent's candidates (type, address, raddr/rport)
        for line in cands:
            f = line.split()
            addr, typ = _addr(f[4], f[5]), f[7]
            c = next(c for c in ag["candidates"] if c["address"] == addr and c["type"] == typ)
            if "raddr" in f:
                assert c["relatedAddress"] == _addr(f[f.index("raddr") + 1], f[f.index("rport") + 1])


def check_stun(truth, pcap):
    st, v = truth["stun"], truth["vantage"]
    pkts = _packets(pcap)
    classic = st["protocol"].startswith("RFC 3489")
    for c in st["clients"]:
        lan = v.startswith("lan-")
        if classic:
            cmsgs = _classic(pcap)
            resp = [p for p in cmsgs if p["type"] == BINDING_OK]

            def has(mapped, src_ip=None, source=None, changed=None):
                for p in resp:
                    a = p["addrs"]
                    if src_ip and _ip(p["src"]) != src_ip:
                        continue
                    if mapped not in a.get(MAPPED, []):
                        continue
                    if source and source not in a.get(SOURCE_ADDR, []):
                        continue
                    if changed and changed not in a.get(CHANGED_ADDR, []):
                        continue
                    return True
                return False

            assert has(c["reflexive"], source=c["sourceAddress"], changed=c["changedAddress"]), \
                f"no classic Binding response with MAPPED-ADDRESS {c['reflexive']} at {v}"
            for server, mapped in c.get("reflexiveByServer", {}).items():
                assert has(mapped, src_ip=_ip(server)), f"no MAPPED-ADDRESS {mapped} from {server}"
            # CHANGE-REQUEST answers: from another address than the request went to
            req_dst = {p["id"]: p["dst"] for p in cmsgs if p["type"] == BINDING_REQ}
            changed = [p for p in resp if p["id"] in req_dst and p["src"] != req_dst[p["id"]]]
            if v in ("public", "server"):
                assert [p for p in changed if _ip(p["dst"]) == c["natPublicAddress"]], \
                    "the server never answered a CHANGE-REQUEST from another address"
            elif c["tests"]["test II"] == 0 and c["tests"]["test III"] == 0:
                assert not [p for p in changed if _ip(p["dst"]) == _ip(c["inside"])], \
                    "a CHANGE-REQUEST answer reached the client, but tests II and III failed"
        else:
            resp = [p for p in pkts if "stun" in p and p["stun"].msg_type == BINDING_OK]

            def find(r):
                for p in resp:
                    s = p["stun"]
                    if any(_mapped(a) == r["reflexive"] for a in _attr(s, XOR_MAPPED)) and \
                            ("responseOrigin" not in r or any(_mapped(a) == r["responseOrigin"]
                                                               for a in _attr(s, RESPONSE_ORIGIN))) and \
                            ("otherAddress" not in r or any(_mapped(a) == r["otherAddress"]
                                                             for a in _attr(s, OTHER_ADDRESS))):
                        return p
                return None

            assert find(c), f"no Binding success with XOR-MAPPED-ADDRESS {c['reflexive']}, " \
                            f"RESPONSE-ORIGIN {c.get('responseOrigin')}, OTHER-ADDRESS {c.get('otherAddress')} at {v}"
            for r in c["natdiscoveryResponses"]:
                assert find(r), f"natdiscovery response {r} not in the capture at {v}"
            mapping_tests = [r["reflexive"] for r in c["natdiscoveryResponses"][:-1]]
            distinct = len(set(mapping_tests))
            if c["mappingBehavior"] == "endpoint-independent":
                assert distinct == 1, mapping_tests
            else:
                assert distinct > 1, mapping_tests
        if lan:
            # filtering: what reaches the client only ever comes from where it sent to
            sent, unsolicited = set(), []
            inside_ip = _ip(c["inside"])
            for p in pkts:
                if _ip(p["src"]) == inside_ip:
                    sent.add((p["src"], p["dst"]))
                elif _ip(p["dst"]) == inside_ip and (p["dst"], p["src"]) not in sent:
                    unsolicited.append(p)
            if c["filteringBehavior"] == "address-and-port-dependent":
                assert not unsolicited, f"frame {unsolicited[0]['frame']} passed an address+port-dependent filter"
            elif c["filteringBehavior"] is not None:
                assert unsolicited, "filtering is not address+port dependent but nothing unsolicited arrived"
    if "reflexive" in st:
        assert st["reflexive"] == st["clients"][0]["reflexive"]
    if v in ("server", "public"):
        check_server_exchanges(truth, pcap)


def _plain_requests(pkts, classic, pcap):
    """Binding requests and success answers with their CHANGE-REQUEST flags
    (None: no attribute) and RESPONSE-PORT (None: none), classic or RFC 5389."""
    reqs, answers = [], {}
    if classic:
        for m in _classic(pcap):
            if m["type"] == BINDING_REQ:
                reqs.append({"src": m["src"], "dst": m["dst"], "id": m["id"], "change": m["change"],
                             "responsePort": None})
            elif m["type"] == BINDING_OK:
                answers[m["id"]] = m
        return reqs, answers
    for p in pkts:
        m = p.get("stun")
        if m is None:
            continue
        if m.msg_type == BINDING_REQ:
            cr, rp = _attr(m, CHANGE_REQUEST), _attr(m, RESPONSE_PORT)
            change = None
            if cr:
                flags = int(cr[0].value_hex[-2:], 16)
                change = {"changeIp": bool(flags & 4), "changePort": bool(flags & 2)}
            reqs.append({"src": p["src"], "dst": p["dst"], "id": m.txid, "change": change,
                         "responsePort": int(rp[0].value_hex[:4], 16) if rp else None})
        elif m.msg_type == BINDING_OK:
            answers[m.txid] = {"src": p["src"], "dst": p["dst"]}
    return reqs, answers


def check_server_exchanges(truth, pcap):
    """NAT tests seen at the server (and on the public segment): each exchange
    the truth lists is on the wire with its flags, and its answer leaves from
    the address/port the truth names."""
    st, v = truth["stun"], truth["vantage"]
    classic = st["protocol"].startswith("RFC 3489")
    reqs, answers = _plain_requests(_packets(pcap), classic, pcap)
    seen = set()
    for c in st["clients"]:
        ex = c.get("serverExchanges")
        if ex is None:
            continue
        for e in ex:
            # CHANGE-REQUEST: None = no attribute (stun-client always sends one, flags 0 in test I)
            mine = [r for r in reqs if r["src"] == e["from"] and r["dst"] == e["to"]
                    and r["change"] == e["changeRequest"] and r["responsePort"] == e["responsePort"]]
            assert len(mine) == e.get("count", 1), \
                f"{len(mine)} requests {e['from']} -> {e['to']} ({e['test']}) at {v}, truth says {e.get('count', 1)}"
            for r in mine:
                a = answers.get(r["id"])
                assert a is not None, f"no answer to {e['test']} {e['from']} -> {e['to']} at {v}"
                assert (a["src"], a["dst"]) == (e["answerFrom"], e["answerTo"]), \
                    f"{e['test']}: answer {a['src']} -> {a['dst']}, truth {e['answerFrom']} -> {e['answerTo']}"
                assert (a["src"] != r["dst"]) == e["answerFromAlternate"]
                seen.add(r["id"])
        # mapping behaviour from the exchanges without CHANGE-REQUEST that
        # probe the mapping (test I / I(2), natdiscovery mapping tests)
        probes = [e for e in ex if e["test"] == "I" or e["test"].startswith(("I(2)", "mapping test"))]
        froms = {e["from"] for e in probes}
        if c["mappingBehavior"] == "endpoint-independent":
            assert len(froms) == 1, f"client {c['side']}: {froms}"
        else:
            assert len(froms) > 1 and len({e["to"] for e in probes}) > 1, f"client {c['side']}: {froms}"
    if any("serverExchanges" in c for c in st["clients"]):
        # nothing else: every Binding request on the wire is one the truth names
        extra = [r for r in reqs if r["id"] not in seen and _ip(r["dst"]) in (_ip(st["server"]), st["serverAlternateIp"])]
        assert not extra, f"requests the truth does not list at {v}: {extra[:3]}"


def check_truth(truth, pcap):
    check_common(truth, pcap)
    if "ice" in truth:
        check_ice(truth, pcap)
    if "sip" in truth:
        check_sip(truth, pcap)
    if "stun" in truth:
        check_stun(truth, pcap)
    check_nat(truth, pcap)


# ------------------------------------------------------------------ tests

def _load(path):
    with open(path) as f:
        t = json.load(f)
    return t, os.path.join(CAPTURES, t["capture"])


@need_tshark
@pytest.mark.parametrize("truth_path", TRUTHS, ids=[os.path.basename(p) for p in TRUTHS])
def test_truth_matches_capture(truth_path):
    truth, pcap = _load(truth_path)
    check_truth(truth, pcap)


def test_every_generated_truth_is_checked():
    for p in glob.glob(os.path.join(CAPTURES, "*.truth.json")):
        with open(p) as f:
            t = json.load(f)
        if t.get("generator") == GENERATOR:
            assert p in TRUTHS, f"{p} has none of the ice/sip/stun keys"
            assert os.path.exists(os.path.join(CAPTURES, t["capture"])), f"{t['capture']} missing"


def test_corpus_present_and_small():
    names = {os.path.basename(p) for p in TRUTHS}
    for scen in ("ice-direct", "ice-relay-symmetric", "ice-prflx-public", "ice-relay-only", "sip-ice-call",
                 "stun-classic", "stun-rfc5780", "stun-classic-at-server", "stun-rfc5780-at-server"):
        assert any(n.startswith(scen + ".") for n in names), f"no truth file for {scen}"
    total = sum(os.path.getsize(os.path.join(CAPTURES, _load(p)[0]["capture"])) for p in TRUTHS)
    assert total < 4 * MAX_CAPTURE, f"ICE/SIP/STUN captures take {total} bytes"


SEVERITIES = {"info", "warning", "error"}
# the root-cause finding of each relayed scenario (README, "Expected findings")
RELAY_ROOT_CAUSE = {"ice-relay-symmetric": "ice.relayed.symmetric-nat", "ice-relay-only": "ice.relayed.relay-only"}


@pytest.mark.parametrize("truth_path", TRUTHS, ids=[os.path.basename(p) for p in TRUTHS])
def test_expected_findings(truth_path):
    """Shape of expectedFindings (captures/README.md, issue 14) and the
    scenario rules it must follow, from the truth's own facts."""
    truth, _ = _load(truth_path)
    ef = truth["expectedFindings"]
    assert set(ef) == {"why", "required", "allowed"} and ef["why"].strip()
    for f in ef["required"] + ef["allowed"]:
        assert set(f) == {"code", "severity"} and f["severity"] in SEVERITIES, f
    req = {(f["code"], f["severity"]) for f in ef["required"]}
    alw = {(f["code"], f["severity"]) for f in ef["allowed"]}
    assert not req & alw
    scen, v = truth["scenario"], truth["vantage"]
    ice = truth.get("ice")
    if ice:
        root = RELAY_ROOT_CAUSE.get(scen)
        if ice["relayed"]:
            assert root, f"{scen}: relayed session without a root-cause code in this test"
            assert ((root, "info") in req) == bool(ice["selectedPairChecks"]), \
                f"{root} must be required exactly where the selected pair's checks pass ({v})"
        else:
            # healthy direct calls: no warning or error at all
            assert all(sev == "info" for _, sev in req | alw), (scen, v, req | alw)
        prflx = any(a["prflxRemoteCandidates"] for a in ice["agents"])
        if prflx and not ice["relayed"]:
            assert (("ice.candidate.prflx", "info") in req) == bool(ice["selectedPairChecks"])
    if "stun" in truth:
        # a symmetric mapping is a warning wherever client B (symmetric NAT) is seen
        sees_b = v in ("lan-symmetric", "public", "server")
        assert (("nat.symmetric", "warning") in req) == sees_b, (scen, v)
        assert all(sev == "info" for _, sev in alw)


def test_every_capture_of_the_scenarios_has_expected_findings():
    for p in glob.glob(os.path.join(CAPTURES, "*.truth.json")):
        name = os.path.basename(p)
        if name.startswith(("ice-", "sip-", "stun-")):
            t, _ = _load(p)
            assert "expectedFindings" in t, f"{name} has no expectedFindings"


def _first(prefix, vantage):
    p = os.path.join(CAPTURES, f"{prefix}.{vantage}.truth.json")
    if not os.path.exists(p):
        pytest.skip(f"{p} missing")
    return _load(p)


def _bump(addr):
    ip, port = (addr.rsplit(":", 1))
    return f"{ip}:{int(port) + 1}"


MUTATIONS = {
    "packet-count": ("ice-direct", "public", lambda t: t.__setitem__("packetCount", t["packetCount"] + 1)),
    "ufrag": ("ice-direct", "lan-a", lambda t: t["ice"]["agents"][1].__setitem__("ufrag", "zzzz")),
    "ice-pwd": ("ice-direct", "lan-b", lambda t: t["ice"]["agents"][1].__setitem__(
        "pwd", t["ice"]["agents"][1]["pwd"][::-1])),
    "srflx": ("ice-direct", "public", lambda t: [c.__setitem__("address", _bump(c["address"]))
                                                 for c in t["ice"]["agents"][0]["candidates"] if c["type"] == "srflx"]),
    "relay": ("ice-relay-symmetric", "turn-server", lambda t: [c.__setitem__("address", _bump(c["address"]))
                                                               for c in t["ice"]["agents"][1]["candidates"]
                                                               if c["type"] == "relay"]),
    "selected-pair-leg": ("ice-relay-symmetric", "public", lambda t: t["ice"]["selectedPairChecks"][0].__setitem__(
        "src", _bump(t["ice"]["selectedPairChecks"][0]["src"]))),
    "nomination": ("sip-ice-call", "public", lambda t: t["ice"].__setitem__("nomination", "aggressive")),
    "data-count": ("ice-direct", "lan-a", lambda t: t["ice"]["dataPackets"].__setitem__("aToB", 4)),
    "nat-mapping": ("ice-relay-symmetric", "lan-b", lambda t: t["nat"]["mappings"][0].__setitem__(
        "destination", _bump(t["nat"]["mappings"][0]["destination"]))),
    "call-id": ("sip-ice-call", "lan-a", lambda t: t["sip"].__setitem__("callId", "x" + t["sip"]["callId"])),
    "sip-sequence": ("sip-ice-call", "lan-b", lambda t: t["sip"].__setitem__(
        "messages", ["INVITE", "180", "200", "ACK", "BYE", "200"])),
    "sdp-pwd": ("sip-ice-call", "public", lambda t: t["sip"]["offer"].__setitem__("pwd", "wrong")),
    "classic-mapped": ("stun-classic", "lan-symmetric", lambda t: t["stun"]["clients"][0].__setitem__(
        "reflexive", _bump(t["stun"]["clients"][0]["reflexive"]))),
    "classic-filtering": ("stun-classic", "lan-port-preserving", lambda t: [
        c.__setitem__("filteringBehavior", "endpoint-independent") for c in t["stun"]["clients"]]),
    "5780-mapping": ("stun-rfc5780", "public", lambda t: t["stun"]["clients"][1].__setitem__(
        "mappingBehavior", "endpoint-independent")),
    "5780-other-address": ("stun-rfc5780", "lan-port-preserving", lambda t: t["stun"]["clients"][0].__setitem__(
        "otherAddress", "203.0.113.11:3478")),
    "relay-only-host-candidate": ("ice-relay-only", "public", lambda t: t["ice"]["agents"][0]["candidates"].append(
        {"address": "10.0.1.10:40000", "type": "host"})),
    "relay-only-not-relay-only": ("ice-relay-only", "lan-a", lambda t: [
        a.__setitem__("transportPolicy", "all") for a in t["ice"]["agents"]]),
    "relay-only-mapped": ("ice-relay-only", "turn-server", lambda t: [
        c.__setitem__("turnMappedAddress", _bump(c["turnMappedAddress"]))
        for c in t["ice"]["agents"][1]["candidates"]]),
    "relay-symmetric-policy": ("ice-relay-symmetric", "public", lambda t: t["ice"]["agents"][0].__setitem__(
        "transportPolicy", "relay")),
    "server-answer-origin": ("stun-rfc5780-at-server", "server", lambda t: [
        e.__setitem__("answerFrom", "203.0.113.10:3478") for e in t["stun"]["clients"][0]["serverExchanges"]
        if e["changeRequest"]]),
    "server-change-flags": ("stun-classic-at-server", "server", lambda t: [
        e["changeRequest"].__setitem__("changeIp", not e["changeRequest"]["changeIp"])
        for e in t["stun"]["clients"][1]["serverExchanges"] if e["test"].startswith("III")]),
    "server-response-port": ("stun-rfc5780-at-server", "public", lambda t: [
        e.__setitem__("responsePort", e["responsePort"] + 1) for e in t["stun"]["clients"][1]["serverExchanges"]
        if e["responsePort"]]),
    "server-retransmissions": ("stun-classic-at-server", "public", lambda t: [
        e.__setitem__("count", e["count"] - 1) for e in t["stun"]["clients"][0]["serverExchanges"]
        if e["test"].startswith("II ")]),
    "server-symmetric-claim": ("stun-classic-at-server", "server", lambda t: t["stun"]["clients"][1].__setitem__(
        "mappingBehavior", "endpoint-independent")),
    "server-nat-mapping": ("stun-rfc5780-at-server", "server", lambda t: [
        m.__setitem__("outside", _bump(m["outside"])) for m in t["nat"]["mappings"]
        if m["inside"].startswith("10.0.2.10:")]),
}


@need_tshark
@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_wrong_truth_fails(name):
    scen, vantage, mutate = MUTATIONS[name]
    truth, pcap = _first(scen, vantage)
    check_truth(truth, pcap)  # the real one passes
    bad = copy.deepcopy(truth)
    mutate(bad)
    assert bad != truth
    with pytest.raises((AssertionError, StopIteration)):
        check_truth(bad, pcap)
