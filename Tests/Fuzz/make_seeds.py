#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets from the captures in captures/.

    python3 Tests/Fuzz/make_seeds.py [OUTDIR]      (default: .build-fuzz/seeds)

Every seed comes from our own captures (real coturn, aioice, stund and SIP
peers recorded by captures/gen/); none is copied from third-party files.
Seeds are named <capture>-<frame>[-<what>] so their origin is visible. The
layouts are the ones FuzzHarness documents:

  stun      one UDP payload that is STUN or ChannelData (one per distinct
            method/class/attribute-type signature, so the corpus stays small)
  framing   flags, split points, then one direction of a TCP stream
  sip       flags, then a SIP datagram (flag 0) or a SIP TCP stream (flag 1)
  packets   link-type selector, then (length, time step, frame) records
  capture   the first records of a capture file, cut at a record boundary

`scripts/fuzz --merge TARGET` then minimises seeds + findings into
Tests/Fuzz/corpus/TARGET (the committed corpus).
"""
import glob
import hashlib
import os
import struct
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CAPTURES = os.path.join(REPO, "captures")
COOKIE = b"\x21\x12\xa4\x42"

# Order of FuzzHarness.linkTypes: the `packets` selector's low nibble.
LINK_SELECTOR = {1: 0, 113: 1, 276: 2, 0: 3, 101: 4, 12: 5, 228: 6, 229: 7, 108: 8, 14: 9}


def read_pcap(path):
    """(linktype, [(ts_ns, bytes)], [record end offsets]) of a classic pcap; None for pcapng."""
    raw = open(path, "rb").read()
    magic = raw[:4]
    if magic == b"\x0a\x0d\x0d\x0a":
        return None
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return None
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(e + "I", raw[20:24])[0] & 0x0FFFFFFF
    records, ends, off = [], [], 24
    while off + 16 <= len(raw):
        sec, frac, incl, _orig = struct.unpack(e + "IIII", raw[off:off + 16])
        if off + 16 + incl > len(raw):
            break
        ts = sec * 10**9 + (frac if nano else frac * 1000)
        records.append((ts, raw[off + 16:off + 16 + incl]))
        off += 16 + incl
        ends.append(off)
    return linktype, records, ends, raw


def read_pcapng(path):
    """(linktype of the first interface, [(ts, bytes)]) of a pcapng: enough for seeds."""
    raw = open(path, "rb").read()
    if raw[:4] != b"\x0a\x0d\x0d\x0a":
        return None
    e = "<" if raw[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    links, records, off = [], [], 0
    while off + 12 <= len(raw):
        btype, blen = struct.unpack(e + "II", raw[off:off + 8])
        if blen < 12 or off + blen > len(raw):
            break
        body = raw[off + 8:off + blen - 4]
        if btype == 1 and len(body) >= 2:
            links.append(struct.unpack(e + "H", body[:2])[0])
        elif btype == 6 and len(body) >= 20:
            iface, _hi, _lo, incl, _orig = struct.unpack(e + "IIIII", body[:20])
            if iface == 0:
                records.append((0, body[20:20 + incl]))
        elif btype == 3 and len(body) >= 4 and links:
            records.append((0, body[4:]))
        off += blen
    return (links[0] if links else 1), records


def network(linktype, b):
    """(ip version, offset of the IP header) or None."""
    if linktype == 1:
        off, etype = 14, struct.unpack(">H", b[12:14])[0] if len(b) >= 14 else 0
        while etype in (0x8100, 0x88A8) and len(b) >= off + 4:
            etype = struct.unpack(">H", b[off + 2:off + 4])[0]
            off += 4
        return {0x0800: (4, off), 0x86DD: (6, off)}.get(etype)
    if linktype == 113:
        etype = struct.unpack(">H", b[14:16])[0] if len(b) >= 16 else 0
        return {0x0800: (4, 16), 0x86DD: (6, 16)}.get(etype)
    if linktype == 276:
        etype = struct.unpack(">H", b[0:2])[0] if len(b) >= 20 else 0
        return {0x0800: (4, 20), 0x86DD: (6, 20)}.get(etype)
    if linktype in (0, 108):
        return (4, 4) if len(b) > 4 and b[4] >> 4 == 4 else (6, 4) if len(b) > 4 else None
    if linktype in (101, 12, 14, 228, 229):
        return (b[0] >> 4, 0) if b else None
    return None


def transport(linktype, b):
    """(proto, src, dst, sport, dport, seq, flags, payload) for unfragmented UDP/TCP, else None."""
    n = network(linktype, b)
    if not n:
        return None
    version, off = n
    if version == 4 and len(b) >= off + 20:
        ihl = (b[off] & 0x0F) * 4
        total = struct.unpack(">H", b[off + 2:off + 4])[0]
        if struct.unpack(">H", b[off + 6:off + 8])[0] & 0x3FFF:
            return None
        proto, src, dst = b[off + 9], b[off + 12:off + 16], b[off + 16:off + 20]
        seg = b[off + ihl:off + total]
    elif version == 6 and len(b) >= off + 40:
        proto, src, dst = b[off + 6], b[off + 8:off + 24], b[off + 24:off + 40]
        plen = struct.unpack(">H", b[off + 4:off + 6])[0]
        seg = b[off + 40:off + 40 + plen]
    else:
        return None
    if proto == 17 and len(seg) >= 8:
        sp, dp = struct.unpack(">HH", seg[:4])
        return ("udp", src, dst, sp, dp, 0, 0, seg[8:])
    if proto == 6 and len(seg) >= 20:
        sp, dp, seq = struct.unpack(">HHI", seg[:8])
        doff = (seg[12] >> 4) * 4
        return ("tcp", src, dst, sp, dp, seq, seg[13], seg[doff:])
    return None


def stun_signature(p):
    """A key for 'the same kind of message': type + attribute types, or None when not STUN/ChannelData."""
    if len(p) >= 20 and p[0] < 0x40 and p[4:8] == COOKIE:
        types, off, end = [], 20, min(len(p), 20 + struct.unpack(">H", p[2:4])[0])
        while off + 4 <= end:
            t, n = struct.unpack(">HH", p[off:off + 4])
            types.append(t)
            off += 4 + ((n + 3) & ~3)
        return ("stun", p[:2], tuple(types))
    if len(p) >= 20 and p[0] < 0x40 and struct.unpack(">H", p[2:4])[0] + 20 == len(p):
        return ("classic", p[:2], len(p) // 16)
    if len(p) >= 4 and 0x40 <= p[0] < 0x80:
        return ("channeldata", p[0] >> 4, min(len(p), 512) // 128)
    return None


def is_sip(p):
    line = p.split(b"\n", 1)[0]
    return line.startswith(b"SIP/2.0 ") or line.rstrip(b"\r").endswith(b" SIP/2.0")


def framing_input(stream, cuts, flags):
    head = bytes([flags, len(cuts)])
    for c, gap in cuts:
        head += struct.pack(">H", (c & 0x7FFF) | (0x8000 if gap else 0))
    return head + stream


def tcp_streams(linktype, records):
    """One byte string per TCP direction, in sequence order (first copy of each byte wins)."""
    streams = {}
    for _ts, b in records:
        t = transport(linktype, b)
        if not t or t[0] != "tcp":
            continue
        _, src, dst, sp, dp, seq, flags, payload = t
        key = (src, sp, dst, dp)
        st = streams.setdefault(key, {"isn": None, "data": {}})
        if flags & 0x02:
            st["isn"] = seq + 1
            continue
        if payload:
            st["data"].setdefault(seq, payload)
    out = []
    for key, st in streams.items():
        if not st["data"]:
            continue
        base = st["isn"] if st["isn"] is not None else min(st["data"])
        buf = bytearray()
        for seq in sorted(st["data"], key=lambda s: (s - base) & 0xFFFFFFFF):
            rel = (seq - base) & 0xFFFFFFFF
            if rel > len(buf) + 65536:
                break
            if rel >= len(buf):
                buf += st["data"][seq]
            elif rel + len(st["data"][seq]) > len(buf):
                buf += st["data"][seq][len(buf) - rel:]
        out.append((key, bytes(buf), st["isn"] is not None))
    return out


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, ".build-fuzz", "seeds")
    seeds = {t: {} for t in ("stun", "framing", "sip", "packets", "capture")}

    def add(target, name, data):
        digest = hashlib.sha1(data).hexdigest()[:8]
        if all(hashlib.sha1(v).hexdigest()[:8] != digest for v in seeds[target].values()):
            seeds[target][name] = data

    seen_signatures = set()
    files = sorted(glob.glob(os.path.join(CAPTURES, "*.pcap")) + glob.glob(os.path.join(CAPTURES, "*.pcapng")))
    for path in files:
        base = os.path.basename(path).rsplit(".", 1)[0]
        raw = open(path, "rb").read()
        parsed = read_pcap(path)
        if parsed is None:
            # pcapng: the header blocks and the first few packet blocks.
            off, blocks = 0, 0
            while off + 12 <= len(raw) and blocks < 12:
                n = struct.unpack("<I", raw[off + 4:off + 8])[0]
                if n < 12 or off + n > len(raw):
                    break
                off += n
                blocks += 1
            add("capture", base + "-head", raw[:off])
            continue
        linktype, records, ends, raw = parsed
        # capture: the first records, at most ~6 KB.
        cut = 24
        for end in ends[:16]:
            if end > 6144:
                break
            cut = end
        add("capture", base + "-head", raw[:cut])

        # packets: the first 24 frames, with their real time steps.
        if linktype in LINK_SELECTOR:
            body, last = bytearray([LINK_SELECTOR[linktype]]), None
            for ts, b in records[:24]:
                step = 0 if last is None else max(-32768, min(32767, (ts - last) // 100_000_000))
                last = ts
                body += struct.pack(">Hh", len(b), step) + b
            add("packets", base + "-head", bytes(body))

        for i, (_ts, b) in enumerate(records, 1):
            t = transport(linktype, b)
            if not t:
                continue
            payload = t[7]
            if t[0] == "udp":
                sig = stun_signature(payload)
                if sig and sig not in seen_signatures and len(payload) <= 2048:
                    seen_signatures.add(sig)
                    add("stun", f"{base}-{i}", payload)
                if is_sip(payload):
                    add("sip", f"{base}-{i}-udp", b"\x00" + payload)
        for (src, sp, dst, dp), stream, synced in tcp_streams(linktype, records):
            name = f"{base}-tcp{sp}-{dp}"
            flags = 0x02 if synced else 0
            if dp in (3478, 5349) or sp in (3478, 5349):
                flags |= 0x01
            head = stream[:4096]
            if is_sip(head):
                add("sip", name, framing_input(head, [(len(head) // 3, False)], 0x01 | (0x02 if synced else 0)))
                continue
            add("framing", name, framing_input(head, [], flags))
            add("framing", name + "-split", framing_input(head, [(7, False), (len(head) // 2, False)], flags))
            add("framing", name + "-gap", framing_input(head, [(len(head) // 3, True)], flags))

    # Optionally: single STUN messages from third-party captures (MS-TURN, WhatsApp,
    # Zoom, hand-edited edge cases our own peers never produce). Only for `stun`, named
    # 3p-<dir>-<file>-<frame>; Tests/Fuzz/README.md says which of them the corpus keeps.
    third_party = os.environ.get("STUNSCOPE_SEEDS_THIRD_PARTY")
    if third_party:
        for path in sorted(glob.glob(os.path.join(third_party, "*", "*.pcap*"))):
            if path.endswith(".gz"):
                continue
            parsed = read_pcap(path)
            if parsed is not None:
                linktype, records = parsed[0], parsed[1]
            else:
                got = read_pcapng(path)
                if got is None:
                    continue
                linktype, records = got
            rel = os.path.relpath(path, third_party).replace("/", "-").rsplit(".", 1)[0]
            for i, (_ts, b) in enumerate(records, 1):
                t = transport(linktype, b)
                if not t or t[0] != "udp":
                    continue
                payload = t[7]
                sig = stun_signature(payload)
                if sig and sig not in seen_signatures and len(payload) <= 1024:
                    seen_signatures.add(sig)
                    add("stun", f"3p-{rel}-{i}", payload)

    for target, items in seeds.items():
        d = os.path.join(outdir, target)
        os.makedirs(d, exist_ok=True)
        for name, data in sorted(items.items()):
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
        print(f"{target}: {len(items)} seeds in {d}")


if __name__ == "__main__":
    main()
