#!/usr/bin/env python3
"""Makes captures/stun-terminal-escapes.loopback.pcap and its truth file.

Real STUN/TURN exchanges on loopback, captured with tcpdump, whose strings
carry terminal control sequences: the client (UDP sockets on 127.0.0.88)
sends Binding and Allocate requests with USERNAME, SOFTWARE, REALM and NONCE
values holding ANSI escapes (clear screen, cursor moves, colours, OSC window
title and hyperlink, a device-status query the terminal would answer), C0
and C1 controls, DEL, carriage returns and Unicode bidi overrides; a small
server (this script, a UDP socket on 127.0.0.87:3478) answers with more of
the same in SOFTWARE, REALM, NONCE and the ERROR-CODE reason phrase. Every
message ends with a correct FINGERPRINT; the client checks every answer.

`stunscope messages` and `analyze` must print every one of these strings
with the control characters made visible (docs/SECURITY.md); JSON outputs
must carry them escaped (\\u001b). Tests/integration/test_output_safety.py
checks both.

Run as root (tcpdump): sudo python3 captures/gen/terminal_escapes.py
"""

import binascii
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CAPTURES = os.path.dirname(HERE)
NAME = "stun-terminal-escapes.loopback"
SERVER = ("127.0.0.87", 3478)
CLIENT_IP = "127.0.0.88"
RELAY = ("127.0.0.87", 50000)
COOKIE = 0x2112A442

# Every string is valid UTF-8 except CLIENT_SOFTWARE's last bytes.
STRINGS = {
    "clientUsername": "mallory\x1b[2J\x1b[H\x1b[31mroot\x1b[0m",
    "clientSoftware": "\x1b]0;owned\x07\x1b[1;1H\r\x08\x7fcli\u202eexe.txt\u2066x\u2069",
    "clientRealm": "realm\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\",
    "serverSoftware": "\x1b[6n\x1b[?1049h\u009b31mserver\u0085\u009d0;t\u009c",
    "serverRealm": "\x1bPq#0;2;0;0;0\x1b\\\x1b[8mhidden\x1b[28m",
    "serverNonce": "\x1b[5m\x1b[41mnonce\x1b[0m\x00tail",
    "errorReason": "Unauthorized\r\x1b[KAccess granted\x1b[0K\n\x1b[1A",
}
INVALID_UTF8_SUFFIX = b"\xff\xfe\x1b[7m"


def attr(kind, value):
    pad = (4 - len(value) % 4) % 4
    return struct.pack("!HH", kind, len(value)) + value + b"\0" * pad


def message(msg_type, txid, attrs):
    """A STUN message with FINGERPRINT last (RFC 8489 section 14.7)."""
    body = b"".join(attrs)
    head = struct.pack("!HHI", msg_type, len(body) + 8, COOKIE) + txid
    crc = (binascii.crc32(head + body) & 0xFFFFFFFF) ^ 0x5354554E
    return head + body + attr(0x8028, struct.pack("!I", crc))


def xor_address(kind, ip, port):
    addr = struct.unpack("!I", socket.inet_aton(ip))[0] ^ COOKIE
    return attr(kind, struct.pack("!BBHI", 0, 1, port ^ (COOKIE >> 16), addr))


def s(key):
    return STRINGS[key].encode()


def parse(data):
    msg_type, length, cookie = struct.unpack("!HHI", data[:8])
    attrs, off = {}, 20
    while off + 4 <= 20 + length:
        kind, alen = struct.unpack("!HH", data[off:off + 4])
        attrs.setdefault(kind, data[off + 4:off + 4 + alen])
        off += 4 + alen + (4 - alen % 4) % 4
    crc = (binascii.crc32(data[:-8]) & 0xFFFFFFFF) ^ 0x5354554E
    assert struct.unpack("!I", attrs[0x8028])[0] == crc, "bad FINGERPRINT"
    return msg_type, cookie, data[8:20], attrs


def serve(sock, stop):
    """Binding: success the first time a client port asks, 401 after; Allocate: 401 without NONCE, else success."""
    sock.settimeout(0.2)
    seen = set()
    while not stop.is_set():
        try:
            data, src = sock.recvfrom(2048)
        except socket.timeout:
            continue
        msg_type, cookie, txid, attrs = parse(data)
        if cookie != COOKIE:
            continue
        unauthorized = [attr(0x0009, struct.pack("!HBB", 0, 4, 1) + s("errorReason")),
                        attr(0x0014, s("serverRealm")), attr(0x0015, s("serverNonce")),
                        attr(0x8022, s("serverSoftware"))]
        if msg_type == 0x0001:
            if src not in seen:
                seen.add(src)
                reply = message(0x0101, txid, [xor_address(0x0020, *src), attr(0x8022, s("serverSoftware"))])
            else:
                reply = message(0x0111, txid, unauthorized)
        elif msg_type == 0x0003:
            if 0x0015 not in attrs:
                reply = message(0x0113, txid, unauthorized)
            else:
                reply = message(0x0103, txid, [xor_address(0x0016, *RELAY), xor_address(0x0020, *src),
                                               attr(0x000D, struct.pack("!I", 600)),
                                               attr(0x8022, s("serverSoftware"))])
        else:
            continue
        sock.sendto(reply, src)


def count_packets(path):
    data = open(path, "rb").read()
    endian = "<" if struct.unpack("<I", data[:4])[0] in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    off, n = 24, 0
    while off + 16 <= len(data):
        off += 16 + struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        n += 1
    return n


def main():
    if os.geteuid() != 0:
        sys.exit("run as root (tcpdump on lo)")
    pcap = os.path.join(CAPTURES, NAME + ".pcap")
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(SERVER)
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.bind((CLIENT_IP, 0))
    client.settimeout(2)
    dump = subprocess.Popen(["tcpdump", "-i", "lo", "-U", "--immediate-mode", "-n", "-s", "0", "-w", pcap,
                             f"udp and host {SERVER[0]} and port {SERVER[1]}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.0)
    stop = threading.Event()
    threading.Thread(target=serve, args=(server, stop), daemon=True).start()
    exchanges = []

    def ask(msg_type, attrs, expect):
        txid = os.urandom(12)
        client.sendto(message(msg_type, txid, attrs), SERVER)
        data, _ = client.recvfrom(2048)
        rtype, cookie, rtxid, rattrs = parse(data)
        assert cookie == COOKIE and rtxid == txid and rtype == expect, (hex(rtype), hex(expect))
        exchanges.append({"request": hex(msg_type), "response": hex(rtype)})
        time.sleep(0.1)
        return rattrs

    try:
        user, software = attr(0x0006, s("clientUsername")), attr(0x8022, s("clientSoftware") + INVALID_UTF8_SUFFIX)
        ask(0x0001, [user, software], 0x0101)
        ask(0x0001, [user, software], 0x0111)
        transport = attr(0x0019, b"\x11\0\0\0")
        challenge = ask(0x0003, [transport, software], 0x0113)
        ask(0x0003, [transport, user, attr(0x0014, s("clientRealm")), attr(0x0015, challenge[0x0015]), software],
            0x0103)
    finally:
        time.sleep(1.5)
        stop.set()
        dump.terminate()
        dump.wait()
    captured = count_packets(pcap)
    assert captured == 2 * len(exchanges), f"tcpdump caught {captured} of {2 * len(exchanges)} packets"
    truth = {
        "capture": NAME + ".pcap",
        "scenario": "stun-terminal-escapes",
        "vantage": "loopback",
        "format": "pcap",
        "linkType": "EN10MB",
        "generator": "captures/gen/terminal_escapes.py",
        "packetCount": 2 * len(exchanges),
        "captureTool": "tcpdump",
        "captureInterface": "lo",
        "terminalEscapes": {
            "server": f"{SERVER[0]}:{SERVER[1]}",
            "client": f"{CLIENT_IP}:{client.getsockname()[1]}",
            "exchanges": exchanges,
            "strings": STRINGS,
            "clientSoftwareInvalidUtf8Suffix": INVALID_UTF8_SUFFIX.hex(),
        },
    }
    with open(os.path.join(CAPTURES, NAME + ".truth.json"), "w") as f:
        json.dump(truth, f, indent=2, ensure_ascii=True)
        f.write("\n")
    print(f"{pcap}: {len(exchanges)} exchanges")


if __name__ == "__main__":
    main()
