#!/usr/bin/env python3
"""Adversarial flood captures: every bounded table in StunScope overrun.

    python3 Tests/integration/floods.py KIND COUNT OUT.pcap

KIND:
  transactions  COUNT Binding requests with distinct transaction ids that are
                never answered, from COUNT/16 distinct client 5-tuples (so the
                Binding-session table overflows too), all within 10 s of
                capture time (nothing times out: only the caps can help).
  allocations   COUNT TURN allocations: Allocate request + success
                (XOR-RELAYED-ADDRESS, XOR-MAPPED-ADDRESS, LIFETIME 600) each on
                its own client 5-tuple, never refreshed or deleted.
  turnrequests  one allocation, then COUNT Refresh / CreatePermission /
                ChannelBind requests on it with distinct transaction ids that
                are never answered, and COUNT/2 CreatePermission successes for
                distinct peers (per-allocation state).
  tcp           COUNT TCP connections to port 3478: a SYN, then a segment
                carrying a STUN header 1000 bytes past the next expected
                sequence number (a gap: the reassembler must buffer it), never
                closed.
  fragments     COUNT first IPv4 fragments (more-fragments set, offset 0) with
                distinct (source, id): datagrams that never complete.

The file is classic pcap, Ethernet, microsecond timestamps; packets are real
wire format (lengths and checksums of STUN correct; IP/UDP checksums zero, as
with checksum offload). This is the adversarial counterpart of the
benchmark generator `stunscope-synth`, which builds realistic traffic.
"""
import os
import random
import struct
import sys

COOKIE = 0x2112A442
ETH = b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00"
SERVER = bytes([203, 0, 113, 10])
T0 = 1_790_000_000


class Writer:
    def __init__(self, path):
        self.f = open(path, "wb", buffering=1 << 20)
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        self.count = 0

    def packet(self, t_us, frame):
        self.f.write(struct.pack("<IIII", T0 + t_us // 1_000_000, t_us % 1_000_000, len(frame), len(frame)))
        self.f.write(frame)
        self.count += 1

    def close(self):
        self.f.close()


def ipv4(src, dst, proto, payload, ident=0, flags_frag=0):
    total = 20 + len(payload)
    return struct.pack(">BBHHHBBH4s4s", 0x45, 0, total, ident, flags_frag, 64, proto, 0, src, dst) + payload


def udp(src, sport, dst, dport, payload):
    seg = struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload
    return ETH + ipv4(src, dst, 17, seg)


def tcp(src, sport, dst, dport, seq, flags, payload=b""):
    seg = struct.pack(">HHIIBBHHH", sport, dport, seq, 0, 5 << 4, flags, 65535, 0, 0) + payload
    return ETH + ipv4(src, dst, 6, seg)


def attr(t, value):
    pad = (4 - len(value) % 4) % 4
    return struct.pack(">HH", t, len(value)) + value + b"\x00" * pad


def xor_addr(t, ip, port, tid):
    xport = port ^ (COOKIE >> 16)
    xip = struct.unpack(">I", ip)[0] ^ COOKIE
    return attr(t, struct.pack(">BBHI", 0, 1, xport, xip))


def stun(mtype, tid, attrs=b""):
    return struct.pack(">HHI", mtype, len(attrs), COOKIE) + tid + attrs


def client(i):
    """A distinct client address:port for index i (up to ~4e9 distinct)."""
    host = 1 + (i // 60000)
    return bytes([10, (host >> 16) & 0xFF, (host >> 8) & 0xFF, host & 0xFF]), 1024 + i % 60000


def transactions(w, n, rng):
    flows = max(1, n // 16)
    software = attr(0x8022, b"flood")
    for i in range(n):
        ip, port = client(i % flows)
        tid = rng.getrandbits(96).to_bytes(12, "big")
        w.packet(i * 10_000_000 // n, udp(ip, port, SERVER, 3478, stun(0x0001, tid, software)))


def allocations(w, n, rng):
    relay = bytes([203, 0, 113, 11])
    for i in range(n):
        ip, port = client(i)
        tid = rng.getrandbits(96).to_bytes(12, "big")
        req = stun(0x0003, tid, attr(0x0019, b"\x11\x00\x00\x00") + attr(0x0006, b"flood"))
        ok = stun(0x0103, tid, xor_addr(0x0016, relay, 49152 + i % 16000, tid) +
                  xor_addr(0x0020, ip, port, tid) + attr(0x000D, struct.pack(">I", 600)))
        t = i * 100  # 10 k allocations per second of capture time
        w.packet(t, udp(ip, port, SERVER, 3478, req))
        w.packet(t + 50, udp(SERVER, 3478, ip, port, ok))


def turn_requests(w, n, rng):
    ip, port = client(0)
    relay = bytes([203, 0, 113, 11])
    tid = rng.getrandbits(96).to_bytes(12, "big")
    w.packet(0, udp(ip, port, SERVER, 3478, stun(0x0003, tid, attr(0x0019, b"\x11\x00\x00\x00"))))
    w.packet(10, udp(SERVER, 3478, ip, port, stun(0x0103, tid, xor_addr(0x0016, relay, 50000, tid) +
                                                  xor_addr(0x0020, ip, port, tid) + attr(0x000D, struct.pack(">I", 3600)))))
    for i in range(n):
        tid = rng.getrandbits(96).to_bytes(12, "big")
        peer = struct.pack(">I", 0x0A800000 + i)
        kind = i % 3
        if kind == 0:
            m = stun(0x0004, tid, attr(0x000D, struct.pack(">I", 600)))
        elif kind == 1:
            m = stun(0x0008, tid, xor_addr(0x0012, peer, 9, tid))
        else:
            m = stun(0x0009, tid, attr(0x000C, struct.pack(">HH", 0x4000 + i % 0x3FFF, 0)) + xor_addr(0x0012, peer, 9, tid))
        t = 1000 + i * 20
        w.packet(t, udp(ip, port, SERVER, 3478, m))
        if i % 2 == 1:
            # A CreatePermission that is answered: a permission for a new peer each time.
            tid2 = rng.getrandbits(96).to_bytes(12, "big")
            w.packet(t + 5, udp(ip, port, SERVER, 3478, stun(0x0008, tid2, xor_addr(0x0012, peer, 9, tid2))))
            w.packet(t + 10, udp(SERVER, 3478, ip, port, stun(0x0108, tid2)))


def tcp_streams(w, n, rng):
    for i in range(n):
        ip, port = client(i)
        isn = rng.getrandbits(32)
        t = i * 100
        w.packet(t, tcp(ip, port, SERVER, 3478, isn, 0x02))
        tid = rng.getrandbits(96).to_bytes(12, "big")
        msg = stun(0x0003, tid, attr(0x0019, b"\x11\x00\x00\x00"))
        w.packet(t + 10, tcp(ip, port, SERVER, 3478, (isn + 1 + 1000) & 0xFFFFFFFF, 0x18, msg))


def fragments(w, n, rng):
    for i in range(n):
        src = bytes([10, 64 + (i >> 24) % 64, (i >> 16) & 0xFF, (i >> 8) & 0xFF])
        ident = i & 0xFFFF
        payload = struct.pack(">HHHH", 40000, 3478, 8 + 1400, 0) + bytes(56)
        frame = ETH + ipv4(src, SERVER, 17, payload, ident=ident, flags_frag=0x2000)
        w.packet(i * 10, frame)


KINDS = {"transactions": transactions, "allocations": allocations, "turnrequests": turn_requests,
         "tcp": tcp_streams, "fragments": fragments}


def generate(kind, count, path, seed=1):
    w = Writer(path)
    KINDS[kind](w, count, random.Random(seed))
    w.close()
    return w.count


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in KINDS:
        raise SystemExit(__doc__)
    n = generate(sys.argv[1], int(sys.argv[2]), sys.argv[3])
    print(f"{sys.argv[3]}: {n} packets, {os.path.getsize(sys.argv[3])} bytes")


if __name__ == "__main__":
    main()
