#!/usr/bin/env python3
"""A small TURN/UDP client of our own for the capture generator
(turn_scenarios.sh): it does what turnutils_uclient cannot be told to do,
and keeps its own record of everything it sent and got back.

Modes (one per scenario):

  refresh-late      Allocate (401 challenge, retry), wait until LATE seconds
                    after the granted lifetime ran out, then Refresh; on a 438
                    (new NONCE) the Refresh is retried once with the new
                    nonce; then stop (no further requests).
  stale-nonce-loop  Allocate, wait WAIT seconds (longer than coturn's
                    --stale-nonce), Refresh -> 438 with a new NONCE; then
                    send the Refresh again REPEATS times, each a new
                    transaction but always with the OLD nonce (the bug under
                    test), and give up (no Refresh 0: the allocation stays).
  permission-drop   Allocate, CreatePermission for --peer, MESSAGES Send
                    indications to the peer (it echoes: Data indications);
                    write the relayed address to --ready-file and wait for
                    --go-file (the generator meanwhile lets an unpermitted
                    host send to the relayed address); Refresh 0.
  chained           two allocations A and B from two sockets; A binds a
                    channel to B's relayed address, B creates a permission
                    for A's relayed address; A sends MESSAGES ChannelData to
                    B's relayed address, B answers each with a Send
                    indication to A's relayed address (coturn forwards relay
                    to relay inside the server host); both Refresh 0.
  misuse            one allocation: a Send indication to --peer before any
                    permission; ChannelData on channel 0x4002, never bound;
                    ChannelBind 0x4001 -> --peer (success; one ChannelData
                    echoed), then ChannelBind 0x4001 -> --peer2 while it is
                    bound; Refresh 0; then a Send indication to --peer and
                    ChannelData on 0x4001 after the deletion.
  keepalive-gap     Allocate, CreatePermission for --peer, MESSAGES Send
                    indications (echoed), then nothing at all for GAP
                    seconds, MESSAGES more Send indications, Refresh 0.
  refusals          four sockets: A Allocates with REQUESTED-TRANSPORT TCP
                    (coturn --no-tcp-relay), B with REQUESTED-ADDRESS-FAMILY
                    IPv6 (no IPv6 relay address), C a plain UDP Allocate (takes
                    the only relay port), D a plain Allocate while C holds it;
                    then C Refresh 0. Refusals are recorded, not fatal.
  alternate         A Allocates at --server, which answers 300 Try Alternate
                    with ALTERNATE-SERVER; the client follows it: B Allocates
                    at the alternate address (401, retry, success), Refresh 0.
  binding-unanswered  one STUN Binding request (no credentials) to --server,
                    retransmitted per RFC 8489 section 6.2.1 (RTO 500 ms,
                    Rc 7 sends at 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s), then
                    Rm x RTO = 8 s more of waiting: gives up at 39.5 s;
                    then one Binding to --marker (a working server, another
                    socket), answered, so the capture runs past the give-up.

Every request, its answer (class, code, NONCE received), every indication
and ChannelData sent and received go to --record (JSON). The record is the
client's own knowledge: coturn_truth.py builds truth files from it.

Long-term credentials (RFC 8489 section 9.2): the first request of each
socket carries no credentials; the 401 gives REALM and NONCE.
"""
import argparse
import json
import os
import socket
import struct
import sys
import time

import stun_builder as stun

METHOD_NAMES = {0x001: "Binding", 0x003: "Allocate", 0x004: "Refresh", 0x008: "CreatePermission", 0x009: "ChannelBind"}
SUCCESS, ERROR = 0x0100, 0x0110
REQUESTED_ADDRESS_FAMILY = 0x0017


def ap(addr):
    ip, port = addr[0], addr[1]
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def parse_ap(s):
    ip, _, port = s.rpartition(":")
    return ip.strip("[]"), int(port)


class Failure(Exception):
    pass


class Client:
    """One UDP socket = one 5-tuple = one allocation."""

    def __init__(self, rec, label, server, user, password, timeout):
        self.rec, self.label, self.server = rec, label, server
        self.user, self.password, self.timeout = user, password, timeout
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.connect(server)
        self.local = ap(self.sock.getsockname())
        self.realm = self.nonce = self.key = None
        self.relayed = None
        self.info = dict(label=label, local=self.local, relayed=None, failed=False, error=None,
                         lifetimes=[], permissions=[], channels=[])
        rec["sockets"].append(self.info)
        self.pending_data = []   # indications / ChannelData that arrived while waiting for a response

    # ------------------------------------------------------------ requests
    def _attrs_auth(self, nonce=None):
        if self.realm is None:
            return []
        return [stun.attribute(stun.USERNAME, self.user.encode()),
                stun.attribute(stun.REALM, self.realm.encode()),
                stun.attribute(stun.NONCE, (nonce or self.nonce).encode())]

    def request(self, method, attrs, nonce=None, authenticated=True):
        """One transaction (no retransmission: the network is a veth). Returns
        (class, code, attrs). nonce overrides the current one (stale-nonce bug)."""
        txid = os.urandom(12)
        auth = authenticated and self.realm is not None
        used_nonce = (nonce or self.nonce) if auth else None
        msg = stun.message(method, txid, attrs + (self._attrs_auth(nonce) if auth else []),
                           key=self.key if auth else None)
        entry = dict(socket=self.label, t=time.time(), method=METHOD_NAMES[method], txid=txid.hex(),
                     nonce=used_nonce, authenticated=auth, bytes=len(msg), server=ap(self.server))
        if method in (stun.REFRESH_REQUEST, stun.ALLOCATE_REQUEST):
            for a in attrs:
                if struct.unpack("!H", a[:2])[0] == stun.LIFETIME:
                    entry["lifetime"] = struct.unpack("!I", a[4:8])[0]
        self.rec["transactions"].append(entry)
        self.sock.send(msg)
        deadline = time.time() + self.timeout
        while True:
            left = deadline - time.time()
            if left <= 0:
                entry["response"] = None
                raise Failure(f"{self.label}: no answer to {METHOD_NAMES[method]}")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            if data[0] & 0xC0:      # ChannelData
                self.pending_data.append(("ChannelData", time.time(), data))
                continue
            mtype, _, rtxid, ra = stun.parse(data, require_fingerprint=False)
            if rtxid != txid:
                if mtype == stun.DATA_INDICATION:
                    self.pending_data.append(("Data", time.time(), data))
                continue
            resp = dict(t=time.time(), cls="success" if mtype & 0x0110 == SUCCESS else "error", bytes=len(data))
            if stun.ERROR_CODE in ra:
                v = ra[stun.ERROR_CODE]
                resp["code"] = (v[2] & 0x07) * 100 + v[3]
                resp["reason"] = v[4:].decode(errors="replace")
            if stun.NONCE in ra:
                resp["nonce"] = ra[stun.NONCE].decode(errors="replace")
            if stun.REALM in ra:
                resp["realm"] = ra[stun.REALM].decode(errors="replace")
            if stun.LIFETIME in ra:
                resp["lifetime"] = struct.unpack("!I", ra[stun.LIFETIME])[0]
            if stun.XOR_RELAYED_ADDRESS in ra:
                resp["relayed"] = "%s:%d" % stun.decode_xor_address(ra[stun.XOR_RELAYED_ADDRESS], rtxid)
            if 0x8023 in ra:        # ALTERNATE-SERVER (plain address, not XOR'ed)
                v = ra[0x8023]
                resp["alternate"] = "%s:%d" % (socket.inet_ntoa(v[4:8]), struct.unpack("!H", v[2:4])[0])
            if stun.XOR_MAPPED_ADDRESS in ra:
                resp["mapped"] = "%s:%d" % stun.decode_xor_address(ra[stun.XOR_MAPPED_ADDRESS], rtxid)
            entry["response"] = resp
            return resp

    def authed(self, method, attrs):
        """A request with the 401 challenge handled (first request of the socket)."""
        r = self.request(method, attrs)
        if r["cls"] == "error" and r.get("code") == 401 and self.realm is None:
            self.realm, self.nonce = r["realm"], r["nonce"]
            self.key = stun.long_term_key(self.user, self.realm, self.password)
            r = self.request(method, attrs)
        return r

    def allocate(self, transport=17, family=None, fatal=True):
        attrs = [stun.attribute(stun.REQUESTED_TRANSPORT, bytes([transport, 0, 0, 0])),
                 stun.attribute(stun.LIFETIME, struct.pack("!I", 600))]
        if family is not None:      # REQUESTED-ADDRESS-FAMILY (RFC 8656): 0x01 IPv4, 0x02 IPv6
            attrs.append(stun.attribute(REQUESTED_ADDRESS_FAMILY, bytes([family, 0, 0, 0])))
        r = self.authed(stun.ALLOCATE_REQUEST, attrs)
        if r["cls"] != "success":
            self.info.update(failed=True, error=r.get("code"))
            if not fatal:
                return r
            raise Failure(f"{self.label}: Allocate answered {r.get('code')}")
        self.relayed = r["relayed"]
        self.info["relayed"] = self.relayed
        self.info["mapped"] = r.get("mapped")
        self.info["lifetimes"].append(r["lifetime"])
        return r

    def refresh(self, lifetime=600, nonce=None):
        attrs = [stun.attribute(stun.LIFETIME, struct.pack("!I", lifetime))]
        r = self.request(stun.REFRESH_REQUEST, attrs, nonce=nonce)
        if r["cls"] == "success":
            self.info["lifetimes"].append(r.get("lifetime"))
        return r

    def create_permission(self, peer):
        r = self.request(stun.CREATE_PERMISSION_REQUEST,
                         [self._peer_attr(peer, b"\0" * 12)])
        return r

    def permit(self, peer):
        """CreatePermission that must succeed; the permission goes into the record."""
        r = self.create_permission(peer)
        if r["cls"] != "success":
            raise Failure(f"CreatePermission answered {r.get('code')}")
        self.info["permissions"].append(parse_ap(peer)[0])

    def _peer_attr(self, peer, txid):
        # IPv4 only: the XOR key is the magic cookie alone (no transaction ID)
        return stun.xor_address(stun.XOR_PEER_ADDRESS, *parse_ap(peer), txid)

    def send_indication(self, peer, payload, note=None):
        txid = os.urandom(12)
        msg = stun.message(stun.SEND_INDICATION, txid,
                           [self._peer_attr(peer, txid), stun.attribute(stun.DATA, payload)])
        self.sock.send(msg)
        e = dict(socket=self.label, t=time.time(), kind="Send", txid=txid.hex(), peer=peer, bytes=len(payload),
                 wire=len(msg))
        if note:
            e["note"] = note
        self.rec["sent"].append(e)

    def channel_data(self, channel, payload, note=None):
        msg = struct.pack("!HH", channel, len(payload)) + payload
        self.sock.send(msg)
        e = dict(socket=self.label, t=time.time(), kind="ChannelData", channel=channel, bytes=len(payload),
                 wire=len(msg))
        if note:
            e["note"] = note
        self.rec["sent"].append(e)

    def channel_bind(self, channel, peer):
        return self.request(stun.CHANNEL_BIND_REQUEST,
                            [stun.attribute(stun.CHANNEL_NUMBER, struct.pack("!HH", channel, 0)),
                             self._peer_attr(peer, b"\0" * 12)])

    def receive(self, n, timeout):
        """Collect n incoming Data indications / ChannelData (bounded wait)."""
        got = []
        deadline = time.time() + timeout
        while len(got) < n:
            if self.pending_data:
                kind, t, data = self.pending_data.pop(0)
            else:
                left = deadline - time.time()
                if left <= 0:
                    break
                self.sock.settimeout(left)
                try:
                    data = self.sock.recv(65536)
                except socket.timeout:
                    break
                t = time.time()
                kind = "ChannelData" if data[0] & 0xC0 else "Data"
            if kind == "ChannelData":
                ch, ln = struct.unpack("!HH", data[:4])
                e = dict(socket=self.label, t=t, kind=kind, channel=ch, bytes=ln)
            else:
                mtype, _, txid, ra = stun.parse(data, require_fingerprint=False)
                if mtype != stun.DATA_INDICATION:
                    continue
                e = dict(socket=self.label, t=t, kind="Data", txid=txid.hex(),
                         peer="%s:%d" % stun.decode_xor_address(ra[stun.XOR_PEER_ADDRESS], txid),
                         bytes=len(ra.get(stun.DATA, b"")))
            self.rec["received"].append(e)
            got.append(e)
        return got

    def close(self):
        self.sock.close()
        self.info["closed"] = time.time()


# ----------------------------------------------------------------- modes

def mode_refresh_late(rec, a, mk):
    c = mk("A")
    r = c.allocate()
    granted = r["lifetime"]
    rec["granted"] = granted
    t_alloc = r["t"]
    rec["allocationExpiry"] = t_alloc + granted
    time.sleep(max(0.0, t_alloc + granted + a.late - time.time()))
    rec["refreshAfterLifetime"] = time.time() - (t_alloc + granted)
    r = c.refresh()
    if r["cls"] == "error" and r.get("code") == 438 and r.get("nonce"):
        c.nonce = r["nonce"]
        r = c.refresh()
    rec["finalAnswer"] = r.get("code") if r["cls"] == "error" else "success"
    c.close()


def mode_stale_nonce_loop(rec, a, mk):
    c = mk("A")
    c.allocate()
    old = c.nonce
    time.sleep(a.wait)
    r = c.refresh()
    rec["firstStale"] = r.get("code")
    if r["cls"] == "success":
        raise Failure("nonce not stale yet")
    for _ in range(a.repeats):
        time.sleep(a.interval)
        c.refresh(nonce=old)    # the bug: the new NONCE of the 438 is ignored
    rec["oldNonce"] = old
    c.close()


def mode_permission_drop(rec, a, mk):
    c = mk("A")
    c.allocate()
    c.permit(a.peer)
    for i in range(a.messages):
        c.send_indication(a.peer, b"permitted-%02d " % i + b"x" * 50)
        c.receive(1, 2.0)
    with open(a.ready_file + ".tmp", "w") as f:
        f.write(c.relayed + "\n")
    os.rename(a.ready_file + ".tmp", a.ready_file)
    deadline = time.time() + a.go_timeout
    while not os.path.exists(a.go_file):
        if time.time() > deadline:
            raise Failure("no go file")
        # anything arriving here would be a forwarded unpermitted datagram
        c.receive(1, 0.1)
    c.receive(10, 0.5)
    r = c.refresh(lifetime=0)
    if r["cls"] != "success":
        raise Failure(f"Refresh 0 answered {r.get('code')}")
    c.close()


def mode_chained(rec, a, mk):
    ca, cb = mk("A"), mk("B")
    ca.allocate()
    cb.allocate()
    ch = 0x4000 + (os.getpid() % 0x100)
    r = ca.request(stun.CHANNEL_BIND_REQUEST,
                   [stun.attribute(stun.CHANNEL_NUMBER, struct.pack("!HH", ch, 0)),
                    stun.xor_address(stun.XOR_PEER_ADDRESS, *parse_ap(cb.relayed), b"\0" * 12)])
    if r["cls"] != "success":
        raise Failure(f"ChannelBind answered {r.get('code')}")
    ca.info["channels"].append(dict(number=ch, peer=cb.relayed))
    ca.info["permissions"].append(parse_ap(cb.relayed)[0])
    cb.permit(ca.relayed)
    for i in range(a.messages):
        ca.channel_data(ch, b"a-to-b-%02d " % i + b"y" * 40)
        if len(cb.receive(1, 2.0)) != 1:
            raise Failure("B did not receive A's ChannelData")
        cb.send_indication(ca.relayed, b"b-to-a-%02d " % i + b"z" * 60)
        if len(ca.receive(1, 2.0)) != 1:
            raise Failure("A did not receive B's Send indication")
        time.sleep(0.1)
    for c in (ca, cb):
        r = c.refresh(lifetime=0)
        if r["cls"] != "success":
            raise Failure(f"{c.label}: Refresh 0 answered {r.get('code')}")
    ca.close()
    cb.close()


def mode_misuse(rec, a, mk):
    c = mk("A")
    c.allocate()
    # 1. Send indication to a peer without any permission: coturn drops it
    c.send_indication(a.peer, b"no-permission " + b"n" * 40, note="no-permission")
    time.sleep(0.3)
    # 2. ChannelData on a channel never bound: dropped
    c.channel_data(0x4002, b"unbound-channel " + b"u" * 40, note="unbound-channel")
    time.sleep(0.3)
    # 3. ChannelBind 0x4001 -> peer (ok), one ChannelData echoed back
    r = c.channel_bind(0x4001, a.peer)
    if r["cls"] != "success":
        raise Failure(f"ChannelBind answered {r.get('code')}")
    c.info["channels"].append(dict(number=0x4001, peer=a.peer))
    c.info["permissions"].append(parse_ap(a.peer)[0])
    c.channel_data(0x4001, b"bound-channel " + b"b" * 40, note="bound")
    c.receive(1, 2.0)
    # 4. the same channel to another peer while bound (RFC 8656 section 12: forbidden)
    r = c.channel_bind(0x4001, a.peer2)
    rec["conflictAnswer"] = r.get("code") if r["cls"] == "error" else "success"
    time.sleep(0.3)
    # 5. delete, then use the allocation again
    r = c.refresh(lifetime=0)
    if r["cls"] != "success":
        raise Failure(f"Refresh 0 answered {r.get('code')}")
    rec["deleted"] = r["t"]
    # coturn frees a deleted allocation about 1 s after the Refresh 0 (until
    # then it still relays); 3 s later the allocation is gone for good
    time.sleep(a.after_delete)
    c.send_indication(a.peer, b"after-deletion " + b"d" * 40, note="after-deletion")
    time.sleep(0.3)
    c.channel_data(0x4001, b"after-deletion " + b"d" * 40, note="after-deletion")
    c.receive(5, 1.0)
    c.close()


def mode_keepalive_gap(rec, a, mk):
    c = mk("A")
    c.allocate()
    c.permit(a.peer)
    for i in range(a.messages):
        c.send_indication(a.peer, b"before-gap-%02d " % i + b"k" * 40)
        c.receive(1, 2.0)
    rec["gapStart"] = time.time()
    time.sleep(a.gap)           # silence: nothing sent on the 5-tuple
    rec["gapEnd"] = time.time()
    for i in range(a.messages):
        c.send_indication(a.peer, b"after-gap-%02d " % i + b"k" * 40)
        c.receive(1, 2.0)
    r = c.refresh(lifetime=0)
    if r["cls"] != "success":
        raise Failure(f"Refresh 0 answered {r.get('code')}")
    c.close()


def mode_refusals(rec, a, mk):
    out = rec["refusals"] = {}
    ca = mk("A")
    out["A"] = ca.allocate(transport=6, fatal=False).get("code")       # TCP relay
    cb = mk("B")
    out["B"] = cb.allocate(family=2, fatal=False).get("code")          # IPv6 relay
    cc = mk("C")
    cc.allocate()
    cd = mk("D")
    out["D"] = cd.allocate(fatal=False).get("code")                    # relay port range exhausted
    time.sleep(0.3)
    r = cc.refresh(lifetime=0)
    if r["cls"] != "success":
        raise Failure(f"C: Refresh 0 answered {r.get('code')}")
    for c in (ca, cb, cc, cd):
        c.close()


def mode_alternate(rec, a, mk):
    c = mk("A")
    r = c.allocate(fatal=False)
    rec["redirect"] = dict(code=r.get("code"), reason=(r.get("reason") or "").rstrip("\0"),
                           alternate=r.get("alternate"))
    c.close()
    if r.get("code") != 300 or not r.get("alternate"):
        raise Failure(f"A: Allocate answered {r.get('code')}, not 300 with ALTERNATE-SERVER")
    # follow the redirect: a new socket to the alternate server (RFC 8656 section 7.2)
    cb = Client(rec, "B", parse_ap(r["alternate"]), a.user, a.password, a.timeout)
    cb.allocate()
    time.sleep(0.3)
    r = cb.refresh(lifetime=0)
    if r["cls"] != "success":
        raise Failure(f"B: Refresh 0 answered {r.get('code')}")
    cb.close()


def mode_binding_unanswered(rec, a, mk):
    c = mk("S")
    txid = os.urandom(12)
    msg = stun.message(stun.BINDING_REQUEST, txid, [])
    entry = dict(socket="S", t=time.time(), method="Binding", txid=txid.hex(), nonce=None,
                 authenticated=False, bytes=len(msg), sendTimes=[], response=None)
    rec["transactions"].append(entry)
    rto, rc, rm = 0.5, 7, 16
    t0 = time.time()
    offsets = [rto * (2 ** i - 1) for i in range(rc)]        # 0, 0.5, 1.5, ... 31.5
    giveup = offsets[-1] + rm * rto                          # 39.5
    for off in offsets + [giveup]:
        while True:
            left = t0 + off - time.time()
            if left <= 0:
                break
            c.sock.settimeout(left)
            try:
                data = c.sock.recv(65536)
                entry["response"] = dict(t=time.time(), cls="unexpected", bytes=len(data))
            except (socket.timeout, ConnectionRefusedError):
                pass
        if off == giveup:
            break
        c.sock.send(msg)
        entry["sendTimes"].append(time.time())
    entry["sends"] = len(entry["sendTimes"])
    rec["gaveUp"] = time.time()
    rec["rto"], rec["rc"], rec["rm"] = rto, rc, rm
    if entry["response"] is not None:
        raise Failure("the Binding request was answered")
    c.close()
    if a.marker:
        time.sleep(1.0)
        # a capture file ends with its last packet: one answered Binding to a
        # working server (another socket) shows that the capture runs past the give-up
        m = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        m.connect(parse_ap(a.marker))
        mtx = os.urandom(12)
        m.send(stun.message(stun.BINDING_REQUEST, mtx, []))
        m.settimeout(3.0)
        try:
            mtype, _, rtx, _ = stun.parse(m.recv(65536), require_fingerprint=False)
            answered = mtype == stun.BINDING_SUCCESS and rtx == mtx
        except socket.timeout:
            answered = False
        rec["marker"] = dict(local=ap(m.getsockname()), server=a.marker, txid=mtx.hex(), t=time.time(),
                             answered=answered)
        m.close()
        if not answered:
            raise Failure("marker Binding not answered")


MODES = {"alternate": mode_alternate, "misuse": mode_misuse, "keepalive-gap": mode_keepalive_gap, "refusals": mode_refusals,
         "binding-unanswered": mode_binding_unanswered, "refresh-late": mode_refresh_late, "stale-nonce-loop": mode_stale_nonce_loop,
         "permission-drop": mode_permission_drop, "chained": mode_chained}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=sorted(MODES))
    p.add_argument("--server", required=True, help="ip:port")
    p.add_argument("--user", default="alice")
    p.add_argument("--password", default="secret")
    p.add_argument("--record", required=True, help="JSON file for the client's own record")
    p.add_argument("--timeout", type=float, default=3.0, help="seconds to wait for each answer")
    p.add_argument("--late", type=float, default=4.0, help="refresh-late: seconds after the lifetime")
    p.add_argument("--wait", type=float, default=6.0, help="stale-nonce-loop: seconds before the Refresh")
    p.add_argument("--repeats", type=int, default=5, help="stale-nonce-loop: re-sends with the old nonce")
    p.add_argument("--interval", type=float, default=1.0, help="stale-nonce-loop: seconds between re-sends")
    p.add_argument("--peer", help="permission-drop: permitted peer ip:port")
    p.add_argument("--peer2", help="misuse: the second peer the bound channel is re-bound to")
    p.add_argument("--after-delete", type=float, default=3.0,
                   help="misuse: seconds between Refresh 0 and the use after it")
    p.add_argument("--marker", help="binding-unanswered: ip:port of a working STUN server, asked after the give-up")
    p.add_argument("--gap", type=float, default=35.0, help="keepalive-gap: seconds of silence")
    p.add_argument("--messages", type=int, default=5)
    p.add_argument("--ready-file")
    p.add_argument("--go-file")
    p.add_argument("--go-timeout", type=float, default=20.0)
    a = p.parse_args()
    rec = dict(tool="captures/gen/turn_client.py", mode=a.mode, server=a.server, user=a.user,
               args=sys.argv[1:], started=time.time(), sockets=[], transactions=[], sent=[], received=[])
    server = parse_ap(a.server)
    rc = 0
    try:
        MODES[a.mode](rec, a, lambda label: Client(rec, label, server, a.user, a.password, a.timeout))
    except Failure as e:
        rec["failure"] = str(e)
        print(f"turn_client: {e}", file=sys.stderr)
        rc = 1
    rec["finished"] = time.time()
    with open(a.record + ".tmp", "w") as f:
        json.dump(rec, f, indent=1)
    os.rename(a.record + ".tmp", a.record)
    for t in rec["transactions"]:
        r = t.get("response") or {}
        print(f"{t['socket']} {t['method']} nonce={t['nonce']} -> {r.get('cls')} {r.get('code', '')} "
              f"nonce={r.get('nonce')} lifetime={r.get('lifetime')} relayed={r.get('relayed')}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
