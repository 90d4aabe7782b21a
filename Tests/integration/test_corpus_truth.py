"""Consistency of the TURN capture corpus: every captures/*.truth.json with a
"turn" key is checked against its capture at the packet level with tshark.

The truth files are written by captures/gen/turn_scenarios.sh from coturn's
log, the client's output and the NAT's conntrack table, never from the
captures; these tests are the independent cross-check. Run from the repo root:

    python3 -m pytest Tests/integration

test_checks_detect_wrong_truth proves the checks are real: it corrupts single
facts of a truth file and expects the matching check to fail.
"""
from __future__ import annotations

import copy
import functools
import glob
import json
import os
import shutil
import sys
from collections import Counter

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tshark as ts  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CAPTURES = os.path.join(REPO, "captures")

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None or shutil.which("capinfos") is None,
                                reason="tshark/capinfos not installed")


def _turn_truths() -> list[str]:
    out = []
    for p in sorted(glob.glob(os.path.join(CAPTURES, "*.truth.json"))):
        try:
            with open(p) as f:
                if "turn" in json.load(f):
                    out.append(p)
        except (OSError, ValueError):
            out.append(p)   # unreadable truth: let the test report it
    return out


TURN_TRUTHS = _turn_truths()


class Capture:
    """Lazily computed tshark views of one capture file."""

    def __init__(self, path: str):
        self.path = path

    @functools.cached_property
    def info(self):
        return ts.capinfo(self.path)

    @functools.cached_property
    def msgs(self) -> list[ts.StunMessage]:
        return ts.stun_messages(self.path)

    @functools.cached_property
    def responses(self) -> dict[int, ts.StunMessage]:
        return ts.pair_transactions(self.msgs)

    @functools.cached_property
    def udp(self):
        return ts.udp_datagrams(self.path)

    @functools.cached_property
    def tcp(self):
        return ts.tcp_segments(self.path)

    def requests_from(self, client: str, method: int):
        """(request, response or None) of one client's requests of a method."""
        for i, m in enumerate(self.msgs):
            if m.src == client and m.method == method and m.cls == ts.CLASS_REQUEST:
                yield m, self.responses.get(i)

    def responses_to(self, client: str, server: str):
        return [m for m in self.msgs if m.src == server and m.dst == client
                and m.cls in (ts.CLASS_SUCCESS, ts.CLASS_ERROR)]


@functools.lru_cache(maxsize=None)
def capture_for(path: str) -> Capture:
    return Capture(path)


def load_truth(path: str) -> tuple[dict, Capture]:
    with open(path) as f:
        truth = json.load(f)
    cap = os.path.join(CAPTURES, truth["capture"])
    assert os.path.exists(cap), f"{truth['capture']} named by {os.path.basename(path)} does not exist"
    return truth, capture_for(cap)


def real_allocs(truth):
    return [a for a in truth["turn"]["allocations"] if a["outcome"] != "failed"]


ALLOCATE, REFRESH, CREATE_PERMISSION, CHANNEL_BIND = 0x003, 0x004, 0x008, 0x009

# -------------------------------------------------------------------- checks
# Each check raises AssertionError when truth and capture disagree.


def check_capture_file(truth, cap):
    info = cap.info
    assert info["packets"] == truth["packetCount"], \
        f"capinfos: {info['packets']} packets, truth packetCount {truth['packetCount']}"
    assert info["file_type"] == truth["format"], f"file type {info['file_type_raw']} vs {truth['format']}"
    assert info["encapsulation"] == truth["linkType"], \
        f"link type {info['encapsulation_raw']} vs {truth['linkType']}"
    assert info["precision"] == truth["timestampPrecision"], \
        f"precision {info['precision']} vs {truth['timestampPrecision']}"
    assert truth["capture"].startswith(truth["scenario"] + ".")


def check_allocate_successes(truth, cap):
    server = truth["turn"]["server"]
    succ = [m for m in cap.msgs if m.src == server and m.method == ALLOCATE and m.cls == ts.CLASS_SUCCESS]
    want = len(real_allocs(truth))
    assert len(succ) == want, f"{len(succ)} Allocate success responses, truth has {want} allocations"


def check_relayed_addresses(truth, cap):
    server = truth["turn"]["server"]
    seen = set()
    for m in cap.msgs:
        if m.src == server and m.method == ALLOCATE and m.cls == ts.CLASS_SUCCESS:
            for a in m.attrs_of(ts.ATTR["XOR_RELAYED_ADDRESS"]):
                seen.add(a.address)
    want = {r for a in real_allocs(truth) for r in a.get("relayed", [])}
    assert seen == want, f"XOR-RELAYED-ADDRESS in capture {sorted(seen)} != truth {sorted(want)}"
    # each allocation: its client got exactly its relayed address(es)
    for a in truth["turn"]["allocations"]:
        if "client" not in a:
            continue
        got = [x.address for m in cap.msgs
               if m.src == server and m.dst == a["client"] and m.method == ALLOCATE and m.cls == ts.CLASS_SUCCESS
               for x in m.attrs_of(ts.ATTR["XOR_RELAYED_ADDRESS"])]
        assert got == a.get("relayed", []), f"client {a['client']}: relayed {got} != {a.get('relayed', [])}"


def check_errors(truth, cap):
    server = truth["turn"]["server"]
    seen = Counter(m.error_code for m in cap.msgs if m.src == server and m.cls == ts.CLASS_ERROR)
    want = Counter({e["code"]: e["count"] for e in truth["turn"]["errorsTotal"]})
    assert seen == want, f"error responses {dict(seen)} != truth errorsTotal {dict(want)}"
    summed = Counter()
    for a in truth["turn"]["allocations"]:
        summed.update({e["code"]: e["count"] for e in a["errors"]})
        if "client" not in a:
            continue
        got = Counter(m.error_code for m in cap.responses_to(a["client"], server) if m.cls == ts.CLASS_ERROR)
        exp = Counter({e["code"]: e["count"] for e in a["errors"]})
        assert got == exp, f"client {a['client']}: errors {dict(got)} != {dict(exp)}"
    assert summed == want, "allocations' errors do not add up to errorsTotal"


def check_lifetimes(truth, cap):
    server = truth["turn"]["server"]
    for a in truth["turn"]["allocations"]:
        if "client" not in a:
            continue
        got = [m.lifetime for m in cap.responses_to(a["client"], server)
               if m.cls == ts.CLASS_SUCCESS and m.method in (ALLOCATE, REFRESH)]
        assert got == a.get("lifetimes", []), f"client {a['client']}: LIFETIMEs {got} != {a.get('lifetimes')}"


def check_channels(truth, cap):
    for a in truth["turn"]["allocations"]:
        if "client" not in a:
            continue
        bound = set()
        for req, resp in cap.requests_from(a["client"], CHANNEL_BIND):
            if resp is not None and resp.cls == ts.CLASS_SUCCESS:
                peer = req.attr(ts.ATTR["XOR_PEER_ADDRESS"])
                bound.add((req.channel_number, peer.address if peer else None))
        want = {(c["number"], c.get("peer")) for c in a["channels"]}
        if all("peer" in c for c in a["channels"]):
            assert bound == want, f"client {a['client']}: channels {sorted(bound)} != {sorted(want)}"
        else:
            assert {n for n, _ in bound} == {n for n, _ in want}, f"client {a['client']}: channel numbers"
        # ChannelData from this client only uses its bound channels
        # (turn-client-misuse: except the never-bound channel the client's record names)
        unbound = {x["channel"] for x in truth["turn"].get("misuse", {}).get("channelDataUnbound", [])
                   if x["client"] == a["client"]}
        used = {m.channel for m in cap.msgs if m.is_channel_data and m.src == a["client"]} - unbound
        assert used <= {n for n, _ in want}, f"client {a['client']}: ChannelData on unbound channels {used}"


def check_permissions(truth, cap):
    for a in truth["turn"]["allocations"]:
        if "client" not in a:
            continue
        ips = set()
        for method in (CREATE_PERMISSION, CHANNEL_BIND):
            for req, resp in cap.requests_from(a["client"], method):
                if resp is not None and resp.cls == ts.CLASS_SUCCESS:
                    for p in req.attrs_of(ts.ATTR["XOR_PEER_ADDRESS"]):
                        ips.add(ts.ip_of(p.address))
        assert ips == set(a["permissions"]), f"client {a['client']}: permissions {sorted(ips)} != {a['permissions']}"


def check_outcomes(truth, cap):
    server = truth["turn"]["server"]
    for a in truth["turn"]["allocations"]:
        if "client" not in a:
            continue
        deleted = any(req.lifetime == 0 and resp is not None and resp.cls == ts.CLASS_SUCCESS
                      for req, resp in cap.requests_from(a["client"], REFRESH))
        allocated = any(m.dst == a["client"] and m.src == server and m.method == ALLOCATE
                        and m.cls == ts.CLASS_SUCCESS for m in cap.msgs)
        o = a["outcome"]
        assert allocated == (o != "failed"), f"client {a['client']}: outcome {o} but allocated={allocated}"
        assert deleted == (o == "deleted"), f"client {a['client']}: outcome {o} but Refresh(0) accepted={deleted}"
        if o in ("deleted", "expired", "closed"):
            assert a.get("closeReason"), f"client {a['client']}: {o} without closeReason"


def _udp_counts(dgrams, src_pred, dst_pred):
    n = b = 0
    for _, s, d, ln in dgrams:
        if src_pred(s) and dst_pred(d):
            n += 1
            b += ln
    return n, b


def _after_deletion_frames(truth, cap, client):
    """Frames of the client's packets after its Refresh 0 was answered that its
    record lists as sent after the deletion (turn-client-misuse)."""
    m = truth["turn"].get("misuse")
    if not m or m["deletion"]["client"] != client:
        return set()
    (ok,) = [x for x in _by_txid(cap, m["deletion"]["txid"]) if x.cls == ts.CLASS_SUCCESS]
    return {x.frame for x in cap.msgs if x.src == client and x.time > ok.time}


def check_counters(truth, cap):
    """coturn's usage counters against the capture.

    rp/rb = packets/bytes coturn received on a leg, sp/sb = sent.
    UDP: one packet per datagram, bytes = UDP payload.
    Client leg over TCP: one packet per STUN message / ChannelData frame;
    bytes = message sizes, ChannelData counted without its padding when
    received and with it when sent (coturn's accounting).
    RFC 6062 TCP relay: the application data of the allocation's data
    connections (after ConnectionBind) is counted on the allocation's client
    leg too, as bytes; packets count socket reads there, so rp/sp are only
    bounded by the number of data segments.
    """
    t = truth["turn"]
    server = t["server"]
    for a in t["allocations"]:
        c = a.get("counters")
        if not c or "client" not in a:
            continue
        if "clientLeg" in c:
            cl = c["clientLeg"]
            if t["transport"] == "udp":
                # requests (and their answers) that reached coturn on a later session of
                # the same 5-tuple, after the allocation's session had closed, count there
                later = {x for ls in a.get("laterSessions", []) for x in ls["transactions"]}
                skip = {m.frame for m in cap.msgs if m.txid in later}
                # turn-client-misuse: what the client sent after coturn had freed the
                # deleted allocation is not counted on the allocation's session
                skip |= _after_deletion_frames(truth, cap, a["client"])
                dgrams = [x for x in cap.udp if x[0] not in skip]
                rp, rb = _udp_counts(dgrams, lambda s: s == a["client"], lambda d: d == server)
                sp, sb = _udp_counts(dgrams, lambda s: s == server, lambda d: d == a["client"])
                got = dict(rp=rp, rb=rb, sp=sp, sb=sb)
                assert got == cl, f"client {a['client']}: client leg {got} != coturn {cl}"
                for ls in a.get("laterSessions", []):
                    mine = [x for x in cap.udp if x[0] in skip]
                    rp, rb = _udp_counts(mine, lambda s: s == a["client"], lambda d: d == server)
                    sp, sb = _udp_counts(mine, lambda s: s == server, lambda d: d == a["client"])
                    got = dict(rp=rp, rb=rb, sp=sp, sb=sb)
                    assert got == ls["counters"]["clientLeg"], f"later session {got} != {ls['counters']}"
            else:
                up = [m for m in cap.msgs if m.src == a["client"] and m.dst == server]
                down = [m for m in cap.msgs if m.src == server and m.dst == a["client"]]
                rp, sp = len(up), len(down)
                rb = sum(_stun_size(m, padded=False) for m in up)
                sb = sum(_stun_size(m, padded=True) for m in down)
                if t.get("relayTransport") == "tcp":
                    (dup, dup_seg), (ddown, ddown_seg) = _tcp_relay_data(cap, a["client"], server)
                    assert cl["rb"] == rb + dup, f"client {a['client']}: rb {cl['rb']} != {rb} + data {dup}"
                    assert cl["sb"] == sb + ddown, f"client {a['client']}: sb {cl['sb']} != {sb} + data {ddown}"
                    assert rp <= cl["rp"] <= rp + dup_seg, f"client {a['client']}: rp {cl['rp']} not in [{rp}, {rp + dup_seg}]"
                    assert sp <= cl["sp"] <= sp + ddown_seg, f"client {a['client']}: sp {cl['sp']} not in [{sp}, {sp + ddown_seg}]"
                else:
                    got = dict(rp=rp, rb=rb, sp=sp, sb=sb)
                    assert got == cl, f"client {a['client']}: client leg {got} != coturn {cl}"
        if "peerLeg" in c and "peer" in t["legsVisible"] and t["relayTransport"] == "udp":
            relay = set(a.get("relayed", []))
            rp, rb = _udp_counts(cap.udp, lambda s: s not in relay, lambda d: d in relay)
            sp, sb = _udp_counts(cap.udp, lambda s: s in relay, lambda d: d not in relay)
            got = dict(rp=rp, rb=rb, sp=sp, sb=sb)
            assert got == c["peerLeg"], f"relay {sorted(relay)}: peer leg {got} != coturn {c['peerLeg']}"


def _tcp_relay_data(cap, client, server):
    """Application bytes (and segments) on the RFC 6062 data connections that
    belong to the allocation of `client`: CONNECTION-IDs from its Connect
    responses / ConnectionAttempt indications, matched to ConnectionBinds."""
    cid_type = ts.ATTR["CONNECTION_ID"]
    cids = {a.value_hex for m in cap.msgs if m.src == server and m.dst == client
            for a in m.attrs_of(cid_type)}
    data_clients = {m.src for m in cap.msgs if m.dst == server and m.method == 0x00B
                    and m.cls == ts.CLASS_REQUEST and any(a.value_hex in cids for a in m.attrs_of(cid_type))}
    up = down = up_seg = down_seg = 0
    for d in data_clients:
        stun_up = sum(_stun_size(m, padded=True) for m in cap.msgs if m.src == d and m.dst == server)
        stun_down = sum(_stun_size(m, padded=True) for m in cap.msgs if m.src == server and m.dst == d)
        seg_up = [ln for _, s, dd, ln, _ in cap.tcp if s == d and dd == server and ln]
        seg_down = [ln for _, s, dd, ln, _ in cap.tcp if s == server and dd == d and ln]
        up += sum(seg_up) - stun_up
        down += sum(seg_down) - stun_down
        up_seg += len(seg_up)
        down_seg += len(seg_down)
    return (up, up_seg), (down, down_seg)


def _stun_size(m: ts.StunMessage, padded: bool) -> int:
    if m.is_channel_data:
        n = 4 + (m.data_length or 0)
        return (n + 3) & ~3 if padded and m.transport == "tcp" else n
    return 20 + _attrs_len(m)


def _attrs_len(m: ts.StunMessage) -> int:
    total = 0
    for a in m.attrs:
        ln = int(a.get("stun.att.length", 0))
        total += 4 + ((ln + 3) & ~3)
    return total


def check_addresses_and_vantage(truth, cap):
    """The client of every allocation talks to the server in this capture."""
    server = truth["turn"]["server"]
    talking = {m.src for m in cap.msgs if m.dst == server} | {m.dst for m in cap.msgs if m.src == server}
    for a in truth["turn"]["allocations"]:
        if "client" in a:
            assert a["client"] in talking, f"client {a['client']} not seen talking to {server}"
            want = a.get("clientLan") if truth["vantage"] == "client-lan" else a.get("clientPublic")
            assert a["client"] == want, "client must be the vantage's view of the client"


def check_tcp_data_connections(truth, cap):
    """RFC 6062: each data connection in the truth bound itself (ConnectionBind
    success) with a CONNECTION-ID the server had given to one of the allocations."""
    t = truth["turn"]
    server = t["server"]
    cid_type = ts.ATTR["CONNECTION_ID"]
    issued = {a.value_hex for m in cap.msgs if m.src == server
              and m.method in (0x00A, 0x00C) for a in m.attrs_of(cid_type)}
    bound = {}
    for i, m in enumerate(cap.msgs):
        if m.dst == server and m.method == 0x00B and m.cls == ts.CLASS_REQUEST:
            r = cap.responses.get(i)
            if r is not None and r.cls == ts.CLASS_SUCCESS:
                bound[m.src] = {a.value_hex for a in m.attrs_of(cid_type)}
    want = {dc["client"] for dc in t.get("tcpDataConnections", []) if "client" in dc}
    assert set(bound) == want, f"ConnectionBind clients {sorted(bound)} != truth {sorted(want)}"
    for client, cids in bound.items():
        assert cids and cids <= issued, f"{client}: CONNECTION-ID {cids} not issued by Connect/ConnectionAttempt"


# ---- facts of the scenarios played by our own client (captures/gen/turn_client.py):
# turn.clientTransactions, laterSessions, staleNonceLoop, unpermittedPeer,
# permittedPeer, relayToRelay. Each check passes trivially where its key is absent.

SEND, DATA = 0x006, 0x007


def _nonce(m):
    return m.string(ts.ATTR["NONCE"], "stun.att.nonce")


def _by_txid(cap, txid):
    return [m for m in cap.msgs if m.txid == txid]


def check_client_transactions(truth, cap):
    """Every request the client recorded is in the capture once, from its
    client address, with the NONCE and LIFETIME it says it sent, answered as
    it says (class, ERROR-CODE, NONCE, LIFETIME, XOR-RELAYED-ADDRESS); the
    client sent no other request."""
    t = truth["turn"]
    txs = t.get("clientTransactions")
    if txs is None:
        return
    server = t["server"]
    clients = {x["client"] for x in txs}
    reqs = [m for m in cap.msgs if m.src in clients and m.dst == server and m.cls == ts.CLASS_REQUEST]
    # "sends": a retransmitted request (same transaction ID), else sent once
    assert sorted(m.txid for m in reqs) == sorted(x["txid"] for x in txs for _ in range(x.get("sends", 1))), \
        f"requests in capture {len(reqs)} != client's record {len(txs)}"
    for x in txs:
        msgs = _by_txid(cap, x["txid"])
        req = [m for m in msgs if m.cls == ts.CLASS_REQUEST]
        assert len(req) == x.get("sends", 1) and all(m.src == x["client"] for m in req), \
            f"{x['txid']}: request not {x.get('sends', 1)} time(s) from {x['client']}"
        req = req[0]
        assert ts.METHODS[req.method] == x["method"], f"{x['txid']}: {req.method_name} != {x['method']}"
        assert _nonce(req) == x["nonce"], f"{x['txid']}: NONCE {_nonce(req)} != {x['nonce']}"
        if "lifetime" in x:
            assert req.lifetime == x["lifetime"], f"{x['txid']}: LIFETIME {req.lifetime} != {x['lifetime']}"
        resp = [m for m in msgs if m.cls in (ts.CLASS_SUCCESS, ts.CLASS_ERROR)]
        if x["answer"] is None:
            assert not resp, f"{x['txid']}: answered in capture, not in the client's record"
            continue
        assert len(resp) == 1 and resp[0].src == server and resp[0].dst == x["client"], \
            f"{x['txid']}: {len(resp)} answers"
        r, a = resp[0], x["answer"]
        assert (r.cls == ts.CLASS_SUCCESS) == (a["class"] == "success"), f"{x['txid']}: class"
        assert r.error_code == a.get("code"), f"{x['txid']}: ERROR-CODE {r.error_code} != {a.get('code')}"
        assert _nonce(r) == a.get("nonce"), f"{x['txid']}: answer NONCE {_nonce(r)} != {a.get('nonce')}"
        assert r.lifetime == a.get("lifetime"), f"{x['txid']}: answer LIFETIME {r.lifetime} != {a.get('lifetime')}"
        relayed = r.attr(ts.ATTR["XOR_RELAYED_ADDRESS"])
        assert (relayed.address if relayed else None) == a.get("relayed"), f"{x['txid']}: relayed"


def check_refresh_late(truth, cap):
    """turn-refresh-late: the Refresh requests the client sent after its
    lifetime are later in the capture than the Allocate success + LIFETIME,
    and their answers are the errors of the allocation's laterSessions."""
    t = truth["turn"]
    if "refresh" not in t:
        return
    server = t["server"]
    (a,) = t["allocations"]
    succ = [m for m in cap.msgs if m.src == server and m.dst == a["client"] and m.method == ALLOCATE
            and m.cls == ts.CLASS_SUCCESS]
    assert len(succ) == 1 and succ[0].lifetime == t["refresh"]["lifetimeGranted"]
    expiry = succ[0].time + succ[0].lifetime
    refreshes = [m for m in cap.msgs if m.src == a["client"] and m.method == REFRESH and m.cls == ts.CLASS_REQUEST]
    assert refreshes, "no Refresh"
    late = {x["txid"] for x in t["clientTransactions"] if x["afterLifetime"]}
    for m in refreshes:
        assert m.time > expiry, f"Refresh {m.txid} at {m.time - expiry:+.3f} s of the lifetime's end: not late"
        assert m.txid in late
    lag = refreshes[0].time - expiry
    assert abs(lag - t["refresh"]["secondsAfterLifetime"]) < 0.5, f"refresh {lag:.3f} s late, truth {t['refresh']}"
    (ls,) = a["laterSessions"]
    assert set(ls["transactions"]) == late
    got = Counter(r.error_code for i, m in enumerate(cap.msgs) if m.txid in late and m.cls == ts.CLASS_REQUEST
                  for r in [cap.responses.get(i)] if r is not None)
    assert got == Counter({e["code"]: e["count"] for e in ls["errors"]}), f"later answers {dict(got)}"
    assert not any(m.method == REFRESH and m.cls == ts.CLASS_SUCCESS for m in cap.msgs), "a Refresh succeeded"


def check_stale_nonce_loop(truth, cap):
    """turn-stale-nonce-loop: every Refresh carries the old nonce and is
    answered 438 with another NONCE."""
    t = truth["turn"]
    loop = t.get("staleNonceLoop")
    if loop is None:
        return
    server = t["server"]
    (a,) = t["allocations"]
    refs = list(cap.requests_from(a["client"], REFRESH))
    assert len(refs) == loop["resentWithOldNonce"] + 1 == loop["answered438"], \
        f"{len(refs)} Refreshes, truth {loop}"
    for req, resp in refs:
        assert _nonce(req) == loop["oldNonce"], f"Refresh with NONCE {_nonce(req)}, not the old one"
        assert resp is not None and resp.src == server and resp.error_code == 438
        assert _nonce(resp) not in (None, loop["oldNonce"]), "438 without a new NONCE"


def check_unpermitted_peer(truth, cap):
    """turn-permission-drop: the unpermitted host's datagrams arrive at the
    relayed address (server vantage), nothing goes back to it, and nothing
    of it reaches the client; the permitted peer's exchange is complete."""
    t = truth["turn"]
    u = t.get("unpermittedPeer")
    if u is None:
        return
    server = t["server"]
    uip = ts.ip_of(u["address"])
    to_relay = [(f, s, d, n) for f, s, d, n in cap.udp if s == u["address"] and d == u["relayed"]]
    back = [x for x in cap.udp if ts.ip_of(x[2]) == uip]
    if "peer" in t["legsVisible"]:
        assert len(to_relay) == u["datagramsSent"], f"{len(to_relay)} datagrams to the relay, truth {u}"
        assert sum(n for *_, n in to_relay) == u["bytesSent"]
    else:
        assert not to_relay, "unpermitted datagrams visible at a vantage without the relay leg"
    assert not back, f"{len(back)} datagrams to the unpermitted peer"
    data = [m for m in cap.msgs if m.method == DATA and m.src == server
            for p in m.attrs_of(ts.ATTR["XOR_PEER_ADDRESS"]) if ts.ip_of(p.address) == uip]
    assert len(data) == u["forwardedToClient"] == 0, "unpermitted datagrams forwarded to the client"
    pp = t["permittedPeer"]
    sends = [m for m in cap.msgs if m.method == SEND and m.src == pp["client"]
             and m.attr(ts.ATTR["XOR_PEER_ADDRESS"]).address == pp["address"]]
    datas = [m for m in cap.msgs if m.method == DATA and m.dst == pp["client"]
             and m.attr(ts.ATTR["XOR_PEER_ADDRESS"]).address == pp["address"]]
    assert (len(sends), len(datas)) == (pp["sendIndications"], pp["dataIndications"]), \
        f"Send/Data {len(sends)}/{len(datas)}, truth {pp}"
    if "peer" in t["legsVisible"]:
        out = [x for x in cap.udp if x[1] == pp["relayed"] and x[2] == pp["address"]]
        inn = [x for x in cap.udp if x[1] == pp["address"] and x[2] == pp["relayed"]]
        assert (len(out), len(inn)) == (pp["sendIndications"], pp["dataIndications"]), "permitted peer leg"


def check_relay_to_relay(truth, cap):
    """turn-relay-chained: on both client legs, what one client sent towards
    the other's relayed address (ChannelData / Send) and what the other got
    (Data indication from the first's relayed address / ChannelData); no
    datagram between the relayed addresses on the wire."""
    t = truth["turn"]
    rr = t.get("relayToRelay")
    if rr is None:
        return
    server = t["server"]
    relays = {r["fromRelayed"] for r in rr} | {r["toRelayed"] for r in rr}
    assert not [x for x in cap.udp if x[1] in relays or x[2] in relays], "relayed-address traffic on the wire"

    def n_peer(method, src, dst, peer):
        return sum(1 for m in cap.msgs if m.method == method and m.src == src and m.dst == dst
                   and m.cls == ts.CLASS_INDICATION
                   and any(p.address == peer for p in m.attrs_of(ts.ATTR["XOR_PEER_ADDRESS"])))

    def n_chan(src, dst, ch):
        return sum(1 for m in cap.msgs if m.is_channel_data and m.src == src and m.dst == dst and m.channel == ch)

    for r in rr:
        if r["sentAs"] == "ChannelData":
            sent = n_chan(r["fromClient"], server, r["channel"])
        else:
            sent = n_peer(SEND, r["fromClient"], server, r["toRelayed"])
        if r["deliveredAs"] == "Data":
            got = n_peer(DATA, server, r["toClient"], r["fromRelayed"])
        else:
            got = n_chan(server, r["toClient"], r["channel"])
        assert (sent, got) == (r["messages"], r["delivered"]), \
            f"{r['fromRelayed']} -> {r['toRelayed']}: {sent} sent / {got} delivered, truth {r['messages']}/{r['delivered']}"
    a_of = {a["relayed"][0]: a for a in t["allocations"]}

    def bound_peer(client, ch):
        return {req.attr(ts.ATTR["XOR_PEER_ADDRESS"]).address for req, resp in cap.requests_from(client, CHANNEL_BIND)
                if resp is not None and resp.cls == ts.CLASS_SUCCESS and req.channel_number == ch}

    for r in rr:   # each one's peer is the other's relayed address
        assert r["fromRelayed"] != r["toRelayed"], "relay to itself"
        assert a_of[r["fromRelayed"]]["client"] == r["fromClient"] and a_of[r["toRelayed"]]["client"] == r["toClient"]
        assert ts.ip_of(r["toRelayed"]) in a_of[r["fromRelayed"]]["permissions"]
        if r["sentAs"] == "ChannelData":
            assert bound_peer(r["fromClient"], r["channel"]) == {r["toRelayed"]}, "channel not bound to the other relay"
        if r["deliveredAs"] == "ChannelData":
            assert bound_peer(r["toClient"], r["channel"]) == {r["fromRelayed"]}, "channel not bound to the other relay"


def check_misuse(truth, cap):
    """turn-client-misuse: each mistake the client's record names is in the
    capture as recorded: the Send indication before any permission for its
    peer IP, ChannelData on a channel no ChannelBind ever named, the second
    ChannelBind of the bound channel to another peer answered 400 (the first
    binding kept), and the Send / ChannelData sent after the Refresh 0 was
    answered, to which the server answered nothing."""
    t = truth["turn"]
    m = t.get("misuse")
    if m is None:
        return
    server = t["server"]
    client = m["deletion"]["client"]
    binds = list(cap.requests_from(client, CHANNEL_BIND))
    perms_ok = [resp.time for req, resp in binds + list(cap.requests_from(client, CREATE_PERMISSION))
                if resp is not None and resp.cls == ts.CLASS_SUCCESS]
    first_perm = min(perms_ok)
    for x in m["sendWithoutPermission"]:
        (snd,) = [y for y in _by_txid(cap, x["txid"]) if y.method == SEND and y.cls == ts.CLASS_INDICATION]
        assert snd.src == client and snd.dst == server
        assert snd.attr(ts.ATTR["XOR_PEER_ADDRESS"]).address == x["peer"]
        assert snd.time < first_perm, "Send indication not before the first permission"
        if "peer" in t["legsVisible"]:
            relay = set(t["allocations"][0]["relayed"])
            early = [d for d in cap.udp if d[1] in relay and d[2] == x["peer"]
                     and d[0] < min(b.frame for b, _ in binds)]
            assert not early, f"relayed to the peer before any permission: frames {early}"
    named = {req.channel_number for req, _ in binds}
    for x in m["channelDataUnbound"]:
        cds = [y for y in cap.msgs if y.is_channel_data and y.src == client and y.channel == x["channel"]]
        assert len(cds) == 1 and cds[0].data_length == x["payloadBytes"], f"ChannelData 0x{x['channel']:04x}: {cds}"
        assert x["channel"] not in named, "the unbound channel was named in a ChannelBind"
    c = m["channelConflict"]
    (b1,) = [(q, r) for q, r in binds if q.txid == c["firstTxid"]]
    (b2,) = [(q, r) for q, r in binds if q.txid == c["secondTxid"]]
    assert b1[0].channel_number == b2[0].channel_number == c["channel"]
    assert b1[0].attr(ts.ATTR["XOR_PEER_ADDRESS"]).address == c["firstPeer"]
    assert b2[0].attr(ts.ATTR["XOR_PEER_ADDRESS"]).address == c["secondPeer"] != c["firstPeer"]
    assert b1[1].cls == ts.CLASS_SUCCESS and b1[0].time < b2[0].time
    assert b2[1] is not None and b2[1].error_code == c["answer"]["code"], f"conflict answered {b2[1]}"
    reason = b2[1].string(ts.ATTR["ERROR_CODE"], "stun.att.error.reason") or ""
    assert reason.rstrip("\x00") == c["answer"]["reason"], f"reason {reason!r}"
    (ok,) = [y for y in _by_txid(cap, m["deletion"]["txid"]) if y.cls == ts.CLASS_SUCCESS]
    (req,) = [y for y in _by_txid(cap, m["deletion"]["txid"]) if y.cls == ts.CLASS_REQUEST]
    assert req.method == REFRESH and req.lifetime == 0 and ok.lifetime == 0
    after = [y for y in cap.msgs if y.src == client and y.time > ok.time]
    assert len(after) == len(m["afterDeletion"]), f"{len(after)} messages after the deletion"
    for y, x in zip(after, m["afterDeletion"]):
        if x["kind"] == "Send":
            assert y.method == SEND and y.txid == x["txid"]
        else:
            assert y.is_channel_data and y.channel == x["channel"]
        assert abs((y.time - ok.time) - x["secondsAfterDeletion"]) < 0.2
        (d,) = [d for d in cap.udp if d[0] == y.frame]
        assert d[3] == x["udpPayloadBytes"], f"frame {y.frame}: {d[3]} bytes, truth {x['udpPayloadBytes']}"
    assert not [y for y in cap.udp if y[1] == server and y[2] == client and y[0] > ok.frame], \
        "the server answered after the deletion"
    if "peer" in t["legsVisible"]:
        relay = set(t["allocations"][0]["relayed"])
        assert not [d for d in cap.udp if d[1] in relay and d[0] > ok.frame], "relayed after the deletion"


def check_keepalive_gap(truth, cap):
    """turn-keepalive-gap: the longest silence of the client on its 5-tuple is
    the client's recorded silence (> 30 s), inside the allocation's life (the
    Allocate granted more, the Refresh 0 comes after it)."""
    t = truth["turn"]
    g = t.get("keepaliveGap")
    if g is None:
        return
    client, server = g["client"], t["server"]
    up = [m for m in cap.msgs if m.src == client and m.dst == server]
    gaps = sorted(((b.time - a.time), a, b) for a, b in zip(up, up[1:]))
    longest, a, b = gaps[-1]
    assert abs(longest - g["silentSeconds"]) < 0.2 and longest > 30, f"longest gap {longest:.3f} s, truth {g}"
    assert len(gaps) < 2 or gaps[-2][0] < 5, "more than one long gap"
    (alloc,) = [m for m in cap.msgs if m.src == server and m.dst == client and m.method == ALLOCATE
                and m.cls == ts.CLASS_SUCCESS]
    assert alloc.lifetime > longest + (b.time - alloc.time), "the allocation expired during the gap"
    sends = [m for m in up if m.method == SEND]
    assert (sum(m.time < a.time + 0.001 for m in sends), sum(m.time >= b.time for m in sends)) == \
        (g["sendIndicationsBefore"], g["sendIndicationsAfter"])
    datas = [m for m in cap.msgs if m.src == server and m.dst == client and m.method == DATA]
    assert len(datas) == g["dataIndications"]
    (ref0,) = [m for m in up if m.method == REFRESH and m.lifetime == 0]
    assert ref0.time > b.time - 0.001


def check_refusals(truth, cap):
    """turn-server-refusals: what each socket asked for (REQUESTED-TRANSPORT,
    REQUESTED-ADDRESS-FAMILY) and the server's answer (code, reason)."""
    t = truth["turn"]
    rs = t.get("refusals")
    if rs is None:
        return
    for r in rs:
        (req,) = [m for m in _by_txid(cap, r["txid"]) if m.cls == ts.CLASS_REQUEST]
        assert req.src == r["client"] and req.method == ALLOCATE
        transp = int(req.string(ts.ATTR["REQUESTED_TRANSPORT"], "stun.att.transp"), 0)
        fam = req.string(ts.ATTR["REQUESTED_ADDRESS_FAMILY"], "stun.att.family")
        asked = ("REQUESTED-ADDRESS-FAMILY IPv6 (0x02)" if fam is not None and int(fam, 0) == 2
                 else f"REQUESTED-TRANSPORT {'TCP' if transp == 6 else 'UDP'} ({transp})")
        assert asked == r["requested"], f"{r['socket']}: asked {asked}, truth {r['requested']}"
        (resp,) = [m for m in _by_txid(cap, r["txid"]) if m.cls in (ts.CLASS_SUCCESS, ts.CLASS_ERROR)]
        if r["answer"] == "success":
            assert resp.cls == ts.CLASS_SUCCESS
            assert resp.attr(ts.ATTR["XOR_RELAYED_ADDRESS"]).address == r["relayed"]
        else:
            assert resp.error_code == r["answer"], f"{r['socket']}: {resp.error_code} != {r['answer']}"
            reason = resp.string(ts.ATTR["ERROR_CODE"], "stun.att.error.reason") or ""
            assert reason.rstrip("\x00") == r["reason"], f"{r['socket']}: reason {reason!r}"
            # the refused socket never allocated
            assert not [m for m in cap.msgs if m.dst == r["client"] and m.method == ALLOCATE
                        and m.cls == ts.CLASS_SUCCESS]


def check_redirect(truth, cap):
    """turn-alternate-server: the client's first Allocate went to the
    redirecting server and was answered 300 with ALTERNATE-SERVER = the server
    the allocation lives on; the following socket's first request comes after."""
    t = truth["turn"]
    red = t.get("redirect")
    if red is None:
        return
    (req,) = [m for m in _by_txid(cap, red["txid"]) if m.cls == ts.CLASS_REQUEST]
    (resp,) = [m for m in _by_txid(cap, red["txid"]) if m.cls == ts.CLASS_ERROR]
    assert req.src == red["client"] and req.dst == red["server"] and req.method == ALLOCATE
    assert _nonce(req) == red["nonce"] and req.attr(ts.ATTR["MESSAGE_INTEGRITY"]) is None
    assert resp.src == red["server"] and resp.error_code == red["answer"]["code"] == 300
    alt = resp.attr(0x8023)
    assert alt is not None and alt.address == red["answer"]["alternateServer"] == t["server"], \
        f"ALTERNATE-SERVER {alt.address if alt else None}"
    reason = resp.string(ts.ATTR["ERROR_CODE"], "stun.att.error.reason") or ""
    assert reason.rstrip("\x00") == red["answer"]["reason"]
    assert not [m for m in cap.msgs if m.src == red["server"] and m.txid != red["txid"]], \
        "the redirecting server answered anything else"
    follow = [m for m in cap.msgs if m.src == red["followedBy"] and m.dst == t["server"]]
    assert follow and follow[0].time > resp.time and follow[0].method == ALLOCATE
    assert red["followedBy"] in {a["client"] for a in t["allocations"]}


def check_unanswered_binding(truth, cap):
    """stun-server-down: the Binding request is sent as many times as the
    client says, at its RTO schedule, never answered, no ICMP at all, and the
    capture runs past the client's give-up (39.5 s after the first send)."""
    t = truth["turn"]
    b = t.get("unansweredBinding")
    if b is None:
        return
    msgs = _by_txid(cap, b["txid"])
    assert all(m.cls == ts.CLASS_REQUEST and m.method == 0x001 and m.src == b["client"]
               and m.dst == b["server"] for m in msgs), "not all Binding requests to the server"
    assert len(msgs) == b["sends"], f"{len(msgs)} sends, truth {b['sends']}"
    t0 = msgs[0].time
    offs = [m.time - t0 for m in msgs]
    assert all(abs(o - w) < 0.1 for o, w in zip(offs, b["sendOffsets"])), f"send offsets {offs}"
    assert not [m for m in cap.msgs if m.src == b["server"]], "something answered from the server address"
    icmp = ts.fields(cap.path, ["frame.number"], display_filter="icmp or icmpv6")
    assert not icmp, f"ICMP in the capture: {icmp}"
    last = float(ts.fields(cap.path, ["frame.time_epoch"])[-1][0])
    assert last - t0 > b["gaveUpAfter"] >= 39.5, f"capture ends {last - t0:.3f} s after the first send"
    mk = t["markerBinding"]     # the answered Binding after the give-up, from another socket
    (req,) = [m for m in _by_txid(cap, mk["txid"]) if m.cls == ts.CLASS_REQUEST]
    (ok,) = [m for m in _by_txid(cap, mk["txid"]) if m.cls == ts.CLASS_SUCCESS]
    assert req.src == mk["client"] != b["client"] and req.dst == mk["server"] and ok.src == mk["server"]
    assert req.time - t0 > b["gaveUpAfter"] and abs(req.time - t0 - mk["secondsAfterFirstSend"]) < 0.2


SEVERITIES = ("info", "warning", "error")


def check_expected_findings(truth, cap):
    """The shape captures/README.md defines for expectedFindings (when present)."""
    ef = truth.get("expectedFindings")
    if ef is None:
        return
    assert set(ef) == {"why", "required", "allowed"}, f"expectedFindings keys {sorted(ef)}"
    assert isinstance(ef["why"], str) and ef["why"].strip()
    for k in ("required", "allowed"):
        assert isinstance(ef[k], list)
        for f in ef[k]:
            assert set(f) == {"code", "severity"} and f["severity"] in SEVERITIES, f"{k}: {f}"
            assert isinstance(f["code"], str) and "." in f["code"]
    codes = [f["code"] for f in ef["required"] + ef["allowed"]]
    assert len(codes) == len(set(codes)), "a code listed twice"


CHECKS = [check_capture_file, check_allocate_successes, check_relayed_addresses, check_errors,
          check_lifetimes, check_channels, check_permissions, check_outcomes, check_counters,
          check_addresses_and_vantage, check_tcp_data_connections, check_client_transactions,
          check_refresh_late, check_stale_nonce_loop, check_unpermitted_peer, check_relay_to_relay,
          check_misuse, check_keepalive_gap, check_refusals, check_unanswered_binding, check_redirect,
          check_expected_findings]


# --------------------------------------------------------------------- tests

def test_corpus_has_turn_truths():
    assert TURN_TRUTHS, "no captures/*.truth.json with a 'turn' key"


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
@pytest.mark.parametrize("truth_path", TURN_TRUTHS, ids=os.path.basename)
def test_truth_matches_capture(truth_path, check):
    truth, cap = load_truth(truth_path)
    check(truth, cap)


@pytest.mark.parametrize("truth_path", TURN_TRUTHS, ids=os.path.basename)
def test_truth_shape(truth_path):
    truth, _ = load_truth(truth_path)
    for k in ("capture", "scenario", "vantage", "format", "linkType", "timestampPrecision",
              "generator", "credentials", "turn", "notes"):
        assert k in truth, f"missing key {k}"
    assert truth["vantage"] in ("server", "client-lan", "public")
    assert os.path.basename(truth_path) == truth["capture"].rsplit(".", 1)[0] + ".truth.json"
    t = truth["turn"]
    for k in ("server", "transport", "allocations"):
        assert k in t
    for a in t["allocations"]:
        for k in ("clientPublic", "username", "realm", "outcome", "errors", "permissions", "channels"):
            assert k in a, f"allocation without {k}"
        assert a["outcome"] in ("deleted", "expired", "active", "failed", "closed")
    assert os.path.getsize(os.path.join(CAPTURES, truth["capture"])) < 1 << 20


# Corruptions of single facts, and the check that must notice each one.
def _first(truth, pred):
    return next(a for a in truth["turn"]["allocations"] if pred(a))


MUTATIONS = {
    "packetCount": (check_capture_file, lambda t: t.update(packetCount=t["packetCount"] + 1)),
    "linkType": (check_capture_file, lambda t: t.update(linkType="LINUX_SLL2")),
    "relayed": (check_relayed_addresses, lambda t: _first(t, lambda a: a.get("relayed")).update(
        relayed=[t["turn"]["allocations"][-1]["relayed"][0].rsplit(":", 1)[0] + ":1"])),
    "extra allocation": (check_allocate_successes, lambda t: t["turn"]["allocations"].append(
        dict(copy.deepcopy(t["turn"]["allocations"][0]), outcome="active"))),
    "error count": (check_errors, lambda t: t["turn"]["errorsTotal"][0].update(
        count=t["turn"]["errorsTotal"][0]["count"] + 1)),
    "lifetimes": (check_lifetimes, lambda t: _first(t, lambda a: a.get("lifetimes")).update(
        lifetimes=_first(t, lambda a: a.get("lifetimes"))["lifetimes"] + [600])),
    "channel number": (check_channels, lambda t: _first(t, lambda a: a["channels"])["channels"][0].update(
        number=_first(t, lambda a: a["channels"])["channels"][0]["number"] ^ 1)),
    "channel peer": (check_channels, lambda t: _first(t, lambda a: a["channels"])["channels"][0].update(
        peer="198.51.100.99:3480")),
    "permissions": (check_permissions, lambda t: _first(t, lambda a: a["permissions"])["permissions"].append(
        "198.51.100.99")),
    "outcome": (check_outcomes, lambda t: _first(t, lambda a: a["outcome"] == "deleted").update(outcome="active")),
    "client counters": (check_counters, lambda t: _first(t, lambda a: a.get("counters"))["counters"]["clientLeg"]
                        .update(rb=_first(t, lambda a: a.get("counters"))["counters"]["clientLeg"]["rb"] + 4)),
    "peer counters": (check_counters, lambda t: _first(t, lambda a: a.get("counters"))["counters"]["peerLeg"]
                      .update(rp=_first(t, lambda a: a.get("counters"))["counters"]["peerLeg"]["rp"] - 1)),
    "client address": (check_addresses_and_vantage, lambda t: _first(t, lambda a: "client" in a).update(
        client="198.51.100.2:1", clientPublic="198.51.100.2:1")),
}


def _tx(t, pred):
    return next(x for x in t["turn"]["clientTransactions"] if pred(x))


# Corruptions of the own-client scenarios' facts: (truth file, check, mutation).
OWN_MUTATIONS = {
    "transaction nonce": ("turn-stale-nonce-loop.server", check_client_transactions,
                          lambda t: _tx(t, lambda x: x["method"] == "Refresh").update(nonce="0123456789abcdef")),
    "answer code": ("turn-refresh-late.client-lan", check_client_transactions,
                    lambda t: _tx(t, lambda x: (x["answer"] or {}).get("code") == 437)["answer"].update(code=438)),
    "answer nonce": ("turn-refresh-late.server", check_client_transactions,
                     lambda t: _tx(t, lambda x: (x["answer"] or {}).get("code") == 438)["answer"].update(
                         nonce="0123456789abcdef")),
    "missing transaction": ("turn-relay-chained.server", check_client_transactions,
                            lambda t: t["turn"]["clientTransactions"].pop()),
    "refresh not late": ("turn-refresh-late.server", check_refresh_late,
                         lambda t: t["turn"]["refresh"].update(secondsAfterLifetime=1.0)),
    "later session counters": ("turn-refresh-late.client-lan", check_counters,
                               lambda t: t["turn"]["allocations"][0]["laterSessions"][0]["counters"]["clientLeg"]
                               .update(sb=1)),
    "later session codes": ("turn-refresh-late.server", check_refresh_late,
                            lambda t: t["turn"]["allocations"][0]["laterSessions"][0]["errors"].pop()),
    "stale loop count": ("turn-stale-nonce-loop.client-lan", check_stale_nonce_loop,
                         lambda t: t["turn"]["staleNonceLoop"].update(resentWithOldNonce=4, answered438=5)),
    "old nonce": ("turn-stale-nonce-loop.server", check_stale_nonce_loop,
                  lambda t: t["turn"]["staleNonceLoop"].update(oldNonce="0123456789abcdef")),
    "unpermitted count": ("turn-permission-drop.server", check_unpermitted_peer,
                          lambda t: t["turn"]["unpermittedPeer"].update(
                              datagramsSent=t["turn"]["unpermittedPeer"]["datagramsSent"] - 1)),
    "unpermitted address": ("turn-permission-drop.server", check_unpermitted_peer,
                            lambda t: t["turn"]["unpermittedPeer"].update(address="198.51.100.22:4000")),
    "permitted exchange": ("turn-permission-drop.client-lan", check_unpermitted_peer,
                           lambda t: t["turn"]["permittedPeer"].update(dataIndications=4)),
    "relay-to-relay count": ("turn-relay-chained.client-lan", check_relay_to_relay,
                             lambda t: t["turn"]["relayToRelay"][1].update(delivered=4)),
    "relay-to-relay address": ("turn-relay-chained.server", check_relay_to_relay,
                               lambda t: t["turn"]["relayToRelay"][0].update(
                                   toRelayed=t["turn"]["relayToRelay"][0]["fromRelayed"])),
    "misuse conflict code": ("turn-client-misuse.server", check_misuse,
                             lambda t: t["turn"]["misuse"]["channelConflict"]["answer"].update(code=403)),
    "misuse conflict peer": ("turn-client-misuse.client-lan", check_misuse,
                             lambda t: t["turn"]["misuse"]["channelConflict"].update(
                                 secondPeer=t["turn"]["misuse"]["channelConflict"]["firstPeer"])),
    "misuse unbound channel": ("turn-client-misuse.server", check_misuse,
                               lambda t: t["turn"]["misuse"]["channelDataUnbound"][0].update(channel=0x4001)),
    "misuse after deletion": ("turn-client-misuse.client-lan", check_misuse,
                              lambda t: t["turn"]["misuse"]["afterDeletion"].pop()),
    "keepalive silence": ("turn-keepalive-gap.server", check_keepalive_gap,
                          lambda t: t["turn"]["keepaliveGap"].update(silentSeconds=25.0)),
    "refusal code": ("turn-server-refusals.server", check_refusals,
                     lambda t: t["turn"]["refusals"][0].update(answer=440)),
    "refusal request": ("turn-server-refusals.client-lan", check_refusals,
                        lambda t: t["turn"]["refusals"][1].update(requested="REQUESTED-TRANSPORT TCP (6)")),
    "binding sends": ("stun-server-down.server", check_unanswered_binding,
                      lambda t: t["turn"]["unansweredBinding"].update(sends=6)),
    "binding schedule": ("stun-server-down.client-lan", check_unanswered_binding,
                         lambda t: t["turn"]["unansweredBinding"]["sendOffsets"].__setitem__(3, 2.5)),
    "binding retransmissions": ("stun-server-down.server", check_client_transactions,
                                lambda t: t["turn"]["clientTransactions"][0].update(sends=1)),
    "redirect target": ("turn-alternate-server.server", check_redirect,
                        lambda t: t["turn"]["redirect"]["answer"].update(alternateServer="198.51.100.10:3478")),
    "findings severity": ("turn-permission-drop.server", check_expected_findings,
                          lambda t: t["expectedFindings"]["required"][0].update(severity="critical")),
    "findings shape": ("turn-relay-chained.server", check_expected_findings,
                       lambda t: t["expectedFindings"].pop("why")),
}


@pytest.mark.parametrize("name", list(OWN_MUTATIONS))
def test_own_client_checks_detect_wrong_truth(name):
    stem, check, mutate = OWN_MUTATIONS[name]
    path = os.path.join(CAPTURES, stem + ".truth.json")
    if not os.path.exists(path):
        pytest.skip(f"{stem}.truth.json not generated")
    truth, cap = load_truth(path)
    check(truth, cap)
    bad = copy.deepcopy(truth)
    mutate(bad)
    with pytest.raises(AssertionError):
        check(bad, cap)


# The facts each new scenario is about, stated once more as numbers (not only
# truth vs capture): a regenerated run that lost them fails here.
def test_own_client_scenarios_show_their_point():
    def tr(stem):
        p = os.path.join(CAPTURES, stem + ".truth.json")
        if not os.path.exists(p):
            pytest.skip(f"{stem} not generated")
        return load_truth(p)[0]["turn"]
    t = tr("turn-refresh-late.server")
    assert [x["answer"].get("code") for x in t["clientTransactions"] if x["afterLifetime"]][-1] == 437
    assert t["allocations"][0]["outcome"] == "expired"
    t = tr("turn-stale-nonce-loop.server")
    assert t["staleNonceLoop"]["answered438"] >= 5 and t["allocations"][0]["outcome"] == "active"
    t = tr("turn-permission-drop.server")
    assert t["unpermittedPeer"]["datagramsSent"] > 0 and t["unpermittedPeer"]["forwardedToClient"] == 0
    assert t["allocations"][0]["permissions"] == ["198.51.100.20"]
    t = tr("turn-relay-chained.server")
    assert len(t["allocations"]) == 2 and all(r["delivered"] == r["messages"] > 0 for r in t["relayToRelay"])
    t = tr("turn-client-misuse.server")
    m = t["misuse"]
    assert m["channelConflict"]["answer"]["code"] == 400 and m["channelConflict"]["channel"] == 0x4001
    assert len(m["sendWithoutPermission"]) == len(m["channelDataUnbound"]) == 1 and len(m["afterDeletion"]) == 2
    assert t["allocations"][0]["outcome"] == "deleted" and m["receivedAfterDeletion"] == 0
    t = tr("turn-keepalive-gap.server")
    assert t["keepaliveGap"]["silentSeconds"] > 30 and t["allocations"][0]["outcome"] == "deleted"
    t = tr("turn-server-refusals.server")
    assert [r["answer"] for r in t["refusals"]] == [442, 440, "success", 508]
    t = tr("turn-alternate-server.server")
    assert t["redirect"]["answer"]["code"] == 300 and t["allocations"][0]["outcome"] == "deleted"
    t = tr("stun-server-down.server")
    b = t["unansweredBinding"]
    assert b["sends"] == 7 and not b["answered"] and b["gaveUpAfter"] >= 39.5 and not t["allocations"]


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_checks_detect_wrong_truth(name):
    path = os.path.join(CAPTURES, "turn-udp-channels.server.truth.json")
    if not os.path.exists(path):
        pytest.skip("turn-udp-channels.server.truth.json not generated")
    truth, cap = load_truth(path)
    check, mutate = MUTATIONS[name]
    check(truth, cap)          # the real truth passes ...
    bad = copy.deepcopy(truth)
    mutate(bad)
    with pytest.raises(AssertionError):
        check(bad, cap)        # ... the corrupted one does not
