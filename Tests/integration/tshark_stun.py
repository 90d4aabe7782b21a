"""tshark as an oracle for STUN: runs `tshark -T json` and turns its STUN,
CLASSIC-STUN and ChannelData layers into plain dicts shaped like
`stunscope messages --format ndjson` records, so tests can compare them.

tshark's JSON repeats keys ("stun.attribute" once per attribute); it is read
with object_pairs_hook so that order and duplicates survive.
"""

import json
import shutil
import struct
import subprocess
import tempfile

TSHARK = shutil.which("tshark")


def _pairs(text):
    return json.loads(text, object_pairs_hook=lambda pairs: pairs)


def get(pairs, key, default=None):
    if not isinstance(pairs, list):
        return default
    for k, v in pairs:
        if k == key:
            return v
    return default


def get_all(pairs, key):
    if not isinstance(pairs, list):
        return []
    return [v for k, v in pairs if k == key]


def run_tshark(path, extra=(), display_filter="stun || classicstun"):
    """[(frame number, [(layer name, layer pairs), ...]), ...] for frames with STUN."""
    cmd = [TSHARK, "-r", path, "-T", "json", "-J", "frame stun classicstun data",
           "-Y", display_filter, *extra]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise RuntimeError(f"tshark failed on {path}: {r.stderr}")
    if not r.stdout.strip():
        return []
    out = []
    for packet in _pairs(r.stdout):
        layers = get(get(packet, "_source"), "layers")
        frame = int(get(get(layers, "frame"), "frame.number"))
        out.append((frame, [(k, v) for k, v in layers if k in ("stun", "classicstun", "data")]))
    return out


def _hex_id(text):
    return text.replace(":", "").lower()


def _address(tree, prefix):
    ip = get(tree, f"{prefix}.att.ipv4")
    if ip is None:
        ip6 = get(tree, f"{prefix}.att.ipv6")
        if ip6 is None:
            return None
        ip = f"[{ip6}]"
    port = get(tree, f"{prefix}.att.port")
    return None if port is None else f"{ip}:{port}"


def _attribute(tree, prefix, type_value=None):
    a = {"type": type_value if type_value is not None else int(get(tree, f"{prefix}.att.type"), 16)}
    address = _address(tree, prefix)
    if address is not None:
        a["address"] = address
    cls = get(tree, f"{prefix}.att.error.class")
    num = get(tree, f"{prefix}.att.error")
    if cls is not None and num is not None:
        a["code"] = int(cls) * 100 + int(num)
    lifetime = get(tree, f"{prefix}.att.lifetime")
    if lifetime is not None:
        a["lifetime"] = int(lifetime)
    channel = get(tree, f"{prefix}.att.channelnum")
    if channel is not None:
        a["channel"] = int(channel, 16)
    value = get(tree, "stun.value") if prefix == "stun" else get(tree, "classicstun.att.data")
    if value is not None:
        a["raw"] = bytes.fromhex(value.replace(":", ""))
    bogus = any(k == "_ws.expert" or k.startswith("_ws.malformed") for k, _ in tree)
    if bogus:
        a["expert"] = True
    return a


def _find(pairs, key):
    """Depth-first search for `key` (tshark nests the attribute list under
    expert items, e.g. "Packet length is not multiple of 4 bytes")."""
    if not isinstance(pairs, list):
        return None
    for k, v in pairs:
        if k == key:
            return v
    for k, v in pairs:
        if isinstance(v, list) and not k.endswith("_tree"):
            found = _find(v, key)
            if found is not None:
                return found
    return None


def _attribute_trees(layer, prefix):
    """(attribute subtree, type or None) of one message, in wire order."""
    if prefix == "stun":
        container = _find(layer, "stun.attributes")
        out = []
        for k, v in container or []:
            if k == "stun.attribute_tree":
                out.append((v, None))
            elif k.startswith("Unknown attribute 0x"):
                out.append((v, int(k.rsplit("0x", 1)[1], 16)))
        return out
    container = get(layer, "classicstun.att")
    if not isinstance(container, list):
        return []
    return [(v, None) for k, v in container if k.startswith("Attribute:") or get(v, "classicstun.att.type") is not None]


def messages(frames):
    """tshark frames -> {frame: [message dict, ...]} in layer order.

    A message dict has kind (stun/channeldata), and for STUN: type,
    transactionId, classic, attributes [{type, address?, code?, lifetime?,
    channel?, raw?}], errorCode; for ChannelData: channel, length, payload
    (the application data bytes, from the following data layer)."""
    out = {}
    for frame, layers in frames:
        found = []
        for name, layer in layers:
            if name == "data":
                if found and found[-1]["kind"] == "channeldata" and "payload" not in found[-1]:
                    found[-1]["payload"] = bytes.fromhex(get(layer, "data.data", "").replace(":", ""))
                continue
            if not isinstance(layer, list):
                continue
            if name == "stun" and get(layer, "stun.channel") is not None:
                found.append({"kind": "channeldata", "channel": int(get(layer, "stun.channel"), 16),
                              "length": int(get(layer, "stun.length"))})
                continue
            prefix = name
            type_text = get(layer, f"{prefix}.type")
            if type_text is None:
                continue
            attributes = [_attribute(t, prefix, n) for t, n in _attribute_trees(layer, prefix)]
            codes = [a["code"] for a in attributes if "code" in a and a["type"] == 0x0009]
            found.append({
                "kind": "stun",
                "type": int(type_text, 16),
                "transactionId": _hex_id(get(layer, f"{prefix}.id")),
                "classic": prefix == "classicstun",
                "attributes": attributes,
                "errorCode": codes[0] if codes else None,
            })
        if found:
            out.setdefault(frame, []).extend(found)
    return out


def udp_pcap(payloads, path):
    """Writes each payload as one IPv4/UDP datagram (3478 -> 3478) of an Ethernet pcap."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, payload in enumerate(payloads):
            udp = struct.pack("!HHHH", 3478, 3478, 8 + len(payload), 0) + payload
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0, 64, 17, 0,
                             bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])) + udp
            frame = b"\x00\x00\x00\x00\x00\x02" + b"\x00\x00\x00\x00\x00\x01" + b"\x08\x00" + ip
            f.write(struct.pack("<IIII", i, 0, len(frame), len(frame)) + frame)


def dissect_payloads(payloads):
    """tshark's reading of standalone STUN payloads: [message dict or None, ...]."""
    if not payloads:
        return []
    with tempfile.NamedTemporaryFile(suffix=".pcap") as tmp:
        udp_pcap(payloads, tmp.name)
        found = messages(run_tshark(tmp.name, extra=["-d", "udp.port==3478,stun"]))
    return [found.get(i + 1, [None])[0] for i in range(len(payloads))]
