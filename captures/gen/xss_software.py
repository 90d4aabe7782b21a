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
($CAPTURES_OUT: write to another directory, see loopback_exchange.py)
"""

import os
import time

import stun_builder as stun
from loopback_exchange import LoopbackExchange, captures_dir, pcap_record_count, require_root, write_truth

NAME = "stun-xss-software.loopback"
SERVER = ("127.0.0.77", 3478)
CLIENT_IP = "127.0.0.78"
SERVER_SOFTWARE = "<script>alert(1)</script>"
CLIENT_SOFTWARE = "<img src=x onerror=alert(2)>"
REQUESTS = 3


def answer(data, src):
    """Binding success with the client's reflexive address and our SOFTWARE."""
    msg_type, cookie, txid, _ = stun.parse(data)
    if msg_type != stun.BINDING_REQUEST or cookie != stun.MAGIC_COOKIE:
        return None
    return stun.message(stun.BINDING_SUCCESS, txid,
                        [stun.xor_address(stun.XOR_MAPPED_ADDRESS, *src, txid),
                         stun.attribute(stun.SOFTWARE, SERVER_SOFTWARE.encode())])


def main():
    require_root()
    pcap = os.path.join(captures_dir(), NAME + ".pcap")
    answered = 0
    mapped = None
    with LoopbackExchange(pcap, SERVER, CLIENT_IP, answer, linger=0.5) as run:
        for _ in range(REQUESTS):
            txid = os.urandom(12)
            data = run.ask(stun.message(stun.BINDING_REQUEST, txid,
                                        [stun.attribute(stun.SOFTWARE, CLIENT_SOFTWARE.encode())]))
            msg_type, _, rtxid, attrs = stun.parse(data)
            assert msg_type == stun.BINDING_SUCCESS and rtxid == txid, "unexpected answer"
            assert attrs[stun.SOFTWARE] == SERVER_SOFTWARE.encode()
            ip, port = stun.decode_xor_address(attrs[stun.XOR_MAPPED_ADDRESS], rtxid)
            mapped = f"{ip}:{port}"
            answered += 1
            time.sleep(0.2)
    packets = pcap_record_count(pcap)
    assert packets == 2 * REQUESTS, f"captured {packets} packets, expected {2 * REQUESTS}"
    write_truth(NAME, {
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
            "client": run.client_address,
            "reflexive": mapped,
            "serverSoftware": SERVER_SOFTWARE,
            "clientSoftware": CLIENT_SOFTWARE,
            "requests": REQUESTS,
            "responses": answered,
        },
        # issue 14 (captures/README.md, "Expected findings"): from the scenario
        "expectedFindings": {
            "why": (
                "Healthy Binding exchange on loopback (3 requests, 3 success answers); the only oddity is"
                " the markup in both SOFTWARE values, which must be shown escaped, not reported as a "
                "problem: no warning or error."),
            "required": [],
            "allowed": [],
        },
    })
    print(f"{pcap}: {packets} packets, client {run.client_address}, mapped {mapped}")


if __name__ == "__main__":
    main()
