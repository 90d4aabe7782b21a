"""Binding sessions and the NAT view against the STUN corpus truth (issue 5).

The stun-classic and stun-rfc5780 captures were made with stun-client /
turnutils_stunclient / turnutils_natdiscovery behind real nftables NATs; the
truth files hold what those tools printed and what conntrack showed. The
analyzer must find the client's reflexive address and the mapping and
filtering behaviour from the wire alone.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("STUNSCOPE_BIN", str(ROOT / ".build" / "debug" / "stunscope"))
TRUTHS = sorted(p for p in (ROOT / "captures").glob("stun-*.truth.json")
                if (json.loads(p.read_text()).get("stun") or {}).get("client"))

# The truth spells RFC 3489's symmetric NAT "address-dependent (symmetric)".
NORMALISE = {"address-dependent (symmetric)": "address-dependent"}


def analyze(capture: Path) -> dict:
    r = subprocess.run([BIN, "analyze", "--format", "json", str(capture)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.mark.parametrize("truth_path", TRUTHS, ids=[p.name.removesuffix(".truth.json") for p in TRUTHS])
def test_reflexive_mapping_and_filtering(truth_path: Path):
    truth = json.loads(truth_path.read_text())
    stun = truth["stun"]
    doc = analyze(truth_path.with_name(truth["capture"]))
    client = stun["client"]
    host = client.rsplit(":", 1)[0]

    sessions = [b for b in doc["bindings"] if b["client"] == client and b["server"] == stun["server"]]
    assert sessions, f"no Binding session {client} -> {stun['server']}"
    assert stun["reflexive"] in sessions[0]["reflexive"]

    mine = [n for n in doc["natMappings"] if n["local"].rsplit(":", 1)[0] == host]
    proven = {n["mappingBehavior"] for n in mine} - {"unknown", "none"}
    expected = NORMALISE.get(stun["mappingBehavior"], stun["mappingBehavior"])
    assert proven == {expected}
    if expected != "endpoint-independent":
        assert any(f["code"] == "nat.symmetric" for f in doc["findings"])
    else:
        assert not any(f["code"] == "nat.symmetric" for f in doc["findings"])
    if stun.get("filteringBehavior"):
        assert {n["filteringBehavior"] for n in mine if n.get("filteringBehavior")} == {stun["filteringBehavior"]}
