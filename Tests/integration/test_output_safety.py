"""Output safety (docs/SECURITY.md).

* Terminal output: strings from packets never reach the terminal raw.
  captures/stun-terminal-escapes.loopback.pcap (captures/gen/terminal_escapes.py:
  real exchanges on loopback whose USERNAME, SOFTWARE, REALM, NONCE and
  error reason carry ANSI/OSC/DCS sequences, C0/C1 controls, DEL and bidi
  overrides) goes through `messages` and `analyze`, piped and on a
  pseudo-terminal: piped output holds no control character but newline,
  no C1 control and no bidi override; on a terminal the only escape
  sequences are the renderer's own SGR colours (ESC [ digits m). The escaped
  strings are still shown (made visible, not dropped). JSON and NDJSON carry
  the strings exactly, with JSON escapes.
* Credentials: every command, every output format, over every capture with
  the credentials of its truth file (the corpus TURN password 'secret', the
  ICE pwds of both agents) given with --credentials: no output (stdout,
  stderr, written files) contains a password; a bad credentials line is
  reported without echoing the line.
"""
from __future__ import annotations

import glob
import json
import os
import re
import subprocess
import tempfile

import pytest

import pseudo_terminal  # Tests/integration/pseudo_terminal.py

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("STUNSCOPE_BIN", os.path.join(REPO, ".build", "debug", "stunscope"))
CAPTURES = os.path.join(REPO, "captures")
ESCAPES = os.path.join(CAPTURES, "stun-terminal-escapes.loopback.pcap")
ESCAPES_TRUTH = os.path.join(CAPTURES, "stun-terminal-escapes.loopback.truth.json")
TIMEOUT = 60

pytestmark = pytest.mark.skipif(not os.access(BIN, os.X_OK), reason=f"stunscope binary not built: {BIN}")

# C0 except newline, DEL, C1 (as UTF-8 code points), bidi embeddings/overrides/isolates.
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f\x80-\x9f\u202a-\u202e\u2066-\u2069]")
SGR = re.compile("\x1b\\[[0-9;]*m")


def run(args, **kw):
    return subprocess.run([BIN] + args, capture_output=True, timeout=TIMEOUT, **kw)


def truth_strings():
    with open(ESCAPES_TRUTH) as f:
        return json.load(f)["terminalEscapes"]["strings"]


def visible(s: str) -> str:
    """How TerminalText shows a string: controls as \\xNN, others (bidi) as \\u{...}."""
    out = []
    for ch in s:
        v = ord(ch)
        if v < 0x20 or v == 0x7F or 0x80 <= v < 0xA0:
            out.append("\\x%02x" % v)
        elif 0x202A <= v <= 0x202E or 0x2066 <= v <= 0x2069:
            out.append("\\u{%x}" % v)
        else:
            out.append(ch)
    return "".join(out)


def run_on_pty(args):
    """Runs with stdout and stderr on a pseudo-terminal (colours allowed); returns everything written."""
    env = dict(os.environ)
    env.pop("NO_COLOR", None)
    env["TERM"] = "xterm-256color"
    status, out = pseudo_terminal.run([BIN] + args, env=env, timeout=TIMEOUT)
    return status, out.decode("utf-8", errors="replace")


@pytest.mark.parametrize("command", [["messages"], ["analyze"], ["stats"]])
def test_piped_text_output_has_no_control_characters(command):
    r = run(command + [ESCAPES])
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode("utf-8", errors="replace")
    bad = UNSAFE.findall(out)
    assert not bad, f"{command}: raw control/bidi characters in output: {sorted(set(map(repr, bad)))}"
    assert not UNSAFE.findall(r.stderr.decode("utf-8", errors="replace"))


@pytest.mark.parametrize("command", [["messages"], ["analyze"]])
def test_terminal_output_has_only_colour_sequences(command):
    status, out = run_on_pty(command + [ESCAPES])
    assert status == 0, out
    without_sgr = SGR.sub("", out).replace("\r\n", "\n")
    bad = UNSAFE.findall(without_sgr)
    assert not bad, f"{command} on a terminal: escapes other than colours: {sorted(set(map(repr, bad)))}"


def test_escaped_strings_are_shown_not_dropped():
    strings = truth_strings()
    messages = run(["messages", ESCAPES]).stdout.decode()
    analyze = run(["analyze", ESCAPES]).stdout.decode()
    # `messages` cuts long strings after 48 characters: compare the start.
    for key in ("clientUsername", "serverSoftware"):
        assert visible(strings[key])[:40] in messages, key
    for key in ("clientUsername", "serverSoftware", "errorReason"):
        assert visible(strings[key])[:40] in analyze, key


@pytest.mark.parametrize("command", [["messages", "--format", "ndjson"], ["analyze", "--format", "json"]])
def test_json_outputs_keep_strings_exact_and_escaped(command):
    r = run(command + [ESCAPES])
    assert r.returncode == 0, r.stderr
    assert b"\x1b" not in r.stdout, "raw ESC in JSON output"
    if "ndjson" in command:
        # One record per line for every reader: no raw C1 (NEL) or U+2028/U+2029 either.
        assert not re.search(rb"\xc2[\x80-\x9f]|\xe2\x80[\xa8\xa9]", r.stdout), "raw Unicode line break in NDJSON"
        assert len(r.stdout.decode().splitlines()) == r.stdout.count(b"\n")
    text = r.stdout.decode()
    docs = [json.loads(line) for line in text.split("\n") if line.strip()] if "ndjson" in command \
        else [json.loads(text)]
    found = set()

    def walk(o):
        if isinstance(o, dict):
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
        elif isinstance(o, str):
            found.add(o)

    for d in docs:
        walk(d)
    strings = truth_strings()
    for key in ("clientUsername", "serverSoftware"):
        assert any(strings[key] in s for s in found), f"{key} not carried exactly in {command}"


# ------------------------------------------------------------------ credentials

def credential_sets():
    """(capture, credentials lines, secrets) for every capture whose truth file names credentials."""
    out = []
    for truth in sorted(glob.glob(os.path.join(CAPTURES, "*.truth.json"))):
        with open(truth) as f:
            t = json.load(f)
        creds = t.get("credentials") or []
        lines, secrets = [], set()
        for c in creds:
            pw = c.get("password")
            if not pw:
                continue
            secrets.add(pw)
            esc = lambda v: v.replace("\\", "\\\\").replace(":", "\\:")
            if "ufrag" in c:
                lines.append(f"{esc(c['ufrag'])}:{esc(pw)}")
            else:
                lines.append(f"{esc(c['username'])}:{esc(c['realm'])}:{esc(pw)}")
        capture = os.path.join(CAPTURES, t.get("capture", ""))
        if lines and os.path.exists(capture):
            out.append((capture, lines, secrets))
    return out


CREDENTIAL_SETS = credential_sets()


def export_formats():
    r = run(["export", "--help"])
    if r.returncode != 0:
        return []
    text = r.stdout.decode()
    return [f for f in ("json", "ndjson", "csv", "sqlite", "html", "mermaid") if f in text]


def all_bytes(path):
    if os.path.isdir(path):
        data = b""
        for name in sorted(os.listdir(path)):
            data += all_bytes(os.path.join(path, name))
        return data
    with open(path, "rb") as f:
        return f.read()


def test_credential_sets_found():
    assert len(CREDENTIAL_SETS) >= 10
    assert any("secret" in s for _, _, s in CREDENTIAL_SETS)
    assert any(len(s) >= 3 for _, _, s in CREDENTIAL_SETS), "ICE pwds expected in some truth files"


@pytest.mark.parametrize("capture,lines,secrets", CREDENTIAL_SETS,
                         ids=[os.path.basename(c) for c, _, _ in CREDENTIAL_SETS])
def test_no_command_prints_a_credential(capture, lines, secrets, tmp_path):
    creds = tmp_path / "creds.txt"
    creds.write_text("# test credentials\n" + "\n".join(lines) + "\n")
    outputs = {}
    runs = [["messages"], ["messages", "--format", "ndjson"], ["analyze"], ["analyze", "--format", "json"]]
    for args in runs:
        r = run(args + ["--credentials", str(creds), capture])
        assert r.returncode == 0, (args, r.stderr[:500])
        outputs[" ".join(args)] = r.stdout + r.stderr
    r = run(["stats", capture])
    outputs["stats"] = r.stdout + r.stderr
    for fmt in export_formats():
        target = tmp_path / f"out-{fmt}"
        if fmt == "csv":
            target.mkdir()
        r = run(["export", "--format", fmt, "--output", str(target), "--no-progress",
                 "--credentials", str(creds), capture])
        assert r.returncode == 0, (fmt, r.stderr[:500])
        outputs[f"export {fmt}"] = r.stdout + r.stderr + all_bytes(str(target))
    leaks = [(name, s) for name, data in outputs.items() for s in secrets if s.encode() in data]
    assert not leaks, f"credentials printed: {leaks}"
    # The integrity checks really used the keys (else this test proves little).
    ndjson = outputs["messages --format ndjson"].decode(errors="replace")
    assert '"valid"' in ndjson or "valid" in outputs["messages"].decode(errors="replace"), \
        "no MESSAGE-INTEGRITY verified with the credentials"


def test_bad_credentials_line_is_not_echoed(tmp_path):
    creds = tmp_path / "creds.txt"
    creds.write_text("alice:example.org:secret\nthis-line-holds-a-hunter2-password-but-no-colon\n")
    capture = os.path.join(CAPTURES, "turn-udp-channels.server.pcap")
    for args in (["messages"], ["analyze"]):
        r = run(args + ["--credentials", str(creds), capture])
        assert r.returncode != 0
        both = r.stdout + r.stderr
        assert b"hunter2" not in both and b"secret" not in both, both[:300]
        assert b"line 2" in r.stderr, r.stderr
