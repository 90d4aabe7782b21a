"""`stunscope export` in every format, checked by independent readers.

* json: every capture in captures/ (and ../shared/captures) validates against
  docs/schema/analysis-1.0.schema.json (Draft 2020-12, jsonschema); the schema
  itself matches the Codable model in Sources/Reconstruction/Model (every
  stored property, optional or required);
* ndjson: every line parses, has `type` and `capture`, and the per-type counts
  equal the json document's arrays;
* csv: every table parsed back with Python's csv module; headers equal the
  columns documented in docs/export.md; row counts equal the json document;
  no cell a spreadsheet would read as a formula;
* sqlite: opened with the sqlite3 CLI: the queries of docs/sql-queries.md
  return the rows shown there; several captures (in one run or appended by
  several runs) each get a `captures` row; foreign keys hold;
* html: rendered by headless Chromium: one ladder SVG per session, no console
  errors, no network references, and SOFTWARE `<script>alert(1)</script>`
  (captures/stun-xss-software.loopback.pcap) shown as text;
* mermaid: one diagram per session, labels with no raw `;`, `#`, `<`, `>`.
"""

import csv
import glob
import hashlib
import html.parser
import io
import json
import os
import re
import shutil
import sqlite3 as pysqlite
import subprocess
import tempfile
import time

import pytest

import pseudo_terminal  # Tests/integration/pseudo_terminal.py

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("STUNSCOPE_BIN", os.path.join(REPO, ".build", "debug", "stunscope"))
SHARED = os.path.join(os.path.dirname(REPO), "shared", "captures")
SCHEMA_PATH = os.path.join(REPO, "docs", "schema", "analysis-1.0.schema.json")
EXPORT_DOC = os.path.join(REPO, "docs", "export.md")
SQL_DOC = os.path.join(REPO, "docs", "sql-queries.md")
XSS = os.path.join(REPO, "captures", "stun-xss-software.loopback.pcap")

CAPTURES = sorted(p for p in glob.glob(os.path.join(REPO, "captures", "*.pcap*")) if os.path.isfile(p))
SHARED_CAPTURES = sorted(
    os.path.join(root, n) for root, _, names in os.walk(SHARED) for n in names
    if re.search(r"\.(pcap|pcapng|cap)$", n)) if os.path.isdir(SHARED) else []

need_bin = pytest.mark.skipif(not os.path.exists(BIN), reason="stunscope not built (STUNSCOPE_BIN)")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
need_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed")
need_sqlite3 = pytest.mark.skipif(shutil.which("sqlite3") is None, reason="sqlite3 CLI not installed")

# json key -> ndjson type
NDJSON_TYPES = {"allocations": "allocation", "bindings": "binding", "natMappings": "natMapping",
                "iceSessions": "iceSession", "sipCalls": "sipCall", "findings": "finding",
                "transactions": "transaction"}


def label(path):
    return os.path.relpath(path, REPO) if path.startswith(REPO) else os.path.relpath(path, SHARED)


def export(args, check=True, **kw):
    """Runs `stunscope export`. Status 2 (a capture could not be fully read;
    everything read is still exported) is accepted with its stderr message."""
    r = subprocess.run([BIN, "export"] + args, capture_output=True, cwd=kw.pop("cwd", REPO), timeout=300, **kw)
    if check:
        assert r.returncode in (0, 2), f"export {args}: rc {r.returncode}: {r.stderr.decode(errors='replace')}"
        assert r.returncode == 0 or r.stderr, "status 2 without a message"
    return r


_json_cache = {}


def document(path):
    if path not in _json_cache:
        _json_cache[path] = json.loads(export([path, "--format", "json", "--output", "-"]).stdout)
    return _json_cache[path]


def sessions(doc):
    return len(doc["allocations"]) + len(doc["bindings"]) + len(doc["iceSessions"]) + len(doc["sipCalls"])


@pytest.fixture(scope="module")
def schema():
    with open(SCHEMA_PATH) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def validator(schema):
    import jsonschema
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


# ------------------------------------------------------------------ schema vs model

MODEL_TO_DEF = {
    "AnalysisDocument": "document", "CaptureFileSummary": "captureFile", "AnalysisStats": "stats",
    "EvictionCounters": "evictionCounters", "TurnAllocationSummary": "allocation", "ErrorCount": "errorCount",
    "PermissionSummary": "permission", "ChannelSummary": "channel", "RelayTraffic": "relayTraffic",
    "DelayStatistics": "delayStatistics", "PeerSummary": "peer", "TcpRelayConnection": "tcpConnection",
    "TimelineEntry": "timelineEntry", "BindingSessionSummary": "binding", "NatTest": "natTest",
    "NatMappingSummary": "natMapping", "NatMappingSummary.Observation": "natObservation",
    "IceSessionSummary": "iceSession", "IceCandidateSummary": "candidate", "IcePairSummary": "pair",
    "IceSelectedPair": "selectedPair", "ConsentSummary": "consent", "SipCallSummary": "sipCall",
    "SipMessageSummary": "sipMessage", "SdpSummary": "sdp", "TransactionSummary": "transaction",
    "Finding": "finding", "IceAgentSummary": "iceAgent", "IceRoleSwitch": "iceRoleSwitch",
    "SipCandidateCheck": "sipCandidateCheck", "IceCheckRefusal": "iceCheckRefusal",
}


def swift_model():
    """Stored properties of every Encodable struct in Sources/Reconstruction/Model:
    {qualified name: {property: optional?}}."""
    structs = {}
    # Computed properties: in the JSON only when the struct's own CodingKeys name them (a
    # hand-written encode(to:) writes them, e.g. a timeline entry's sentence made when read).
    computed = {}
    coding_keys = {}
    in_keys = None
    for path in sorted(glob.glob(os.path.join(REPO, "Sources", "Reconstruction", "Model", "*.swift"))):
        stack = []  # (qualified name, depth of its declaration line)
        depth = 0
        with open(path) as f:
            for raw in f:
                code = raw.split("//")[0]
                m = re.match(r"\s*(?:public\s+)?struct\s+(\w+)\s*:[^{]*\b(?:Codable|Encodable)\b[^{]*\{", code)
                if not m and stack and depth == stack[-1][1] + 1 and "{" not in code:
                    p = re.match(r"\s*(?:public\s+)?(?:private\(set\)\s+)?var\s+(\w+)\s*(?::\s*([^=]+?))?\s*(?:=.*)?$", code)
                    if p:
                        structs[stack[-1][0]][p.group(1)] = (p.group(2) or "").strip().endswith("?")
                if not m and stack and depth == stack[-1][1] + 1:
                    c = re.match(r"\s*public\s+var\s+(\w+)\s*:\s*([^={]+?)\s*\{", code)
                    if c:
                        computed.setdefault(stack[-1][0], {})[c.group(1)] = c.group(2).strip().endswith("?")
                # Explicit CodingKeys: only those properties are in the JSON (the rest are for code, e.g. a typed twin).
                if stack and depth == stack[-1][1] + 1 and re.match(r"\s*enum\s+CodingKeys\b", code):
                    coding_keys[stack[-1][0]] = set()
                    in_keys = stack[-1][0]
                elif in_keys and "}" in code:
                    in_keys = None
                elif in_keys:
                    for name in re.findall(r"\w+", re.sub(r"^\s*case\s+", "", code.split("=")[0])):
                        coding_keys[in_keys].add(name)
                if m:
                    qual = ".".join([q for q, _ in stack] + [m.group(1)])
                    structs[qual] = {}
                    stack.append((qual, depth))
                depth += code.count("{") - code.count("}")
                while stack and depth <= stack[-1][1]:
                    stack.pop()
    for name, keys in coding_keys.items():
        merged = {**computed.get(name, {}), **structs[name]}
        structs[name] = {k: v for k, v in merged.items() if k in keys}
    return structs


def test_schema_matches_swift_model(schema):
    model = swift_model()
    defs = schema["$defs"]
    assert "AnalysisDocument" in model and model["AnalysisDocument"], "model parser found nothing"
    unknown = sorted(set(model) - set(MODEL_TO_DEF))
    assert not unknown, f"Codable structs without a schema definition (add them to the schema and MODEL_TO_DEF): {unknown}"
    problems = []
    for swift_name, props in model.items():
        def_name = MODEL_TO_DEF[swift_name]
        if def_name not in defs:
            problems.append(f"{swift_name}: no schema definition {def_name!r}")
            continue
        d = defs[def_name]
        have = set(d["properties"])
        if set(props) != have:
            problems.append(f"{def_name}: model-only {sorted(set(props) - have)}, schema-only {sorted(have - set(props))}")
        required = {k for k, optional in props.items() if not optional}
        if required != set(d["required"]):
            problems.append(f"{def_name}: required should be {sorted(required)}, schema has {sorted(d['required'])}")
        assert d.get("additionalProperties") is False, def_name
    assert not problems, "schema and Codable model differ:\n" + "\n".join(problems)


# ------------------------------------------------------------------ json

def assert_valid(validator, doc):
    """Validates; on failure reports the errors against the document definition
    itself (the top-level oneOf hides them)."""
    if validator.is_valid(doc):
        return
    import jsonschema
    s = validator.schema
    docs = doc if isinstance(doc, list) else [doc]
    inner = jsonschema.Draft202012Validator({"$schema": s["$schema"], "$defs": s["$defs"], "$ref": "#/$defs/document"})
    errors = [e for d in docs for e in inner.iter_errors(d)]
    raise AssertionError("schema violations:\n" + "\n".join(f"{list(e.path)}: {e.message[:300]}" for e in errors[:10]))


@need_bin
@pytest.mark.parametrize("path", CAPTURES + SHARED_CAPTURES, ids=label)
def test_json_validates_against_schema(path, validator):
    doc = document(path)
    assert_valid(validator, doc)
    assert doc["schemaVersion"] == "1.0"
    [cap] = doc["captures"]
    with open(path, "rb") as f:
        assert cap["sha256"] == hashlib.sha256(f.read()).hexdigest()
    assert cap["packets"] == doc["stats"]["packets"]


@need_bin
def test_json_several_captures_is_an_array_and_merge_is_one_document(validator):
    a, b = CAPTURES[0], XSS
    arr = json.loads(export([a, b, "--format", "json", "--output", "-"]).stdout)
    assert isinstance(arr, list) and len(arr) == 2
    assert_valid(validator, arr)
    assert [d["captures"][0]["file"] for d in arr] == [a, b]
    merged = json.loads(export([a, b, "--merge", "--format", "json", "--output", "-"]).stdout)
    assert isinstance(merged, dict) and len(merged["captures"]) == 2
    assert_valid(validator, merged)


@need_bin
def test_json_file_equals_stdout(tmp_path):
    out = tmp_path / "doc.json"
    export([XSS, "--format", "json", "--output", str(out)])
    assert out.read_bytes() == export([XSS, "--format", "json", "--output", "-"]).stdout


@need_bin
def test_analyze_json_validates_too(validator):
    for path in [XSS, os.path.join(REPO, "captures", "turn-udp-channels.server.pcap")]:
        if not os.path.exists(path):
            continue
        r = subprocess.run([BIN, "analyze", "--format", "json", path], capture_output=True, cwd=REPO)
        doc = json.loads(r.stdout)
        assert_valid(validator, doc)


# ------------------------------------------------------------------ ndjson

@need_bin
@pytest.mark.parametrize("path", CAPTURES, ids=label)
def test_ndjson_lines_parse_and_counts_match_json(path):
    doc = document(path)
    out = export([path, "--format", "ndjson", "--output", "-"]).stdout.decode()
    assert out.endswith("\n")
    counts = {}
    for line in out.splitlines():
        obj = json.loads(line)
        assert obj["capture"] == path
        counts[obj["type"]] = counts.get(obj["type"], 0) + 1
    assert counts.pop("capture") == 1
    for key, typ in NDJSON_TYPES.items():
        assert counts.pop(typ, 0) == len(doc[key]), typ
    assert not counts, f"unexpected types {counts}"


@need_bin
def test_ndjson_objects_equal_json_objects():
    path = os.path.join(REPO, "captures", "turn-udp-channels.server.pcap")
    if not os.path.exists(path):
        pytest.skip("capture missing")
    doc = document(path)
    lines = [json.loads(l) for l in export([path, "--format", "ndjson", "--output", "-"]).stdout.decode().splitlines()]
    allocations = [{k: v for k, v in l.items() if k not in ("type", "capture")} for l in lines if l["type"] == "allocation"]
    assert allocations == doc["allocations"]


# ------------------------------------------------------------------ csv

def documented_columns():
    """Table -> columns from docs/export.md (`### table` then a `| column |` table)."""
    tables, current = {}, None
    with open(EXPORT_DOC) as f:
        for line in f:
            m = re.match(r"#### `(\w+)`", line)
            if m:
                current = m.group(1)
                tables[current] = []
                continue
            if current and line.startswith("| `"):
                tables[current].append(re.match(r"\| `(\w+)`", line).group(1))
            elif current and line.startswith("#"):
                current = None
    return tables


def expected_rows(doc):
    allocs, ice = doc["allocations"], doc["iceSessions"]
    return {
        "captures": 1,
        "allocations": len(allocs),
        "allocation_errors": sum(len(a["errors"]) for a in allocs),
        "permissions": sum(len(a["permissions"]) for a in allocs),
        "channels": sum(len(a["channels"]) for a in allocs),
        "peers": sum(len(a["peers"]) for a in allocs),
        "bindings": len(doc["bindings"]),
        "nat_mappings": len(doc["natMappings"]),
        "ice_sessions": len(ice),
        "ice_pairs": sum(len(s["pairs"]) for s in ice),
        "candidates": sum(len(s["candidates"]) for s in ice),
        "sip_calls": len(doc["sipCalls"]),
        "findings": len(doc["findings"]),
        "transactions": len(doc["transactions"]),
        "timeline": sum(len(a["timeline"]) for a in allocs) + sum(len(s["timeline"]) for s in ice),
    }


FORMULA = re.compile(r"^[=+\-@\t\r]")
NUMBER = re.compile(r"^-?\d+(\.\d+)?(e-?\d+)?$")


@need_bin
@pytest.mark.parametrize("path", CAPTURES, ids=label)
def test_csv_parses_back_with_counts_equal_to_json(path, tmp_path):
    doc = document(path)
    out = tmp_path / "csv"
    export([path, "--format", "csv", "--output", str(out)])
    docs = documented_columns()
    expected = expected_rows(doc)
    assert sorted(os.listdir(out)) == sorted(t + ".csv" for t in expected)
    for table, count in expected.items():
        with open(out / (table + ".csv"), newline="", encoding="utf-8") as f:
            raw = f.read()
        assert raw.endswith("\r\n")
        # CSV rows end at CRLF only: str.splitlines would also cut at NEL/U+2028 inside quoted
        # cells (captures/stun-terminal-escapes.loopback.pcap has them).
        rows = list(csv.reader(io.StringIO(raw, newline=""), strict=True))
        assert rows[0] == docs[table], f"{table}: header differs from docs/export.md"
        assert len(rows) - 1 == count, f"{table}: {len(rows) - 1} rows, json says {count}"
        for r in rows[1:]:
            assert len(r) == len(rows[0]), table
            for cell in r:
                assert not FORMULA.match(cell) or NUMBER.match(cell), f"{table}: formula-like cell {cell!r}"
    with open(out / "allocations.csv", newline="") as f:
        for row, a in zip(csv.DictReader(f), doc["allocations"]):
            assert (row["client"], row["server"], row["outcome"]) == (a["client"], a["server"], a["outcome"])
            assert row["relayed"] == " ".join(a["relayed"])


@need_bin
def test_csv_needs_a_directory_and_refuses_stdout(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    r = export([XSS, "--format", "csv", "--output", str(f)], check=False)
    assert r.returncode != 0 and b"not a directory" in r.stderr
    for fmt in ("csv", "sqlite"):
        r = export([XSS, "--format", fmt, "--output", "-"], check=False)
        assert r.returncode == 64, r.stderr


# ------------------------------------------------------------------ sqlite

def sqlite_cli(db, sql, mode="-markdown"):
    r = subprocess.run(["sqlite3", mode, db], input=sql.encode(), capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout.decode()


@need_bin
@need_sqlite3
@pytest.mark.parametrize("path", [p for p in CAPTURES if "turn-" in p or "xss" in p][:6] or CAPTURES[:3], ids=label)
def test_sqlite_rows_equal_json(path, tmp_path):
    db = str(tmp_path / "s.db")
    export([path, "--format", "sqlite", "--output", db])
    doc = document(path)
    for table, count in expected_rows(doc).items():
        assert int(sqlite_cli(db, f"SELECT COUNT(*) FROM {table};", "-list")) == count, table
    assert sqlite_cli(db, "PRAGMA foreign_key_check;", "-list") == ""
    assert sqlite_cli(db, "PRAGMA foreign_keys = ON; PRAGMA integrity_check;", "-list").strip() == "ok"
    # indexes on endpoints and times
    idx = sqlite_cli(db, "SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name;", "-list").split()
    for want in ("idx_allocations_client", "idx_allocations_start_time", "idx_peers_peer", "idx_transactions_first_request", "idx_timeline_time"):
        assert want in idx


@need_bin
@need_sqlite3
def test_sqlite_several_captures_append(tmp_path):
    a, b = [p for p in CAPTURES if p.endswith("turn-udp-channels.server.pcap")] or CAPTURES[:1], XSS
    a = a[0] if isinstance(a, list) else a
    db = str(tmp_path / "s.db")
    export([a, "--format", "sqlite", "--output", db])
    export([b, "--format", "sqlite", "--output", db])
    rows = [l.split("|") for l in sqlite_cli(db, "SELECT capture_id, file, sha256 FROM captures ORDER BY capture_id;", "-list").splitlines()]
    assert [(r[0], r[1]) for r in rows] == [("1", a), ("2", b)]
    for r in rows:
        with open(r[1], "rb") as f:
            assert r[2] == hashlib.sha256(f.read()).hexdigest()
    total = sum(len(document(p)["transactions"]) for p in (a, b))
    assert int(sqlite_cli(db, "SELECT COUNT(*) FROM transactions;", "-list")) == total
    # the same capture again replaces its rows instead of doubling them
    export([b, "--format", "sqlite", "--output", db])
    assert sqlite_cli(db, "SELECT capture_id, file FROM captures ORDER BY capture_id;", "-list").splitlines() == [f"1|{a}", f"2|{b}"]
    assert int(sqlite_cli(db, "SELECT COUNT(*) FROM transactions;", "-list")) == total
    # two captures in one run
    db2 = str(tmp_path / "t.db")
    export([a, b, "--format", "sqlite", "--output", db2])
    assert sqlite_cli(db2, "SELECT file FROM captures ORDER BY capture_id;", "-list").splitlines() == [a, b]
    assert sqlite_cli(db2, "PRAGMA foreign_key_check;", "-list") == ""


def sql_doc_sections():
    """(build args, [(title, sql, expected output, (start, end) of the output in the doc)])."""
    with open(SQL_DOC) as f:
        text = f.read()
    build = re.search(r"```sh\nstunscope export (.*?) --format sqlite --output (\S+)\n```", text)
    sections = []
    for m in re.finditer(r"## (\d+\. [^\n]+)\n.*?```sql\n(.*?)```\n\n```text\n(.*?)```", text, re.S):
        sections.append((m.group(1), m.group(2), m.group(3), m.span(3)))
    return text, build.group(1).split(), sections


@pytest.fixture(scope="module")
def sql_doc_db(tmp_path_factory):
    text, args, _ = sql_doc_sections()
    files = []
    for a in args:
        files += sorted(glob.glob(os.path.join(REPO, a))) if any(c in a for c in "*?[") else [os.path.join(REPO, a)]
    files = [os.path.relpath(p, REPO) for p in files]
    if not all(os.path.exists(os.path.join(REPO, p)) for p in files) or not files:
        pytest.skip("captures of docs/sql-queries.md missing")
    db = str(tmp_path_factory.mktemp("sqldoc") / "sessions.db")
    export(files + ["--format", "sqlite", "--output", db])
    return db


def capture_hashes(db):
    return sqlite_cli(db, "SELECT sha256 || '  ' || file FROM captures ORDER BY capture_id;", "-list").strip()


def normalise(out):
    return "\n".join(l.rstrip() for l in out.strip("\n").splitlines())


@need_bin
@need_sqlite3
def test_sql_docs_queries_return_the_documented_rows(sql_doc_db):
    text, _, sections = sql_doc_sections()
    assert len(sections) >= 5, "docs/sql-queries.md should hold five queries with their outputs"
    hashes = capture_hashes(sql_doc_db)
    if os.environ.get("STUNSCOPE_UPDATE_DOCS"):
        for title, sql, _, (start, end) in reversed(sections):
            out = normalise(sqlite_cli(sql_doc_db, sql))
            text = text[:start] + (out + "\n" if out else "") + text[end:]
        text = re.sub(r"\n<!-- captures\n.*?-->\n", "\n", text, flags=re.S).rstrip("\n") + "\n"
        text += "\n<!-- captures\n" + hashes + "\n-->\n"
        with open(SQL_DOC, "w") as f:
            f.write(text)
        text, _, sections = sql_doc_sections()
    documented = re.search(r"<!-- captures\n(.*?)\n-->", text, re.S)
    if documented is None or documented.group(1).strip() != hashes:
        pytest.skip("the captures behind docs/sql-queries.md changed since its outputs were refreshed: "
                    "STUNSCOPE_UPDATE_DOCS=1 python3 -m pytest Tests/integration/test_export.py -k sql_docs")
    failures = []
    for title, sql, expected, _ in sections:
        got = normalise(sqlite_cli(sql_doc_db, sql))
        if got != normalise(expected):
            failures.append(f"{title}:\n--- documented\n{expected}\n--- got\n{got}")
    assert not failures, ("docs/sql-queries.md outputs differ (captures or reconstruction changed? refresh with "
                          "STUNSCOPE_UPDATE_DOCS=1 python3 -m pytest Tests/integration/test_export.py -k sql_docs):\n"
                          + "\n".join(failures))
    nonempty = [t for t, sql, e, _ in sections if e.strip()]
    assert len(nonempty) >= 4, "most documented queries should return rows"


# ------------------------------------------------------------------ html

class VisibleText(html.parser.HTMLParser):
    """Text content outside <script> and <style> (what a reader sees, never fetched)."""

    def __init__(self):
        super().__init__()
        self.texts, self.hidden = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.hidden += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self.hidden:
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden:
            self.texts.append(data)

    @staticmethod
    def of(source):
        p = VisibleText()
        p.feed(source)
        return p.texts


class DomText(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.texts, self.tags, self.ladders, self.sessions = [], [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "svg" and "ladder" in (a.get("class") or "").split():
            self.ladders.append(a.get("data-session"))

    def handle_data(self, data):
        self.texts.append(data)


def chromium_dom(path):
    """Headless Chromium's DOM after load, and its console messages."""
    with tempfile.TemporaryDirectory() as profile:
        r = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                            f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
                            "--dump-dom", "file://" + os.path.abspath(path)],
                           capture_output=True, timeout=180)
    console = [l for l in r.stderr.decode(errors="replace").splitlines() if ":CONSOLE" in l or "Content Security Policy" in l]
    return r.stdout.decode(), console


@pytest.fixture(scope="module")
def html_report(tmp_path_factory):
    if not os.path.exists(BIN) or CHROMIUM is None:
        pytest.skip("needs stunscope and chromium")
    out = str(tmp_path_factory.mktemp("html") / "report.html")
    export(CAPTURES + ["--format", "html", "--output", out])
    dom, console = chromium_dom(out)
    parser = DomText()
    parser.feed(dom)
    with open(out, encoding="utf-8") as f:
        source = f.read()
    return source, dom, console, parser


@need_bin
@need_chromium
def test_html_has_one_ladder_per_session_and_no_console_errors(html_report):
    source, dom, console, parser = html_report
    assert not console, "console messages:\n" + "\n".join(console[:20])
    # per capture section: ladders == sessions of that capture's json
    sections = re.split(r'<section class="capture"', dom)[1:]
    assert len(sections) == len(CAPTURES)
    total = 0
    for path, sec in zip(CAPTURES, sections):
        doc = document(path)
        p = DomText()
        p.feed('<section class="capture"' + sec)
        want = [f"allocation:{a['id']}" for a in doc["allocations"]] + [f"binding:{b['id']}" for b in doc["bindings"]] \
            + [f"ice:{s['id']}" for s in doc["iceSessions"]] + [f"sip:{i + 1}" for i in range(len(doc["sipCalls"]))]
        assert p.ladders == want, label(path)
        total += len(want)
    assert len(parser.ladders) == total > 0


@need_bin
@need_chromium
def test_html_is_self_contained(html_report):
    source, dom, console, parser = html_report
    assert "Content-Security-Policy" in source and "default-src 'none'" in source
    for tag, a in parser.tags:
        for attr in ("src", "href", "xlink:href", "action"):
            v = a.get(attr)
            assert v is None or v.startswith("#"), f"<{tag} {attr}={v!r}> would fetch"
        assert tag not in ("link", "iframe", "img", "object", "embed"), tag
    # the only URL is the SVG namespace, apart from packet strings shown as text (escaped;
    # captures/stun-terminal-escapes.loopback.pcap has an OSC 8 hyperlink in a REALM)
    url = r"https?://[^\s\"'<>)]+"
    shown = set(re.findall(url, "\n".join(VisibleText.of(source))))
    assert set(re.findall(url, source)) - shown <= {"http://www.w3.org/2000/svg"}
    assert "url(http" not in source and "@import" not in source


@need_bin
@need_chromium
def test_html_software_script_is_text_not_markup(tmp_path):
    assert os.path.exists(XSS), "captures/stun-xss-software.loopback.pcap missing (captures/gen/xss_software.py)"
    with open(XSS.replace(".pcap", ".truth.json")) as f:
        truth = json.load(f)["xss"]
    out = str(tmp_path / "xss.html")
    export([XSS, "--format", "html", "--output", out])
    dom, console = chromium_dom(out)
    assert not console, console
    p = DomText()
    p.feed(dom)
    scripts = [a for t, a in p.tags if t == "script"]
    assert len(scripts) == 1 and scripts[0].get("nonce"), "only the report's own script may exist"
    assert not [a for t, a in p.tags if t == "img"]
    text = "".join(p.texts)
    assert truth["serverSoftware"] == "<script>alert(1)</script>"
    assert truth["serverSoftware"] in text, "SOFTWARE should be shown as text"
    with open(out, encoding="utf-8") as f:
        source = f.read()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in source
    assert "<script>alert(1)" not in source
    doc = document(XSS)
    assert doc["bindings"][0]["software"] == truth["serverSoftware"]
    # the realm of turn-xss-strings too
    realm = os.path.join(REPO, "captures", "turn-xss-strings.server.pcap")
    if os.path.exists(realm):
        out2 = str(tmp_path / "realm.html")
        export([realm, "--format", "html", "--output", out2])
        dom2, console2 = chromium_dom(out2)
        p2 = DomText()
        p2.feed(dom2)
        assert not console2 and len([1 for t, a in p2.tags if t == "script"]) == 1
        assert "<script>alert(1)</script>" in "".join(p2.texts)


# ------------------------------------------------------------------ mermaid

MERMAID_LINE = re.compile(r"^    (participant P\d+ as .+|Note over P\d+(,P\d+)?: .+|P\d+(->>|-->>|-x|--x)P\d+: .+)$")


def check_mermaid_label(text):
    # entity codes (#59; #35; #lt; ...) are the only '#' and ';'
    stripped = re.sub(r"#(\w+);", "", text)
    for bad in (";", "#", "<", ">", "`", "\n", "\r"):
        assert bad not in stripped, f"raw {bad!r} in {text!r}"
    assert "-->" not in text and "%%" not in text


@need_bin
@pytest.mark.parametrize("path", CAPTURES, ids=label)
def test_mermaid_one_diagram_per_session_with_escaped_labels(path):
    doc = document(path)
    md = export([path, "--format", "mermaid", "--output", "-"]).stdout.decode()
    blocks = re.findall(r"```mermaid\n(.*?)```", md, re.S)
    assert len(blocks) == sessions(doc)
    for b in blocks:
        lines = b.splitlines()
        assert lines[0] == "sequenceDiagram"
        participants = set()
        for l in lines[1:]:
            assert MERMAID_LINE.match(l), f"unexpected line {l!r}"
            if l.startswith("    participant"):
                participants.add(l.split()[1])
                check_mermaid_label(l.split(" as ", 1)[1])
            else:
                head, text = l.split(": ", 1)
                check_mermaid_label(text)
                assert set(re.findall(r"P\d+", head)) <= participants
    # outside the fences nothing can open a new fence or raw HTML
    outside = re.sub(r"```mermaid\n.*?```", "", md, flags=re.S)
    assert "<script" not in outside


@need_bin
def test_mermaid_escapes_packet_strings():
    realm = os.path.join(REPO, "captures", "turn-xss-strings.server.pcap")
    if not os.path.exists(realm):
        pytest.skip("capture missing")
    md = export([realm, "--format", "mermaid", "--output", "-"]).stdout.decode()
    assert "<script>" not in md
    assert "#lt;script#gt;alert(1)#lt;/script#gt;" in md


# ------------------------------------------------------------------ progress

@need_bin
def test_progress_line_only_on_a_terminal(tmp_path):
    """The progress line of export (test_progress.py checks the line itself): on a
    terminal, summed over files analysed by several workers; never in a pipe, never
    with --no-progress (the older name of --quiet)."""
    big = tmp_path / "big.pcap"
    src = os.path.join(REPO, "captures", "turn-stale-nonce.server.pcap")
    if not os.path.exists(src):
        src = CAPTURES[0]
    with open(src, "rb") as f:
        data = f.read()
    head, body = data[:24], data[24:]
    # Real packets (the same records again and again), enough for seconds of reading: the
    # line only appears after the first second, and how much that is depends on the
    # machine (a fast one read the first 5 MiB in under a second). Doubled until one
    # export of the file lasts 3 s in a pipe, where it must stay silent.
    with open(big, "wb") as f:
        f.write(head)
        n = 0
        while n < (5 << 20):
            f.write(body)
            n += len(body)
    while True:
        started = time.monotonic()
        r = export([str(big), "--format", "json", "--output", str(tmp_path / "a.json")])
        took = time.monotonic() - started
        assert r.stderr == b""   # not a terminal: silent
        if took >= 3 or os.path.getsize(big) > (320 << 20):
            break
        with open(big, "rb") as f:
            f.seek(24)
            records = f.read()
        with open(big, "ab") as f:
            f.write(records)
    other = tmp_path / "other.pcap"
    shutil.copyfile(big, other)
    # stderr on a terminal: one line for both files, read by two workers, erased at the end
    status, shown = pseudo_terminal.run(
        [BIN, "export", str(big), str(other), "--jobs", "2", "--format", "json", "--output", str(tmp_path / "b.json")],
        stdout_on_terminal=False, cwd=REPO, timeout=120)
    assert status == 0
    total = f"{2 * os.path.getsize(big) / (1 << 20):.1f} MiB"
    draws = re.findall(rb"\r([^\r\x1b]+)\x1b\[K", shown)
    assert draws and all(re.fullmatch(rf"\S+ \S+ of {total} \(\d+%\), .* packets/s, \d+ sessions? alive".encode(), d)
                         for d in draws), draws
    assert draws[-1].startswith(f"{total} of {total} (100%)".encode())
    assert re.sub(rb"\r[^\r\x1b]*\x1b\[K", b"", shown) == b"" and shown.endswith(b"\r\x1b[K")
    # --no-progress on a terminal: nothing
    status, shown = pseudo_terminal.run(
        [BIN, "export", str(big), "--no-progress", "--format", "json", "--output", str(tmp_path / "c.json")],
        stdout_on_terminal=False, cwd=REPO, timeout=120)
    assert status == 0 and shown == b""
