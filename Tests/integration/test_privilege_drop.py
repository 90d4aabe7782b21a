"""`live --user NAME` gives up root after the interface is open
(docs/SECURITY.md, Sources/CaptureSource/PrivilegeDrop.swift).

Run as root on loopback: while the capture runs, /proc/PID/status must show
the user's uid and gid as real, effective, saved and filesystem ids and the
user's groups only; an unknown user stops the command with exit status 3
before any packet is read. Skipped when not root or when `nobody` is missing.
"""
from __future__ import annotations

import os
import pwd
import subprocess
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("STUNSCOPE_BIN", os.path.join(REPO, ".build", "debug", "stunscope"))


def _nobody():
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        return None


pytestmark = [
    pytest.mark.skipif(not os.access(BIN, os.X_OK), reason=f"stunscope binary not built: {BIN}"),
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (live capture, then the drop)"),
    pytest.mark.skipif(_nobody() is None, reason="no 'nobody' user"),
]


def _ids(pid):
    status = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            status[key] = value.split()
    return status


def test_live_user_drops_root_after_opening_the_interface():
    user = _nobody()
    p = subprocess.Popen([BIN, "live", "--interface", "lo", "--duration", "4", "--user", "nobody"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        seen = None
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            time.sleep(0.2)
            try:
                ids = _ids(p.pid)
            except FileNotFoundError:
                break
            if ids.get("Uid") and ids["Uid"][0] != "0":
                seen = ids
                break
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, err.decode(errors="replace")
    assert seen is not None, "the process never left uid 0"
    assert seen["Uid"] == [str(user.pw_uid)] * 4, seen["Uid"]
    assert seen["Gid"] == [str(user.pw_gid)] * 4, seen["Gid"]
    groups = set(seen.get("Groups", []))
    assert "0" not in groups, f"root group kept: {groups}"


def test_live_unknown_user_fails_before_reading_packets():
    r = subprocess.run([BIN, "live", "--interface", "lo", "--duration", "2", "--user", "no-such-user-stunscope"],
                       capture_output=True, timeout=30)
    assert r.returncode == 3, (r.returncode, r.stderr)
    assert b"no such user" in r.stderr
    assert r.stdout.strip() == b"" or b"packets" not in r.stdout
