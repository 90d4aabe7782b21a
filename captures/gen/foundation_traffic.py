#!/usr/bin/env python3
"""Traffic for the foundation captures (link types and decoding paths).

Run inside the network namespaces made by foundation_captures.sh. Every
client waits a bounded time for each answer; servers run until killed (the
caller wraps them in `timeout`).

  echo-udp PORT                      UDP echo on 0.0.0.0 and :: (v6only)
  stun-udp HOST [--count N] [--pad N] [--ipopts] [--hopopts] [--dstopts]
                                     STUN Binding requests, one answer awaited each
  udp-big HOST [--port P] [--size N] [--count N] [--dstopts]
                                     large datagrams to the echo (IP fragments)
  tcp-stun HOST --mode split|coalesced
                                     STUN over TCP to coturn (RFC 5389 framing)
  udp-closed HOST [--count N]        STUN to a closed port (ICMP port unreachable)
  tun-responder DEV [--seconds S]    holds a tun device open and answers over it:
                                     STUN Binding requests get a success response
                                     with XOR-MAPPED-ADDRESS, other UDP is echoed
"""
import argparse
import fcntl
import os
import select
import socket
import struct
import sys
import time

import stun_builder as stun


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def binding_request(software=b"stunscope foundation", pad=0):
    """A Binding request with SOFTWARE (padded to `pad` bytes) and FINGERPRINT."""
    txid = os.urandom(12)
    sw = software + b"." * max(0, pad - len(software))
    return stun.message(stun.BINDING_REQUEST, txid, [stun.attribute(stun.SOFTWARE, sw)]), txid


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def ext_header():
    """An IPv6 hop-by-hop / destination options header with PadN filling 8 bytes."""
    return b"\0\0" + b"\x01\x04\0\0\0\0"


def apply_options(s, fam, ipopts=False, hopopts=False, dstopts=False):
    if ipopts and fam == socket.AF_INET:
        # Record Route with room for one address, then end of options list.
        s.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, b"\x07\x07\x04\0\0\0\0\0")
    if hopopts and fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_HOPOPTS, ext_header())
    if dstopts and fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_DSTOPTS, ext_header())


def cmd_echo_udp(a):
    s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s4.bind(("0.0.0.0", a.port))
    s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s6.bind(("::", a.port))
    socks = [s4, s6]
    log("echo-udp ready on", a.port)
    while True:
        r, _, _ = select.select(socks, [], [], 1.0)
        for s in r:
            data, peer = s.recvfrom(65535)
            s.sendto(data, peer)


def request_reply(s, data, dest, wait=1.0):
    s.sendto(data, dest)
    r, _, _ = select.select([s], [], [], wait)
    if not r:
        return None
    return s.recv(65535)


def cmd_stun_udp(a):
    fam = family(a.host)
    s = socket.socket(fam, socket.SOCK_DGRAM)
    apply_options(s, fam, a.ipopts, a.hopopts, a.dstopts)
    ok = 0
    for _ in range(a.count):
        msg, txid = binding_request(pad=a.pad)
        for attempt in range(3):  # STUN retransmissions, RFC 5389 style
            reply = request_reply(s, msg, (a.host, a.port), wait=0.5 * (attempt + 1))
            if reply and len(reply) >= 20 and reply[8:20] == txid:
                ok += 1
                break
        time.sleep(a.gap)
    log(f"stun-udp {a.host}: {ok}/{a.count} answered")
    return 0 if ok == a.count else 1


def cmd_udp_big(a):
    fam = family(a.host)
    s = socket.socket(fam, socket.SOCK_DGRAM)
    apply_options(s, fam, dstopts=a.dstopts)
    ok = 0
    for i in range(a.count):
        data = bytes((i + k) & 0xFF for k in range(a.size))
        reply = request_reply(s, data, (a.host, a.port))
        ok += reply == data
        time.sleep(a.gap)
    log(f"udp-big {a.host}: {ok}/{a.count} echoed")
    return 0 if ok == a.count else 1


def read_stun(sock, deadline):
    """Reads exactly one STUN message from a TCP stream, bounded by deadline."""
    buf = b""
    need = 20
    while len(buf) < need:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        r, _, _ = select.select([sock], [], [], left)
        if not r:
            return None
        chunk = sock.recv(need - len(buf))
        if not chunk:
            return None
        buf += chunk
        if len(buf) >= 20:
            need = 20 + struct.unpack("!H", buf[2:4])[0]
    return buf


def cmd_tcp_stun(a):
    fam = family(a.host)
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(3)
    s.connect((a.host, a.port))
    deadline = time.monotonic() + 5
    answered = 0
    if a.mode == "split":
        # Each request written in several small pieces, one segment each.
        for _ in range(2):
            msg, _ = binding_request()
            cuts = [0, 3, 20, 31, len(msg)]
            for x, y in zip(cuts, cuts[1:]):
                s.sendall(msg[x:y])
                time.sleep(0.05)
            answered += read_stun(s, deadline) is not None
        expected = 2
    else:
        # Four requests in one write, then one and a half in the next write
        # and the other half later: messages share and straddle segments.
        msgs = [binding_request()[0] for _ in range(6)]
        s.sendall(b"".join(msgs[:4]))
        time.sleep(0.1)
        half = len(msgs[5]) // 2
        s.sendall(msgs[4] + msgs[5][:half])
        time.sleep(0.1)
        s.sendall(msgs[5][half:])
        expected = 6
        for _ in range(expected):
            answered += read_stun(s, deadline) is not None
    time.sleep(0.1)
    s.shutdown(socket.SHUT_WR)
    # Wait (bounded) for the server's FIN so the close is in the capture.
    end = time.monotonic() + 2
    while time.monotonic() < end:
        r, _, _ = select.select([s], [], [], max(0, end - time.monotonic()))
        try:
            if not r or not s.recv(4096):
                break
        except ConnectionResetError:
            break  # coturn may answer the half-close with RST
    s.close()
    log(f"tcp-stun {a.mode} {a.host}: {answered}/{expected} answered")
    return 0 if answered == expected else 1


def cmd_udp_closed(a):
    fam = family(a.host)
    s = socket.socket(fam, socket.SOCK_DGRAM)
    for _ in range(a.count):
        msg, _ = binding_request()
        s.sendto(msg, (a.host, a.port))
        time.sleep(a.gap)
    return 0


# ---------------------------------------------------------------- tun responder

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def csum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def stun_answer(payload, src_ip, src_port):
    """A Binding success response for a Binding request, else None."""
    if (len(payload) < stun.HEADER_LENGTH or payload[0:2] != b"\x00\x01"
            or struct.unpack("!I", payload[4:8])[0] != stun.MAGIC_COOKIE):
        return None
    txid = payload[8:20]
    return stun.message(stun.BINDING_SUCCESS, txid,
                        [stun.xor_address(stun.XOR_MAPPED_ADDRESS, src_ip, src_port, txid),
                         stun.attribute(stun.SOFTWARE, b"stunscope tun responder")])


def answer_packet(pkt):
    """Swaps addresses and ports of a UDP packet, answering STUN or echoing."""
    if not pkt:
        return None
    version = pkt[0] >> 4
    if version == 4:
        ihl = (pkt[0] & 0xF) * 4
        if len(pkt) < ihl + 8 or pkt[9] != 17:
            return None
        if struct.unpack("!H", pkt[6:8])[0] & 0x3FFF:
            return None  # a fragment: not answered
        src, dst = pkt[12:16], pkt[16:20]
        sport, dport = struct.unpack("!HH", pkt[ihl:ihl + 4])
        payload = pkt[ihl + 8:]
        reply = stun_answer(payload, src, sport) or payload
        udp = struct.pack("!HHHH", dport, sport, 8 + len(reply), 0) + reply
        pseudo = dst + src + struct.pack("!BBH", 0, 17, len(udp))
        c = csum(pseudo + udp) or 0xFFFF
        udp = udp[:6] + struct.pack("!H", c) + udp[8:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), os.getpid() & 0xFFFF, 0x4000, 64, 17, 0, dst, src)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        return ip + udp
    if version == 6:
        if len(pkt) < 48 or pkt[6] != 17:
            return None
        src, dst = pkt[8:24], pkt[24:40]
        sport, dport = struct.unpack("!HH", pkt[40:44])
        payload = pkt[48:]
        reply = stun_answer(payload, src, sport) or payload
        udp = struct.pack("!HHHH", dport, sport, 8 + len(reply), 0) + reply
        pseudo = dst + src + struct.pack("!IxxxB", len(udp), 17)
        c = csum(pseudo + udp) or 0xFFFF
        udp = udp[:6] + struct.pack("!H", c) + udp[8:]
        ip = struct.pack("!IHBB16s16s", 0x60000000, len(udp), 17, 64, dst, src)
        return ip + udp
    return None


def cmd_tun_responder(a):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", a.dev.encode(), IFF_TUN | IFF_NO_PI))
    log("tun-responder attached to", a.dev)
    end = time.monotonic() + a.seconds
    while time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.5)
        if not r:
            continue
        pkt = os.read(fd, 65535)
        out = answer_packet(pkt)
        if out:
            os.write(fd, out)
    return 0


def client_command(sub, name, port, count=None, gap=None):
    """A client subcommand: HOST and --port; with count, also --count and --gap
    (how many messages, seconds between them)."""
    c = sub.add_parser(name)
    c.add_argument("host")
    c.add_argument("--port", type=int, default=port)
    if count is not None:
        c.add_argument("--count", type=int, default=count)
        c.add_argument("--gap", type=float, default=gap)
    return c


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("echo-udp")
    e.add_argument("port", type=int)
    s = client_command(sub, "stun-udp", 3478, count=2, gap=0.05)
    s.add_argument("--pad", type=int, default=0)
    for opt in ("--ipopts", "--hopopts", "--dstopts"):
        s.add_argument(opt, action="store_true")
    b = client_command(sub, "udp-big", 7000, count=2, gap=0.05)
    b.add_argument("--size", type=int, default=3000)
    b.add_argument("--dstopts", action="store_true")
    t = client_command(sub, "tcp-stun", 3478)
    t.add_argument("--mode", choices=["split", "coalesced"], required=True)
    client_command(sub, "udp-closed", 9, count=2, gap=0.3)
    u = sub.add_parser("tun-responder")
    u.add_argument("dev")
    u.add_argument("--seconds", type=float, default=60)
    a = p.parse_args()
    return {"echo-udp": cmd_echo_udp, "stun-udp": cmd_stun_udp, "udp-big": cmd_udp_big,
            "tcp-stun": cmd_tcp_stun, "udp-closed": cmd_udp_closed,
            "tun-responder": cmd_tun_responder}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main() or 0)
