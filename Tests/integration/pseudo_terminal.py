"""Runs a command with its output on a pseudo-terminal (shared by the tests).

stunscope behaves differently when its output is a terminal: a progress line
on stderr (test_progress.py, test_export.py), colours and the escaping of
control characters (test_output_safety.py). Reading a pty master until the child is done has
two traps handled here once: Linux reports the end with EIO, not an empty
read, and a child that hangs must not hang the test.
"""
from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import termios


def run(argv: list[str], *, stdout_on_terminal: bool = True, stdout=None, columns: int | None = None,
        env: dict | None = None, cwd: str | None = None, timeout: float = 60) -> tuple[int, bytes]:
    """Runs argv with stderr on a new pseudo-terminal, and stdout too unless
    stdout_on_terminal is False (then stdout goes to `stdout`, an open file, or
    /dev/null). `columns`: the terminal's width (TIOCSWINSZ); a new pty has
    none set (0 x 0). Returns the exit status and every byte written to the
    terminal. A child that writes nothing for `timeout` seconds is killed (and
    its status says so)."""
    master, slave = pty.openpty()
    if columns is not None:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                         stdout=slave if stdout_on_terminal else (stdout or subprocess.DEVNULL),
                         stderr=slave, env=env, cwd=cwd)
    os.close(slave)  # the child holds the only slave end: its exit ends the reads
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([master], [], [], timeout)
            if not ready:
                p.kill()
                break
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the slave end is closed
                break
            if not data:
                break
            chunks.append(data)
        p.wait(timeout=timeout)
    finally:
        os.close(master)
    return p.returncode, b"".join(chunks)
