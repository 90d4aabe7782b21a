#!/usr/bin/env python3
"""Makes captures/stun-xss-software.loopback.pcap and its truth file.

A real STUN Binding exchange on loopback, captured with tcpdump: a small
RFC 8489 STUN server (this script, a UDP socket on 127.0.0.77:3478) answers
each Binding request with XOR-MAPPED-ADDRESS, SOFTWARE
'<script>alert(1)</script>' and FINGERPRINT; the client (a UDP socket on
127.0.0.78) sends three Binding requests whose own SOFTWARE is
'<img src=x onerror=alert(2)>', 200 ms apart, and checks every answer.
Exporters must show both strings as text, never as markup (issue 7).

coturn cannot be used for this: its SOFTWARE value is compiled in.

Run as root (tcpdump): sudo python3 captures/gen/xss_software.py
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
NAME = "stun-xss-software.loopback"
SERVER = ("127.0.0.77", 3478)
CLIENT_IP = "127.0.0.78"
SERVER_SOFTWARE = "<script>alert(1)</script>"
CLIENT_SOFTWARE = "<img src=x onerror=alert(2)>"
COOKIE = 0x2112A442
REQUESTS = 3


def attr(kind, value):
    pad = (4 - len(value) % 4) % 4
    return struct.pack("!HH", kind, len(value)) + value + b"\0" * pad


def message(msg_type, txid, attrs):
    """A STUN message with FINGERPRINT last (RFC 8489 section 14.7)."""
    body = b"".join(attrs)
    # Length includes the 8-byte FINGERPRINT attribute.
    head = struct.pack("!HHI", msg_type, len(body) + 8, COOKIE) + txid
    crc = (binascii.crc32(head + body) & 0xFFFFFFFF) ^ 0x5354554E
    return head + body + attr(0x8028, struct.pack("!I", crc))


def xor_mapped(ip, port):
    addr = struct.unpack("!I", socket.inet_aton(ip))[0] ^ COOKIE
    return attr(0x0020, struct.pack("!BBHI", 0, 1, port ^ (COOKIE >> 16), addr))


def parse(data):
    msg_type, length, cookie = struct.unpack("!HHI", data[:8])
    txid = data[8:20]
    attrs = {}
    off = 20
    while off + 4 <= 20 + length:
        kind, alen = struct.unpack("!HH", data[off:off + 4])
        attrs[kind] = data[off + 4:off + 4 + alen]
        off += 4 + alen + (4 - alen % 4) % 4
    return msg_type, cookie, txid, attrs


def serve(sock, stop):
    sock.settimeout(0.2)
    while not stop.is_set():
        try:
            data, src = sock.recvfrom(2048)
        except socket.timeout:
            continue
        msg_type, cookie, txid, _ = parse(data)
        if msg_type != 0x0001 or cookie != COOKIE:
            continue
        reply = message(0x0101, txid, [xor_mapped(*src), attr(0x8022, SERVER_SOFTWARE.encode())])
        sock.sendto(reply, src)


def count_packets(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    off, n = 24, 0
    while off + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        off += 16 + incl
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
    client_port = client.getsockname()[1]
    dump = subprocess.Popen(["tcpdump", "-i", "lo", "-U", "-n", "-s", "0", "-w", pcap,
                             f"udp and host {SERVER[0]} and port {SERVER[1]}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.0)
    stop = threading.Event()
    thread = threading.Thread(target=serve, args=(server, stop), daemon=True)
    thread.start()
    answered = 0
    mapped = None
    try:
        for i in range(REQUESTS):
            txid = os.urandom(12)
            client.sendto(message(0x0001, txid, [attr(0x8022, CLIENT_SOFTWARE.encode())]), SERVER)
            data, _ = client.recvfrom(2048)
            msg_type, cookie, rtxid, attrs = parse(data)
            assert msg_type == 0x0101 and rtxid == txid, "unexpected answer"
            assert attrs[0x8022] == SERVER_SOFTWARE.encode()
            x = attrs[0x0020]
            port = struct.unpack("!H", x[2:4])[0] ^ (COOKIE >> 16)
            ip = socket.inet_ntoa(struct.pack("!I", struct.unpack("!I", x[4:8])[0] ^ COOKIE))
            mapped = f"{ip}:{port}"
            answered += 1
            time.sleep(0.2)
    finally:
        stop.set()
        thread.join()
        time.sleep(0.5)
        dump.terminate()
        dump.wait()
    packets = count_packets(pcap)
    assert packets == 2 * REQUESTS, f"captured {packets} packets, expected {2 * REQUESTS}"
    truth = {
        "capture": NAME + ".pcap",
        "scenario": "stun-xss-software",
        "vantage": "loopback",
        "format": "pcap",
        "linkType": "EN10MB",
        "generator": "captures/gen/xss_software.py",
        "packetCount": packets,
        "captureTool": "tcpdump",
        "captureInterface": "lo",
        "xss": {
            "server": f"{SERVER[0]}:{SERVER[1]}",
            "client": f"{CLIENT_IP}:{client_port}",
            "reflexive": mapped,
            "serverSoftware": SERVER_SOFTWARE,
            "clientSoftware": CLIENT_SOFTWARE,
            "requests": REQUESTS,
            "responses": answered,
        },
    }
    with open(os.path.join(CAPTURES, NAME + ".truth.json"), "w") as f:
        json.dump(truth, f, indent=2)
        f.write("\n")
    print(f"{pcap}: {packets} packets, client {CLIENT_IP}:{client_port}, mapped {mapped}")


if __name__ == "__main__":
    main()
