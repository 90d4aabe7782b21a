"""Small helpers to look at captures with Wireshark's command-line tools.

Shared by the corpus tests (TURN and ICE/STUN) and later integration tests.
Nothing here knows about a particular scenario.

    from tshark import capinfo, stun_messages, udp_datagrams, tcp_segments

* ``capinfo(path)`` -> dict(packets, file_type, encapsulation, precision)
* ``stun_messages(path, decode_as=())`` -> list[StunMessage], one per STUN
  message or ChannelData frame (several per TCP segment are split out; TCP is
  reassembled by tshark). ``decode_as`` takes tshark ``-d`` values such as
  ``"udp.port==3479,stun"``.
* ``fields(path, names, display_filter=None, decode_as=())`` -> rows of
  ``tshark -T fields`` output (lists of strings; multiple values joined by ',').
* ``udp_datagrams(path)`` / ``tcp_segments(path)`` -> packet-level tuples.
* ``pair_transactions(msgs)`` -> {request_index: response} by transaction ID.

Addresses are normalised to "ip:port" / "[v6]:port" (``norm_addr``).
"""
from __future__ import annotations

import csv
import io
import ipaddress
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

TSHARK = shutil.which("tshark") or "tshark"
CAPINFOS = shutil.which("capinfos") or "capinfos"

# STUN / TURN constants (RFC 8489, RFC 8656, RFC 6062)
METHODS = {
    0x001: "Binding", 0x003: "Allocate", 0x004: "Refresh", 0x006: "Send", 0x007: "Data",
    0x008: "CreatePermission", 0x009: "ChannelBind", 0x00A: "Connect",
    0x00B: "ConnectionBind", 0x00C: "ConnectionAttempt",
}
CLASS_REQUEST, CLASS_INDICATION, CLASS_SUCCESS, CLASS_ERROR = 0, 1, 2, 3

ATTR = dict(
    MAPPED_ADDRESS=0x0001, USERNAME=0x0006, MESSAGE_INTEGRITY=0x0008, ERROR_CODE=0x0009,
    CHANNEL_NUMBER=0x000C, LIFETIME=0x000D, XOR_PEER_ADDRESS=0x0012, DATA=0x0013,
    REALM=0x0014, NONCE=0x0015, XOR_RELAYED_ADDRESS=0x0016, REQUESTED_ADDRESS_FAMILY=0x0017,
    EVEN_PORT=0x0018, REQUESTED_TRANSPORT=0x0019, XOR_MAPPED_ADDRESS=0x0020,
    RESERVATION_TOKEN=0x0022, CONNECTION_ID=0x002A, SOFTWARE=0x8022, FINGERPRINT=0x8028,
    ORIGIN=0x802F,
)


class TsharkError(RuntimeError):
    pass


def run(args: list[str], timeout: float = 120) -> str:
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise TsharkError(f"{' '.join(args)} failed ({p.returncode}): {p.stderr.strip()[:500]}")
    return p.stdout


def norm_addr(ip: str, port: int | str | None = None) -> str:
    a = ipaddress.ip_address(ip.strip("[]"))
    if port is None:
        return str(a)
    return f"[{a}]:{int(port)}" if a.version == 6 else f"{a}:{int(port)}"


def ip_of(addr: str) -> str:
    """'1.2.3.4:5' -> '1.2.3.4', '[v6]:5' -> 'v6'."""
    return addr.rsplit(":", 1)[0].strip("[]")


# ------------------------------------------------------------------ capinfos

_ENCAP = {"ether": "EN10MB", "linux-sll2": "LINUX_SLL2", "linux-sll": "LINUX_SLL", "rawip": "RAW",
          "null": "NULL"}


def capinfo(path: str) -> dict:
    """Packet count, file type, link type and timestamp precision of a capture."""
    out = run([CAPINFOS, "-T", "-m", "-Q", "-t", "-E", "-F", "-c", path])
    row = next(csv.DictReader(io.StringIO(out)))
    ftype = row["File type"]
    prec = row.get("File time precision", "")
    encap = row["File encapsulation"]
    return dict(
        packets=int(row["Number of packets"]),
        file_type_raw=ftype,
        file_type="pcapng" if "pcapng" in ftype else "pcap",
        encapsulation_raw=encap,
        encapsulation=_ENCAP.get(encap, encap),
        precision="nano" if prec.startswith("nano") else "micro" if prec.startswith("micro") else prec,
    )


# --------------------------------------------------------------------- STUN

@dataclass
class Attribute:
    type: int
    fields: dict = field(default_factory=dict)   # field name -> list of 'show' strings
    raw: str = ""                                # hex of the whole TLV (without padding)

    @property
    def value_hex(self) -> str:
        """Hex of the attribute value (after type and length)."""
        return self.raw[8:]

    def get(self, name: str, default=None):
        v = self.fields.get(name)
        return v[0] if v else default

    @property
    def address(self) -> str | None:
        """Decoded (un-XORed) address of an (XOR-)address attribute."""
        ip = self.get("stun.att.ipv4") or self.get("stun.att.ipv6")
        port = self.get("stun.att.port")
        if ip is None or port is None:
            return None
        return norm_addr(ip, port)


@dataclass
class StunMessage:
    frame: int
    time: float
    transport: str          # udp | tcp
    src: str                # ip:port
    dst: str
    channel: int | None = None      # ChannelData frame: channel number
    data_length: int | None = None  # ChannelData frame: length field
    msg_type: int | None = None     # STUN message
    txid: str | None = None
    attrs: list[Attribute] = field(default_factory=list)

    @property
    def is_channel_data(self) -> bool:
        return self.channel is not None and self.msg_type is None

    @property
    def method(self) -> int | None:
        if self.msg_type is None:
            return None
        t = self.msg_type
        return (t & 0x000F) | ((t & 0x00E0) >> 1) | ((t & 0x3E00) >> 2)

    @property
    def cls(self) -> int | None:
        if self.msg_type is None:
            return None
        t = self.msg_type
        return ((t & 0x0100) >> 7) | ((t & 0x0010) >> 4)

    @property
    def method_name(self) -> str:
        return METHODS.get(self.method, f"0x{self.method:03x}") if self.method is not None else "ChannelData"

    def attr(self, atype: int) -> Attribute | None:
        for a in self.attrs:
            if a.type == atype:
                return a
        return None

    def attrs_of(self, atype: int) -> list[Attribute]:
        return [a for a in self.attrs if a.type == atype]

    @property
    def error_code(self) -> int | None:
        a = self.attr(ATTR["ERROR_CODE"])
        if a is None:
            return None
        return int(a.get("stun.att.error.class", 0)) * 100 + int(a.get("stun.att.error", 0))

    @property
    def lifetime(self) -> int | None:
        a = self.attr(ATTR["LIFETIME"])
        return int(a.get("stun.att.lifetime")) if a is not None else None

    @property
    def channel_number(self) -> int | None:
        a = self.attr(ATTR["CHANNEL_NUMBER"])
        return int(a.get("stun.att.channelnum"), 0) if a is not None else None

    def string(self, atype: int, fname: str) -> str | None:
        a = self.attr(atype)
        return a.get(fname) if a is not None else None


def _fields(elem) -> dict:
    """All descendant fields of elem: name -> list of 'show' values."""
    d: dict[str, list[str]] = {}
    for f in elem.iter("field"):
        n = f.get("name")
        if n:
            d.setdefault(n, []).append(f.get("show", ""))
    return d


def stun_messages(path: str, decode_as=(), extra_args=()) -> list[StunMessage]:
    """Every STUN message and ChannelData frame in the capture, in order."""
    args = [TSHARK, "-n", "-r", path, "-T", "pdml", "-Y", "stun"]
    for d in decode_as:
        args += ["-d", d]
    args += list(extra_args)
    xml = run(args, timeout=300)
    msgs: list[StunMessage] = []
    root = ET.fromstring(xml)
    for pkt in root.iter("packet"):
        protos = {}
        stuns = []
        for p in pkt.findall("proto"):
            name = p.get("name")
            if name == "stun":
                stuns.append(p)
            elif name not in protos:
                protos[name] = p
        fr = _fields(protos["frame"])
        frame = int(fr["frame.number"][0])
        t = float(fr["frame.time_epoch"][0])
        if "ip" in protos:
            ipf = _fields(protos["ip"])
            sip, dip = ipf["ip.src"][0], ipf["ip.dst"][0]
        elif "ipv6" in protos:
            ipf = _fields(protos["ipv6"])
            sip, dip = ipf["ipv6.src"][0], ipf["ipv6.dst"][0]
        else:
            continue
        if "udp" in protos:
            tp = "udp"
            pf = _fields(protos["udp"])
            sp, dp = pf["udp.srcport"][0], pf["udp.dstport"][0]
        elif "tcp" in protos:
            tp = "tcp"
            pf = _fields(protos["tcp"])
            sp, dp = pf["tcp.srcport"][0], pf["tcp.dstport"][0]
        else:
            continue
        src, dst = norm_addr(sip, sp), norm_addr(dip, dp)
        for s in stuns:
            m = StunMessage(frame=frame, time=t, transport=tp, src=src, dst=dst)
            top = {f.get("name"): f for f in s.findall("field")}
            if "stun.type" in top:
                m.msg_type = int(top["stun.type"].get("show"), 16)
                if "stun.id" in top:
                    m.txid = top["stun.id"].get("value")
                attrs = top.get("stun.attributes")
                if attrs is not None:
                    for a in attrs.findall("field"):
                        if a.get("name") != "stun.attribute":
                            continue
                        m.attrs.append(Attribute(type=int(a.get("show"), 16), fields=_fields(a),
                                                 raw=a.get("value", "")))
            elif "stun.channel" in top:
                m.channel = int(top["stun.channel"].get("show"), 16)
                if "stun.length" in top:
                    m.data_length = int(top["stun.length"].get("show"))
            else:
                continue
            msgs.append(m)
    return msgs


def pair_transactions(msgs: list[StunMessage]) -> dict[int, StunMessage]:
    """index of each request in msgs -> its (first) success or error response."""
    pending: dict[tuple, int] = {}
    out: dict[int, StunMessage] = {}
    for i, m in enumerate(msgs):
        if m.msg_type is None or m.txid is None:
            continue
        if m.cls == CLASS_REQUEST:
            pending[(m.txid, m.method)] = i
        elif m.cls in (CLASS_SUCCESS, CLASS_ERROR):
            j = pending.pop((m.txid, m.method), None)
            if j is not None and j not in out:
                out[j] = m
    return out


# ---------------------------------------------------------- packet level

def fields(path: str, names: list[str], display_filter: str | None = None, decode_as=(),
           occurrence: str = "a") -> list[list[str]]:
    args = [TSHARK, "-n", "-r", path, "-T", "fields", "-E", "separator=\t",
            "-E", f"occurrence={occurrence}", "-E", "aggregator=,"]
    for n in names:
        args += ["-e", n]
    if display_filter:
        args += ["-Y", display_filter]
    for d in decode_as:
        args += ["-d", d]
    out = run(args, timeout=300)
    return [line.split("\t") for line in out.splitlines()]


def _ip_pair(row_ip4_src, row_ip4_dst, row_ip6_src, row_ip6_dst):
    if row_ip4_src:
        return row_ip4_src, row_ip4_dst
    return row_ip6_src, row_ip6_dst


def udp_datagrams(path: str) -> list[tuple[int, str, str, int]]:
    """(frame, src ip:port, dst ip:port, payload length) of every UDP datagram
    (first fragment / whole datagram only; ICMP-quoted headers excluded)."""
    rows = fields(path, ["frame.number", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
                         "udp.srcport", "udp.dstport", "udp.length"],
                  display_filter="udp and not icmp and not icmpv6", occurrence="f")
    out = []
    for r in rows:
        s, d = _ip_pair(r[1], r[2], r[3], r[4])
        out.append((int(r[0]), norm_addr(s, r[5]), norm_addr(d, r[6]), int(r[7]) - 8))
    return out


def tcp_segments(path: str) -> list[tuple[int, str, str, int, str]]:
    """(frame, src, dst, payload length, flags) of every TCP segment."""
    rows = fields(path, ["frame.number", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
                         "tcp.srcport", "tcp.dstport", "tcp.len", "tcp.flags.str"],
                  display_filter="tcp and not icmp and not icmpv6", occurrence="f")
    out = []
    for r in rows:
        s, d = _ip_pair(r[1], r[2], r[3], r[4])
        out.append((int(r[0]), norm_addr(s, r[5]), norm_addr(d, r[6]), int(r[7] or 0), r[8]))
    return out
