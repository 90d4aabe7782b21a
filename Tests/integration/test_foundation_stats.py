"""`stunscope stats` against capinfos and tshark on the same files.

For every capture in captures/ (the foundation link-type and decoding
captures and every other bundled capture) and every third-party capture in
../shared/captures (skipped when absent), `stats --format json` must equal:

  packets, bytes, firstTime, lastTime   capinfos -c -d -a -e (times as exact
                                        decimals, nanosecond precision)
  linkTypes                             tshark's frame.encap_type in order of first
                                        appearance (and capinfos -E for files of one
                                        link type), as libpcap names
  ipv4, ipv6, udp, tcp, icmp            tshark frame counts for `ip`, `ipv6`,
                                        `udp && !icmp && !icmpv6`,
                                        `tcp && !icmp && !icmpv6`, `icmp || icmpv6`
  reassembledDatagrams                  frames carrying `ip.fragments` or
                                        `ipv6.fragments` (the reassembled tree
                                        is on the frame that completes a datagram)
  tcpStreams                            distinct tcp.stream of TCP frames
  udpFlows                              conversations of `tshark -z conv,udp`

Where our count legitimately differs, KNOWN_DIFFERENCES says by how much
and why, per file. Then the error paths (captures/broken/, made by
captures/gen/foundation_captures.sh), multi-file merge and --filter.

Binary: $STUNSCOPE_BIN, else .build/debug/stunscope.
"""
import functools
import gzip
import json
import os
import re
import shutil
import struct
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CAPTURES = REPO / "captures"
BROKEN = CAPTURES / "broken"
SHARED = REPO.parent / "shared" / "captures"
BIN = os.environ.get("STUNSCOPE_BIN") or str(REPO / ".build" / "debug" / "stunscope")

# capinfos encapsulation names and tshark's frame.encap_type numbers (wiretap
# WTAP_ENCAP_*) -> libpcap link-type names
ENCAP_TO_DLT = {
    "ether": "EN10MB", "linux-sll": "LINUX_SLL", "linux-sll2": "LINUX_SLL2", "null": "NULL",
    "loop": "LOOP", "rawip": "RAW", "rawip4": "IPV4", "rawip6": "IPV6",
}
WTAP_ENCAP_TO_DLT = {
    "1": "EN10MB", "25": "LINUX_SLL", "210": "LINUX_SLL2", "15": "NULL", "174": "LOOP",
    "7": "RAW", "129": "IPV4", "130": "IPV6",
}

FILTERS = {
    "ipv4": "ip",
    "ipv6": "ipv6",
    "udp": "udp && !icmp && !icmpv6",
    "tcp": "tcp && !icmp && !icmpv6",
    "icmp": "icmp || icmpv6",
    "reassembledDatagrams": "ip.fragments || ipv6.fragments",
}

# file (relative to captures/ or ../shared/captures) -> {key: (expected ours minus tshark's, why)}
KNOWN_DIFFERENCES = {
    "ndpi/zoom.pcap": {
        "udpFlows": (-1, "a GTP-U tunnel (UDP 2152) carries UDP 10.140.117.35:45634 <-> 193.122.35.237:8801: "
                         "tshark decapsulates GTP and counts the inner conversation too; StunScope counts the "
                         "outer 5-tuples only (frame counts agree: a tunnelled frame is one udp frame in both)"),
    },
}


def need_tools():
    for tool in ("capinfos", "tshark"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} not installed")
    if not os.access(BIN, os.X_OK):
        pytest.skip(f"stunscope binary not built: {BIN}")


def run_stats(*args):
    p = subprocess.run([BIN, "stats", "--format", "json", *map(str, args)],
                       capture_output=True, text=True, timeout=120)
    doc = json.loads(p.stdout, parse_float=Decimal) if p.stdout.strip() else None
    return p.returncode, doc, p.stderr


def tshark_env():
    env = dict(os.environ)
    env.setdefault("HOME", "/tmp")
    return env


@functools.lru_cache(maxsize=None)
def capinfos(path):
    out = subprocess.run(["capinfos", "-T", "-r", "-M", "-c", "-d", "-a", "-e", "-S", "-E", str(path)],
                         capture_output=True, text=True, timeout=120, env=tshark_env()).stdout
    name, encap, packets, size, first, last = out.rstrip("\n").split("\t")
    return {
        "packets": int(packets),
        "bytes": int(size),
        "firstTime": None if first == "n/a" else Decimal(first),
        "lastTime": None if last == "n/a" else Decimal(last),
        "encap": encap,
    }


def tshark_count(path, display_filter):
    out = subprocess.run(["tshark", "-n", "-r", str(path), "-Y", display_filter, "-T", "fields", "-e", "frame.number"],
                         capture_output=True, text=True, timeout=300, env=tshark_env()).stdout
    return len(out.split())


@functools.lru_cache(maxsize=None)
def tshark_counts(path):
    names = list(FILTERS)
    args = ["tshark", "-n", "-q", "-r", str(path),
            "-z", "io,stat,0," + ",".join(FILTERS[n] for n in names), "-z", "conv,udp"]
    out = subprocess.run(args, capture_output=True, text=True, timeout=300, env=tshark_env()).stdout
    counts = {}
    row = [l for l in out.splitlines() if re.match(r"^\|\s*[\d.]+\s*<>", l)]
    if row:
        cells = [c.strip() for c in row[0].strip("|").split("|")]
        frames = [int(c) for c in cells[1::2]]
        counts = dict(zip(names, frames))
    else:
        # io,stat prints no interval row when the capture lasts 0 s (one packet,
        # or all at one instant): count each filter on its own.
        counts = {n: tshark_count(path, FILTERS[n]) for n in names}
    counts["udpFlows"] = sum(1 for l in out.splitlines() if "<->" in l)
    rows = subprocess.run(["tshark", "-n", "-r", str(path), "-T", "fields", "-E", "separator=/t",
                           "-e", "frame.encap_type", "-e", "tcp.stream", "-e", "icmp.type", "-e", "icmpv6.type"],
                          capture_output=True, text=True, timeout=300, env=tshark_env()).stdout.splitlines()
    streams, encaps = set(), []
    for row in rows:
        encap, stream, icmp, icmpv6 = (row.split("\t") + ["", "", "", ""])[:4]
        if stream and not icmp and not icmpv6:  # the frames of `tcp && !icmp && !icmpv6`
            streams.add(stream)
        name = WTAP_ENCAP_TO_DLT.get(encap, "wtap-" + encap)
        if name not in encaps:
            encaps.append(name)
    counts["tcpStreams"] = len(streams)
    counts["linkTypes"] = encaps
    return counts


def oracle(path):
    info = capinfos(path)
    expected = {k: info[k] for k in ("packets", "bytes", "firstTime", "lastTime")}
    expected.update(tshark_counts(path))
    if info["packets"] == 0:
        expected["linkTypes"] = None
    elif info["encap"] != "per-packet":
        # one link type: capinfos and tshark's per-frame encapsulation must agree
        assert expected["linkTypes"] == [ENCAP_TO_DLT.get(info["encap"], info["encap"])], path
    return expected


def compare(path, key, doc):
    expected = oracle(path)
    known = KNOWN_DIFFERENCES.get(key, {})
    mismatches = {}
    for k, want in expected.items():
        if k == "linkTypes" and want is None:
            continue  # an empty file has a link type in its header but no packets to show one
        got = doc.get(k)
        if k in known:
            want = want + known[k][0]
        if got != want:
            mismatches[k] = {"stunscope": got, "expected": want}
    assert not mismatches, f"{key}: {mismatches}"


def repo_captures():
    return sorted(p for p in CAPTURES.glob("*.pcap*") if p.is_file())


def shared_captures():
    if not SHARED.is_dir():
        return []
    return sorted(p for p in SHARED.rglob("*") if p.is_file() and re.search(r"\.(pcap|pcapng|cap)(\.gz)?$", p.name))


FOUNDATION = [
    "link-en10mb.pcap", "link-nano.pcap", "link-pcapng.pcapng", "link-vlan.pcap", "link-qinq.pcap",
    "link-pcapng-mixed.pcapng", "link-sll.pcap", "link-sll2.pcap", "link-raw.pcap", "link-null.pcap", "link-loop.pcap",
    "link-ipv4.pcap", "link-ipv6.pcap", "decode-frag-v4.pcap", "decode-frag-v6.pcap",
    "decode-ip-options.pcap", "decode-tcp-split.pcap", "decode-tcp-coalesced.pcap",
    "decode-icmp-unreach.pcap", "decode-merge.client.pcap", "decode-merge.server.pcap",
]


# ---------------------------------------------------------------- every capture vs the oracles

def test_foundation_captures_present():
    missing = [f for f in FOUNDATION if not (CAPTURES / f).is_file()]
    assert not missing, f"run captures/gen/foundation_captures.sh: missing {missing}"
    assert list(CAPTURES.glob("decode-rotate.*.pcap")), "rotated set missing"


@pytest.mark.parametrize("path", repo_captures(), ids=lambda p: p.name)
def test_stats_matches_capinfos_and_tshark(path):
    need_tools()
    rc, doc, err = run_stats(path)
    assert rc == 0, err
    compare(path, path.name, doc)


@pytest.mark.parametrize("path", shared_captures() or [None],
                         ids=lambda p: str(p.relative_to(SHARED)) if p else "absent")
def test_shared_capture_stats(path, tmp_path):
    if path is None:
        pytest.skip(f"{SHARED} absent")
    need_tools()
    key = str(path.relative_to(SHARED))
    if path.name.endswith(".gz"):
        # libpcap does not read compressed files (tshark does): a clear error,
        # exit 2; the decompressed copy (outside the repo) must agree.
        rc, doc, err = run_stats(path)
        assert rc == 2 and "gzip-compressed" in err and str(path) in err, err
        plain = tmp_path / path.name[:-3]
        plain.write_bytes(gzip.decompress(path.read_bytes()))
        path = plain
    rc, doc, err = run_stats(path)
    assert rc == 0, err
    compare(path, key, doc)


# ---------------------------------------------------------------- decoding paths, beyond equality

def stats_of(name):
    rc, doc, err = run_stats(CAPTURES / name)
    assert rc == 0, err
    return doc


def test_decoding_paths_are_exercised():
    """The foundation captures really hold what they are named after."""
    need_tools()
    assert stats_of("link-vlan.pcap")["vlanTagged"] > 0
    assert stats_of("link-qinq.pcap")["vlanTagged"] > 0
    for name in ("decode-frag-v4.pcap", "decode-frag-v6.pcap", "link-qinq.pcap", "link-raw.pcap"):
        assert stats_of(name)["reassembledDatagrams"] > 0, name
    icmp = stats_of("decode-icmp-unreach.pcap")
    assert icmp["icmpErrorsQuotingTransport"] == icmp["icmp"] == 4
    for name in ("decode-tcp-split.pcap", "decode-tcp-coalesced.pcap"):
        d = stats_of(name)
        assert d["tcpStreams"] == 2 and d["tcpGaps"] == 0, name
    for name in FOUNDATION:
        d = stats_of(name)
        assert d["fragmentsDroppedOverlap"] == 0 and d["tcpGaps"] == 0, name


def test_nanosecond_times_are_exact():
    need_tools()
    d = stats_of("link-nano.pcap")
    info = capinfos(CAPTURES / "link-nano.pcap")
    assert d["firstTime"] == info["firstTime"] and d["lastTime"] == info["lastTime"]
    # nanosecond digits really present (not a microsecond file in disguise)
    assert (d["firstTime"] * 10**9) % 1000 != 0 or (d["lastTime"] * 10**9) % 1000 != 0


# ---------------------------------------------------------------- error paths

def pcap_record_offsets(path):
    raw = Path(path).read_bytes()
    e = "<" if raw[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    offs, off = [], 24
    while off + 16 <= len(raw):
        offs.append(off)
        off += 16 + struct.unpack(e + "I", raw[off + 8:off + 12])[0]
    return offs


def tshark_frames_before_error(path):
    """How many frames tshark reads from a damaged file before it gives up."""
    p = subprocess.run(["tshark", "-n", "-r", str(path), "-T", "fields", "-e", "frame.number"],
                       capture_output=True, text=True, timeout=120, env=tshark_env())
    return len(p.stdout.split())


def one_error_line(err):
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1, f"want one stderr line, got {lines}"
    return lines[0]


GOOD = CAPTURES / "link-en10mb.pcap"
GOOD_NG = CAPTURES / "link-pcapng.pcapng"


def stats_of_damaged(name, kind):
    """`stats` of captures/broken/NAME: status 2 and one stderr line that names
    the file, KIND of damage (truncated / corrupt) and a byte offset.
    Returns the path, the JSON document and that line."""
    need_tools()
    path = BROKEN / name
    rc, doc, err = run_stats(path)
    assert rc == 2
    line = one_error_line(err)
    assert str(path) in line and kind in line and "byte offset" in line, line
    return path, doc, line


@pytest.mark.parametrize("name,kind,damaged_record", [
    ("truncated-last-record.pcap", "truncated", -1),
    ("truncated-record-header.pcap", "truncated", -1),
    ("corrupt-caplen-absurd.pcap", "corrupt", 4),
    ("corrupt-caplen-over-snaplen.pcap", "corrupt", 4),
])
def test_damaged_record_reports_offset_and_keeps_earlier_packets(name, kind, damaged_record):
    path, doc, line = stats_of_damaged(name, kind)
    good_offsets = pcap_record_offsets(GOOD)
    index = damaged_record % len(good_offsets)
    assert f"byte offset {good_offsets[index]}" in line, line
    assert doc["packets"] == index, "every packet before the damage is reported"
    if name != "corrupt-caplen-over-snaplen.pcap":
        # tshark reads a caplen above the snaplen (up to its own maximum); libpcap cuts it.
        assert doc["packets"] == tshark_frames_before_error(path)
    assert doc["errors"] == [line.removeprefix("stunscope: ")]


def test_truncated_last_record_counts():
    need_tools()
    good = capinfos(GOOD)
    rc, doc, err = run_stats(BROKEN / "truncated-last-record.pcap")
    assert rc == 2 and doc["packets"] == good["packets"] - 1
    # the times of what was read are still there
    assert doc["firstTime"] == good["firstTime"]


def test_truncated_pcapng_block():
    path, doc, line = stats_of_damaged("truncated-last-block.pcapng", "truncated")
    assert doc["packets"] == tshark_frames_before_error(path) == capinfos(GOOD_NG)["packets"] - 1
    # the offset is where the cut block starts: everything before it is whole
    offset = int(re.search(r"byte offset (\d+)", line).group(1))
    assert 0 < offset < path.stat().st_size


def test_corrupt_pcapng_block_length():
    path, doc, line = stats_of_damaged("corrupt-block-length.pcapng", "corrupt")
    assert doc["packets"] == 2 == tshark_frames_before_error(path)


@pytest.mark.parametrize("name,words", [
    ("not-a-capture.pcap", ["not a pcap or pcapng capture"]),
    ("empty.pcap", ["not a pcap or pcapng capture", "0 bytes"]),
    ("short-file-header.pcap", ["not a pcap or pcapng capture"]),
    ("compressed.pcap.gz", ["gzip-compressed"]),
    ("linktype-ieee802-11.pcap", ["unsupported link type", "IEEE802_11", "105"]),
])
def test_unreadable_file_is_a_clear_error(name, words):
    need_tools()
    path = BROKEN / name
    rc, doc, err = run_stats(path)
    assert rc == 2
    line = one_error_line(err)
    assert str(path) in line, line
    for w in words:
        assert w in line, line


def test_missing_file_is_exit_2():
    need_tools()
    rc, doc, err = run_stats(CAPTURES / "no-such-file.pcap")
    assert rc == 2
    assert "no-such-file.pcap" in one_error_line(err)


def test_bad_usage_is_exit_64():
    need_tools()
    p = subprocess.run([BIN, "stats", "--no-such-option", str(GOOD)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 64, p.stderr
    p = subprocess.run([BIN, "stats"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 64, p.stderr
    p = subprocess.run([BIN, "stats", "--format", "xml", str(GOOD)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 64, p.stderr


def test_bad_filter_is_exit_2():
    need_tools()
    rc, doc, err = run_stats("--filter", "udp port", GOOD)
    assert rc == 2 and "bad filter" in err


def test_damaged_file_among_good_ones():
    """Damage ends that file only; the others are read in full."""
    need_tools()
    rc, doc, err = run_stats(GOOD_NG, BROKEN / "truncated-last-record.pcap")
    assert rc == 2
    assert doc["packets"] == capinfos(GOOD_NG)["packets"] + capinfos(GOOD)["packets"] - 1
    assert "truncated-last-record.pcap" in one_error_line(err)


# ---------------------------------------------------------------- multi-file merge

def test_merge_overlapping_files():
    need_tools()
    a, b = CAPTURES / "decode-merge.client.pcap", CAPTURES / "decode-merge.server.pcap"
    ia, ib = capinfos(a), capinfos(b)
    # the two ends of one veth: their time ranges overlap
    assert ia["firstTime"] < ib["lastTime"] and ib["firstTime"] < ia["lastTime"]
    rc, doc, err = run_stats(a, b)
    assert rc == 0, err
    assert doc["packets"] == ia["packets"] + ib["packets"]
    assert doc["bytes"] == ia["bytes"] + ib["bytes"]
    assert doc["firstTime"] == min(ia["firstTime"], ib["firstTime"])
    assert doc["lastTime"] == max(ia["lastTime"], ib["lastTime"])
    assert [f["packets"] for f in doc["files"]] == [ia["packets"], ib["packets"]]


def test_merge_equals_mergecap(tmp_path):
    """Several files in one run count exactly like their mergecap'd union."""
    need_tools()
    if not shutil.which("mergecap"):
        pytest.skip("mergecap not installed")
    files = sorted(CAPTURES.glob("decode-rotate.*.pcap"))
    assert len(files) >= 2
    merged = tmp_path / "merged.pcap"
    subprocess.run(["mergecap", "-F", "pcap", "-w", str(merged), *map(str, files)], check=True, timeout=60)
    rc, together, err = run_stats(*files)
    assert rc == 0, err
    rc, single, err = run_stats(merged)
    assert rc == 0, err
    skip = {"files"}
    assert {k: v for k, v in together.items() if k not in skip} == {k: v for k, v in single.items() if k not in skip}
    assert together["packets"] == sum(capinfos(f)["packets"] for f in files)
    compare(merged, "merged rotate set", together)


def test_merge_files_of_different_link_types(tmp_path):
    """Files of several link types in one run count like their mergecap'd pcapng
    (one interface per link type), which libpcap alone cannot even read."""
    need_tools()
    if not shutil.which("mergecap"):
        pytest.skip("mergecap not installed")
    files = [CAPTURES / "link-en10mb.pcap", CAPTURES / "link-sll2.pcap", CAPTURES / "link-raw.pcap"]
    merged = tmp_path / "merged.pcapng"
    subprocess.run(["mergecap", "-w", str(merged), *map(str, files)], check=True, timeout=60)
    rc, together, err = run_stats(*files)
    assert rc == 0, err
    assert set(together["linkTypes"]) == {"EN10MB", "LINUX_SLL2", "RAW"}
    compare(merged, "merged link types", together)


def test_merge_in_any_argument_order():
    need_tools()
    files = sorted(CAPTURES.glob("decode-rotate.*.pcap"))
    rc, forward, _ = run_stats(*files)
    rc2, backward, _ = run_stats(*reversed(files))
    assert rc == rc2 == 0
    for k in ("packets", "bytes", "firstTime", "lastTime", "udp", "udpFlows"):
        assert forward[k] == backward[k], k


# ---------------------------------------------------------------- --filter

def tcpdump_count(path, expression):
    p = subprocess.run(["tcpdump", "-n", "-r", str(path), expression], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return len(p.stdout.splitlines())


@pytest.mark.parametrize("name,expression", [
    ("link-en10mb.pcap", "udp port 3478"),
    ("link-en10mb.pcap", "ip6"),
    ("link-vlan.pcap", "vlan and udp port 3478"),
    ("link-sll2.pcap", "udp port 3478"),
    ("link-raw.pcap", "udp port 3478"),
    ("decode-tcp-coalesced.pcap", "tcp port 3478"),
])
def test_filter_matches_tcpdump(name, expression):
    need_tools()
    if not shutil.which("tcpdump"):
        pytest.skip("tcpdump not installed")
    path = CAPTURES / name
    rc, doc, err = run_stats("--filter", expression, path)
    assert rc == 0, err
    assert doc["packets"] == tcpdump_count(path, expression)
