#!/usr/bin/env python3
"""A software 802.1Q / 802.1ad trunk port for kernels without the 8021q module.

  vlan_trunk.py TRUNK TAP=TAGS [TAP=TAGS ...] [--seconds S]

Bridges each TAP device (an access port: the kernel's own IP stack sends and
receives untagged frames on it) to the TRUNK interface (a veth), pushing the
tag stack TAGS on the way out and popping it on the way in. TAGS is a list of
TPID:VID outermost first, e.g. `8100:100` (802.1Q VLAN 100) or
`88a8:200,8100:10` (QinQ: 802.1ad service tag 200 around 802.1Q tag 10).

This does what the kernel's vlan driver would do, so the traffic on the
trunk is what real VLAN interfaces send: the kernels on both ends produce
and answer it (ARP, ND, UDP, TCP), this process only adds and strips tags.
A tag the kernel moved out of the frame on receive (VLAN offload) is read
back from PACKET_AUXDATA, as libpcap does.
"""
import fcntl
import os
import select
import socket
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
SOL_PACKET = 263
PACKET_AUXDATA = 8
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
TP_STATUS_VLAN_VALID = 0x10
TP_STATUS_VLAN_TPID_VALID = 0x40


def parse_tags(text):
    tags = []
    for part in text.split(","):
        tpid, vid = part.split(":")
        tags.append((int(tpid, 16), int(vid)))
    return tuple(tags)


def open_tap(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    return fd


def push(frame, tags):
    head = b"".join(struct.pack("!HH", tpid, vid) for tpid, vid in tags)
    return frame[:12] + head + frame[12:]


def pop(frame, aux_tag):
    """(tag stack, untagged frame) of a frame from the trunk."""
    tags = []
    if aux_tag is not None:
        tags.append(aux_tag)
    off = 12
    while len(frame) >= off + 4:
        tpid, tci = struct.unpack("!HH", frame[off:off + 4])
        if tpid not in (0x8100, 0x88A8):
            break
        tags.append((tpid, tci & 0x0FFF))
        off += 4
    return tuple(tags), frame[:12] + frame[off:]


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    seconds = 300.0
    if "--seconds" in sys.argv:
        seconds = float(sys.argv[sys.argv.index("--seconds") + 1])
        args.remove(sys.argv[sys.argv.index("--seconds") + 1])
    if len(args) < 2:
        raise SystemExit(__doc__)
    trunk = args[0]
    taps = {}
    for spec in args[1:]:
        name, tags = spec.split("=")
        taps[parse_tags(tags)] = (name, open_tap(name))
    by_fd = {fd: tags for tags, (_, fd) in taps.items()}
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    sock.bind((trunk, 0))
    print(f"trunk {trunk} ready: " + ", ".join(n for n, _ in taps.values()), file=sys.stderr, flush=True)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        r, _, _ = select.select([sock] + list(by_fd), [], [], 0.5)
        for x in r:
            if x is sock:
                frame, anc, _, addr = sock.recvmsg(65535, socket.CMSG_SPACE(20))
                if addr[2] == PACKET_OUTGOING:
                    continue
                aux = None
                for level, kind, data in anc:
                    if level == SOL_PACKET and kind == PACKET_AUXDATA and len(data) >= 20:
                        status, _, _, _, _, tci, tpid = struct.unpack("IIIHHHH", data[:20])
                        if status & TP_STATUS_VLAN_VALID or tci:
                            if not status & TP_STATUS_VLAN_TPID_VALID:
                                tpid = 0x8100
                            aux = (tpid, tci & 0x0FFF)
                tags, plain = pop(frame, aux)
                if tags in taps:
                    os.write(taps[tags][1], plain)
            else:
                frame = os.read(x, 65535)
                tags = by_fd[x]
                # The outer TPID as the packet's protocol, as the kernel's vlan driver sets it.
                sock.sendto(push(frame, tags), (trunk, tags[0][0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
