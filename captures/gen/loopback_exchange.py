"""A real STUN exchange on loopback, captured by tcpdump, with a truth file.

The loopback captures (xss_software.py, terminal_escapes.py) each run a small
UDP server of their own on a 127.0.0.x address and a client socket on
another, and capture the exchange on `lo`. This module holds what they share
(the capture process, the server thread, the packet count, where the files
go) so that each script only says what its server answers and what its
client asks.

Output: the captures directory of this checkout, or $CAPTURES_OUT when set
(a scratch directory to compare a new run with the committed files).
"""
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def captures_dir():
    """Where captures and truth files are written (see the module comment)."""
    out = os.environ.get("CAPTURES_OUT") or os.path.dirname(HERE)
    os.makedirs(out, exist_ok=True)
    return out


def require_root():
    if os.geteuid() != 0:
        sys.exit("run as root (tcpdump on lo)")


def pcap_record_count(path):
    """Records in a classic pcap file (either byte order, micro or nano)."""
    with open(path, "rb") as f:
        data = f.read()
    endian = "<" if struct.unpack("<I", data[:4])[0] in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    off, n = 24, 0
    while off + 16 <= len(data):
        off += 16 + struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        n += 1
    return n


def write_truth(name, truth):
    """captures/<name>.truth.json, ASCII-only JSON (control characters escaped)."""
    with open(os.path.join(captures_dir(), name + ".truth.json"), "w") as f:
        json.dump(truth, f, indent=2, ensure_ascii=True)
        f.write("\n")


class LoopbackExchange:
    """tcpdump on lo, a UDP server thread and a client socket, as a context.

    answer(data, source) is called by the server thread for every datagram
    and returns the reply bytes, or None to stay silent. On exit the capture
    runs `linger` seconds more, so that the last answer is written before
    tcpdump is stopped."""

    START_WAIT = 1.0    # tcpdump opens lo before the first packet
    CLIENT_TIMEOUT = 2  # seconds a client waits for each answer

    def __init__(self, pcap, server, client_ip, answer, linger=1.0):
        self.pcap, self.server, self.answer, self.linger = pcap, server, answer, linger
        self._server_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._server_sock.bind(server)
        self.client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.client.bind((client_ip, 0))
        self.client.settimeout(self.CLIENT_TIMEOUT)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._dump = None

    @property
    def client_address(self):
        ip, port = self.client.getsockname()
        return f"{ip}:{port}"

    def __enter__(self):
        self._dump = subprocess.Popen(
            ["tcpdump", "-i", "lo", "-U", "--immediate-mode", "-n", "-s", "0", "-w", self.pcap,
             f"udp and host {self.server[0]} and port {self.server[1]}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(self.START_WAIT)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        time.sleep(self.linger)
        self._stop.set()
        self._thread.join()
        self._dump.terminate()
        self._dump.wait()
        return False

    def ask(self, request):
        """Sends one request to the server and returns the answer's bytes."""
        self.client.sendto(request, self.server)
        data, _ = self.client.recvfrom(2048)
        return data

    def _serve(self):
        self._server_sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                data, src = self._server_sock.recvfrom(2048)
            except socket.timeout:
                continue
            reply = self.answer(data, src)
            if reply is not None:
                self._server_sock.sendto(reply, src)
