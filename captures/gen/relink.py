#!/usr/bin/env python3
"""Rewrites a real Ethernet pcap into another link-layer encapsulation.

Linux tcpdump cannot capture NULL, LOOP, IPV4 or IPV6 link types, so these
files are made from our own Ethernet captures: the Ethernet header (and any
VLAN tags) is stripped and the frame is re-encapsulated; timestamps, IP
packets and payloads are untouched. Non-IP frames (ARP) are dropped, and for
IPV4/IPV6 frames of the other IP version too.

  relink.py null IN OUT   DLT_NULL (0): 4-byte address family in host order
                          (little-endian file, AF 30 = macOS AF_INET6)
  relink.py loop IN OUT   DLT_LOOP (108): family in network order (big-endian
                          file, AF 24 = OpenBSD AF_INET6)
  relink.py ipv4 IN OUT   LINKTYPE_IPV4 (228), bare IPv4
  relink.py ipv6 IN OUT   LINKTYPE_IPV6 (229), bare IPv6
"""
import struct
import sys

MAGIC_US, MAGIC_NS = 0xA1B2C3D4, 0xA1B23C4D


def read_pcap(path):
    """(header fields, [(sec, frac, orig_len, data)], endian, magic) of a classic pcap."""
    raw = open(path, "rb").read()
    for e in "<>":
        magic = struct.unpack(e + "I", raw[:4])[0]
        if magic in (MAGIC_US, MAGIC_NS):
            break
    else:
        raise SystemExit(f"{path}: not a classic pcap")
    vmaj, vmin, tz, sig, snap, link = struct.unpack(e + "HHiIII", raw[4:24])
    records, off = [], 24
    while off + 16 <= len(raw):
        sec, frac, incl, orig = struct.unpack(e + "IIII", raw[off:off + 16])
        records.append((sec, frac, orig, raw[off + 16:off + 16 + incl]))
        off += 16 + incl
    return {"snaplen": snap, "linktype": link, "magic": magic, "endian": e}, records


def write_pcap(path, records, linktype, magic=MAGIC_US, endian="<", snaplen=262144):
    with open(path, "wb") as f:
        f.write(struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype))
        for sec, frac, orig, data in records:
            f.write(struct.pack(endian + "IIII", sec, frac, len(data), orig) + data)


def strip_ethernet(data):
    """(ethertype, network-layer bytes, bytes stripped) or None."""
    if len(data) < 14:
        return None
    off, etype = 14, struct.unpack("!H", data[12:14])[0]
    while etype in (0x8100, 0x88A8) and len(data) >= off + 4:
        etype = struct.unpack("!H", data[off + 2:off + 4])[0]
        off += 4
    return etype, data[off:], off


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("null", "loop", "ipv4", "ipv6"):
        raise SystemExit(__doc__)
    mode, src, dst = sys.argv[1:]
    hdr, records = read_pcap(src)
    if hdr["linktype"] != 1:
        raise SystemExit(f"{src}: link type {hdr['linktype']}, want Ethernet (1)")
    out = []
    for sec, frac, orig, data in records:
        s = strip_ethernet(data)
        if not s or s[0] not in (0x0800, 0x86DD):
            continue
        etype, ip, stripped = s
        v6 = etype == 0x86DD
        if mode == "null":
            prefix = struct.pack("<I", 30 if v6 else 2)
        elif mode == "loop":
            prefix = struct.pack(">I", 24 if v6 else 2)
        else:
            if v6 != (mode == "ipv6"):
                continue
            prefix = b""
        out.append((sec, frac, orig - stripped + len(prefix), prefix + ip))
    linktype = {"null": 0, "loop": 108, "ipv4": 228, "ipv6": 229}[mode]
    endian = ">" if mode == "loop" else "<"
    write_pcap(dst, out, linktype, magic=hdr["magic"], endian=endian, snaplen=hdr["snaplen"])
    print(f"{dst}: {len(out)} frames, link type {linktype}")


if __name__ == "__main__":
    main()
