"""export --format postgres into a real PostgreSQL server (issue 17).

A throw-away cluster (initdb + pg_ctl from Debian's postgresql package,
trust authentication, loopback only, its own port and socket directory) is
started for the module and stopped at the end. The SQLite export of the same
captures is the reference: the same tables, the same rows, the same values,
plus `node` on every row.
"""
from __future__ import annotations

import csv
import glob
import io
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("STUNSCOPE_BIN", str(ROOT / ".build" / "debug" / "stunscope"))
CAPTURES = sorted(str(p) for p in (ROOT / "captures").iterdir() if p.suffix in (".pcap", ".pcapng"))
NULL = "NULL-7f3a9c"


def pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self):
        initdb, self.pg_ctl = pg_bin("initdb"), pg_bin("pg_ctl")
        if not initdb or not self.pg_ctl or not shutil.which("psql"):
            pytest.skip("PostgreSQL is not installed (.ci/install-deps installs it)")
        self.dir = tempfile.mkdtemp(prefix="stunscope-pg-")
        self.port = free_port()
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_postgres:
            shutil.chown(self.dir, "postgres")
        subprocess.run(self.as_postgres + [initdb, "-D", self.dir + "/data", "-A", "trust", "-U", "postgres"],
                       check=True, capture_output=True, timeout=120)
        subprocess.run(self.as_postgres + [self.pg_ctl, "-D", self.dir + "/data", "-o",
                                           f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1",
                                           "-l", self.dir + "/log", "-w", "start"], check=True, capture_output=True, timeout=120)

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def psql(self, sql: str, db: str = "postgres") -> str:
        # Bytes, decoded without newline translation: values keep their CR characters.
        r = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1",
                            "-At", "-c", sql], capture_output=True, timeout=120)
        assert r.returncode == 0, r.stderr.decode(errors="replace")
        return r.stdout.decode("utf-8")

    def create_db(self, name: str) -> str:
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self):
        subprocess.run(self.as_postgres + [self.pg_ctl, "-D", self.dir + "/data", "-m", "fast", "stop"], capture_output=True, timeout=120)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster():
    c = Cluster()
    yield c
    c.stop()


def export(args: list[str], check: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run([BIN, "export", "--quiet"] + args, capture_output=True, text=True, timeout=600)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def sqlite_tables(path: str) -> dict[str, tuple[list[str], list[str], list[tuple]]]:
    """table -> (columns, declared types, rows)"""
    con = sqlite3.connect(path)
    out = {}
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"):
        info = con.execute(f'PRAGMA table_info("{name}")').fetchall()
        cols = [i[1] for i in info]
        types = [i[2] for i in info]
        rows = con.execute(f'SELECT * FROM "{name}"').fetchall()
        out[name] = (cols, types, rows)
    con.close()
    return out


def pg_rows(cluster: Cluster, db: str, table: str, cols: list[str], types: list[str]) -> list[tuple]:
    select = ", ".join(f'"{c}"' for c in cols)
    text = cluster.psql(f"COPY (SELECT {select} FROM \"{table}\") TO STDOUT WITH (FORMAT csv, NULL '{NULL}')", db)
    rows = []
    for raw in csv.reader(io.StringIO(text, newline="")):
        row = []
        for value, t in zip(raw, types):
            if value == NULL:
                row.append(None)
            elif t == "INTEGER":
                row.append(int(value))
            elif t == "REAL":
                row.append(float(value))
            else:
                row.append(value)
        rows.append(tuple(row))
    return rows


def key(row: tuple) -> tuple:
    return tuple((v is None, str(type(v)), v if v is not None else 0) for v in row)


def test_every_capture_equals_the_sqlite_export(cluster: Cluster, tmp_path: Path):
    url = cluster.create_db("every_capture")
    db = str(tmp_path / "reference.db")
    export(CAPTURES + ["--format", "sqlite", "--output", db])
    export(CAPTURES + ["--format", "postgres", "--output", url, "--node", "node-1"])
    reference = sqlite_tables(db)
    assert len(reference) >= 10
    checked_rows = 0
    for table, (cols, types, rows) in reference.items():
        got = pg_rows(cluster, "every_capture", table, cols, types)
        assert sorted(got, key=key) == sorted(rows, key=key), f"table {table} differs"
        nodes = cluster.psql(f'SELECT DISTINCT "node" FROM "{table}"', "every_capture").split()
        assert nodes == (["node-1"] if rows else [])
        checked_rows += len(rows)
    assert checked_rows > 1000
    assert cluster.psql('SELECT count(*) FROM "captures"', "every_capture").strip() == str(len(CAPTURES))
    assert cluster.psql('SELECT max("version") FROM "stunscope_schema"', "every_capture").strip() == "1"


def test_reexport_replaces_and_nodes_do_not_collide(cluster: Cluster):
    url = cluster.create_db("reexport")
    capture = str(ROOT / "captures" / "turn-udp-channels.server.pcap")
    export([capture, "--format", "postgres", "--output", url, "--node", "a"])
    counts = cluster.psql('SELECT count(*) FROM "allocations"', "reexport").strip()
    export([capture, "--format", "postgres", "--output", url, "--node", "a"])
    assert cluster.psql('SELECT count(*) FROM "allocations"', "reexport").strip() == counts
    assert cluster.psql('SELECT count(*) FROM "captures"', "reexport").strip() == "1"
    # Another node's export of the same file is its own capture.
    export([capture, "--format", "postgres", "--output", url, "--node", "b"])
    assert cluster.psql('SELECT count(*) FROM "captures"', "reexport").strip() == "2"
    assert cluster.psql('SELECT count(*) FROM "allocations"', "reexport").strip() == str(2 * int(counts))


def test_concurrent_nodes_get_distinct_capture_ids(cluster: Cluster):
    url = cluster.create_db("concurrent")
    files = CAPTURES[:12]
    procs = [subprocess.Popen([BIN, "export", "--quiet"] + files + ["--format", "postgres", "--output", url, "--node", f"n{i}"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(3)]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
    rows = cluster.psql('SELECT "node", count(*), count(DISTINCT "capture_id") FROM "captures" GROUP BY "node" ORDER BY "node"', "concurrent")
    assert rows.split() == [f"n{i}|{len(files)}|{len(files)}" for i in range(3)]
    assert cluster.psql('SELECT count(DISTINCT "capture_id") FROM "captures"', "concurrent").strip() == str(3 * len(files))


def test_hostile_strings_round_trip(cluster: Cluster, tmp_path: Path):
    url = cluster.create_db("hostile")
    files = [str(ROOT / "captures" / n) for n in ("turn-xss-strings.server.pcap", "stun-xss-software.loopback.pcap",
                                                  "stun-terminal-escapes.loopback.pcap")]
    export(files + ["--format", "postgres", "--output", url])
    db = str(tmp_path / "hostile.db")
    export(files + ["--format", "sqlite", "--output", db])
    con = sqlite3.connect(db)
    checked = 0
    for table, col in (("allocations", "username"), ("allocations", "realm"), ("allocations", "software"),
                       ("allocation_errors", "reason"), ("bindings", "software")):
        want = sorted(r[0] for r in con.execute(f'SELECT "{col}" FROM "{table}" WHERE "{col}" IS NOT NULL'))
        assert any(("<" in v or "\x1b" in v) for v in want), (table, col)
        got = pg_rows(cluster, "hostile", table, [col], ["TEXT"])
        assert sorted(r[0] for r in got if r[0] is not None) == want, (table, col)
        checked += 1
    assert checked == 5


def test_password_is_never_printed(cluster: Cluster, tmp_path: Path):
    secret = "s3cr3t-Pa55"
    pw = tmp_path / "pw"
    pw.write_text(secret + "\n")
    capture = str(ROOT / "captures" / "turn-udp-channels.server.pcap")
    dead = free_port()
    for args in (["--output", f"postgresql://bob:{secret}@127.0.0.1:{dead}/x"],
                 ["--output", f"postgresql://bob@127.0.0.1:{dead}/x", "--password-file", str(pw)]):
        r = export([capture, "--format", "postgres"] + args, check=False)
        assert r.returncode == 1
        assert "cannot connect to postgresql://bob@127.0.0.1" in r.stderr
        assert secret not in r.stderr + r.stdout
