"""`stunscope messages --format ndjson` against tshark, message by message.

For every capture in captures/ and in the third-party corpus
(../shared/captures, see its MANIFEST.md; .gz files are gunzipped to a
temporary file, nothing is copied into the repository), both tools read the
file and the STUN / CLASSIC-STUN / ChannelData messages are compared frame by
frame, in order: frame number, message type, transaction id, classic flag,
attribute types in wire order, addresses and ports (de-XORed), error code,
LIFETIME, CHANNEL-NUMBER, and the channel number of ChannelData frames.

Where tshark 4.0 is blind or wrong, the difference is accepted only under a
named exception (EXCEPTIONS below), counted, and where possible checked
another way: STUN nested in ChannelData / DATA attributes (invisible to
tshark) is re-dissected by tshark from the carrier's bytes written into a
pcap of their own. Any difference no exception explains fails the test.

The integrity checks are exercised on the corpus too: a capture whose TURN
password is known must give `integrity: valid`, and `invalid` with a wrong one.
"""

import glob
import gzip
import json
import os
import shutil
import subprocess
import tempfile

import pytest

import tshark_stun

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("STUNSCOPE_BIN", os.path.join(REPO, ".build", "debug", "stunscope"))
SHARED = os.environ.get("STUNSCOPE_SHARED_CAPTURES",
                        os.path.normpath(os.path.join(REPO, "..", "shared", "captures")))

# Every accepted difference between stunscope and tshark 4.0, by name.
EXCEPTIONS = {
    "stun-in-channeldata":
        "tshark shows ChannelData application data as raw data; stunscope dissects the STUN "
        "message inside (relayed ICE checks). Verified by re-dissecting the payload with tshark.",
    "stun-in-data-attribute":
        "tshark shows the DATA attribute of Send/Data indications as raw bytes; stunscope dissects "
        "the STUN message inside. Verified by re-dissecting the attribute value with tshark.",
    "response-port":
        "tshark decodes 0x0027 as the draft XOR-RESPONSE-TARGET address; RFC 5780 defines it as "
        "RESPONSE-PORT (a 16-bit port). Only the attribute type is compared.",
    "icmp-quoted-stun":
        "stunscope lists STUN quoted in ICMP errors (carrier icmp); compared with tshark's "
        "dissection of the quoted packet when tshark has one.",
    "method-above-0xff":
        "tshark rejects message types whose method is above 0x0FF (RFC 7983 reserved range); "
        "WhatsApp uses 0x0800-0x0805 with a valid cookie, length and attribute walk.",
    "tshark-needs-decode-as":
        "arkime/turn.pcap: TURN over TCP port 80 that tshark's heuristics miss; tshark is run "
        "with -d tcp.port==80,stun for it.",
    "malformed-partial":
        "stunscope reports a malformed message (kind malformed, header and the attributes before "
        "the damage); tshark shows the same header and stops at a bogus attribute. The header and "
        "the attributes both read are compared.",
    "ms-turn-unpadded-attributes":
        "MS-TURN (MAGIC-COOKIE attribute first) does not pad attribute values; tshark 4.0 pads them "
        "anyway and derails after the first value whose length is not a multiple of 4. The "
        "attributes before that point are compared.",
    "icmp-quoted-truncated":
        "An ICMP error quoted only the start of a STUN message; stunscope shows the header "
        "(quoteTruncated), tshark shows the quote as data.",
    "ms-turn-multiplexed-channel":
        "MS-TURN channel 0xFF10 carries an 8-byte session id before the data; the STUN inside is "
        "re-dissected from tshark's data bytes (which leave the session id out).",
}

TSHARK_EXTRA = {
    "arkime/turn.pcap": ["-d", "tcp.port==80,stun"],
}

SUMMARY = {"captures": 0, "compared": 0, "nested_verified": 0, "exceptions": {}}


def _captures():
    paths = sorted(glob.glob(os.path.join(REPO, "captures", "*.pcap*")))
    if os.path.isdir(SHARED):
        for root, _, files in os.walk(SHARED):
            for name in files:
                if name.endswith((".pcap", ".pcapng", ".pcap.gz", ".pcapng.gz")):
                    paths.append(os.path.join(root, name))
    return sorted(set(p for p in paths if not p.endswith(".json")))


def _label(path):
    if path.startswith(SHARED + os.sep):
        return os.path.relpath(path, SHARED)
    return os.path.relpath(path, REPO)


CAPTURES = _captures()

need_tools = pytest.mark.skipif(tshark_stun.TSHARK is None or not os.path.exists(BIN),
                                reason="needs tshark and a built stunscope (STUNSCOPE_BIN)")


def _readable(path, tmpdir):
    if not path.endswith(".gz"):
        return path
    out = os.path.join(tmpdir, os.path.basename(path)[:-3])
    with gzip.open(path, "rb") as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst)
    return out


def stunscope(path, *extra):
    r = subprocess.run([BIN, "messages", "--format", "ndjson", *extra, path],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"stunscope failed on {path}: {r.stderr}"
    return [json.loads(line) for line in r.stdout.splitlines()]


def _count(name, n=1):
    assert name in EXCEPTIONS, name
    SUMMARY["exceptions"][name] = SUMMARY["exceptions"].get(name, 0) + n


def _method(message_type):
    return (message_type & 0x000F) | ((message_type & 0x00E0) >> 1) | ((message_type & 0x3E00) >> 2)


def _compare_attributes(ours, theirs, where, prefix_only=False):
    """Attribute types in order, then the decoded values both tools show."""
    our_types = [a["type"] for a in ours]
    their_types = [a["type"] for a in theirs]
    if prefix_only:
        n = len(our_types)
        assert our_types == their_types[:n], f"{where}: attribute types {our_types} vs tshark {their_types}"
        theirs = theirs[:n]
    else:
        assert our_types == their_types, f"{where}: attribute types {our_types} vs tshark {their_types}"
    for a, t in zip(ours, theirs):
        here = f"{where} attribute 0x{a['type']:04x}"
        if a["type"] == 0x0027:
            _count("response-port")
            assert "value" in a and "address" not in a, f"{here}: RESPONSE-PORT must be a port number"
            continue
        if "address" in t:
            assert a.get("address") == t["address"], f"{here}: address {a.get('address')} vs tshark {t['address']}"
        if "code" in t and a["type"] == 0x0009:
            assert a.get("code") == t["code"], f"{here}: error code {a.get('code')} vs tshark {t['code']}"
        if "lifetime" in t:
            assert a.get("value") == t["lifetime"], f"{here}: lifetime {a.get('value')} vs tshark {t['lifetime']}"
        if "channel" in t:
            assert a.get("value") == t["channel"], f"{here}: channel {a.get('value')} vs tshark {t['channel']}"


def _ms_turn_derailed(ours, theirs):
    """tshark padded an MS-TURN value: its list agrees with ours up to an attribute
    whose length is not a multiple of 4, then shows one bogus attribute."""
    if ours.get("dialect") != "ms-turn":
        return False
    mine = ours["attributes"]
    their = theirs["attributes"]
    for i, a in enumerate(mine):
        if a["length"] % 4 != 0:
            return [x["type"] for x in mine[:i + 1]] == [x["type"] for x in their[:i + 1]] and len(their) <= i + 2
    return False


def _compare_message(ours, theirs, where):
    assert ours["kind"] in ("stun", "malformed"), f"{where}: stunscope kind {ours['kind']}, tshark STUN"
    assert ours["type"] == theirs["type"], f"{where}: type {ours['type']:#06x} vs tshark {theirs['type']:#06x}"
    assert ours["transactionId"] == theirs["transactionId"], \
        f"{where}: transaction id {ours['transactionId']} vs tshark {theirs['transactionId']}"
    assert ours["classic"] == theirs["classic"], f"{where}: classic {ours['classic']} vs tshark {theirs['classic']}"
    if ours["kind"] == "malformed":
        _count("malformed-partial")
        _compare_attributes(ours["attributes"], theirs["attributes"], where, prefix_only=True)
        return
    if _ms_turn_derailed(ours, theirs):
        _count("ms-turn-unpadded-attributes")
        n = next(i for i, a in enumerate(ours["attributes"]) if a["length"] % 4 != 0)
        _compare_attributes(ours["attributes"][:n], theirs["attributes"][:n], where)
        return
    _compare_attributes(ours["attributes"], theirs["attributes"], where)
    assert ours.get("errorCode") == theirs["errorCode"], \
        f"{where}: errorCode {ours.get('errorCode')} vs tshark {theirs['errorCode']}"


def _nested_payloads(theirs_by_frame):
    """Bytes tshark shows undissected that carry STUN: DATA values and ChannelData data."""
    found = []  # (frame, carrier kind, payload)
    for frame, messages in theirs_by_frame.items():
        for m in messages:
            if m["kind"] == "channeldata" and "payload" in m:
                payload = m["payload"]  # tshark already leaves out MS-TURN's 8-byte session id
                if len(payload) >= 20 and payload[0] < 64:
                    found.append((frame, "channeldata", payload, m["channel"] == 0xFF10))
            elif m["kind"] == "stun":
                for a in m["attributes"]:
                    if a["type"] == 0x0013 and "raw" in a and len(a["raw"]) >= 20 and a["raw"][0] < 64:
                        found.append((frame, "data", a["raw"], False))
    return found


def compare_capture(path, label):
    with tempfile.TemporaryDirectory() as tmp:
        readable = _readable(path, tmp)
        ours = stunscope(readable)
        extra = TSHARK_EXTRA.get(label, [])
        if extra:
            _count("tshark-needs-decode-as")
        theirs = tshark_stun.messages(tshark_stun.run_tshark(readable, extra))

    top = {}
    nested = {}
    for record in ours:
        carrier = record.get("carrier")
        if carrier and carrier["kind"] in ("channeldata", "data"):
            nested.setdefault((record["frame"], carrier["kind"]), []).append(record)
        elif carrier and carrier["kind"] == "icmp":
            _count("icmp-quoted-stun")
            top.setdefault(record["frame"], []).append(record)
        else:
            top.setdefault(record["frame"], []).append(record)

    compared = 0
    for frame in sorted(set(top) | set(theirs)):
        mine = top.get(frame, [])
        their = theirs.get(frame, [])
        extra_mine = [m for m in mine if m["kind"] != "channeldata" and _method(m["type"]) > 0xFF]
        if extra_mine and len(mine) - len(extra_mine) == len(their):
            _count("method-above-0xff", len(extra_mine))
            mine = [m for m in mine if m not in extra_mine]
        cut = [m for m in mine if m.get("quoteTruncated")]
        if cut and len(mine) - len(cut) == len(their):
            _count("icmp-quoted-truncated", len(cut))
            mine = [m for m in mine if m not in cut]
        where = f"{label} frame {frame}"
        assert len(mine) == len(their), \
            f"{where}: stunscope has {[m['kind'] for m in mine]}, tshark {[t['kind'] for t in their]}"
        for m, t in zip(mine, their):
            if t["kind"] == "channeldata":
                assert m["kind"] == "channeldata", f"{where}: stunscope {m['kind']}, tshark ChannelData"
                assert m["channel"] == t["channel"], f"{where}: channel {m['channel']:#x} vs {t['channel']:#x}"
                assert m["length"] == t["length"], f"{where}: length {m['length']} vs {t['length']}"
            else:
                _compare_message(m, t, where)
            compared += 1

    # Nested STUN: tshark is blind to it, so re-dissect the carriers' bytes on their own.
    candidates = _nested_payloads(theirs)
    dissected = tshark_stun.dissect_payloads([c[2] for c in candidates])
    expected = {}
    for (frame, kind, _, multiplexed), message in zip(candidates, dissected):
        if message is not None:
            expected.setdefault((frame, kind), []).append(message)
            if multiplexed:
                _count("ms-turn-multiplexed-channel")
    for key in sorted(set(expected) | set(nested)):
        mine = nested.get(key, [])
        their = expected.get(key, [])
        where = f"{label} frame {key[0]} (STUN inside {key[1]})"
        assert len(mine) == len(their), f"{where}: stunscope {len(mine)} nested messages, tshark {len(their)}"
        for m, t in zip(mine, their):
            _compare_message(m, t, where)
            _count("stun-in-channeldata" if key[1] == "channeldata" else "stun-in-data-attribute")
            SUMMARY["nested_verified"] += 1
            compared += 1
    SUMMARY["captures"] += 1
    SUMMARY["compared"] += compared
    return compared


@need_tools
@pytest.mark.parametrize("path", CAPTURES, ids=[_label(p) for p in CAPTURES])
def test_messages_match_tshark(path):
    compare_capture(path, _label(path))


@need_tools
def test_shared_corpus_present_or_skipped():
    """Says so explicitly when the third-party corpus is not there."""
    if not os.path.isdir(SHARED):
        pytest.skip(f"third-party captures not found at {SHARED}")
    assert any(p.startswith(SHARED) for p in CAPTURES)


def _shared(name):
    path = os.path.join(SHARED, name)
    if not os.path.exists(path):
        pytest.skip(f"{name} not in the third-party corpus")
    return path


def _write(tmp_path, text):
    p = tmp_path / "credentials.txt"
    p.write_text(text)
    return str(p)


def _truth_credentials():
    """(capture, [(user, realm, password)]) for captures/ whose truth file names TURN credentials."""
    out = []
    for truth in sorted(glob.glob(os.path.join(REPO, "captures", "*.truth.json"))):
        with open(truth) as f:
            t = json.load(f)
        creds = [(c["username"], c["realm"], c["password"]) for c in t.get("credentials", [])
                 if {"username", "realm", "password"} <= set(c)]
        capture = os.path.join(REPO, "captures", t.get("capture", ""))
        if creds and os.path.exists(capture):
            out.append((capture, creds))
    return out


def _escape(field):
    return field.replace("\\", "\\\\").replace(":", "\\:")


@need_tools
def test_integrity_valid_and_invalid_with_known_password(tmp_path):
    """With the password from the truth file (alice:example.org:secret), every authenticated
    request the server accepted shows `integrity: valid`, every one it rejected with 401
    `invalid`, and responses follow their request; a wrong password turns every valid one
    `invalid`."""
    cases = _truth_credentials()
    if not cases:
        pytest.skip("no capture in captures/ names its TURN credentials yet")
    checked = 0
    for path, creds in cases:
        good = _write(tmp_path, "".join(f"{_escape(u)}:{_escape(r)}:{_escape(p)}\n" for u, r, p in creds))
        records = [r for r in stunscope(path, "--credentials", good) if r["kind"] == "stun" and "carrier" not in r]
        responses = {}
        for r in records:
            if r["class"] in ("success", "error"):
                responses.setdefault(r["transactionId"], r)
        users = {u for u, _, _ in creds}
        authenticated = [r for r in records if r["class"] == "request" and "integrity" in r
                         and any(a["name"] == "USERNAME" and a.get("value") in users for a in r["attributes"])]
        for request in authenticated:
            answer = responses.get(request["transactionId"])
            where = f"{_label(path)} frame {request['frame']}"
            if answer is None:
                continue
            if answer["class"] == "success":
                assert request["integrity"] == "valid", f"{where}: accepted by the server but {request['integrity']}"
            elif answer.get("errorCode") == 401:
                assert request["integrity"] == "invalid", f"{where}: rejected with 401 but {request['integrity']}"
            if "integrity" in answer:
                assert answer["integrity"] == request["integrity"], \
                    f"{_label(path)} frame {answer['frame']}: response {answer['integrity']}, request {request['integrity']}"
            checked += 1
        # Only the TURN messages: ICE checks in a SIP capture verify with the ice-pwd of the SDP in
        # the capture itself, whatever --credentials says.
        turn_ids = {r["transactionId"] for r in authenticated}
        valid = {r["frame"] for r in records if r.get("integrity") == "valid" and r["transactionId"] in turn_ids}
        if valid:
            bad = _write(tmp_path, "".join(f"{_escape(u)}:{_escape(r)}:not-{_escape(p)}\n" for u, r, p in creds))
            again = {r["frame"]: r for r in stunscope(path, "--credentials", bad)
                     if r["kind"] == "stun" and "carrier" not in r}
            assert all(again[f]["integrity"] == "invalid" for f in valid), f"{_label(path)}: wrong password not invalid"
    if checked == 0:
        pytest.skip("no authenticated TURN request in captures/ yet")


@need_tools
def test_integrity_on_third_party_ice_checks(tmp_path):
    """zeek-spicy-stun/stun-malformed-error.pcap: an ICE check whose password is unknown stays
    `unchecked`, and any password we guess is `invalid`, never `valid`."""
    path = _shared("zeek-spicy-stun/stun-malformed-error.pcap")
    plain = stunscope(path)
    request = [r for r in plain if r["kind"] == "stun" and r["class"] == "request"]
    assert request and request[0]["integrity"] == "unchecked"
    guessed = stunscope(path, "--credentials", _write(tmp_path, "GwL3AHBovubLvCqn:guess\n"))
    request = [r for r in guessed if r["kind"] == "stun" and r["class"] == "request"]
    assert request[0]["integrity"] == "invalid"


@need_tools
def test_zz_summary():
    """Prints what the comparison covered (run with -s to see it)."""
    print("\nmessages vs tshark:", json.dumps(SUMMARY, indent=1, sort_keys=True))
    assert set(SUMMARY["exceptions"]) <= set(EXCEPTIONS)
