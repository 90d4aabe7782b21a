#!/usr/bin/env python3
"""Writes the truth files of the ICE / SIP / STUN captures.

Called by captures/gen/ice_scenarios.sh after each scenario. It never dissects
a capture: every fact comes from what the generator knows on its own side:

  * aioice's own state, dumped by ice_agent.py (<agent>.state.json): local and
    remote candidates, role, tie-breaker, ufrag/pwd, check list, the
    nominated pair (Connection._nominated), the SIP messages it sent/received
    and the SDP bodies;
  * coturn's verbose log (allocations, relayed addresses, deletions);
  * the NAT routers' conntrack tables, dumped at the end of the run;
  * the printed results of stun-client, turnutils_stunclient and
    turnutils_natdiscovery;
  * tcpdump's own "N packets captured" count.
"""

import argparse
import json
import os
import re
import sys

GENERATOR = "captures/gen/ice_scenarios.sh"
TURN_CRED = {"username": "alice", "realm": "example.org", "password": "secret"}

# Must match ice_scenarios.sh
TURN_IPS = {"203.0.113.10", "203.0.113.11"}
NAT_PUBLIC = {"a": "203.0.113.2", "b": "203.0.113.3"}
NAT_NAMES = {"pp": "port-preserving", "sym": "symmetric", "none": "none"}
NAT_DESCR = {
    "pp": ("Linux nftables 'masquerade' (keeps the source port when it is free: "
           "endpoint-independent mapping in practice) with conntrack filtering "
           "(address- and port-dependent filtering; unsolicited inbound packets "
           "are dropped without ICMP)"),
    "sym": ("Linux nftables 'masquerade fully-random' (a new random public port "
            "for every new destination: address- and port-dependent mapping, "
            "i.e. symmetric) with conntrack filtering"),
    "none": "no NAT: the host sits on the public segment",
}


# ---------------------------------------------------------------- helpers

def fmt(ip, port):
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def split(addr):
    if addr.startswith("["):
        ip, _, port = addr[1:].partition("]:")
    else:
        ip, _, port = addr.rpartition(":")
    return ip, int(port)


def ip_of(addr):
    return split(addr)[0]


def load(path):
    with open(path) as f:
        return json.load(f)


def tcpdump_count(pcap):
    with open(pcap + ".log") as f:
        m = re.search(r"(\d+) packets? captured", f.read())
    if not m:
        sys.exit(f"no packet count in {pcap}.log")
    return int(m.group(1))


def write_truth(out_dir, truth):
    path = os.path.join(out_dir, truth["capture"].replace(".pcap", ".truth.json"))
    with open(path, "w") as f:
        json.dump(truth, f, indent=2)
        f.write("\n")
    print(f"  {truth['capture']}: {truth['packetCount']} packets")


def base_truth(scenario, vantage, work, descr):
    cap = f"{scenario}.{vantage}.pcap"
    return {
        "capture": cap,
        "scenario": scenario,
        "vantage": vantage,
        "vantageDescription": descr,
        "format": "pcap",
        "linkType": "EN10MB",
        "generator": GENERATOR,
        "packetCount": tcpdump_count(os.path.join(work, f"{vantage}.pcap")),
    }


# ---------------------------------------------------------------- conntrack

CT_RE = re.compile(r"(\w+)=(\S+)")


def parse_conntrack(path):
    """conntrack -L -p udp lines -> list of entries with orig/reply tuples."""
    entries = []
    if not os.path.exists(path):
        return entries
    with open(path) as f:
        for line in f:
            if not line.startswith("udp"):
                continue
            kv = CT_RE.findall(line)
            tuples, cur = [], {}
            for k, v in kv:
                if k in ("src", "dst", "sport", "dport"):
                    if k in cur:
                        tuples.append(cur)
                        cur = {}
                    cur[k] = v
            tuples.append(cur)
            orig, reply = tuples[0], tuples[1]
            entries.append({
                "orig_src": fmt(orig["src"], orig["sport"]),
                "orig_dst": fmt(orig["dst"], orig["dport"]),
                "reply_src": fmt(reply["src"], reply["sport"]),
                "reply_dst": fmt(reply["dst"], reply["dport"]),
                "replied": "[UNREPLIED]" not in line,
            })
    return entries


def nat_mappings(entries, router):
    """Public mappings (SNAT) and port forwards (DNAT) of one router."""
    out = []
    for e in entries:
        if e["reply_src"] != e["orig_dst"]:
            out.append({"router": router, "kind": "port-forward",
                        "remote": e["orig_src"], "outside": e["orig_dst"],
                        "inside": e["reply_src"], "replied": e["replied"]})
        elif e["reply_dst"] != e["orig_src"]:
            out.append({"router": router, "kind": "masquerade",
                        "inside": e["orig_src"], "outside": e["reply_dst"],
                        "destination": e["orig_dst"], "replied": e["replied"]})
    out.sort(key=lambda m: (m["inside"], m.get("destination", "")))
    return out


def snat_out(entries, inside, dest):
    if entries is None:
        return inside
    for e in entries:
        if e["orig_src"] == inside and e["orig_dst"] == dest:
            return e["reply_dst"]
    raise LookupError(f"no NAT mapping for {inside} -> {dest}")


def nat_in(entries, public, remote):
    """Where a packet remote -> public ends up inside the LAN."""
    if entries is None:
        return public
    for e in entries:
        if e["reply_src"] == remote and e["reply_dst"] == public:
            return e["orig_src"]
        if e["orig_src"] == remote and e["orig_dst"] == public:
            return e["reply_src"]
    raise LookupError(f"no NAT entry for {remote} -> {public}")


def symmetric_check(mappings):
    """Inside addresses that got different public ports for different
    destinations (what makes a NAT symmetric), from conntrack."""
    by_inside = {}
    for m in mappings:
        if m["kind"] == "masquerade":
            by_inside.setdefault(m["inside"], {})[m["destination"]] = m["outside"]
    return {k: v for k, v in by_inside.items() if len(set(v.values())) > 1}


# ---------------------------------------------------------------- coturn log

def parse_coturn(path):
    """Allocations from coturn -V: relayed address, session, client, end."""
    allocs, pending_relay = {}, None
    if not os.path.exists(path):
        return []
    with open(path, errors="replace") as f:
        for line in f:
            m = re.search(r"Local relay addr: (\S+)", line)
            if m:
                pending_relay = m.group(1)
                continue
            m = re.search(r"session (\d+): new, realm=<([^>]*)>, username=<([^>]*)>, lifetime=(\d+)", line)
            if m:
                allocs[m.group(1)] = {"session": m.group(1), "relayed": pending_relay,
                                      "realm": m.group(2), "username": m.group(3),
                                      "lifetime": int(m.group(4)), "peers": [],
                                      "channelBinds": 0, "end": "alive at end of capture"}
                pending_relay = None
                continue
            m = re.search(r"session (\d+): peer (\S+) lifetime updated", line)
            if m and m.group(1) in allocs:
                if m.group(2) not in allocs[m.group(1)]["peers"]:
                    allocs[m.group(1)]["peers"].append(m.group(2))
                continue
            m = re.search(r"session (\d+): .*CHANNEL_BIND processed, success", line)
            if m and m.group(1) in allocs:
                allocs[m.group(1)]["channelBinds"] += 1
                continue
            m = re.search(r"session (\d+): refreshed, .*lifetime=0", line)
            if m and m.group(1) in allocs:
                allocs[m.group(1)]["end"] = "deleted by Refresh with LIFETIME 0"
                continue
            m = re.search(r"session (\d+): closed .*local (\S+), remote (\S+), reason: (.*)", line)
            if m and m.group(1) in allocs:
                a = allocs[m.group(1)]
                a["serverAddress"], a["client"] = m.group(2), m.group(3).rstrip(",")
                if a["end"] == "alive at end of capture":
                    a["end"] = f"closed by the server ({m.group(4).strip()})"
    return list(allocs.values())


# ---------------------------------------------------------------- ICE

class Side:
    def __init__(self, name, state, nat_kind, ct):
        self.name, self.st, self.nat_kind = name, state, nat_kind
        self.ct = None if nat_kind == "none" else ct

    def socket_of(self, cand_addr):
        for s in self.st["sockets"]:
            if s["candidate"] == cand_addr:
                return s
        raise LookupError(f"{self.name}: no socket for {cand_addr}")


def check_legs(snd, rcv, pair, lan_v):
    """Where the checks of `pair` (sent by `snd`) travel: one entry per wire
    leg, each with the vantages that see it. A relayed leg between the TURN
    server and a TURN client carries the check inside ChannelData."""
    legs = []

    def add(vantages, src, dst, enc):
        v = set(vantages)
        if ip_of(src) in TURN_IPS or ip_of(dst) in TURN_IPS:
            if "public" in v:
                v.add("turn-server")
        legs.append({"vantages": sorted(v), "src": src, "dst": dst,
                     "encapsulation": enc})

    sock, L, R = pair["socket"], pair["local"], pair["remote"]
    if pair["localType"] == "relay":
        turn = pair["viaTurnServer"]
        add([lan_v[snd.name]], sock, turn, "channel-data")
        add(["public"], snat_out(snd.ct, sock, turn), turn, "channel-data")
        src = L
    else:
        src = snat_out(snd.ct, sock, R)
        if snd.ct is None:
            add([lan_v[snd.name], "public"], sock, R, "none")
        else:
            add([lan_v[snd.name]], sock, R, "none")
    relay_sockets = {s["candidate"]: s for s in rcv.st["sockets"] if s["type"] == "relay"}
    if R in relay_sockets:
        if ip_of(src) not in TURN_IPS:
            add(["public"], src, R, "none")
        # else relay -> relay inside the TURN server: never on the wire
        rs = relay_sockets[R]
        pub = snat_out(rcv.ct, rs["socket"], rs["turnServer"])
        # server -> client: ChannelData if the receiving client has bound a
        # channel to this peer address, else a Data indication ("turn")
        add(["public"], rs["turnServer"], pub, "turn")
        add([lan_v[rcv.name]], rs["turnServer"], rs["socket"], "turn")
    else:
        if not (snd.ct is None and pair["localType"] != "relay"):
            add(["public"], src, R, "none")
        inside = nat_in(rcv.ct, R, src)
        add([lan_v[rcv.name]], src, inside, "none")
    # merge identical legs
    merged = {}
    for l in legs:
        k = (l["src"], l["dst"], l["encapsulation"])
        if k in merged:
            merged[k]["vantages"] = sorted(set(merged[k]["vantages"]) | set(l["vantages"]))
        else:
            merged[k] = l
    return list(merged.values())


def agent_json(side):
    st = side.st
    cands = []
    turn_mapped = {s["candidate"]: s["turnMapped"] for s in st["sockets"] if s.get("turnMapped")}
    for c in st["localCandidates"]:
        d = {"address": c["address"], "type": c["type"]}
        if "relatedAddress" in c:
            d["relatedAddress"] = c["relatedAddress"]
        if c["type"] == "relay" and c["address"] in turn_mapped:
            # XOR-MAPPED-ADDRESS of the Allocate success (the TURN client's own
            # record); differs from relatedAddress only when aioice hides it
            # (relay-only policy: 0.0.0.0:9)
            d["turnMappedAddress"] = turn_mapped[c["address"]]
        d.update(foundation=c["foundation"], priority=c["priority"], component=c["component"],
                 transport=c["transport"])
        cands.append(d)
    remote = [{"address": c["address"], "type": c["type"], "priority": c["priority"],
               **({"relatedAddress": c["relatedAddress"]} if "relatedAddress" in c else {})}
              for c in st["remoteCandidates"]]
    sp = st.get("selectedPair")
    return {
        "name": side.name,
        "role": st["role"],
        "initialRole": st["initialRole"],
        "tieBreaker": st["tieBreaker"],
        "ufrag": st["ufrag"],
        "pwd": st["pwd"],
        "remoteUfrag": st["remoteUfrag"],
        "remotePwd": st["remotePwd"],
        "natType": NAT_NAMES[side.nat_kind],
        "transportPolicy": st.get("transportPolicy", "all"),
        "candidates": cands,
        "remoteCandidates": remote,
        "prflxRemoteCandidates": [c["address"] for c in st["remoteCandidates"] if c["type"] == "prflx"],
        "sockets": st["sockets"],
        "checkList": [{k: p[k] for k in ("local", "localType", "remote", "remoteType",
                                         "state", "nominated")} for p in st["checkList"]],
        "nominatedPairs": [{k: p[k] for k in ("local", "localType", "remote", "remoteType")}
                           for p in st["checkList"] if p["nominated"]],
        "selectedPair": None if sp is None else {
            "local": sp["local"], "remote": sp["remote"],
            "localType": sp["localType"], "remoteType": sp["remoteType"],
            "socket": sp["socket"], **({"viaTurnServer": sp["viaTurnServer"]} if "viaTurnServer" in sp else {}),
        },
        "dataPacketsReceived": len(st.get("dataReceived", [])),
        "events": st.get("events", []),
        "aioiceVersion": st.get("aioiceVersion"),
    }


def ice_truths(args):
    work = args.work
    kinds = {"a": args.nat_a, "b": args.nat_b}
    ct = {s: parse_conntrack(os.path.join(work, f"conntrack.nat-{s}.txt")) for s in "ab"}
    sides = {s: Side(s, load(os.path.join(work, f"{s}.state.json")), kinds[s], ct[s]) for s in "ab"}
    A, B = sides["a"], sides["b"]
    lan_v = {"a": "host-a" if kinds["a"] == "none" else "lan-a",
             "b": "host-b" if kinds["b"] == "none" else "lan-b"}
    vantages = [lan_v["a"], lan_v["b"], "public", "turn-server"]
    if args.vantages:
        vantages = [v for v in args.vantages.split(",") if v]

    for s in (A, B):
        if "selectedPair" not in s.st:
            sys.exit(f"agent {s.name} has no selected pair")
    allocs = parse_coturn(os.path.join(work, "turnserver.log"))
    # sanity: aioice's relayed candidates are coturn's allocations
    relayed_addrs = {a["relayed"] for a in allocs}
    for s in (A, B):
        for c in s.st["localCandidates"]:
            if c["type"] == "relay" and c["address"] not in relayed_addrs:
                sys.exit(f"relay candidate {c['address']} of {s.name} not in the coturn log")

    for a in allocs:
        for s in (A, B):
            for c in s.st["localCandidates"]:
                if c["type"] == "relay" and c["address"] == a["relayed"]:
                    a["agent"] = s.name
                    sock = s.socket_of(c["address"])
                    # XOR-MAPPED-ADDRESS of the Allocate success (hidden from the
                    # candidate's related address under the relay-only policy)
                    a["clientMapped"] = sock.get("turnMapped", c["relatedAddress"])
                    a["clientSocket"] = sock["socket"]
    mappings = {s: nat_mappings(ct[s], f"nat-{s}") for s in "ab" if kinds[s] != "none"}
    sym = {s: symmetric_check(m) for s, m in mappings.items()}
    for s in "ab":
        if kinds[s] == "sym" and not sym[s]:
            sys.exit(f"NAT {s} should be symmetric but conntrack shows no address-dependent mapping")
        if kinds[s] == "pp" and sym[s]:
            sys.exit(f"NAT {s} should be port preserving but conntrack shows {sym[s]}")

    pa, pb = A.st["selectedPair"], B.st["selectedPair"]
    relayed = any(p["localType"] == "relay" or p["remoteType"] == "relay" for p in (pa, pb))
    relay_only = all(c["type"] == "relay" for s in (A, B) for c in s.st["localCandidates"]) \
        and all(s.st["localCandidates"] for s in (A, B))
    ok = {"direct": not relayed,
          "relay": relayed,
          "relay-only": relayed and relay_only
          and pa["localType"] == pa["remoteType"] == pb["localType"] == pb["remoteType"] == "relay",
          "prflx": pa["remoteType"] == "prflx" or pb["remoteType"] == "prflx",
          "any": True}[args.expect]
    if not ok:
        print(f"  selected pairs a {pa['localType']}->{pa['remoteType']}, b {pb['localType']}->{pb['remoteType']}: "
              f"not the '{args.expect}' case this scenario is about", file=sys.stderr)
        sys.exit(3)
    legs_a = check_legs(A, B, pa, lan_v)   # checks a -> b of a's selected pair
    legs_b = check_legs(B, A, pb, lan_v)   # checks b -> a of b's selected pair
    nomination = args.nomination
    sip_state = A.st.get("sip"), B.st.get("sip")

    for v in vantages:
        descr = {
            "lan-a": f"inside LAN A on agent a's interface ({NAT_NAMES[kinds['a']]} NAT A), private addresses before NAT",
            "host-a": "agent a's own interface on the public segment (a has no NAT)",
            "lan-b": f"inside LAN B on agent b's interface ({NAT_NAMES[kinds['b']]} NAT B), private addresses before NAT",
            "public": "the public segment (bridge shared by the NAT routers' WAN sides and the TURN server): post-NAT addresses",
            "turn-server": "the TURN/STUN server's interface (coturn 203.0.113.10 / .11)",
        }[v]
        t = base_truth(args.scenario, v, work, descr)
        t["credentials"] = [
            dict(TURN_CRED),
            {"ufrag": A.st["ufrag"], "password": A.st["pwd"], "agent": "a",
             "use": "short-term: checks sent to a carry USERNAME '" + A.st["ufrag"] + ":" + B.st["ufrag"]
                    + "' and are signed with a's ice-pwd"},
            {"ufrag": B.st["ufrag"], "password": B.st["pwd"], "agent": "b",
             "use": "short-term: checks sent to b carry USERNAME '" + B.st["ufrag"] + ":" + A.st["ufrag"]
                    + "' and are signed with b's ice-pwd"},
        ]
        la = [dict(l, **{"from": "a"}) for l in legs_a if v in l["vantages"]]
        lb = [dict(l, **{"from": "b"}) for l in legs_b if v in l["vantages"]]
        for l in la + lb:
            del l["vantages"]
        visible = []
        for l in la + lb:
            visible.append(f"checks {l['from']}->{'b' if l['from'] == 'a' else 'a'}: {l['src']} -> {l['dst']}"
                           + {"none": "", "channel-data": " (inside ChannelData)",
                              "turn": " (inside ChannelData or a Data indication)"}[l["encapsulation"]])
        t["ice"] = {
            "agents": [agent_json(A), agent_json(B)],
            "controlling": "a",
            "nomination": nomination,
            "nominationSource": ("aioice 0.13 controlling agent with remote_is_lite=False: USE-CANDIDATE on every check"
                                 if nomination == "aggressive" else
                                 "aioice 0.13 controlling agent with remote_is_lite=True: a first check without "
                                 "USE-CANDIDATE, then a second check with USE-CANDIDATE on the first valid pair"),
            "selectedPair": {"local": pa["local"], "remote": pa["remote"],
                             "localType": pa["localType"], "remoteType": pa["remoteType"]},
            "selectedPairB": {"local": pb["local"], "remote": pb["remote"],
                              "localType": pb["localType"], "remoteType": pb["remoteType"]},
            "relayed": pa["localType"] == "relay" or pa["remoteType"] == "relay",
            "visibleAtVantage": "; ".join(visible) if visible else "no check of the selected pair passes here",
            "selectedPairChecks": la + lb,
            "dataPackets": {"aToB": len(B.st.get("dataReceived", [])), "bToA": len(A.st.get("dataReceived", []))},
        }
        nat_part = {}
        if v in ("lan-a", "lan-b"):
            s = v[-1]
            nat_part = {"type": NAT_NAMES[kinds[s]], "router": f"nat-{s}",
                        "publicAddress": NAT_PUBLIC[s], "implementation": NAT_DESCR[kinds[s]],
                        "mappings": mappings[s]}
            if sym.get(s):
                nat_part["addressDependentMappings"] = sym[s]
        else:
            allm = [m for s in "ab" if s in mappings for m in mappings[s]]
            nat_part = {"type": ", ".join(f"nat-{s}: {NAT_NAMES[kinds[s]]}" for s in "ab"),
                        "routers": {f"nat-{s}": {"type": NAT_NAMES[kinds[s]], "publicAddress": NAT_PUBLIC[s],
                                                 "implementation": NAT_DESCR[kinds[s]],
                                                 **({"addressDependentMappings": sym[s]} if sym.get(s) else {})}
                                    for s in "ab" if kinds[s] != "none"},
                        "mappings": allm}
        t["nat"] = nat_part
        t["turnServer"] = {"address": "203.0.113.10:3478", "alternateAddress": "203.0.113.11:3479",
                           "usedAs": "STUN and TURN server" if args.turn == "yes" else "STUN server only",
                           "software": "coturn 4.6.1", "relayIp": "203.0.113.10",
                           "allocations": allocs,
                           "source": "coturn -V log (Local relay addr / session new / refreshed lifetime=0)"}
        if sip_state[0]:
            t["sip"] = sip_truth(A, B, v, lan_v, mappings)
        t["notes"] = ice_notes(args, v, A, B, la, lb, nomination)
        t["expectedFindings"] = expected_findings(args.scenario, v, t)
        write_truth(args.out, t)


def host_ip(side):
    return next(ip_of(c["address"]) for c in side.st["localCandidates"] if c["type"] == "host")


def sip_truth(A, B, v, lan_v, mappings):
    sa, sb = A.st["sip"], B.st["sip"]
    seq = []
    for e in sa["log"]:
        # the caller's view: requests it sent, responses it received
        s = e["start"]
        seq.append(s.split()[0] if not s.startswith("SIP/2.0") else s.split()[1])
    # wire order: INVITE 100 180 200 ACK BYE 200 (the caller logs them in that order)
    a_ip, b_ip = host_ip(A), host_ip(B)
    a_sip = fmt(a_ip, 5060)
    pub_a = a_ip if A.nat_kind == "none" else NAT_PUBLIC["a"]
    flows = {
        lan_v["a"]: (a_sip, fmt(NAT_PUBLIC["b"], 5060)),
        "public": (fmt(pub_a, 5060), fmt(NAT_PUBLIC["b"], 5060)),
        lan_v["b"]: (fmt(pub_a, 5060), fmt(b_ip, 5060)),
    }
    visible = v in flows
    out = {
        "callId": sa["callId"],
        "messages": seq,
        "transport": "UDP",
        "visible": visible,
        "caller": "a", "callee": "b",
        "requestUri": "sip:bob@" + NAT_PUBLIC["b"],
        "offer": {"from": "a", "in": "INVITE", "ufrag": A.st["ufrag"], "pwd": A.st["pwd"],
                  "candidates": [c["sdp"] for c in A.st["localCandidates"]], "sdp": sa["sdpSent"]},
        "answer": {"from": "b", "in": "200", "ufrag": B.st["ufrag"], "pwd": B.st["pwd"],
                   "candidates": [c["sdp"] for c in B.st["localCandidates"]], "sdp": sb["sdpSent"]},
        "portForward": "NAT B forwards UDP 5060 on 203.0.113.3 to b's host 10.0.2.10:5060",
        "source": "the SIP messages and SDP written by ice_agent.py (caller a, callee b)",
    }
    if visible:
        out["callerAddress"], out["calleeAddress"] = flows[v]
    return out


def ice_notes(args, v, A, B, la, lb, nomination):
    pa = A.st["selectedPair"]
    relay_only = getattr(args, "policy", "all") == "relay"
    if getattr(args, "policy", "all") == "relay":
        gather = ("both with aioice's relay-only transport policy (Connection(transport_policy="
                  "TransportPolicy.RELAY)): no host or srflx candidate is gathered or offered, only the relay "
                  "candidate from coturn 203.0.113.10:3478 (Allocate 401 + authenticated retry with "
                  "alice/example.org), whose related address aioice hides as 0.0.0.0:9 (RFC 9429 section 3.5.3; "
                  "the real XOR-MAPPED-ADDRESS is candidates[].turnMappedAddress). Both NATs are port preserving, "
                  "so a direct srflx pair would have worked (as in ice-direct): the relayed pair is the policy's "
                  "doing. Both relayed addresses live on coturn's relay IP, so the relay-to-relay leg stays "
                  "inside the TURN server host; on the wire each check shows as ChannelData (or a Data "
                  "indication) on the two client legs")
    elif args.turn == "yes":
        gather = ("both gathering host, srflx and relay candidates against coturn 203.0.113.10:3478 "
                  "(STUN Binding, Allocate 401 + authenticated retry with alice/example.org)")
    else:
        gather = ("both gathering host and srflx candidates from coturn 203.0.113.10:3478 used as a plain "
                  "STUN server (no TURN in this scenario, so no relayed path can hide the peer-reflexive one)")
    a_where = "on the public segment, no NAT" if args.nat_a == "none" else f"NAT A {NAT_NAMES[args.nat_a]}"
    n = [f"Real aioice {A.st.get('aioiceVersion')} agents: a (controlling, {a_where}) and "
         f"b (controlled, NAT B {NAT_NAMES[args.nat_b]}), {gather}. coturn has two listening addresses, "
         "so its Binding responses carry RESPONSE-ORIGIN and OTHER-ADDRESS (RFC 5780)."]
    if args.signal == "sip":
        n.append("Signalling is a SIP call over UDP 5060: INVITE (SDP offer with a's a=ice-ufrag, a=ice-pwd, "
                 "a=candidate lines) / 100 Trying / 180 Ringing / 200 OK (b's SDP answer) / ACK, then the ICE "
                 "checks, 5 data packets each way, BYE / 200 OK. An analyzer must tie the call (Call-ID) to the "
                 "ICE session through the ufrags and can verify MESSAGE-INTEGRITY of the checks with the ice-pwd "
                 "from the SDP.")
    else:
        n.append("Signalling (ufrag, pwd, candidates) went through files, outside the capture.")
    n.append(f"Nomination: {nomination}. a selected {pa['local']} ({pa['localType']}) -> {pa['remote']} "
             f"({pa['remoteType']}); b selected {B.st['selectedPair']['local']} ({B.st['selectedPair']['localType']}) "
             f"-> {B.st['selectedPair']['remote']} ({B.st['selectedPair']['remoteType']}); both from "
             "Connection._nominated."
             + ("" if relay_only else " aioice never signals srflx candidates as pair locals: a check from a srflx "
                "candidate is sent from its base, the host socket."))
    multi = [s.name for s in (A, B) if sum(1 for p in s.st["checkList"] if p["nominated"]) > 1]
    if multi:
        n.append("With aggressive nomination more than one pair ended up nominated for agent(s) "
                 + ", ".join(multi) + " (agents[].nominatedPairs); aioice keeps the last one to complete as "
                 "the selected pair and sends the data there.")
    prflx = [c["address"] for s in (A, B) for c in s.st["remoteCandidates"] if c["type"] == "prflx"]
    if prflx:
        n.append("Peer-reflexive candidates learnt by aioice (a check arrived from an unsignalled address): "
                 + ", ".join(prflx) + ".")
    if args.nat_b == "sym" or args.nat_a == "sym":
        n.append("The symmetric NAT gives the same host socket a different public port per destination "
                 "(nat.addressDependentMappings, from conntrack), so its srflx candidate only works towards "
                 "the STUN server and the direct checks towards it are dropped.")
    if relay_only:
        n.append("No host or srflx candidate exists, so there are no direct checks and no STUN Binding to the "
                 "server at all: the only pair of each agent is relay <-> relay.")
    else:
        n.append("Private host candidates (10.0.x.x) are unreachable from the other side: checks to them die at "
                 "the sender's NAT router (blackhole route) or, when relayed by coturn, leave the TURN server "
                 "towards an absent internet gateway.")
    n.append("Analyzer must report: " + ("" if relay_only else "per-host reflexive addresses learnt from the STUN server, ")
             + "the two TURN "
             "allocations (relayed address, client 5-tuple, 401 round trip, ChannelBinds, deletion), the ICE "
             "session with both ufrags, the check list with the selected pair and its nomination mode, "
             "and the data flow on the selected pair. selectedPairChecks lists the 5-tuples where this capture "
             "shows the checks of the selected pairs (plain STUN, or STUN inside ChannelData).")
    n.append("Sources: ice_agent.py state dumps (aioice), coturn -V log, conntrack -L of both NAT routers, "
             "tcpdump packet counts.")
    return " ".join(n)


# ---------------------------------------------------------------- expected findings

def finding(code, severity):
    return {"code": code, "severity": severity}


# aioice closes its sockets at the end: a packet still in flight towards one
# (a late check, consent or ChannelData) may draw an ICMP port unreachable.
# Timing-dependent, so allowed, never required.
LATE_ICMP = finding("icmp.unreachable", "info")

# One line per scenario: why the findings are what they are (README,
# "Expected findings (issue 14)"). Written from the scenario, never from an
# analyzer's output.
WHY = {
    "ice-direct": (
        "Healthy direct call: both agents behind port-preserving NATs select a srflx<->srflx pair, send their "
        "data, keep consent for ~5 s and delete their allocations with Refresh 0. Checks to private host "
        "candidates vanish at the NATs and, at the turn-server, the relayed checks that lost the race go "
        "unanswered: normal ICE, so no warning or error."),
    "ice-relay-symmetric": (
        "NAT B is symmetric (a new public port per destination), so every direct and srflx pair fails and a "
        "relayed pair is selected: the call works, relayed because of the symmetric NAT (root cause, info), "
        "required wherever the selected pair's checks pass. The symmetric mapping itself may be reported where "
        "two of B's public ports for one host socket are on the wire."),
    "ice-prflx-public": (
        "Healthy direct call: A on the public segment, B behind the symmetric NAT, no TURN. b's check reaches a "
        "from an unsignalled public port, a learns a peer-reflexive candidate and selects it; the prflx is "
        "required where that check (or a's triggered check and its answer) is visible. The call works: no "
        "warning or error."),
    "ice-relay-only": (
        "Both agents use the relay-only transport policy: only relay candidates are offered, so a relay<->relay "
        "pair is selected although both NATs are port preserving (a direct pair would work). Root cause (info) "
        "required wherever the selected pair's checks pass; nothing failed."),
    "sip-ice-call": (
        "Healthy SIP call with ICE (regular nomination) between port-preserving NATs: direct srflx<->srflx "
        "pair, data, BYE. Unanswered checks to private host candidates are normal: no warning or error."),
    "stun-classic": (
        "RFC 3489 NAT test (stun-client vs stund) behind port-preserving NAT A and symmetric NAT B. B's one "
        "socket gets a different mapping per server IP (test I vs I(2)): nat.symmetric wherever B is seen. "
        "The CHANGE-REQUEST answers dropped by the NATs are the test's result (filtering), not a failure; the "
        "hairpin probe's ICMP port unreachable is part of the test (info)."),
    "stun-rfc5780": (
        "RFC 5780 NAT behaviour discovery (turnutils_stunclient / turnutils_natdiscovery vs coturn) behind NAT A "
        "and symmetric NAT B: B's mapping differs per server address and port, so nat.symmetric wherever B is "
        "seen. The unanswered CHANGE-REQUEST / RESPONSE-PORT tests are the filtering result, not a failure."),
    "stun-classic-at-server": (
        "The RFC 3489 NAT test of stun-classic, seen at the server: B's requests of test I and I(2) arrive from "
        "two different public ports (symmetric NAT), so nat.symmetric is required. The CHANGE-REQUEST answers "
        "sent from the alternate address/port (and dropped by the NATs) are the test's result, not a failure."),
    "stun-rfc5780-at-server": (
        "The RFC 5780 NAT discovery of stun-rfc5780, seen at the server: B's mapping-test requests arrive from a "
        "different public port per server address and port (symmetric NAT), so nat.symmetric is required. The "
        "CHANGE-REQUEST / RESPONSE-PORT answers sent from the alternate address/port and dropped by the NATs are "
        "the test's result, not a failure."),
}

RELAY_ROOT_CAUSE = {
    "ice-relay-symmetric": "ice.relayed.symmetric-nat",
    "ice-relay-only": "ice.relayed.relay-only",
}


def expected_findings(scenario, vantage, truth):
    """expectedFindings of one truth file (shape in captures/README.md)."""
    required, allowed = [], []
    if "ice" in truth:
        checks_here = bool(truth["ice"]["selectedPairChecks"])
        if scenario in RELAY_ROOT_CAUSE and checks_here:
            required.append(finding(RELAY_ROOT_CAUSE[scenario], "info"))
        if scenario == "ice-prflx-public" and checks_here:
            # the check that made a learn b's prflx, or a's triggered check and
            # its answer (XOR-MAPPED-ADDRESS = the prflx) on b's side
            required.append(finding("ice.candidate.prflx", "info"))
        if scenario == "ice-relay-symmetric":
            # B's host socket with two public ports on the wire at this vantage
            adm = truth["nat"].get("routers", {}).get("nat-b", {}).get("addressDependentMappings", {})
            seen = [{out for dest, out in dests.items()
                     if vantage == "public" or (vantage == "turn-server" and ip_of(dest) in TURN_IPS)}
                    for dests in adm.values()]
            if any(len(outs) >= 2 for outs in seen):
                allowed.append(finding("nat.symmetric", "warning"))
        allowed.append(LATE_ICMP)
    elif "stun" in truth:
        if vantage in ("lan-symmetric", "public", "server"):
            required.append(finding("nat.symmetric", "warning"))
        if scenario.startswith("stun-classic") and vantage.startswith("lan-"):
            # the hairpin probe to the client's own mapped address is refused by
            # the router with ICMP port unreachable (on the LAN side only)
            allowed.append(finding("icmp.unreachable", "info"))
    return {"why": WHY[scenario], "required": required, "allowed": allowed}


# ---------------------------------------------------------------- STUN

def parse_stun_client(path):
    """stun-client 0.97 -v output."""
    txt = open(path).read()
    res = {"responses": []}
    cur = None
    for line in txt.splitlines():
        m = re.match(r"(MappedAddress|SourceAddress|ChangedAddress|XorMappedAddress) = (\S+)", line)
        if m:
            if m.group(1) == "MappedAddress":
                cur = {}
                res["responses"].append(cur)
            cur[m.group(1)] = m.group(2)
        m = re.match(r"(test I|test II|test III|test I\(2\)|is nat|mapped IP same|hairpin|preserver port)\s*= (\d)", line)
        if m:
            res.setdefault("tests", {})[m.group(1)] = int(m.group(2))
        if line.startswith("Primary:"):
            res["result"] = line.split(":", 1)[1].strip()
        m = re.match(r"Return value is (0x[0-9a-f]+)", line)
        if m:
            res["returnValue"] = m.group(1)
    res["sent"] = re.findall(r"About to send msg of len \d+ to (\S+)", txt)
    return res


def classic_behaviour(result):
    mapping = filtering = None
    if "Independent Mapping" in result:
        mapping = "endpoint-independent"
    elif "Dependent Mapping" in result:
        mapping = "address-dependent (symmetric)"
    if "Port Dependent Filter" in result:
        filtering = "address-and-port-dependent"
    elif "Address Dependent Filter" in result:
        filtering = "address-dependent"
    elif "Independent Filter" in result:
        filtering = "endpoint-independent"
    return mapping, filtering


# turnutils_stunclient -f prints one "RFC 5780 response" block per answer;
# these lines of a block name its addresses (key in the truth: pattern).
TURNUTILS_RESPONSE_ADDRESSES = {
    "responseOrigin": re.compile(r"Response origin: : (\S+)"),
    "otherAddress": re.compile(r"Other addr: : (\S+)"),
    "reflexive": re.compile(r"UDP reflexive addr: (\S+)"),
    "localAddress": re.compile(r"Local addr: : (\S+)"),
}


def parse_turnutils(path):
    txt = open(path).read() if os.path.exists(path) else ""
    out = {"responses": []}
    cur = None
    for line in txt.splitlines():
        if line.startswith("RFC 5780 response"):
            cur = {}
            out["responses"].append(cur)
            continue
        for key, pattern in TURNUTILS_RESPONSE_ADDRESSES.items():
            m = pattern.search(line)
            if m and cur is not None:
                cur[key] = m.group(1)
        m = re.match(r"NAT with (.*)!", line)
        if m:
            out.setdefault("results", []).append(m.group(1))
        if "STUN receive timeout" in line:
            out["timeouts"] = out.get("timeouts", 0) + 1
    return out


def behaviour_5780(results):
    """(mapping, filtering) in RFC 4787 words from turnutils_natdiscovery's
    "NAT with ..." results; a result it words otherwise is kept as it is."""

    def rfc4787(result, what):
        rl = result.lower()
        return ("endpoint-independent" if "endpoint independent" in rl else
                "address-dependent" if f"address dependent {what}" in rl else
                "address-and-port-dependent" if "address and port dependent" in rl else result)

    mapping = filtering = None
    for r in results or []:
        if "mapping" in r.lower():
            mapping = rfc4787(r, "mapping")
        if "filtering" in r.lower():
            filtering = rfc4787(r, "filtering")
    return mapping, filtering


# ---------------------------------------------------------------- STUN, server side

def parse_conntrack_counted(path):
    """conntrack -L lines of the STUN server's host (nf_conntrack_acct on):
    original/reply tuples with their packet counts."""
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            if not line.startswith("udp"):
                continue
            kv = CT_RE.findall(line)
            dirs, cur = [], {}
            for k, v in kv:
                if k in cur and k in ("src", "dst", "sport", "dport", "packets", "bytes"):
                    dirs.append(cur)
                    cur = {}
                cur[k] = v
            dirs.append(cur)
            o, r = dirs[0], dirs[1]
            out.append({"src": fmt(o["src"], o["sport"]), "dst": fmt(o["dst"], o["dport"]),
                        "packets": int(o.get("packets", 0)),
                        "replyPackets": int(r.get("packets", 0)),
                        "replied": "[UNREPLIED]" not in line})
    out.sort(key=lambda e: (e["src"], e["dst"]))
    return out


def sent_by_server(ct, src, dst):
    """Packets the server host sent src -> dst, by its own conntrack table."""
    n = 0
    for e in ct:
        if e["src"] == src and e["dst"] == dst:
            n += e["packets"]
        if e["src"] == dst and e["dst"] == src:
            n += e["replyPackets"]
    return n


def stund_exchanges(path, server, server_alt):
    """stund -v: one block per request: the socket it arrived on (A1/A2 =
    primary/alternate IP, P1/P2 = port 3478/3479), the sender, the
    CHANGE-REQUEST flags and where the answer goes. stund answers from the
    socket with the IP and/or port changed as requested (server.cxx), whatever
    its SOURCE-ADDRESS attribute says."""
    ips = {"A1": ip_of(server), "A2": server_alt}
    ports = {"P1": 3478, "P2": 3479}
    flip = {"A1": "A2", "A2": "A1", "P1": "P2", "P2": "P1"}
    out, cur = [], None
    with open(path, errors="replace") as f:
        for line in f:
            line = line.strip()
            m = re.match(r"received on (A[12]):(P[12])", line)
            if m:
                cur = {"sock": (m.group(1), m.group(2))}
                out.append(cur)
                continue
            if cur is None:
                continue
            for key, pat in (("from", r"Got a request \(len=\d+\) from (\S+)"),
                             ("changeIp", r"changeIp=(\d)"), ("changePort", r"changePort=(\d)"),
                             ("respondTo", r"respond to = (\S+)"),
                             ("mappedAttr", r"Encoding MappedAddress: (\S+)"),
                             ("sourceAttr", r"Encoding SourceAddress: (\S+)"),
                             ("changedAttr", r"Encoding ChangedAddress: (\S+)")):
                m = re.match(pat, line)
                if m:
                    cur[key] = m.group(1)
    ex = []
    for r in out:
        a, p = r["sock"]
        ci, cp = r.get("changeIp") == "1", r.get("changePort") == "1"
        ans = (flip[a] if ci else a, flip[p] if cp else p)
        ex.append({"from": r["from"], "to": fmt(ips[a], ports[p]),
                   "changeRequest": {"changeIp": ci, "changePort": cp},
                   "responsePort": None,
                   "answerFrom": fmt(ips[ans[0]], ports[ans[1]]), "answerTo": r["respondTo"],
                   "mappedAddressAttribute": r.get("mappedAttr"),
                   "sourceAddressAttribute": r.get("sourceAttr"),
                   "changedAddressAttribute": r.get("changedAttr")})
    return ex


def classic_test_name(e, server):
    cr = e["changeRequest"]
    if cr["changeIp"]:
        return "II (change IP)"
    if cr["changePort"]:
        return "III (change port)"
    return "I" if e["to"] == server else "I(2) (to the CHANGED-ADDRESS IP)"


def group_exchanges(ex):
    """Collapse retransmissions: one entry per distinct exchange with a count."""
    out = []
    for e in ex:
        k = {x: y for x, y in e.items() if x != "count"}
        for o in out:
            if {x: y for x, y in o.items() if x != "count"} == k:
                o["count"] += 1
                break
        else:
            out.append(dict(k, count=1))
    return out


def rfc5780_exchanges(c, server, server_alt, mappings):
    """The requests of turnutils_stunclient -f and turnutils_natdiscovery -m -f
    (coturn 4.6.1 sources: stunclient.c run_stunclient(), natdiscovery.c
    discoverNatMapping()/discoverNatFiltering()) with the addresses the tools
    printed, and where coturn answers from: the request's destination, or, for
    CHANGE-REQUEST, the OTHER-ADDRESS IP and/or port (RFC 5780 section 7.2);
    a RESPONSE-PORT answer goes to the request's source IP at that port."""
    srv_ip, alt_port = ip_of(server), 3479
    other = {(False, False): server, (True, True): fmt(server_alt, alt_port),
             (False, True): fmt(srv_ip, alt_port), (True, False): fmt(server_alt, 3478)}
    ex = []
    # turnutils_stunclient -f: a plain Binding, then (same socket) RESPONSE-PORT
    # = local port + 1 with CHANGE-REQUEST change IP and port; it then waits
    # for that answer forever (ended by timeout), so the third request
    # (PADDING) is never sent
    pub = c["reflexive"]
    inside_port = split(c["inside"])[1]
    ex.append({"tool": "turnutils_stunclient", "test": "Binding", "from": pub, "to": server,
               "changeRequest": None, "responsePort": None, "answerFrom": server, "answerTo": pub,
               "answerReachedClient": True})
    ex.append({"tool": "turnutils_stunclient", "test": "Binding with RESPONSE-PORT and CHANGE-REQUEST",
               "from": pub, "to": server, "changeRequest": {"changeIp": True, "changePort": True},
               "responsePort": inside_port + 1, "answerFrom": other[(True, True)],
               "answerTo": fmt(ip_of(pub), inside_port + 1),
               "answerReachedClient": len(c["stunclientResponses"]) > 1})
    # natdiscovery -m: Bindings to the primary address, the alternate IP (same
    # port) and, when the mapping changed, the alternate IP and port; each
    # printed response names its RESPONSE-ORIGIN (= the destination) and the
    # reflexive address (= the request's public source)
    nd = c["natdiscoveryResponses"]
    n_map = len(nd) - 1  # the last printed response is the filtering test's test I
    names = ["mapping test I", "mapping test II (alternate IP)", "mapping test III (alternate IP and port)"]
    for i, r in enumerate(nd[:n_map]):
        ex.append({"tool": "turnutils_natdiscovery", "test": names[i], "from": r["reflexive"],
                   "to": r["responseOrigin"], "changeRequest": None, "responsePort": None,
                   "answerFrom": r["responseOrigin"], "answerTo": r["reflexive"], "answerReachedClient": True})
    # natdiscovery -f: test I, then CHANGE-REQUEST ip+port, then port only,
    # all to the primary address from one socket; the two timeouts it prints
    # are these answers
    f = nd[-1]
    ex.append({"tool": "turnutils_natdiscovery", "test": "filtering test I", "from": f["reflexive"],
               "to": f["responseOrigin"], "changeRequest": None, "responsePort": None,
               "answerFrom": f["responseOrigin"], "answerTo": f["reflexive"], "answerReachedClient": True})
    for test, key in (("filtering test II (CHANGE-REQUEST change IP and port)", (True, True)),
                      ("filtering test III (CHANGE-REQUEST change port)", (False, True))):
        ex.append({"tool": "turnutils_natdiscovery", "test": test, "from": f["reflexive"], "to": server,
                   "changeRequest": {"changeIp": key[0], "changePort": key[1]}, "responsePort": None,
                   "answerFrom": other[key], "answerTo": f["reflexive"],
                   "answerReachedClient": c["natdiscoveryTimeouts"] < 2})
    return ex


def stun_truths(args):
    work = args.work
    kinds = {"a": "pp", "b": "sym"}
    hosts = {"a": "10.0.1.10", "b": "10.0.2.10"}
    ct = {s: parse_conntrack(os.path.join(work, f"conntrack.nat-{s}.txt")) for s in "ab"}
    mappings = {s: nat_mappings(ct[s], f"nat-{s}") for s in "ab"}
    server_side = "server" in (args.vantages or "").split(",")
    if server_side:
        server_ct = parse_conntrack_counted(os.path.join(work, "conntrack.server.txt"))
        if not server_ct:
            sys.exit("no conntrack entries from the STUN server's host")
        if args.kind == "classic":
            stund_ex = stund_exchanges(os.path.join(work, "stund.log"), args.server, args.server_alt)
    clients = {}
    for s in "ab":
        c = {"side": s, "natType": NAT_NAMES[kinds[s]], "natPublicAddress": NAT_PUBLIC[s],
             "natImplementation": NAT_DESCR[kinds[s]]}
        if args.kind == "classic":
            r = parse_stun_client(os.path.join(work, f"client-{s}.txt"))
            inside = fmt(hosts[s], 40000)
            first = r["responses"][0]
            mapping, filtering = classic_behaviour(r.get("result", ""))
            c.update({
                "tool": "stun (stun-client 0.97) -v -p 40000, RFC 3489 tests I, II (CHANGE-REQUEST change IP), "
                        "III (CHANGE-REQUEST change port), I(2) to the CHANGED-ADDRESS IP, hairpin",
                "inside": inside,
                "reflexive": first["MappedAddress"],
                "sourceAddress": first["SourceAddress"],
                "changedAddress": first["ChangedAddress"],
                "printedResult": r.get("result"),
                "tests": r.get("tests"),
                "returnValue": r.get("returnValue"),
                "mappingBehavior": mapping,
                "filteringBehavior": filtering,
                "responses": r["responses"],
            })
            # test I(2): the request sent to the CHANGED-ADDRESS IP
            alt_ip = ip_of(first["ChangedAddress"])
            alt_dst = next((d for d in r["sent"] if ip_of(d) == alt_ip), None)
            if len(r["responses"]) > 1 and alt_dst:
                c["reflexiveByServer"] = {fmt(*split(args.server)): first["MappedAddress"],
                                          alt_dst: r["responses"][1]["MappedAddress"]}
                c["testI2Server"] = alt_dst
                c["testI2SourceAddressAttribute"] = r["responses"][1]["SourceAddress"]
        else:
            sc = parse_turnutils(os.path.join(work, f"stunclient-{s}.txt"))
            nd = parse_turnutils(os.path.join(work, f"natdiscovery-{s}.txt"))
            mapping, filtering = behaviour_5780(nd.get("results"))
            c.update({
                "tool": "turnutils_stunclient -f (coturn 4.6.1) then turnutils_natdiscovery -m -f",
                "inside": fmt(hosts[s], 0),
                "reflexive": sc["responses"][0]["reflexive"],
                "responseOrigin": sc["responses"][0].get("responseOrigin"),
                "otherAddress": sc["responses"][0].get("otherAddress"),
                "stunclientResponses": sc["responses"],
                "natdiscoveryResponses": nd["responses"],
                "natdiscoveryResults": nd.get("results"),
                "natdiscoveryTimeouts": nd.get("timeouts", 0),
                "mappingBehavior": mapping,
                "filteringBehavior": filtering,
            })
            # the stunclient socket: the conntrack entry whose public side is the printed reflexive address
            for m in mappings[s]:
                if m["kind"] == "masquerade" and m["outside"] == c["reflexive"] \
                        and m["destination"] == args.server:
                    c["inside"] = m["inside"]
        c["natMappings"] = mappings[s]
        if server_side:
            if args.kind == "classic":
                mine = [e for e in stund_ex if ip_of(e["from"]) == NAT_PUBLIC[s]]
                reached = {"I": True, "I(2) (to the CHANGED-ADDRESS IP)": len(c["responses"]) > 1,
                           "II (change IP)": c["tests"]["test II"] == 1,
                           "III (change port)": c["tests"]["test III"] == 1}
                for e in mine:
                    e["test"] = classic_test_name(e, args.server)
                    e["answerReachedClient"] = reached[e["test"]]
                ex = group_exchanges(mine)
            else:
                ex = rfc5780_exchanges(c, args.server, args.server_alt, mappings[s])
            for e in ex:
                # the server host's own conntrack: the answers left from answerFrom
                n = sent_by_server(server_ct, e["answerFrom"], e["answerTo"])
                if n < e.get("count", 1):
                    sys.exit(f"{s}: server conntrack shows {n} packets {e['answerFrom']} -> {e['answerTo']}, "
                             f"expected {e.get('count', 1)} ({e['test']})")
                e["answerFromAlternate"] = e["answerFrom"] != e["to"]
            c["serverExchanges"] = ex
        sym = symmetric_check(mappings[s])
        if kinds[s] == "sym" and not sym:
            sys.exit("NAT B should be symmetric but conntrack shows no address-dependent mapping")
        if sym:
            c["addressDependentMappings"] = sym
        clients[s] = c

    vmap = {"lan-port-preserving": "a", "lan-symmetric": "b", "public": None, "server": None}
    wanted = [v for v in (args.vantages or "lan-port-preserving,lan-symmetric,public").split(",") if v]
    for v in wanted:
        s = vmap[v]
        descr = {
            "lan-port-preserving": "inside LAN A behind the port-preserving NAT, on the client's interface",
            "lan-symmetric": "inside LAN B behind the symmetric NAT, on the client's interface",
            "public": "the public segment (NAT WAN sides and the STUN server): both clients, post-NAT",
            "server": ("the STUN server's own interface (" + ("stund" if args.kind == "classic" else "coturn")
                       + f", {ip_of(args.server)} and {args.server_alt}): both clients' requests post-NAT and "
                       "every answer, including those sent from the alternate address/port"),
        }[v]
        t = base_truth(args.scenario, v, work, descr)
        if args.kind == "rfc5780":
            t["credentials"] = []
        stun = {
            "server": args.server,
            "serverAlternateIp": args.server_alt,
            "protocol": ("RFC 3489 (classic STUN, no magic cookie; stund 0.97 'Vovida.org')"
                         if args.kind == "classic" else
                         "RFC 5389 Binding with RFC 5780 NAT behaviour discovery (coturn 4.6.1)"),
        }
        if s:
            c = clients[s]
            stun.update({"client": c["inside"], "reflexive": c["reflexive"],
                         "mappingBehavior": c["mappingBehavior"],
                         "filteringBehavior": c["filteringBehavior"], "clients": [c]})
            t["nat"] = {"type": c["natType"], "router": f"nat-{s}", "publicAddress": NAT_PUBLIC[s],
                        "implementation": NAT_DESCR[kinds[s]], "mappings": mappings[s]}
        else:
            stun["clients"] = [clients["a"], clients["b"]]
            t["nat"] = {"type": "nat-a: port-preserving, nat-b: symmetric",
                        "mappings": mappings["a"] + mappings["b"]}
        if server_side:
            stun["serverConntrack"] = server_ct
            stun["serverExchangesSource"] = (
                ("stund -v log (socket each request arrived on, CHANGE-REQUEST flags, respond-to address; "
                 "stund answers from the socket with IP/port changed as requested)"
                 if args.kind == "classic" else
                 "the tools' printed results and their request sequence (turnutils_stunclient -f, "
                 "turnutils_natdiscovery -m -f of coturn 4.6.1) with coturn's RFC 5780 answer rule")
                + "; every answer checked against the server host's own conntrack table (serverConntrack, "
                "with packet counts)")
        t["stun"] = stun
        t["notes"] = stun_notes(args, v)
        t["expectedFindings"] = expected_findings(args.scenario, v, t)
        write_truth(args.out, t)


def stun_notes(args, v):
    if args.kind == "classic":
        n = ("RFC 3489 NAT type detection by stun-client 0.97 against stund 0.97 (203.0.113.20 primary, "
             "203.0.113.21 alternate, ports 3478/3479), first from host A (10.0.1.10, port-preserving NAT), "
             "then from host B (10.0.2.10, symmetric NAT). Test I: Binding without CHANGE-REQUEST, answered "
             "with MAPPED-ADDRESS, SOURCE-ADDRESS, CHANGED-ADDRESS. Tests II (CHANGE-REQUEST change IP: answered "
             "from 203.0.113.21:3478) and III (change port: answered from 203.0.113.20:3479), sent from the "
             "client's second socket (port 40001), are dropped by both NATs (conntrack filtering), so they repeat. Test I(2) goes to the CHANGED-ADDRESS IP "
             "(port 3478): same mapping behind NAT A, a new port behind NAT B (symmetric). The client finally "
             "sends a hairpin probe to its own mapped address, which the router rejects with ICMP port "
             "unreachable. Quirks an analyzer should survive: stund also sends attribute 0x0020 (a pre-RFC 5389 "
             "XOR-MAPPED-ADDRESS XORed differently: decoding it with the RFC 5389 magic cookie gives a wrong "
             "address), and its SOURCE-ADDRESS in the test I(2) answer says port 3479 (CHANGED-ADDRESS "
             "203.0.113.20:3478) while the packet comes from 203.0.113.21:3478. Analyzer must report: the classic (cookie-less) Bindings, each client's reflexive "
             "address (MAPPED-ADDRESS) per server address, CHANGE-REQUEST tests without answers at the client, "
             "and the mapping behaviour (endpoint-independent for A, address-dependent/symmetric for B). "
             "Sources: stun-client -v output, conntrack, tcpdump counts.")
    else:
        n = ("RFC 5780 NAT behaviour discovery against coturn 4.6.1 listening on 203.0.113.10 and 203.0.113.11 "
             "(ports 3478 and alternate 3479), so Binding responses carry XOR-MAPPED-ADDRESS, MAPPED-ADDRESS, "
             "RESPONSE-ORIGIN and OTHER-ADDRESS. From host A (port-preserving NAT) then host B (symmetric NAT): "
             "turnutils_stunclient -f (a Binding, then a Binding with CHANGE-REQUEST whose answer comes from "
             "the OTHER-ADDRESS and is dropped by the NAT) and turnutils_natdiscovery -m -f (mapping test: "
             "Bindings to the primary address, to the alternate IP, to the alternate IP+port; filtering test: "
             "CHANGE-REQUEST ip+port and port only, both unanswered at the client). Analyzer must report: per "
             "client the reflexive address per server address, RESPONSE-ORIGIN/OTHER-ADDRESS, the mapping "
             "behaviour (endpoint-independent for A; address-and-port-dependent for B: a different port for "
             "each server address and port) and the filtering behaviour (address-and-port-dependent for both). "
             "Sources: the tools' printed results, conntrack, tcpdump counts.")
    if args.scenario.endswith("-at-server"):
        n += (" This run is captured at the server (vantage server: the STUN server's own interface, which "
              "carries both of its addresses) and on the public segment, not on the clients' LANs: every "
              "request arrives post-NAT and every answer is visible, including the answers to CHANGE-REQUEST "
              "(and RESPONSE-PORT) sent from the alternate address/port that the NATs then drop. "
              "stun.clients[].serverExchanges lists per client each exchange: test, public source, server "
              "address it went to, CHANGE-REQUEST flags, RESPONSE-PORT, the server address/port the answer "
              "left from (answerFromAlternate), where it went and whether it reached the client; the server "
              "host's conntrack (serverConntrack, with packet counts) confirms each answer.")
    return n


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    i = sub.add_parser("ice")
    i.add_argument("--scenario", required=True)
    i.add_argument("--work", required=True)
    i.add_argument("--out", required=True)
    i.add_argument("--nat-a", required=True, choices=["pp", "sym", "none"])
    i.add_argument("--nat-b", required=True, choices=["pp", "sym", "none"])
    i.add_argument("--signal", required=True)
    i.add_argument("--nomination", required=True)
    i.add_argument("--expect", default="any", choices=["direct", "relay", "relay-only", "prflx", "any"])
    i.add_argument("--turn", default="yes", choices=["yes", "no"])
    i.add_argument("--policy", default="all", choices=["all", "relay"])
    i.add_argument("--vantages", default="", help="comma-separated vantages to write (default: all four)")
    s = sub.add_parser("stun")
    s.add_argument("--scenario", required=True)
    s.add_argument("--kind", required=True, choices=["classic", "rfc5780"])
    s.add_argument("--work", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--server", required=True)
    s.add_argument("--server-alt", required=True)
    s.add_argument("--vantages", default="", help="comma-separated vantages to write "
                   "(default: lan-port-preserving,lan-symmetric,public)")
    args = ap.parse_args()
    if args.cmd == "ice":
        ice_truths(args)
    else:
        stun_truths(args)


if __name__ == "__main__":
    main()
