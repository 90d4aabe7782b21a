#!/usr/bin/env python3
"""One aioice ICE agent for the StunScope capture corpus (ICE/SIP part).

Run by captures/gen/ice_scenarios.sh inside a network namespace. The agent
gathers host/srflx/relay candidates against coturn, exchanges its ICE
parameters with the peer agent, runs the ICE checks, sends a few data
packets over the selected pair, closes (which deletes the TURN allocation)
and writes what aioice itself knows into a JSON state file:

  local/remote candidates, role, tie-breaker, ufrag/pwd, the check list with
  the final state of every pair, and the selected (nominated) pair taken from
  Connection._nominated.

Signalling ("--signal"):
  file  both agents write <dir>/<name>.offer.json and poll for the peer's.
  sip   the caller sends a SIP INVITE (SDP offer with a=ice-ufrag, a=ice-pwd,
        a=candidate) over UDP 5060; the callee answers 100 Trying, 180 Ringing,
        200 OK (SDP answer); the caller sends ACK; after the media the caller
        sends BYE and the callee answers 200 OK. Written with plain sockets.

Every wait is bounded; the process exits non-zero when ICE fails.
"""

import argparse
import asyncio
import json
import logging
import os
import random
import socket
import sys
import time

import aioice
from aioice import Candidate, Connection, TransportPolicy

DATA_PACKETS = 5
WAIT = 30.0  # upper bound of every wait (s)


def addr(host, port):
    if ":" in host:
        return f"[{host}]:{port}"
    return f"{host}:{port}"


def cand_json(c):
    d = {
        "address": addr(c.host, c.port),
        "type": c.type,
        "foundation": c.foundation,
        "component": c.component,
        "priority": c.priority,
        "transport": c.transport,
        "sdp": "candidate:" + c.to_sdp(),
    }
    if c.related_address is not None:
        d["relatedAddress"] = addr(c.related_address, c.related_port)
    return d


def protocol_socket(protocol):
    """Local socket address the protocol really sends from (for a relay: the
    TURN client socket towards the server), and the TURN server address."""
    transport = protocol.transport
    inner = getattr(transport, "_TurnTransport__inner_protocol", None)
    if inner is not None:
        s = inner.transport.get_extra_info("sockname")
        return addr(s[0], s[1]), addr(*inner.server)
    s = transport.get_extra_info("sockname")
    return addr(s[0], s[1]), None


def turn_mapped(protocol):
    """XOR-MAPPED-ADDRESS of the Allocate success of a relay protocol, as the
    TURN client holds it. With the relay-only transport policy aioice hides it
    from the candidate (related address 0.0.0.0:9, RFC 9429 section 3.5.3)."""
    r = protocol.transport.get_extra_info("related_address")
    return addr(r[0], r[1]) if r else None


def pair_json(pair):
    sock, turn = protocol_socket(pair.protocol)
    d = {
        "local": addr(pair.local_candidate.host, pair.local_candidate.port),
        "localType": pair.local_candidate.type,
        "remote": addr(pair.remote_candidate.host, pair.remote_candidate.port),
        "remoteType": pair.remote_candidate.type,
        "state": pair.state.name,
        "nominated": bool(pair.nominated),
        "remoteNominated": bool(pair.remote_nominated),
        "socket": sock,
    }
    if turn:
        d["viaTurnServer"] = turn
    return d


def state_json(conn, args, extra):
    nominated = conn._nominated.get(1)
    st = {
        "name": args.name,
        "aioiceVersion": aioice.__version__,
        "initialRole": "controlling" if args.controlling else "controlled",
        "role": "controlling" if conn.ice_controlling else "controlled",
        "tieBreaker": conn._tie_breaker,
        "ufrag": conn.local_username,
        "pwd": conn.local_password,
        "remoteUfrag": conn.remote_username,
        "remotePwd": conn.remote_password,
        "nomination": args.nomination,
        "transportPolicy": "relay" if args.relay_only else "all",
        "localCandidates": [cand_json(c) for c in conn.local_candidates],
        "remoteCandidates": [cand_json(c) for c in conn._remote_candidates],
        "checkList": [pair_json(p) for p in conn._check_list],
        "sockets": [],
    }
    for p in conn._protocols:
        sock, turn = protocol_socket(p)
        e = {"candidate": addr(p.local_candidate.host, p.local_candidate.port),
             "type": p.local_candidate.type, "socket": sock}
        if turn:
            e["turnServer"] = turn
            mapped = turn_mapped(p)
            if mapped:
                e["turnMapped"] = mapped
        st["sockets"].append(e)
    if nominated is not None:
        st["selectedPair"] = pair_json(nominated)
    st.update(extra)
    return st


async def wait_file(path, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {path}")
        await asyncio.sleep(0.005)
    with open(path) as f:
        return json.load(f)


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1)
    os.rename(tmp, path)


# ---------------------------------------------------------------- SIP / SDP

def make_sdp(conn, sess_id, host_ip):
    default = conn.get_default_candidate(1)
    lines = [
        "v=0",
        f"o=- {sess_id} 1 IN IP4 {host_ip}",
        "s=StunScope ICE call",
        f"c=IN IP4 {default.host}",
        "t=0 0",
        f"m=audio {default.port} RTP/AVP 0",
        "a=rtpmap:0 PCMU/8000",
        f"a=ice-ufrag:{conn.local_username}",
        f"a=ice-pwd:{conn.local_password}",
    ]
    for c in conn.local_candidates:
        lines.append("a=candidate:" + c.to_sdp())
    lines.append("a=end-of-candidates")
    lines.append("a=sendrecv")
    return "\r\n".join(lines) + "\r\n"


def parse_sdp(body):
    ufrag = pwd = None
    cands = []
    for line in body.splitlines():
        if line.startswith("a=ice-ufrag:"):
            ufrag = line.split(":", 1)[1]
        elif line.startswith("a=ice-pwd:"):
            pwd = line.split(":", 1)[1]
        elif line.startswith("a=candidate:"):
            cands.append(Candidate.from_sdp(line[len("a=candidate:"):]))
    return ufrag, pwd, cands


def sip_message(start, headers, body=""):
    out = [start]
    for k, v in headers:
        out.append(f"{k}: {v}")
    if body:
        out.append("Content-Type: application/sdp")
    out.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(out) + "\r\n\r\n" + body).encode()


def sip_parse(data):
    head, _, body = data.decode().partition("\r\n\r\n")
    lines = head.split("\r\n")
    hdrs = []
    for l in lines[1:]:
        k, _, v = l.partition(":")
        hdrs.append((k.strip(), v.strip()))
    return lines[0], hdrs, body


def hget(hdrs, name):
    for k, v in hdrs:
        if k.lower() == name.lower():
            return v
    return None


class SipSock:
    def __init__(self, local):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(local)
        self.sock.setblocking(False)
        self.log = []  # what we sent / received, for the truth file

    async def recv(self, timeout=WAIT):
        loop = asyncio.get_running_loop()
        data, src = await asyncio.wait_for(loop.sock_recvfrom(self.sock, 65535), timeout)
        start, hdrs, body = sip_parse(data)
        self.log.append({"dir": "in", "from": addr(*src), "start": start,
                         "cseq": hget(hdrs, "CSeq")})
        return start, hdrs, body, src

    async def send(self, msg, dst):
        loop = asyncio.get_running_loop()
        await loop.sock_sendto(self.sock, msg, dst)
        start = msg.split(b"\r\n", 1)[0].decode()
        cseq = None
        for l in msg.decode().split("\r\n"):
            if l.lower().startswith("cseq:"):
                cseq = l.split(":", 1)[1].strip()
        self.log.append({"dir": "out", "to": addr(*dst), "start": start, "cseq": cseq})


def rand_token(n=10):
    return "".join(random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))


async def sip_caller(conn, args, info):
    """A: INVITE with the SDP offer, wait for 100/180/200, ACK."""
    sip = SipSock((args.sip_local, 5060))
    dst = (args.sip_peer, 5060)
    call_id = f"{rand_token(16)}@{args.sip_local}"
    from_tag, branch = rand_token(8), "z9hG4bK" + rand_token(12)
    sdp = make_sdp(conn, random.randint(10**9, 2 * 10**9), args.sip_local)
    ruri = f"sip:bob@{args.sip_peer}"
    common = [
        ("From", f"\"Alice\" <sip:alice@{args.sip_domain}>;tag={from_tag}"),
        ("To", f"<sip:bob@{args.sip_domain}>"),
        ("Call-ID", call_id),
    ]
    invite = sip_message(f"INVITE {ruri} SIP/2.0", [
        ("Via", f"SIP/2.0/UDP {args.sip_local}:5060;branch={branch};rport"),
        ("Max-Forwards", "70"),
        *common,
        ("CSeq", "1 INVITE"),
        ("Contact", f"<sip:alice@{args.sip_local}:5060>"),
        ("User-Agent", "StunScope-corpus aioice/" + aioice.__version__),
        ("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS"),
    ], sdp)
    await sip.send(invite, dst)
    to_hdr = None
    body = None
    while True:
        start, hdrs, b, src = await sip.recv()
        code = int(start.split()[1])
        if code >= 200:
            to_hdr = hget(hdrs, "To")
            body = b
            break
    if code != 200:
        raise ConnectionError(f"call failed: {start}")
    ack = sip_message(f"ACK {ruri} SIP/2.0", [
        ("Via", f"SIP/2.0/UDP {args.sip_local}:5060;branch=z9hG4bK{rand_token(12)};rport"),
        ("Max-Forwards", "70"),
        common[0], ("To", to_hdr), common[2],
        ("CSeq", "1 ACK"),
    ])
    await sip.send(ack, dst)
    ufrag, pwd, cands = parse_sdp(body)
    info.update(sip_sock=sip, dst=dst, ruri=ruri, common=[common[0], ("To", to_hdr), common[2]],
                callId=call_id, sdpSent=sdp, sdpReceived=body)
    return ufrag, pwd, cands


async def sip_caller_bye(args, info):
    sip, dst = info["sip_sock"], info["dst"]
    bye = sip_message(f"BYE {info['ruri']} SIP/2.0", [
        ("Via", f"SIP/2.0/UDP {args.sip_local}:5060;branch=z9hG4bK{rand_token(12)};rport"),
        ("Max-Forwards", "70"),
        *info["common"],
        ("CSeq", "2 BYE"),
    ])
    await sip.send(bye, dst)
    start, _, _, _ = await sip.recv()
    if not start.startswith("SIP/2.0 200"):
        raise ConnectionError(f"BYE answered with {start}")


def via_with_received(via, src):
    via = via.replace(";rport", f";received={src[0]};rport={src[1]}", 1)
    return via


async def sip_callee_invite(args, info):
    """B: receive INVITE, send 100 Trying (the SDP answer needs the gathering)."""
    sip = SipSock((args.sip_local, 5060))
    start, hdrs, body, src = await sip.recv()
    if not start.startswith("INVITE "):
        raise ConnectionError(f"expected INVITE, got {start}")
    via = via_with_received(hget(hdrs, "Via"), src)
    to_tag = rand_token(8)
    base = [("Via", via), ("From", hget(hdrs, "From")), ("To", hget(hdrs, "To")),
            ("Call-ID", hget(hdrs, "Call-ID")), ("CSeq", hget(hdrs, "CSeq"))]
    await sip.send(sip_message("SIP/2.0 100 Trying", base), src)
    info.update(sip_sock=sip, src=src, base=base, to_tag=to_tag,
                callId=hget(hdrs, "Call-ID"), sdpReceived=body)
    return parse_sdp(body)


async def sip_callee_answer(conn, args, info):
    sip, src, base = info["sip_sock"], info["src"], info["base"]
    to = base[2][1] + f";tag={info['to_tag']}"
    hdrs = [base[0], base[1], ("To", to), base[3], base[4]]
    await sip.send(sip_message("SIP/2.0 180 Ringing", hdrs + [
        ("Contact", f"<sip:bob@{args.sip_local}:5060>")]), src)
    await asyncio.sleep(0.3)
    sdp = make_sdp(conn, random.randint(10**9, 2 * 10**9), args.sip_local)
    await sip.send(sip_message("SIP/2.0 200 OK", hdrs + [
        ("Contact", f"<sip:bob@{args.sip_local}:5060>"),
        ("User-Agent", "StunScope-corpus aioice/" + aioice.__version__),
    ], sdp), src)
    info["sdpSent"] = sdp


async def sip_callee_ack(info):
    start, _, _, _ = await info["sip_sock"].recv()
    if not start.startswith("ACK "):
        raise ConnectionError(f"expected ACK, got {start}")


async def sip_callee_bye(args, info):
    sip = info["sip_sock"]
    start, hdrs, _, src = await sip.recv()
    if not start.startswith("BYE "):
        raise ConnectionError(f"expected BYE, got {start}")
    via = via_with_received(hget(hdrs, "Via"), src)
    await sip.send(sip_message("SIP/2.0 200 OK", [
        ("Via", via), ("From", hget(hdrs, "From")), ("To", hget(hdrs, "To")),
        ("Call-ID", hget(hdrs, "Call-ID")), ("CSeq", hget(hdrs, "CSeq"))]), src)


# ---------------------------------------------------------------- main flow

async def run(args):
    def hp(s):
        h, _, p = s.rpartition(":")
        return (h, int(p))

    conn = Connection(
        ice_controlling=args.controlling,
        stun_server=hp(args.stun) if args.stun else None,
        turn_server=hp(args.turn) if args.turn else None,
        turn_username=args.turn_user,
        turn_password=args.turn_pass,
        use_ipv4=True,
        use_ipv6=args.ipv6,
        # relay only: no host or srflx candidates gathered or offered
        transport_policy=TransportPolicy.RELAY if args.relay_only else TransportPolicy.ALL,
    )
    if args.nomination == "regular":
        # aioice 0.13 nominates aggressively (USE-CANDIDATE on every check)
        # unless it believes the peer is ICE-lite; then the controlling agent
        # checks first and nominates the first valid pair with a second check
        # carrying USE-CANDIDATE (RFC 8445 regular nomination). Only
        # check_start() reads this flag.
        conn.remote_is_lite = True

    t0 = time.time()
    info = {}
    extra = {"events": []}

    def ev(what):
        extra["events"].append({"t": round(time.time() - t0, 3), "event": what})

    peer = None
    if args.signal == "sip" and not args.controlling:
        ufrag, pwd, cands = await sip_callee_invite(args, info)
        ev("INVITE received, 100 Trying sent")
    await conn.gather_candidates()
    ev("gathered")

    if args.signal == "file":
        write_json(os.path.join(args.dir, f"{args.name}.offer.json"), {
            "ufrag": conn.local_username, "pwd": conn.local_password,
            "candidates": ["candidate:" + c.to_sdp() for c in conn.local_candidates],
        })
        peer = await wait_file(os.path.join(args.dir, f"{args.peer}.offer.json"))
        ufrag, pwd = peer["ufrag"], peer["pwd"]
        cands = [Candidate.from_sdp(c[len("candidate:"):]) for c in peer["candidates"]]
    elif args.controlling:
        ufrag, pwd, cands = await sip_caller(conn, args, info)
        ev("200 OK received, ACK sent")
    else:
        # the answerer starts its checks as soon as the answer is sent (RFC 8445
        # section 6.1.1), while the ACK is still on its way
        await sip_callee_answer(conn, args, info)
        ev("200 OK sent")
        ack_task = asyncio.create_task(sip_callee_ack(info))

    if args.controlling:
        # The offerer takes a moment with the answer, so the answerer's checks
        # open the answerer's NAT binding before the offerer's first check
        # arrives. Without it the offerer's first direct check is often dropped
        # by the far NAT, aioice (which does not restart an in-progress check
        # when a triggered check is due) waits 500 ms for the retransmission,
        # and a relayed pair wins meanwhile.
        await asyncio.sleep(args.answer_delay)

    conn.remote_username = ufrag
    conn.remote_password = pwd
    for c in cands:
        await conn.add_remote_candidate(c)
    await conn.add_remote_candidate(None)
    ev("remote candidates added")

    ok = True
    try:
        await asyncio.wait_for(conn.connect(), WAIT)
        ev("ICE completed")
    except Exception as exc:  # noqa: BLE001
        ok = False
        ev(f"ICE failed: {exc!r}")
    if args.signal == "sip" and not args.controlling:
        await asyncio.wait_for(ack_task, WAIT)
        ev("ACK received")

    received = []
    if ok:
        # A sends numbered packets, B echoes them.
        if args.controlling:
            for i in range(DATA_PACKETS):
                await conn.send(f"stunscope data {i} from {args.name}".encode())
                try:
                    received.append((await asyncio.wait_for(conn.recv(), 5)).decode())
                except asyncio.TimeoutError:
                    break
                await asyncio.sleep(0.1)
        else:
            for i in range(DATA_PACKETS):
                try:
                    d = await asyncio.wait_for(conn.recv(), 10)
                except asyncio.TimeoutError:
                    break
                received.append(d.decode())
                await conn.send(d.replace(b"from a", f"echoed by {args.name}".encode()))
        ev(f"data exchanged: {len(received)} received")
        if args.linger > 0:
            # keep the pair up so that consent-freshness checks show up
            await asyncio.sleep(args.linger)
            ev(f"lingered {args.linger}s")

    extra["dataReceived"] = received
    state = state_json(conn, args, extra)

    # both agents close only when both are done with the data
    write_json(os.path.join(args.dir, f"{args.name}.done.json"), {"ok": ok})
    try:
        await wait_file(os.path.join(args.dir, f"{args.peer}.done.json"))
    except TimeoutError:
        ev("peer never finished")

    if args.signal == "sip":
        if args.controlling:
            await sip_caller_bye(args, info)
            ev("BYE sent, 200 OK received")
        else:
            await sip_callee_bye(args, info)
            ev("BYE received, 200 OK sent")
        state["sip"] = {
            "callId": info["callId"],
            "sdpSent": info.get("sdpSent"),
            "sdpReceived": info.get("sdpReceived"),
            "log": info["sip_sock"].log,
        }

    await conn.close()
    ev("closed")
    await asyncio.sleep(0.3)
    state["events"] = extra["events"]
    write_json(args.state, state)
    return 0 if ok and len(received) == DATA_PACKETS else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--peer", required=True)
    ap.add_argument("--controlling", action="store_true")
    ap.add_argument("--stun")
    ap.add_argument("--turn")
    ap.add_argument("--turn-user", default="alice")
    ap.add_argument("--turn-pass", default="secret")
    ap.add_argument("--nomination", choices=["aggressive", "regular"], default="aggressive")
    ap.add_argument("--signal", choices=["file", "sip"], default="file")
    ap.add_argument("--sip-local")
    ap.add_argument("--sip-peer")
    ap.add_argument("--sip-domain", default="example.org")
    ap.add_argument("--ipv6", action="store_true")
    ap.add_argument("--linger", type=float, default=0)
    ap.add_argument("--relay-only", action="store_true",
                    help="aioice transport_policy=TransportPolicy.RELAY: gather and offer relay candidates only")
    ap.add_argument("--answer-delay", type=float, default=0.06,
                    help="controlling agent: pause between getting the answer and the first check (s)")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--state", required=True)
    ap.add_argument("--log")
    args = ap.parse_args()
    logging.basicConfig(
        filename=args.log, level=logging.INFO,
        format="%(asctime)s.%(msecs)03d %(name)s %(levelname)s %(message)s",
        datefmt="%H:%M:%S")
    try:
        rc = asyncio.run(asyncio.wait_for(run(args), 3 * WAIT))
    except Exception as exc:  # noqa: BLE001
        logging.exception("agent failed")
        print(f"agent {args.name} failed: {exc!r}", file=sys.stderr)
        rc = 2
    sys.exit(rc)


if __name__ == "__main__":
    main()
