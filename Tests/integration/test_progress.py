"""The progress line on stderr (issue 15, item 6), on a real pseudo-terminal.

stats, messages, analyze and export keep one line on stderr while they read
(bytes read of the total, time left, packets/s, sessions alive), redrawn in
place and erased before the output; live shows captured / kernel-dropped /
shed packets and packets/s. Only on a terminal, only after the first second,
never with --quiet, never in a pipe. Checked here against the files' sizes,
the run's own wall time and the analysis document.

Cost with the debug binaries (2 shared cores): the fixture writes a
50,000-packet synth capture (~1 s) and tiles it to 200,000 and 4,000,000
packets (long enough for the line's first second on a quiet, faster machine
than this one); `stats --filter ip6` reads all 4M packets in ~4.5 s CPU (the filter
spares the decoding: the progress is about reading); analyze over 200,000
packets of their own ~5-10 s; messages over 200,000 ~2.7 s a run, three runs. live runs
need root and send 40,000 datagrams on loopback.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

import pseudo_terminal  # Tests/integration/pseudo_terminal.py

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("STUNSCOPE_BIN", str(ROOT / ".build" / "debug" / "stunscope"))
SYNTH_BIN = os.environ.get("STUNSCOPE_SYNTH_BIN", str(Path(BIN).parent / "stunscope-synth"))
TIMEOUT = 300

# One draw: carriage return, the text, erase to the end of the line; an erase is a draw of nothing.
DRAW = re.compile(rb"\r([^\r\n\x1b]*)\x1b\[K")
SGR = re.compile(rb"\x1b\[[0-9;]*m")
SIZE = r"(\d+ B|\d+\.\d (?:KiB|MiB|GiB|TiB))"
RATE = r"(\d+(?:\.\d+)?[kMG]?) packets/s"
LEFT = r"(\d+s|\d+m\d\ds|\d+h\d\dm) left"
UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}


def size_value(text: str) -> float:
    number, unit = text.split(" ")
    return float(number) * UNITS[unit]


def size_bounds(text: str) -> tuple[float, float]:
    """The byte counts a size as shown can stand for (one decimal, or whole bytes)."""
    unit = UNITS[text.split(" ")[1]]
    half = 0.5 if unit == 1 else 0.05 * unit
    return size_value(text) - half, size_value(text) + half


def rate_value(text: str) -> float:
    scale = {"k": 1e3, "M": 1e6, "G": 1e9}.get(text[-1], 1)
    return float(text.rstrip("kMG")) * scale


def mebibytes(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB"


def draws_and_rest(shown: bytes) -> tuple[list[str], bytes]:
    """The texts drawn on the progress line up to its last erase, and what the
    terminal got after that erase (the command's own output)."""
    end = shown.rfind(b"\r\x1b[K")
    assert end >= 0, f"the line is never erased: {shown[-300:]!r}"
    texts = [m.group(1).decode() for m in DRAW.finditer(shown[:end])]
    return [t for t in texts if t], shown[end + 4:]


def check_reading_draws(texts: list[str], total: int, sessions: bool, cut_short: bool = False) -> list[re.Match]:
    """Every draw reads `SIZE of TOTAL (P%), T left, R packets/s[, N sessions alive]`
    with TOTAL the file size, the bytes read never above it and never going back;
    the last is the end of the file (100%, 0s left), or for a file whose last
    record is `cut_short` a few bytes before it. Returns the matches, last draw last."""
    tail = r", (\d+) sessions? alive" if sessions else ""
    pattern = re.compile(rf"{SIZE} of {SIZE} \((\d+)%\), {LEFT}, {RATE}{tail}")
    matches = []
    for t in texts:
        m = pattern.fullmatch(t)
        assert m, f"not a progress line: {t!r}"
        matches.append(m)
    previous = 0.0
    for m in matches:
        read, shown_total, percent = size_value(m.group(1)), m.group(2), int(m.group(3))
        assert shown_total == mebibytes(total), (shown_total, total)
        assert read <= size_value(shown_total)
        assert read >= previous, "bytes read went back"
        previous = read
        # The percentage is of the exact counts; the sizes are shown rounded.
        (read_low, read_high), (total_low, total_high) = size_bounds(m.group(1)), size_bounds(shown_total)
        assert int(100 * read_low / total_high) <= percent <= 100 * read_high / total_low, m.group(0)
    last = matches[-1]
    if cut_short:
        assert last.group(1) == last.group(2) and last.group(3) == "99", last.group(0)
    else:
        assert last.group(1) == last.group(2) and last.group(3) == "100" and last.group(4) == "0s", last.group(0)
    return matches


@pytest.fixture(scope="module")
def captures(tmp_path_factory):
    """base: 50,000 synth packets (40 allocations); mid: base 4 times (200,000);
    big: base 80 times (4,000,000 packets). Tiled copies repeat the records
    as they are (times too): stats and messages do not mind. sessions: 200,000
    synth packets of their own for analyze, whose sessions must be real (the
    debug binary analyses 50,000 in under the line's first second on a quiet
    machine)."""
    d = tmp_path_factory.mktemp("progress")
    base = d / "base.pcap"
    subprocess.run([SYNTH_BIN, "--packets", "50000", "--allocations", "40", "--seed", "5", "-o", base, "--quiet"],
                   check=True, timeout=TIMEOUT, cwd=ROOT)
    sessions = d / "sessions.pcap"
    subprocess.run([SYNTH_BIN, "--packets", "200000", "--allocations", "40", "--seed", "5", "-o", sessions, "--quiet"],
                   check=True, timeout=TIMEOUT, cwd=ROOT)
    data = base.read_bytes()
    header, records = data[:24], data[24:]
    files = {"base": base, "sessions": sessions}
    for name, copies in (("mid", 4), ("big", 80)):
        files[name] = d / f"{name}.pcap"
        with open(files[name], "wb") as f:
            f.write(header)
            for _ in range(copies):
                f.write(records)
    yield files
    shutil.rmtree(d, ignore_errors=True)  # 550 MB: not left for pytest's keep-three-runs


def test_stats_over_4m_packets_on_a_terminal(captures):
    big = captures["big"]
    started = time.monotonic()
    status, shown = pseudo_terminal.run([BIN, "stats", "--filter", "ip6", str(big)], columns=60,
                                        cwd=ROOT, timeout=TIMEOUT)
    wall = time.monotonic() - started
    assert status == 0
    texts, rest = draws_and_rest(shown)
    assert texts, "no progress line over 4M packets"
    # 60 columns: no draw reaches the last one.
    assert all(len(t) <= 59 for t in texts), [t for t in texts if len(t) > 59]
    last = check_reading_draws(texts, big.stat().st_size, sessions=False)[-1]
    # packets/s is an average over the run so far: never below 4M over the whole wall time (3 digits shown).
    assert rate_value(last.group(5)) >= 4_000_000 / wall * 0.99, (last.group(0), wall)
    # The terminal ends clean: the line erased, then the report alone.
    text = rest.decode()
    assert "\x1b" not in text and "packets/s" not in text
    assert text.startswith("File:") and re.search(r"packets:\s+4000000\r\n", text), text[:300]


def test_analyze_shows_sessions_alive_and_leaves_the_output_alone(captures, tmp_path):
    base = captures["sessions"]
    out = tmp_path / "doc.json"
    with open(out, "wb") as f:
        status, shown = pseudo_terminal.run([BIN, "analyze", "--format", "json", str(base)], stdout_on_terminal=False,
                                            stdout=f, cwd=ROOT, timeout=TIMEOUT)
    assert status == 0
    # Nothing but draws on the terminal (a pty without a size: 80 columns), the last an erase.
    assert DRAW.sub(b"", shown) == b"" and shown.endswith(b"\r\x1b[K"), shown[-300:]
    texts, _ = draws_and_rest(shown)
    assert texts, "analyze lasted more than a second without a progress line"
    assert all(len(t) <= 79 for t in texts)
    last = check_reading_draws(texts, base.stat().st_size, sessions=True)[-1]
    # The last draw is at the end of the capture: the sessions the document says were alive then.
    doc = json.loads(out.read_text())
    end = doc["stats"]["lastTime"]
    alive = (sum(a["outcome"] == "active" for a in doc["allocations"])
             + sum(end - s["end"] <= 30 for s in doc["iceSessions"])
             + sum(end - b["end"] <= 30 for b in doc["bindings"]))
    assert int(last.group(6)) == alive and alive > 0, (last.group(0), alive)


def test_messages_scroll_above_the_line_errors_too_and_quiet_or_a_pipe_show_none(captures, tmp_path):
    """messages over 200,000 packets whose last record is cut short: the lines and
    the error (reported once the file is read) scroll above the progress line on
    the terminal they share with it; none is cut or mixed with the line."""
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(captures["mid"].read_bytes()[:-7])
    piped = subprocess.run([BIN, "messages", str(cut)], capture_output=True, timeout=TIMEOUT, cwd=ROOT)
    assert piped.returncode == 2
    error = piped.stderr
    assert re.fullmatch(rb"stunscope: [^\n]*truncated[^\n]*\n", error), "progress bytes in a pipe, or not one error line"

    status, shown = pseudo_terminal.run([BIN, "messages", str(cut)], cwd=ROOT, timeout=TIMEOUT)
    assert status == 2
    texts = [m.group(1).decode() for m in DRAW.finditer(shown) if m.group(1)]
    assert texts, "messages lasted more than a second without a progress line"
    check_reading_draws(texts, cut.stat().st_size, sessions=False, cut_short=True)
    assert shown.endswith(b"\r\x1b[K")
    # The error on a line of its own, the line drawn again right below it.
    assert re.search(rb"\r\x1b\[K" + re.escape(error.rstrip(b"\n")) + rb"\r\n\r[^\r\n\x1b]+\x1b\[K", shown), shown[-600:]
    lines = SGR.sub(b"", DRAW.sub(b"", shown)).replace(b"\r\n", b"\n")
    assert lines.count(error) == 1 and lines.replace(error, b"") == piped.stdout

    # --quiet: the terminal gets the error, nothing else.
    status, shown = pseudo_terminal.run([BIN, "messages", "--quiet", str(cut)], stdout_on_terminal=False, cwd=ROOT,
                                        timeout=TIMEOUT)
    assert status == 2
    assert shown == error.replace(b"\n", b"\r\n")


# ------------------------------------------------------------------ live

need_root = pytest.mark.skipif(os.geteuid() != 0, reason="live capture needs root")
LIVE_PORT = 34_811


def live_on_terminal(extra: list[str], seconds: float = 3.0) -> tuple[int, bytes, int]:
    """`live -i lo` for `seconds` on a pty while 40,000 datagrams go to LIVE_PORT
    (20,000 a second, after half a second for the capture to open). Returns the
    status, the terminal's bytes and the datagrams sent."""
    argv = [BIN, "live", "-i", "lo", "--filter", f"udp dst port {LIVE_PORT}", "--duration", str(seconds)] + extra
    sent = 0

    def send():
        nonlocal sent
        time.sleep(0.5)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            while sent < 40_000:
                for _ in range(200):
                    s.sendto(b"progress", ("127.0.0.1", LIVE_PORT))
                    sent += 1
                time.sleep(0.01)
        finally:
            s.close()

    sender = threading.Thread(target=send)
    sender.start()
    try:
        status, shown = pseudo_terminal.run(argv, stdout_on_terminal=False, cwd=ROOT, timeout=30)
    finally:
        sender.join(timeout=30)
    return status, shown, sent


@need_root
def test_live_shows_captured_dropped_shed():
    status, shown, sent = live_on_terminal([])
    assert status == 0
    texts, rest = draws_and_rest(shown)
    assert texts, "no live progress line in 3 s"
    pattern = re.compile(rf"captured (\d+), kernel dropped (\d+), shed (\d+), {RATE}")
    counts = []
    for t in texts:
        m = pattern.fullmatch(t)
        assert m, f"not a live progress line: {t!r}"
        counts.append(int(m.group(1)))
    assert counts == sorted(counts)
    # After the erase: the summary line, whose counts bound what the line showed.
    summary = re.search(rb"stunscope: captured (\d+) packets on lo; libpcap received \d+, dropped (\d+) .*; analysis shed (\d+)",
                        rest)
    assert summary, rest[-400:]
    captured, dropped, shed = map(int, summary.groups())
    assert counts[-1] <= captured <= sent
    last = pattern.fullmatch(texts[-1])
    assert int(last.group(2)) <= dropped and int(last.group(3)) <= shed
    assert b"\x1b" not in rest


@need_root
def test_live_quiet_and_pipe_show_no_line():
    status, shown, _ = live_on_terminal(["--quiet"], seconds=2.0)
    assert status == 0
    assert b"\x1b[K" not in shown and b"packets/s" not in shown
    assert re.search(rb"stunscope: captured \d+ packets on lo", shown)
    r = subprocess.run([BIN, "live", "-i", "lo", "--filter", f"udp dst port {LIVE_PORT}", "--duration", "2"],
                       capture_output=True, timeout=30, cwd=ROOT)
    assert r.returncode == 0
    assert b"\x1b" not in r.stderr and b"\r" not in r.stderr and b"packets/s" not in r.stderr
