"""A small, fully specified ICE + SIP capture written byte by byte, for the
paths the aioice corpus does not take: SIP over TCP (split and coalesced
segments), ICE-TCP (RFC 6544 / RFC 4571 framing), a 487 Role Conflict with
the role switch that follows, renomination (NOMINATION 0xC001) moving the
selected pair, and a consent-freshness gap.

Everything the test expects is decided here, independently of stunscope:
`build(path)` writes the pcap and returns the expected facts.
"""

import hashlib
import hmac
import struct
import zlib

A_IP, B_IP = "192.0.2.1", "198.51.100.2"
A_UFRAG, A_PWD = "aaaa", "A-password-0123456789ab"
B_UFRAG, B_PWD = "bbbb", "B-password-0123456789ab"
CALL_ID = "synthetic-call-1@192.0.2.1"
MAGIC = 0x2112A442


def _ip(s):
    return bytes(int(x) for x in s.split("."))


def _csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


class Pcap:
    def __init__(self):
        self.records = []
        self.t = 1_700_000_000.0
        self.tcp = {}

    def frame(self, ip_payload, proto, src, dst):
        ident = len(self.records) & 0xFFFF
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(ip_payload), ident, 0x4000, 64, proto, 0, _ip(src), _ip(dst))
        ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
        eth = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00"
        self.records.append((self.t, eth + ip + ip_payload))
        return len(self.records)

    def udp(self, src, sport, dst, dport, payload, dt=0.001):
        self.t += dt
        seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
        return self.frame(seg, 17, src, dst)

    def _tcp_segment(self, src, sport, dst, dport, flags, payload):
        key = (src, sport, dst, dport)
        seq, ack = self.tcp.setdefault(key, [1000 + sport, 0])
        rev = self.tcp.get((dst, dport, src, sport))
        ack = rev[0] if rev else 0
        hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
        pseudo = _ip(src) + _ip(dst) + struct.pack("!BBH", 0, 6, len(hdr) + len(payload))
        c = _csum(pseudo + hdr + payload)
        hdr = hdr[:16] + struct.pack("!H", c) + hdr[18:]
        self.tcp[key][0] = seq + len(payload) + (1 if flags & 0x03 else 0)
        return hdr + payload

    def tcp_open(self, src, sport, dst, dport):
        self.t += 0.001
        self.frame(self._tcp_segment(src, sport, dst, dport, 0x02, b""), 6, src, dst)
        self.t += 0.001
        self.frame(self._tcp_segment(dst, dport, src, sport, 0x12, b""), 6, dst, src)
        self.t += 0.001
        self.frame(self._tcp_segment(src, sport, dst, dport, 0x10, b""), 6, src, dst)

    def tcp_data(self, src, sport, dst, dport, payload, dt=0.001):
        self.t += dt
        return self.frame(self._tcp_segment(src, sport, dst, dport, 0x18, payload), 6, src, dst)

    def write(self, path):
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
            for t, data in self.records:
                sec = int(t)
                usec = int(round((t - sec) * 1e6))
                f.write(struct.pack("<IIII", sec, usec, len(data), len(data)) + data)


def _attr(t, v):
    return struct.pack("!HH", t, len(v)) + v + b"\0" * ((4 - len(v) % 4) % 4)


def _xor_addr(ip, port, tid):
    x = port ^ (MAGIC >> 16)
    a = struct.unpack("!I", _ip(ip))[0] ^ MAGIC
    return struct.pack("!BBHI", 0, 1, x, a)


def stun(mtype, tid, attrs, key=None):
    body = b"".join(_attr(t, v) for t, v in attrs)
    if key is not None:
        head = struct.pack("!HHI", mtype, len(body) + 24, MAGIC) + tid
        mac = hmac.new(key.encode(), head + body, hashlib.sha1).digest()
        body += _attr(0x0008, mac)
    head = struct.pack("!HHI", mtype, len(body) + 8, MAGIC) + tid
    crc = (zlib.crc32(head + body) & 0xFFFFFFFF) ^ 0x5354554E
    body += _attr(0x8028, struct.pack("!I", crc))
    return struct.pack("!HHI", mtype, len(body), MAGIC) + tid + body


class Tid:
    n = 0

    @classmethod
    def next(cls):
        cls.n += 1
        return struct.pack("!III", 0x51A7, 0xC0DE, cls.n)


def check(receiver, sender, pwd, role, tiebreaker, use_candidate=False, nomination=None):
    tid = Tid.next()
    attrs = [(0x0006, f"{receiver}:{sender}".encode()), (0x0024, struct.pack("!I", 1862270975)),
             (0x802A if role == "controlling" else 0x8029, struct.pack("!Q", tiebreaker))]
    if use_candidate:
        attrs.append((0x0025, b""))
    if nomination is not None:
        attrs.append((0xC001, struct.pack("!I", nomination)))
    return tid, stun(0x0001, tid, attrs, key=pwd)


def success(tid, mapped_ip, mapped_port, pwd):
    return stun(0x0101, tid, [(0x0020, _xor_addr(mapped_ip, mapped_port, tid))], key=pwd)


def error487(tid, pwd):
    return stun(0x0111, tid, [(0x0009, struct.pack("!HBB", 0, 4, 87) + b"Role Conflict")], key=pwd)


def framed(msg):
    return struct.pack("!H", len(msg)) + msg


def sdp(ufrag, pwd, ip, udp_port, tcp_port, tcptype):
    return ("v=0\r\n"
            f"o=- 1 1 IN IP4 {ip}\r\n"
            "s=-\r\n"
            f"c=IN IP4 {ip}\r\n"
            "t=0 0\r\n"
            "a=ice-options:ice2\r\n"
            f"m=audio {udp_port} RTP/AVP 0\r\n"
            f"a=ice-ufrag:{ufrag}\r\n"
            f"a=ice-pwd:{pwd}\r\n"
            "a=setup:actpass\r\n"
            f"a=candidate:1 1 udp 2130706431 {ip} {udp_port} typ host\r\n"
            f"a=candidate:2 1 tcp 1518280447 {ip} {tcp_port} typ host tcptype {tcptype}\r\n")


def sip(start, cseq, body="", extra=""):
    msg = (f"{start}\r\n"
           f"Via: SIP/2.0/TCP {A_IP}:40000;branch=z9hG4bK-1\r\n"
           f"From: <sip:alice@{A_IP}>;tag=a1\r\n"
           f"To: <sip:bob@{B_IP}>{extra}\r\n"
           f"i: {CALL_ID}\r\n"
           f"CSeq: {cseq}\r\n"
           + ("Content-Type: application/sdp\r\n" if body else "")
           + f"l: {len(body.encode())}\r\n\r\n" + body)
    return msg.encode()


def build(path):
    p = Pcap()
    # SIP over TCP: INVITE split over two segments, 100 and 200 coalesced in one.
    p.tcp_open(A_IP, 40000, B_IP, 5060)
    invite = sip(f"INVITE sip:bob@{B_IP} SIP/2.0", "1 INVITE", sdp(A_UFRAG, A_PWD, A_IP, 50000, 9, "active"))
    invite_frame = p.tcp_data(A_IP, 40000, B_IP, 5060, invite[:100])
    p.tcp_data(A_IP, 40000, B_IP, 5060, invite[100:])
    trying = sip("SIP/2.0 100 Trying", "1 INVITE")
    ok = sip("SIP/2.0 200 OK", "1 INVITE", sdp(B_UFRAG, B_PWD, B_IP, 50002, 50010, "passive"), extra=";tag=b1")
    p.tcp_data(B_IP, 5060, A_IP, 40000, trying + ok)
    p.tcp_data(A_IP, 40000, B_IP, 5060, sip(f"ACK sip:bob@{B_IP} SIP/2.0", "1 ACK", extra=";tag=b1"))

    # UDP pair: both agents start controlling; B (larger tie-breaker) answers 487, A switches.
    tid, m = check(B_UFRAG, A_UFRAG, B_PWD, "controlling", 5)
    p.udp(A_IP, 50000, B_IP, 50002, m, dt=0.05)
    conflict_frame = p.udp(B_IP, 50002, A_IP, 50000, error487(tid, B_PWD))
    tid, m = check(B_UFRAG, A_UFRAG, B_PWD, "controlled", 5)
    switch_frame = p.udp(A_IP, 50000, B_IP, 50002, m, dt=0.02)
    p.udp(B_IP, 50002, A_IP, 50000, success(tid, A_IP, 50000, B_PWD))
    tid, m = check(A_UFRAG, B_UFRAG, A_PWD, "controlling", 9, nomination=1)
    p.udp(B_IP, 50002, A_IP, 50000, m, dt=0.02)
    p.udp(A_IP, 50000, B_IP, 50002, success(tid, B_IP, 50002, A_PWD))
    for _ in range(3):
        p.udp(A_IP, 50000, B_IP, 50002, b"\x80\x00" + b"\0" * 30, dt=0.02)

    # ICE-TCP: A's active candidate connects to B's passive one; RFC 4571 framing.
    p.tcp_open(A_IP, 45000, B_IP, 50010)
    tid, m = check(B_UFRAG, A_UFRAG, B_PWD, "controlled", 5)
    p.tcp_data(A_IP, 45000, B_IP, 50010, framed(m))
    p.tcp_data(B_IP, 50010, A_IP, 45000, framed(success(tid, A_IP, 45000, B_PWD)))
    tid, m = check(A_UFRAG, B_UFRAG, A_PWD, "controlling", 9, nomination=2)
    p.tcp_data(B_IP, 50010, A_IP, 45000, framed(m), dt=0.01)
    renominated_frame = p.tcp_data(A_IP, 45000, B_IP, 50010, framed(success(tid, B_IP, 50010, A_PWD)))
    for _ in range(4):
        p.tcp_data(A_IP, 45000, B_IP, 50010, framed(b"\x80\x00" + b"\0" * 40), dt=0.02)
    # Consent: two checks 1 s apart, then 40 s of silence, then one more.
    for gap in (1.0, 1.0, 40.0):
        tid, m = check(A_UFRAG, B_UFRAG, A_PWD, "controlling", 9)
        p.tcp_data(B_IP, 50010, A_IP, 45000, framed(m), dt=gap)
        p.tcp_data(A_IP, 45000, B_IP, 50010, framed(success(tid, B_IP, 50010, A_PWD)))
    p.tcp_data(A_IP, 40000, B_IP, 5060, sip(f"BYE sip:bob@{B_IP} SIP/2.0", "2 BYE", extra=";tag=b1"), dt=0.5)
    p.tcp_data(B_IP, 5060, A_IP, 40000, sip("SIP/2.0 200 OK", "2 BYE", extra=";tag=b1"))
    p.write(path)
    return {
        "ufrags": sorted([A_UFRAG, B_UFRAG]),
        "controlling": B_UFRAG,
        "nomination": "renomination",
        "selected": (f"{B_IP}:50010", f"{A_IP}:45000", "tcp"),
        "conflict_frame": conflict_frame,
        "switch_frame": switch_frame,
        "renominated_frame": renominated_frame,
        "invite_frame": invite_frame,
        "sip_lines": ["INVITE", "100", "200", "ACK", "BYE", "200"],
        "checks": 8,
        "consent_checks": 3,
        "passwords": [A_PWD, B_PWD],
    }
