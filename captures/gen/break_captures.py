#!/usr/bin/env python3
"""Damaged captures for the error paths, made from good foundation captures.

  break_captures.py GOOD.pcap GOOD.pcapng OUTDIR

Every file is derived deterministically from the good ones (the record that
is damaged is fixed: the last one, or the 5th), so the expected packet
counts and byte offsets follow from the good file.
"""
import gzip
import os
import struct
import sys

from relink import read_pcap


def record_offsets(raw, endian):
    offs, off = [], 24
    while off + 16 <= len(raw):
        incl = struct.unpack(endian + "I", raw[off + 8:off + 12])[0]
        offs.append(off)
        off += 16 + incl
    return offs


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    good, good_ng, out = sys.argv[1:]
    os.makedirs(out, exist_ok=True)
    raw = open(good, "rb").read()
    hdr, records = read_pcap(good)
    e = hdr["endian"]
    offs = record_offsets(raw, e)
    assert len(offs) >= 8, "need a good capture with at least 8 records"

    def write(name, data):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)

    last = offs[-1]
    last_incl = len(records[-1][3])
    # Cut in the middle of the last record's data.
    write("truncated-last-record.pcap", raw[:last + 16 + last_incl // 2])
    # Cut inside the last record's 16-byte header.
    write("truncated-record-header.pcap", raw[:last + 7])
    # 5th record: caplen absurd.
    k = offs[4]
    write("corrupt-caplen-absurd.pcap", raw[:k + 8] + struct.pack(e + "I", 0x7FFFFFFF) + raw[k + 12:])
    # 5th record: caplen larger than the file's snaplen (snaplen lowered to the
    # largest real caplen, the 5th record claims 100 bytes more).
    snap = max(len(r[3]) for r in records)
    damaged = bytearray(raw)
    damaged[16:20] = struct.pack(e + "I", snap)
    damaged[k + 8:k + 12] = struct.pack(e + "I", snap + 100)
    write("corrupt-caplen-over-snaplen.pcap", bytes(damaged))
    # Header only cut short: shorter than a pcap file header.
    write("short-file-header.pcap", raw[:10])
    # Not a capture / empty / compressed / unsupported link type.
    write("not-a-capture.pcap", b"This is a text file, not a packet capture.\nIt only has a .pcap name.\n")
    write("empty.pcap", b"")
    write("compressed.pcap.gz", gzip.compress(raw, mtime=0))
    write("linktype-ieee802-11.pcap", raw[:20] + struct.pack(e + "I", 105) + raw[24:])
    # pcapng cut in the middle of its last packet block (dumpcap ends files with
    # interface statistics blocks: those go too).
    ng = open(good_ng, "rb").read()
    ne = "<" if ng[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    off, epbs = 0, []
    while off + 12 <= len(ng):
        btype, blen = struct.unpack(ne + "II", ng[off:off + 8])
        if btype in (3, 6):  # simple / enhanced packet block
            epbs.append((off, blen))
        off += blen
    assert len(epbs) >= 3, "pcapng with fewer than 3 packet blocks"
    write("truncated-last-block.pcapng", ng[:epbs[-1][0] + epbs[-1][1] // 2])
    # 3rd packet block: an impossible block length.
    k = epbs[2][0]
    write("corrupt-block-length.pcapng", ng[:k + 4] + struct.pack(ne + "I", 0x7FFFFFF0) + ng[k + 8:])
    print(f"{out}: broken captures from {good} and {good_ng}")


if __name__ == "__main__":
    main()
