#!/usr/bin/env python3
"""Write the truth JSON files of one TURN scenario run (see turn_scenarios.sh).

Facts come only from what the generator knows without dissecting a capture:

* coturn's verbose log (-V): sessions, allocations ("new"), relayed addresses
  ("Local relay addr"), every lifetime granted ("new"/"refreshed"), error
  responses ("incoming packet message processed, error N"), permissions
  ("peer X lifetime updated"), close reason and client address ("closed (2nd
  stage) ... remote X, reason: ..."), usage counters ("usage"/"peer usage").
* turnutils_uclient -v output: local socket of each allocation ("Connected
  from"), its relayed address ("Received relay addr"), channel numbers of
  successful ChannelBinds ("success: 0x4xxx"), allocation errors.
* the NAT router's conntrack table (events + final listing): LAN <-> public
  address translation.
* the scenario configuration (run.txt, clients.tsv, captures.tsv) and the
  capture tools' own end-of-run packet counters.

Usage: coturn_truth.py --dir WORKDIR [--check]
"""
import argparse
import ipaddress
import json
import os
import re
import sys
from collections import Counter, OrderedDict

GENERATOR = "captures/gen/turn_scenarios.sh"

# ----------------------------------------------------------------- scenarios
# summary: one line for the README; notes: what the capture shows and what an
# analyzer must report. expect: checks on the run (the generator retries a
# scenario whose run does not show what it is meant to show).
SCENARIOS = {
    "turn-udp-channels": dict(
        # Written from the scenario (captures/README.md, Expected findings), the same at every vantage.
        findings=lambda v: {'why': "Healthy TURN/UDP run: Allocate (the first 401 is the normal challenge), Refresh, ChannelBind, CreatePermission, ChannelData both ways, Refresh 0; the probe allocation left active at capture end is uclient's normal behaviour. Nothing failed.", 'required': [], 'allowed': []},
        summary="TURN over UDP, ChannelBind + ChannelData to a UDP peer; same run in 6 files "
                "(server pcap/pcapng/SLL2/nanosecond, client LAN, public side of the NAT)",
        notes="turnutils_uclient behind a masquerading NAT allocates twice on two sockets: a "
              "'probe' allocation (never used, never deleted: still active at capture end) and "
              "the real one, which binds two channels (to peer port 3481 and 3480), refreshes, "
              "creates a permission, exchanges 5 ChannelData messages with the peer and deletes "
              "the allocation (Refresh lifetime 0). An analyzer must report 2 allocations with "
              "these relayed addresses, the 401 challenge per allocation, the channels and their "
              "peers, the lifetimes, the deletion, and (server vantage) the relayed peer leg "
              "(5 packets each way, 100 bytes each). The -sll2, -pcapng and -nano files are the "
              "same traffic as .server.pcap in another container / link type / time precision.",
        expect=dict(min_allocations=2, outcomes={"deleted": 1, "active": 1}, channels=True,
                    peer_packets=5),
    ),
    "turn-udp-send": dict(
        # Written from the scenario (captures/README.md, Expected findings), the same at every vantage.
        findings=lambda v: {'why': 'Healthy TURN/UDP run with Send/Data indications and a final Refresh 0. uclient closes its socket right after deallocating, so a late server packet may be answered by ICMP port unreachable: harmless.', 'required': [], 'allowed': [{'code': 'icmp.unreachable', 'severity': 'info'}]},
        summary="TURN over UDP with CreatePermission + Send/Data indications only (no channels)",
        notes="Like turn-udp-channels but uclient -s: the real allocation creates permissions for "
              "the peer (ports 3480 and 3481, one peer IP) and relays 5 messages with Send "
              "indications; the peer's answers come back as Data indications. No ChannelBind. An "
              "analyzer must report the permission for 198.51.100.20, the Send/Data indication "
              "traffic attributed to the allocation, and its deletion.",
        expect=dict(min_allocations=2, outcomes={"deleted": 1, "active": 1}, channels=False,
                    permissions=True, peer_packets=5),
    ),
    "turn-tcp": dict(
        # Written from the scenario (captures/README.md, Expected findings), the same at every vantage.
        findings=lambda v: {'why': 'Healthy TURN over TCP: allocations, channels, ChannelData with padding, deletion; the probe allocation closes with its TCP connection by design.', 'required': [], 'allowed': []},
        summary="TURN over TCP: framed STUN + padded ChannelData (998-byte payloads), several "
                "messages per segment, messages split across segments",
        notes="uclient -t: client-server transport is TCP (relay still UDP). Payloads are 998 "
              "bytes, so every ChannelData frame on the TCP stream carries 2 padding bytes "
              "(RFC 8656 section 12.5); the 10 messages are sent back to back, so TCP segments "
              "carry several STUN/ChannelData messages, messages straddle segment boundaries, and "
              "some frames are larger than the MTU (Linux segmentation offload on veth: the "
              "capture sees the segment before it is cut). The probe allocation ends when uclient "
              "closes its TCP connection (no Refresh 0). An analyzer must reassemble the streams, "
              "honour the padding and report the same allocation facts as for UDP.",
        expect=dict(min_allocations=2, outcomes={"deleted": 1, "closed": 1}, channels=True,
                    peer_packets=10),
    ),
    "turn-tcp-relay": dict(
        # Written from the scenario (captures/README.md, Expected findings), the same at every vantage.
        findings=lambda v: {'why': "RFC 6062 client-to-client: one allocation sends Connect to another allocation's relayed address on the same coturn, so the two allocations are chained inside the server (the hop is on no wire). Everything succeeded.", 'required': [{'code': 'turn.relay.chained', 'severity': 'info'}], 'allowed': []},
        summary="RFC 6062 TCP relay: Allocate(TCP), Connect, ConnectionAttempt, ConnectionBind "
                "on separate data connections",
        notes="uclient -T: client-to-client over two TCP allocations of the same user (plus the "
              "probe allocation). One allocation sends Connect to the other's relayed address; "
              "the server signals ConnectionAttempt; both clients open new TCP data connections "
              "to the server and send ConnectionBind, after which the data connections carry raw "
              "application data (not STUN). turn.tcpDataConnections lists the data connections "
              "(coturn sessions without an allocation). An analyzer must report the TCP "
              "allocations, the permissions on the relayed address 198.51.100.11, the "
              "Connect/ConnectionBind pairs, and must not parse relayed data as STUN.",
        expect=dict(min_allocations=3, channels=False, permissions=True, data_connections=2),
    ),
    "turn-wrong-password": dict(
        # Written from the scenario (captures/README.md, Expected findings), the same at every vantage.
        findings=lambda v: {'why': 'The client uses a wrong password: every authenticated Allocate is answered 401 and no allocation is ever created. One problem: wrong credentials (the failed allocation is its consequence).', 'required': [{'code': 'turn.auth.wrong-credentials', 'severity': 'error'}], 'allowed': []},
        summary="Wrong password: Allocate answered with 401 again and again until the client "
                "gives up",
        notes="The client uses password 'wrong-password' (server knows alice:secret). Every "
              "authenticated Allocate gets 401 with a fresh NONCE; uclient gives up after 32 "
              "tries ('Cannot complete Allocation'). No allocation is created. An analyzer must "
              "report a failed allocation and the 401 loop (integrity check failure), not a "
              "success.",
        expect=dict(min_allocations=1, outcomes={"failed": 1}, errors={401: 2}),
    ),
    "turn-expiry": dict(
        # Written from the scenario (captures/README.md, Expected findings), the same at every vantage.
        findings=lambda v: {'why': "The client is SIGKILLed after relaying 5 messages and never refreshes or deletes: coturn expires both allocations silently. The allocations ended because the client disappeared (a warning: traffic through them stopped without a clean close). Packets coturn still sends to the dead client's ports may be answered by ICMP port unreachable; the final Binding with RESPONSE-PORT is a NAT test whose answer to an unopened port is refused by the NAT: neither is a failure.", 'required': [{'code': 'turn.allocation.expired', 'severity': 'warning'}], 'allowed': [{'code': 'icmp.unreachable', 'severity': 'info'}]},
        summary="Allocation expiry: server caps lifetime at 12 s, client killed (SIGKILL) "
                "without deallocating",
        notes="coturn runs with --max-allocate-lifetime=12, so every LIFETIME granted is 12. uclient "
              "(-h) binds channels and relays 5 messages, then is killed with SIGKILL: no Refresh 0 "
              "is ever sent. The capture continues until coturn has expired both allocations "
              "(close reason 'allocation timeout' without a preceding deletion). An analyzer "
              "must report both allocations as expired about 12 s after their last refresh, not "
              "deleted. UDP expiry is silent on the wire: a STUN Binding request/response from "
              "the client host (another port, turnutils_stunclient) after the expiry marks that "
              "the capture runs past the lifetime; it is not an allocation.",
        expect=dict(min_allocations=2, outcomes={"expired": 2}, channels=True, peer_packets=5),
    ),
    "turn-stale-nonce": dict(
        # Written from the scenario (captures/README.md, Expected findings), the same at every vantage.
        findings=lambda v: {'why': 'coturn rotates its nonce every 20 s: three requests get 438 Stale Nonce with a new NONCE and the client retries successfully with it (normal nonce rotation), then deallocates. The client closes its socket after Refresh 0, so a late server packet may be answered by ICMP port unreachable.', 'required': [{'code': 'turn.auth.stale-nonce', 'severity': 'info'}], 'allowed': [{'code': 'icmp.unreachable', 'severity': 'info'}]},
        summary="Stale nonce: 438 on Refresh/CreatePermission/ChannelBind after the nonce "
                "expired (--stale-nonce=20), Refresh retried with the new nonce",
        notes="coturn runs with --stale-nonce=20. uclient sends one ChannelData message per "
              "second for about 35 s; 30 s after start it refreshes the allocation, permission "
              "and channel with the nonce it got 30 s earlier: all three get 438 Stale Nonce "
              "carrying a new NONCE; uclient retries only the Refresh, which succeeds. The final "
              "Refresh 0 uses the new nonce and succeeds. An analyzer must report the 438s, the "
              "nonce change, the successful retry and that the allocation stayed alive.",
        expect=dict(min_allocations=2, outcomes={"deleted": 1, "active": 1}, errors={438: 1},
                    channels=True),
    ),
    "turn-quota": dict(
        # Written from the scenario (captures/README.md, Expected findings), the same at every vantage.
        findings=lambda v: {'why': "--user-quota=1: the probe allocation takes alice's only slot and the second Allocate is refused with 486 Allocation Quota Reached: the user could not get the allocation.", 'required': [{'code': 'turn.quota.reached', 'severity': 'error'}], 'allowed': []},
        summary="Allocation quota: --user-quota=1, second concurrent allocation of alice gets 486",
        notes="coturn runs with --user-quota=1. uclient's probe allocation takes alice's only "
              "allocation; the allocation on the second socket is rejected with 486 Allocation "
              "Quota Reached and uclient exits. An analyzer must report one active allocation "
              "and one failed Allocate (486) from a different client port.",
        expect=dict(min_allocations=2, outcomes={"active": 1, "failed": 1}, errors={486: 1}),
    ),
    "turn-forbidden-peer": dict(
        # Written from the scenario (captures/README.md, Expected findings), the same at every vantage.
        findings=lambda v: {'why': '--denied-peer-ip: ChannelBind to 198.51.100.20 is refused with 403 Forbidden; the client cannot reach its peer.', 'required': [{'code': 'turn.peer.forbidden', 'severity': 'error'}], 'allowed': []},
        summary="Forbidden peer: ChannelBind to a denied peer IP answered with 403",
        notes="coturn runs with --denied-peer-ip=198.51.100.20. The allocations succeed; the "
              "first ChannelBind to the peer gets 403 Forbidden IP and uclient exits without "
              "deleting its allocations (both remain active at capture end). An analyzer must "
              "report the 403 for peer 198.51.100.20 and that no permission or channel exists.",
        expect=dict(min_allocations=2, outcomes={"active": 2}, errors={403: 1}),
    ),
    "turn-ipv6": dict(
        # Written from the scenario (captures/README.md, Expected findings), the same at every vantage.
        findings=lambda v: {'why': 'Healthy TURN/UDP over IPv6 (NAT66 at the client), as turn-udp-channels.', 'required': [], 'allowed': []},
        summary="TURN over IPv6 (client behind NAT66, IPv6 relayed address, IPv6 peer)",
        notes="Same flow as turn-udp-channels with IPv6 everywhere: the client (fd00:77::10) is "
              "masqueraded to 2001:db8:51::2, the server is [2001:db8:51::10]:3478, relayed "
              "addresses are on 2001:db8:51::11, the peer is [2001:db8:51::20]:3480. An analyzer "
              "must decode IPv6 XOR-MAPPED/XOR-RELAYED/XOR-PEER-ADDRESS values (XOR with the "
              "transaction ID) and report the same allocation facts as for IPv4.",
        expect=dict(min_allocations=2, outcomes={"deleted": 1, "active": 1}, channels=True,
                    ipv6=True, peer_packets=5),
    ),
    "turn-xss-strings": dict(
        # Written from the scenario (captures/README.md, Expected findings), the same at every vantage.
        findings=lambda v: {'why': 'Healthy TURN/UDP run whose REALM and ORIGIN carry HTML; nothing failed.', 'required': [], 'allowed': []},
        summary="HTML/script payloads in real STUN strings: REALM <script>alert(1)</script>, "
                "ORIGIN <script>alert(2)</script>",
        notes="coturn cannot change its SOFTWARE attribute (only --no-software-attribute), so "
              "the SOFTWARE payload was not produced; instead the server's realm is "
              "'<script>alert(1)</script>' (REALM in every 401 and every authenticated request) "
              "and the client adds ORIGIN attributes ('https://carleon.gov:443', "
              "'<script>alert(2)</script>', 'ftp://uffrith.net', uclient -o). Otherwise like "
              "turn-udp-channels with 3 messages. An analyzer (HTML/terminal report) must show "
              "these strings escaped, never interpret them.",
        expect=dict(min_allocations=2, outcomes={"deleted": 1, "active": 1}, channels=True),
    ),
    "turn-refresh-late": dict(
        summary="Late Refresh: lifetime 8 s (--max-allocate-lifetime=8), the client refreshes 4 s "
                "after it ran out; coturn had expired the allocation and answers 438, then 437",
        notes="A TURN client of our own (captures/gen/turn_client.py, long-term credentials) "
              "allocates once (401 challenge, retry; LIFETIME 8 granted), sends nothing for 12 s "
              "and then refreshes. coturn had closed the allocation at its lifetime ('allocation "
              "timeout', silent on the wire); the late Refresh arrives on a new coturn session "
              "of the same 5-tuple, which does not know the nonce: 438 with a new NONCE; the "
              "client retries with it and gets 437 Allocation Mismatch (no allocation for this "
              "5-tuple), then stops. turn.clientTransactions is the client's own record of every "
              "request (transaction ID, NONCE sent) and answer; the allocation's laterSessions "
              "holds the coturn session that answered after the expiry, with the transaction IDs "
              "the client sent after its lifetime had run out and their counters, in coturn's terms "
              "but counted by the client (coturn logs no usage for a session it has not closed); "
              "the allocation's counters.clientLeg covers only the allocation's own session. An analyzer "
              "must report that the allocation was lost because the Refresh came after the "
              "lifetime; the 438 and 437 are consequences.",
        expect=dict(min_allocations=1, outcomes={"expired": 1}, errors={437: 1}, own_client=True,
                    refresh_late=True),
        findings=lambda v: dict(
            why="The client was granted an 8 s lifetime and sent its Refresh about 4 s after it ran "
                "out; coturn had already expired the allocation, so the Refresh failed (438, then "
                "437 Allocation Mismatch): the allocation was lost by refreshing late. The 438/437 "
                "answers are consequences of the late refresh, not separate problems.",
            required=[dict(code="turn.refresh.late", severity="error")],
            allowed=[]),
    ),
    "turn-stale-nonce-loop": dict(
        summary="Stale nonce loop: after 438 with a new NONCE the client re-sends its Refresh 5 "
                "times with the old nonce, each answered 438, then gives up",
        notes="coturn runs with --stale-nonce=3. A TURN client of our own (captures/gen/"
              "turn_client.py) allocates (401, retry), waits 5 s, refreshes with the nonce of the "
              "401 and gets 438 Stale Nonce with a new NONCE. It ignores the new nonce: 5 more "
              "Refresh requests 1 s apart (new transaction IDs), all with the old nonce, all "
              "answered 438 (coturn renews its nonce every 3 s, so the NONCE in the 438s changes "
              "during the loop). Then the client gives up without deleting the allocation, which "
              "stays active (600 s) at capture end. turn.clientTransactions is the client's own "
              "record of every request and answer. An analyzer must report the stale-nonce loop "
              "(the same old nonce re-sent after a 438 gave a new one).",
        expect=dict(min_allocations=1, outcomes={"active": 1}, errors={438: 6}, own_client=True,
                    stale_loop=6),
        findings=lambda v: dict(
            why="After a 438 Stale Nonce carrying a new NONCE the client kept re-sending its Refresh "
                "with the old nonce (6 Refreshes, all 438) and gave up: the client never adopted the "
                "new nonce, so it could not refresh its allocation.",
            required=[dict(code="turn.auth.stale-nonce-loop", severity="error")],
            allowed=[]),
    ),
    "turn-permission-drop": dict(
        summary="Permission drop: datagrams from a peer without permission (198.51.100.21) to the "
                "relayed address are dropped by coturn; the permitted peer's traffic is relayed",
        notes="A TURN client of our own (captures/gen/turn_client.py) allocates, creates a "
              "permission for 198.51.100.20 only and exchanges 5 Send indications with "
              "turnutils_peer on 198.51.100.20:3480 (5 echoes back as Data indications). Then a "
              "second host on the public segment, 198.51.100.21:4000 (captures/gen/udp_sender.py), "
              "sends 6 plain UDP datagrams of 80 bytes to the relayed address; coturn has no "
              "permission for that IP and drops them silently (no Data indication, no ICMP, no log "
              "line). coturn's 'peer usage' counters count them as received (rp) but nothing was "
              "forwarded. The client then deletes the allocation (Refresh 0). turn.unpermittedPeer "
              "is the sender's own record; turn.permittedPeer the client's count of its exchange "
              "with the permitted peer. An analyzer at the server vantage must report datagrams "
              "arriving at the relayed address that were not forwarded to the client; at "
              "client-lan the drop is invisible (the relayed leg is not on that wire).",
        expect=dict(min_allocations=1, outcomes={"deleted": 1}, permissions=True, own_client=True,
                    unpermitted=6, peer_packets=11),
        findings=lambda v: dict(
            why="The allocation has a permission for 198.51.100.20 only; 198.51.100.21 sent 6 "
                "datagrams to the relayed address, which coturn dropped (no permission): visible at "
                "the server as datagrams arriving at the relayed address and never forwarded to the "
                "client. The permitted peer's 5 messages each way were relayed normally.",
            required=[dict(code="turn.relay.not-forwarded", severity="warning")],
            allowed=[]) if v == "server" else dict(
            why="The allocation has a permission for 198.51.100.20 only and 198.51.100.21's "
                "datagrams to the relayed address were dropped by coturn, but the relayed leg is not "
                "on the client's LAN wire: nothing at this vantage shows the drop, and the permitted "
                "peer's 5 messages each way were relayed normally, so nothing is wrong here.",
            required=[], allowed=[]),
    ),
    "turn-relay-chained": dict(
        summary="Relay to relay: two allocations on the same coturn, each the other's peer; "
                "coturn forwards between its own relayed addresses inside the server host",
        notes="A TURN client of our own (captures/gen/turn_client.py) allocates twice from two "
              "sockets (A and B) on the same coturn. A binds a channel to B's relayed address, B "
              "creates a permission for A's relayed address (coturn accepts its own relayed "
              "addresses as peers without any option; --allow-loopback-peers only concerns "
              "127.0.0.0/8). A sends 5 ChannelData messages to B's relayed address, which B "
              "receives as Data indications from A's relayed address; B answers each with a Send "
              "indication to A's relayed address, which A receives as ChannelData on its channel. "
              "coturn sends between its relayed addresses locally: nothing between the two relayed "
              "addresses is on the wire at any vantage. Both allocations are deleted (Refresh 0). "
              "turn.relayToRelay lists both directions as the client sent and received them. An "
              "analyzer must recognise that each allocation's peer is the other's relayed address "
              "(chained relay), explained as info.",
        expect=dict(min_allocations=2, outcomes={"deleted": 2}, permissions=True, own_client=True,
                    chained=5),
        findings=lambda v: dict(
            why="Both clients are on the client LAN and allocate on the same coturn; each uses the "
                "other's relayed address as its peer, so coturn relays relay-to-relay inside the "
                "server host (5 messages each way, all delivered). That is a chained relay, normal "
                "and working: info only, no warning or error.",
            required=[dict(code="turn.relay.chained", severity="info")],
            allowed=[]),
    ),
    "turn-client-misuse": dict(
        summary="Client misuse on one allocation: Send without permission, ChannelData on an unbound "
                "channel, a bound channel re-bound to another peer (400), use after Refresh 0",
        notes="A TURN client of our own (captures/gen/turn_client.py misuse) allocates once (401, retry) "
              "and then: sends a Send indication to 198.51.100.20:3480 before any permission exists "
              "(coturn logs 'SEND processed, success' but relays nothing: the peer leg shows only the "
              "bound channel's message); sends ChannelData on channel 0x4002, never bound (dropped "
              "silently); ChannelBinds 0x4001 to 198.51.100.20:3480 (success) and relays one ChannelData "
              "(echoed by turnutils_peer); ChannelBinds the same 0x4001 to 198.51.100.20:3481 while it is "
              "bound: coturn answers 400 'You cannot use the same channel number with different peer' "
              "and keeps the first binding; deletes the allocation (Refresh 0, success); 3 s later (coturn "
              "frees a deleted allocation about 1 s after the Refresh 0 and relays until then) sends a Send "
              "indication to 198.51.100.20:3480 and ChannelData on 0x4001: no allocation any more, coturn "
              "drops both without an answer. turn.misuse is the client's own record of each mistake.",
        expect=dict(min_allocations=1, outcomes={"deleted": 1}, errors={400: 1}, own_client=True,
                    misuse=True, peer_packets=1),
        findings=lambda v: dict(
            why="One allocation, four client mistakes, each true: a Send indication to a peer with no "
                "permission (dropped by coturn); ChannelData on channel 0x4002, never bound (dropped); "
                "channel 0x4001, bound to 198.51.100.20:3480, re-bound to 198.51.100.20:3481 while bound "
                "(coturn refused it with 400 Bad Request: the 400 is the consequence of the conflicting re-bind, said once as turn.channel.conflict); and a Send indication and ChannelData after "
                "the allocation was deleted with Refresh 0 (the client kept using an allocation it had "
                "ended). The post-deletion Send/ChannelData also have no permission / binding any more, "
                "which the same warnings may name.",
            required=[dict(code="turn.permission.missing", severity="warning"),
                      dict(code="turn.channel.unbound", severity="warning"),
                      dict(code="turn.channel.conflict", severity="warning"),
                      dict(code="turn.allocation.used-after-end", severity="error")],
            allowed=[]),
    ),
    "turn-keepalive-gap": dict(
        summary="Keepalive gap: allocation (lifetime 600 s) silent for 35 s, then resumed and deleted",
        notes="A TURN client of our own (captures/gen/turn_client.py keepalive-gap) allocates (401, "
              "retry, LIFETIME 600 granted), creates a permission for 198.51.100.20 and exchanges 3 Send "
              "indications with turnutils_peer (echoed as Data indications); then it sends nothing at "
              "all for 35 s (the allocation stays live: 600 s), sends 3 more Send indications (echoed) "
              "and deletes the allocation (Refresh 0). turn.keepaliveGap is the client's own record of "
              "its silence (last packet it sent before, first after). Nothing failed here, but a NAT "
              "whose UDP binding times out after 30 s would have cut the 5-tuple.",
        expect=dict(min_allocations=1, outcomes={"deleted": 1}, permissions=True, own_client=True,
                    keepalive_gap=30, peer_packets=6),
        findings=lambda v: dict(
            why="The client sent nothing on its live UDP allocation for about 35 s (more than 30 s) "
                "before resuming: a typical NAT binding would have expired meanwhile. Here the NAT kept "
                "it and everything worked (6 messages echoed, clean Refresh 0), so a warning, not an "
                "error.",
            required=[dict(code="turn.keepalive.gap", severity="warning")],
            allowed=[]),
    ),
    "turn-server-refusals": dict(
        summary="Server refusals: Allocate TCP relay with --no-tcp-relay (442), IPv6 relay on an "
                "IPv4-only relay (440), the only relay port taken (508)",
        notes="coturn runs with --no-tcp-relay, a single relay address 198.51.100.11 (no IPv6 relay "
              "address) and --min-port=49152 --max-port=49152 (one relay port). A TURN client of our own "
              "(captures/gen/turn_client.py refusals) uses four sockets, each with its 401 challenge: A "
              "Allocates with REQUESTED-TRANSPORT TCP (6): 442 'TCP Transport is not allowed by the TURN "
              "Server configuration'; B with REQUESTED-ADDRESS-FAMILY IPv6: 440 'Unsupported address "
              "family'; C a plain UDP Allocate: success on 198.51.100.11:49152, the only port; D a plain "
              "Allocate while C holds it: 508 'Cannot create socket' (coturn logs 'no available ports'). "
              "C then deletes its allocation (Refresh 0). turn.refusals lists what each socket asked "
              "and what coturn answered. --alternate-server (300) was not produced.",
        expect=dict(min_allocations=4, outcomes={"deleted": 1, "failed": 3}, own_client=True,
                    errors={442: 1, 440: 1, 508: 1}, refusals={"A": 442, "B": 440, "D": 508}),
        findings=lambda v: dict(
            why="The server refused three Allocates, each a failure for that client: 442 (TCP relay "
                "not allowed), 440 (no IPv6 relay address) and 508 (its one relay port was taken). "
                "The specific codes say why; the failed allocations are not separate problems. The "
                "fourth allocation (C) succeeded and was deleted normally.",
            required=[dict(code="turn.unsupported", severity="error"),
                      dict(code="turn.server.capacity", severity="error")],
            allowed=[]),
    ),
    "turn-alternate-server": dict(
        summary="Redirect: coturn --alternate-server answers the Allocate at 198.51.100.10 with 300 Try "
                "Alternate (ALTERNATE-SERVER 198.51.100.13:3478); the client follows and allocates there",
        notes="coturn listens on 198.51.100.10 and 198.51.100.13 with --alternate-server=198.51.100.13:3478. "
              "It redirects Allocates arriving at .10 and serves those arriving at .13 (its own alternate "
              "address). A TURN client of our own (captures/gen/turn_client.py alternate) sends its first, "
              "unauthenticated Allocate to 198.51.100.10:3478: coturn answers 300 Try Alternate with "
              "ALTERNATE-SERVER 198.51.100.13:3478 at once (before any 401 challenge); the client follows "
              "from a new socket: Allocate at 198.51.100.13:3478 (401, retry, success), then Refresh 0. "
              "turn.server is where the allocation lives (.13); turn.redirect is the client's record of the "
              "redirected request (coturn logs it as error 300 on a session of its own, which is not an "
              "allocation).",
        expect=dict(min_allocations=1, outcomes={"deleted": 1}, own_client=True, redirect=True),
        findings=lambda v: dict(
            why="The first server redirected the Allocate with 300 Try Alternate (ALTERNATE-SERVER "
                "198.51.100.13:3478) and the client followed it and got its allocation there, then "
                "deleted it: a redirect, normal behaviour, info only.",
            required=[dict(code="turn.server.alternate", severity="info")],
            allowed=[]),
    ),
    "stun-server-down": dict(
        summary="STUN server down: a Binding request retransmitted per RFC 8489 (RTO 500 ms, 7 sends) "
                "to an address that silently drops everything (no answer, no ICMP); capture > 39.5 s",
        notes="198.51.100.12 is a second address on the server host; nothing listens on it and an "
              "nftables rule drops every packet to it before the stack could answer (no ICMP). coturn "
              "runs as usual on 198.51.100.10 and sees none of this traffic. A STUN client of our own "
              "(captures/gen/turn_client.py binding-unanswered, stun_builder.py) sends one Binding "
              "request (no credentials, FINGERPRINT) to 198.51.100.12:3478 and retransmits it per RFC "
              "8489 section 6.2.1: 7 sends at 0, 0.5, 1.5, 3.5, 7.5, 15.5 and 31.5 s, then waits Rm x "
              "RTO = 8 s and gives up 39.5 s after the first send. Then, from another socket, it sends "
              "one Binding to coturn (198.51.100.10:3478), answered: a capture file ends with its last "
              "packet, and this exchange shows the capture runs past the give-up. "
              "turn.unansweredBinding is the client's own record (send times), turn.markerBinding the "
              "answered one. No allocation.",
        expect=dict(min_allocations=0, own_client=True, binding_sends=7),
        findings=lambda v: dict(
            why="The client's Binding request was sent 7 times over 31.5 s and never answered, and no "
                "ICMP came back; the client gave up 39.5 s after the first send: the STUN server is "
                "unreachable (down or filtered).",
            required=[dict(code="stun.server.unreachable", severity="error")],
            allowed=[]),
    ),
}

SOURCES_NOTE = (
    "Sources: allocations, relayed addresses, lifetimes, permissions (peer IPs), error codes, "
    "close reasons, outcome and counters come from coturn's -V log (counters: coturn's "
    "'usage' line for the client leg and 'peer usage' for the relay-peer leg, rp/rb = packets/"
    "bytes received by coturn, sp/sb = sent; only for sessions coturn closed during the run). "
    "clientPublic comes from coturn's close line, else from uclient's 'Connected from' socket "
    "paired with its 'Received relay addr' and translated through the NAT's conntrack table; "
    "'client' is that address as seen at this capture's vantage (client-lan: the LAN address "
    "before NAT). Channel numbers come from uclient's 'success: 0x....' ChannelBind lines; "
    "their peers from uclient's fixed order (first channel to peer port+1, second to the peer "
    "port). outcome: deleted = client sent Refresh lifetime 0 that coturn accepted; expired = "
    "coturn closed it with 'allocation timeout' without a deletion; closed = coturn closed it "
    "for another reason (e.g. TCP connection closed); active = still allocated at capture end; "
    "failed = no allocation created. packetCount is the capture tool's own end-of-run count. "
    "Facts coturn or the client do not state are left out."
)

OWN_SOURCES_NOTE = (
    "Here the client is our own (captures/gen/turn_client.py), not uclient: its local socket, "
    "relayed address, channels (with their peers), every transaction (transaction ID, NONCE and "
    "LIFETIME sent, the answer's class, code, NONCE) and the indications/ChannelData it sent and "
    "received come from its own JSON record; clientPublic from that socket through conntrack "
    "(or coturn's close line). turn.unpermittedPeer comes from captures/gen/udp_sender.py's record."
)

# ------------------------------------------------------------------ helpers


def norm_addr(ip, port=None):
    """Canonical 'ip:port' / '[v6]:port' (or bare ip when port is None)."""
    ip = ip.strip("[]")
    a = ipaddress.ip_address(ip)
    if port is None:
        return str(a)
    return f"[{a}]:{int(port)}" if a.version == 6 else f"{a}:{int(port)}"


def norm_ap(s):
    """Parse 'a.b.c.d:p', '[v6]:p' or unbracketed 'v6:p' (coturn/uclient print both)."""
    s = s.strip().rstrip(",")
    if s.startswith("["):
        ip, _, port = s[1:].partition("]:")
        return norm_addr(ip, port)
    ip, _, port = s.rpartition(":")
    return norm_addr(ip, port)


def ip_of(ap):
    return ap.rsplit(":", 1)[0].strip("[]")


def peer_ip_of(peer):
    """coturn prints a peer as 'ip', 'ip:port' or '[v6]:port'."""
    if peer.startswith("["):
        return ip_of(norm_ap(peer))
    try:
        return norm_addr(peer)
    except ValueError:
        return ip_of(norm_ap(peer))


def read_kv(path):
    d = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if "=" in line:
                k, _, v = line.partition("=")
                d[k] = v
    return d


def read_tsv(path):
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


# ---------------------------------------------------------------- coturn log

RE_PREFIX = re.compile(r"^(\d+): : (.*)$")
RE_NEW = re.compile(r"^session (\d+): new, realm=<(.*)>, username=<(.*?)>, lifetime=(\d+)")
RE_REFRESHED = re.compile(r"^session (\d+): refreshed, realm=<(.*)>, username=<(.*?)>, lifetime=(\d+)")
RE_ERROR = re.compile(r"^session (\d+): (?:origin <.*?> )?realm <(.*)> user <(.*?)>: incoming packet message "
                      r"processed, error (\d+): (.*)$")
RE_USAGE = re.compile(r"^session (\d+): (peer )?usage: realm=<(.*)>, username=<(.*?)>, "
                      r"rp=(\d+), rb=(\d+), sp=(\d+), sb=(\d+)")
RE_CLOSED = re.compile(r"^session (\d+): closed \(2nd stage\), user <(.*?)> realm <(.*)> "
                       r"origin <(.*?)>, local (\S+), remote (\S+), reason: (.*)$")
RE_PEER_LT = re.compile(r"^session (\d+): peer (\S+) lifetime updated: (\d+)")
RE_RELAY = re.compile(r"^IPv[46]\. Local relay addr(?: \(RTCP\))?: (\S+)$")
RE_VERSION = re.compile(r"^Version (Coturn-\S+ '.*')")


def parse_coturn_log(path):
    sessions = OrderedDict()
    software = None
    pending_relay = None

    def sess(sid):
        if sid not in sessions:
            sessions[sid] = dict(id=sid, new=False, relayed=[], lifetimes=[], errors=Counter(),
                                 error_order=[], permissions=[], username=None, realm=None,
                                 closed=None, usage=None, peer_usage=None, first_t=None)
        return sessions[sid]

    with open(path, errors="replace") as f:
        for raw in f:
            raw = raw.rstrip("\n")
            m = RE_PREFIX.match(raw)
            t, line = (int(m.group(1)), m.group(2)) if m else (None, raw)
            if (mv := RE_VERSION.match(line)):
                software = mv.group(1)
                continue
            if (mr := RE_RELAY.match(line)):
                pending_relay = norm_ap(mr.group(1))
                continue
            if (mn := RE_NEW.match(line)):
                s = sess(mn.group(1))
                s["new"] = True
                s["realm"], s["username"] = mn.group(2), mn.group(3)
                s["lifetimes"].append(int(mn.group(4)))
                if pending_relay:
                    s["relayed"].append(pending_relay)
                    pending_relay = None
                s["first_t"] = s["first_t"] if s["first_t"] is not None else t
                continue
            if (mf := RE_REFRESHED.match(line)):
                sess(mf.group(1))["lifetimes"].append(int(mf.group(4)))
                continue
            if (me := RE_ERROR.match(line)):
                s = sess(me.group(1))
                code = int(me.group(4))
                s["errors"][code] += 1
                s["error_order"].append(code)
                s["first_t"] = s["first_t"] if s["first_t"] is not None else t
                if me.group(3) and s["username"] is None:
                    s["username"] = me.group(3)
                continue
            if (mu := RE_USAGE.match(line)):
                s = sess(mu.group(1))
                c = dict(zip(("rp", "rb", "sp", "sb"), map(int, mu.group(5, 6, 7, 8))))
                s["peer_usage" if mu.group(2) else "usage"] = c
                continue
            if (mc := RE_CLOSED.match(line)):
                s = sess(mc.group(1))
                s["closed"] = dict(user=mc.group(2), realm=mc.group(3), origin=mc.group(4),
                                   local=norm_ap(mc.group(5)), remote=norm_ap(mc.group(6)),
                                   reason=mc.group(7), t=t)
                continue
            if (mp := RE_PEER_LT.match(line)):
                s = sess(mp.group(1))
                ip = peer_ip_of(mp.group(2))
                if ip not in s["permissions"]:
                    s["permissions"].append(ip)
                continue
    return sessions, software


# ------------------------------------------------------------ client output

RE_CONNECTED = re.compile(r"Connected from: (\S+)$")
RE_RECV_RELAY = re.compile(r"Received relay addr: (\S+)$")
RE_ALLOC_ERR = re.compile(r"^\d+: : error (\d+) \(")
RE_CB_OK = re.compile(r"^\d+: : success: 0x([0-9a-fA-F]+)$")


def parse_client_output(path):
    """Ordered client sockets of one uclient run with the outcome of their Allocate."""
    sockets = []          # dicts: local, relayed, failed, errors, channels
    queue = []            # sockets waiting for their allocation result
    last_alloc = None
    prev = ""
    prev_connected = None
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if (m := RE_CONNECTED.search(line)):
                local = norm_ap(m.group(1))
                # uclient prints the first socket's "Connected from" twice in a row
                if local != prev_connected:
                    s = dict(local=local, relayed=None, failed=False, error=None, channels=[])
                    sockets.append(s)
                    queue.append(s)
                prev_connected = local
                prev = line
                continue
            prev_connected = None
            if (m := RE_RECV_RELAY.search(line)):
                if queue:
                    s = queue.pop(0)
                    s["relayed"] = norm_ap(m.group(1))
                    last_alloc = s
            elif (m := RE_ALLOC_ERR.match(line)) and "allocate response received" in prev:
                if queue:
                    s = queue.pop(0)
                    s["failed"], s["error"] = True, int(m.group(1))
            elif "Cannot complete Allocation" in line:
                if queue:
                    s = queue.pop(0)
                    s["failed"] = True
            elif (m := RE_CB_OK.match(line)):
                if last_alloc is not None:
                    ch = int(m.group(1), 16)
                    if ch not in last_alloc["channels"]:
                        last_alloc["channels"].append(ch)
            prev = line
    return sockets


def client_opts(args):
    toks = args.split()
    opts = {}
    i = 0
    while i < len(toks):
        t = toks[i]
        if t in ("-e", "-r", "-n", "-l", "-z", "-u", "-w", "-o", "-m"):
            opts[t] = toks[i + 1] if i + 1 < len(toks) else None
            i += 2
            continue
        if t.startswith("-"):
            for ch in t[1:]:
                opts["-" + ch] = True
        i += 1
    return opts


# ---------------------------------------------------------------- conntrack

RE_CT_KV = re.compile(r"\b(src|dst|sport|dport)=(\S+)")


def parse_conntrack(paths):
    fwd, rev = {}, {}   # (proto, lan) -> public ; (proto, public) -> lan
    entries = []
    for p in paths:
        if not os.path.exists(p):
            continue
        with open(p) as f:
            for line in f:
                if "src=" not in line:
                    continue
                proto = "tcp" if re.search(r"\btcp\b", line) else "udp" if re.search(r"\budp\b", line) else None
                if proto is None:
                    continue
                kv = RE_CT_KV.findall(line)
                if len(kv) < 8:
                    continue
                o = dict(kv[:4])
                r = dict(kv[4:8])
                lan = norm_addr(o["src"], o["sport"])
                pub = norm_addr(r["dst"], r["dport"])
                if (proto, lan) not in fwd:
                    entries.append(dict(proto=proto, lan=lan, public=pub,
                                        remote=norm_addr(o["dst"], o["dport"])))
                fwd[(proto, lan)] = pub
                rev[(proto, pub)] = lan
    return fwd, rev, entries


def capture_packet_count(stderr_path, tool):
    """(packets written, packets the kernel delivered) from the tool's own
    final report (tcpdump also prints interim reports on SIGUSR1: take the last)."""
    txt = open(stderr_path, errors="replace").read()

    def last(pattern, group=1):
        ms = re.findall(pattern, txt, re.M)
        if not ms:
            return None
        v = ms[-1]
        return int(v if isinstance(v, str) else v[group - 1])

    if tool == "dumpcap":
        return (last(r"Packets captured: (\d+)"),
                last(r"Packets received/dropped on interface '[^']*': (\d+)/(\d+)"))
    return last(r"(\d+) packets? captured"), last(r"(\d+) packets? received by filter")


# --------------------------------------------------------- our own client

def parse_own_client(path):
    """Sockets of one turn_client.py run from its own record, in the shape of
    parse_client_output (plus the record itself)."""
    with open(path) as f:
        rec = json.load(f)
    sockets = []
    for k in rec["sockets"]:
        sockets.append(dict(local=norm_ap(k["local"]),
                            relayed=norm_ap(k["relayed"]) if k.get("relayed") else None,
                            failed=k.get("failed", False), error=k.get("error"),
                            channels=[c["number"] for c in k.get("channels", [])],
                            channel_peers=[norm_ap(c["peer"]) for c in k.get("channels", [])],
                            label=k["label"], own=True))
    return sockets, rec


def own_arg(rec, name):
    """Value of a command-line option of the client's run (from its record)."""
    args = rec["args"]
    return args[args.index(name) + 1] if name in args else None


CLIENT_KEYS = ("client", "fromClient", "toClient", "followedBy")


def at_vantage(v, vantage, fwd):
    """Client addresses (LAN, as the client knew them) as seen at this vantage:
    translated through the NAT's conntrack table except at client-lan."""
    if isinstance(v, list):
        return [at_vantage(x, vantage, fwd) for x in v]
    if isinstance(v, dict):
        out = OrderedDict()
        for k, x in v.items():
            if k in CLIENT_KEYS and isinstance(x, str) and vantage != "client-lan":
                x = fwd.get(("udp", x), x)
            out[k] = at_vantage(x, vantage, fwd)
        return out
    return v


def own_client_facts(d, run, rec, sockets, allocs, problems):
    """turn.* facts from the records of our own client (and the unpermitted
    sender): what they sent and got back, by their own account."""
    local = {k["label"]: k["local"] for k in sockets if k.get("own")}
    relayed = {k["label"]: k["relayed"] for k in sockets if k.get("own")}
    facts = OrderedDict()
    txs = []
    redirected = []
    for t in rec["transactions"]:
        if t.get("server") and norm_ap(t["server"]) != norm_ap(run["server"]):
            redirected.append(t)        # sent to another server (the one that redirected)
            continue
        e = OrderedDict(socket=t["socket"], client=local[t["socket"]], method=t["method"], txid=t["txid"])
        e["nonce"] = t["nonce"]
        if "lifetime" in t:
            e["lifetime"] = t["lifetime"]
        if "sends" in t:        # retransmitted (binding-unanswered): same transaction ID each time
            e["sends"] = t["sends"]
        r = t.get("response")
        if r is None:
            e["answer"] = None
        else:
            ans = OrderedDict([("class", r["cls"])])
            for k in ("code", "reason", "nonce", "lifetime", "relayed"):
                if k in r:
                    # coturn counts a NUL byte or two into its reason phrases' length
                    ans[k] = norm_ap(r[k]) if k == "relayed" else r[k].rstrip("\0") if k == "reason" else r[k]
            e["answer"] = ans
        if rec["mode"] == "refresh-late":
            e["afterLifetime"] = t["t"] > rec["allocationExpiry"]
        txs.append(e)
    facts["clientTransactions"] = txs
    if rec["mode"] == "alternate":
        (t,) = redirected
        r = t["response"]
        facts["redirect"] = OrderedDict(
            client=local[t["socket"]], server=norm_ap(t["server"]), method=t["method"], txid=t["txid"],
            nonce=t["nonce"], answer=OrderedDict([("class", r["cls"]), ("code", r.get("code")),
                                                  ("reason", (r.get("reason") or "").rstrip("\0")),
                                                  ("alternateServer", norm_ap(r["alternate"]))]),
            followedBy=local["B"])
    if rec["mode"] == "refresh-late":
        facts["refresh"] = OrderedDict(
            lifetimeGranted=rec["granted"],
            secondsAfterLifetime=round(rec["refreshAfterLifetime"], 3))
    if rec["mode"] == "stale-nonce-loop":
        facts["staleNonceLoop"] = OrderedDict(
            oldNonce=rec["oldNonce"],
            resentWithOldNonce=int(own_arg(rec, "--repeats")),
            answered438=sum(1 for t in txs if (t["answer"] or {}).get("code") == 438))
    if rec["mode"] == "permission-drop":
        peer = norm_ap(own_arg(rec, "--peer"))
        facts["permittedPeer"] = OrderedDict(
            address=peer,
            client=local["A"], relayed=relayed["A"],
            sendIndications=sum(1 for x in rec["sent"] if x["kind"] == "Send" and norm_ap(x["peer"]) == peer),
            dataIndications=sum(1 for x in rec["received"] if x["kind"] == "Data" and norm_ap(x["peer"]) == peer))
        with open(os.path.join(d, "unpermitted.json")) as f:
            snd = json.load(f)
        src = norm_ap(snd["source"])
        facts["unpermittedPeer"] = OrderedDict(
            address=src, relayed=norm_ap(snd["destination"]),
            datagramsSent=snd["datagramsSent"], bytesSent=snd["bytesSent"],
            answersReceived=len(snd["received"]),
            forwardedToClient=sum(1 for x in rec["received"] if x.get("peer") and ip_of(norm_ap(x["peer"])) == ip_of(src)))
        if facts["unpermittedPeer"]["relayed"] != relayed["A"]:
            problems.append("unpermitted sender did not send to the relayed address")
    if rec["mode"] == "chained":
        chan = {k["label"]: k["channels"] for k in sockets if k.get("own")}
        sent = Counter((x["socket"], x["kind"]) for x in rec["sent"])
        got = Counter((x["socket"], x["kind"]) for x in rec["received"])
        b_a = [x for x in rec["sent"] if x["socket"] == "A"]
        b_b = [x for x in rec["sent"] if x["socket"] == "B"]
        facts["relayToRelay"] = [
            OrderedDict(fromClient=local["A"], fromRelayed=relayed["A"], toClient=local["B"],
                        toRelayed=relayed["B"], sentAs="ChannelData", channel=chan["A"][0],
                        deliveredAs="Data", messages=sent[("A", "ChannelData")],
                        delivered=got[("B", "Data")], payloadBytes=sorted({x["bytes"] for x in b_a})),
            OrderedDict(fromClient=local["B"], fromRelayed=relayed["B"], toClient=local["A"],
                        toRelayed=relayed["A"], sentAs="Send", deliveredAs="ChannelData",
                        channel=chan["A"][0], messages=sent[("B", "Send")],
                        delivered=got[("A", "ChannelData")], payloadBytes=sorted({x["bytes"] for x in b_b})),
        ]
    if rec["mode"] == "misuse":
        sent = rec["sent"]
        bind = [t for t in rec["transactions"] if t["method"] == "ChannelBind"]
        ref0 = next(t for t in rec["transactions"] if t["method"] == "Refresh" and t.get("lifetime") == 0)
        peer2 = norm_ap(own_arg(rec, "--peer2"))

        def item(x):
            e = OrderedDict(client=local[x["socket"]], kind=x["kind"])
            if x["kind"] == "Send":
                e["txid"], e["peer"] = x["txid"], norm_ap(x["peer"])
            else:
                e["channel"] = x["channel"]
            e["payloadBytes"] = x["bytes"]
            e["udpPayloadBytes"] = x["wire"]    # the whole Send indication / ChannelData message
            return e
        notes = {n: [x for x in sent if x.get("note") == n] for n in
                 ("no-permission", "unbound-channel", "bound", "after-deletion")}
        conflict = bind[1]
        r = conflict.get("response") or {}
        facts["misuse"] = OrderedDict(
            sendWithoutPermission=[item(x) for x in notes["no-permission"]],
            channelDataUnbound=[item(x) for x in notes["unbound-channel"]],
            channelDataBound=[item(x) for x in notes["bound"]],
            channelConflict=OrderedDict(
                client=local["A"], channel=sock_channel(sockets, "A"),
                firstPeer=norm_ap(own_arg(rec, "--peer")), firstTxid=bind[0]["txid"],
                secondPeer=peer2, secondTxid=conflict["txid"],
                answer=OrderedDict(code=r.get("code"), reason=(r.get("reason") or "").rstrip("\0"))),
            deletion=OrderedDict(client=local["A"], txid=ref0["txid"]),
            afterDeletion=[dict(item(x), secondsAfterDeletion=round(x["t"] - rec["deleted"], 3))
                           for x in notes["after-deletion"]],
            receivedAfterDeletion=sum(1 for x in rec["received"] if x["t"] > rec["deleted"]))
    if rec["mode"] == "keepalive-gap":
        sent_a = [x for x in rec["sent"]] + [dict(t=t["t"]) for t in rec["transactions"]]
        before = max(x["t"] for x in sent_a if x["t"] <= rec["gapStart"])
        after = min(x["t"] for x in sent_a if x["t"] >= rec["gapEnd"])
        facts["keepaliveGap"] = OrderedDict(
            client=local["A"], relayed=relayed["A"], silentSeconds=round(after - before, 3),
            sendIndicationsBefore=sum(1 for x in rec["sent"] if x["t"] <= rec["gapStart"]),
            sendIndicationsAfter=sum(1 for x in rec["sent"] if x["t"] >= rec["gapEnd"]),
            dataIndications=sum(1 for x in rec["received"] if x["kind"] == "Data"))
    if rec["mode"] == "refusals":
        asked = {"A": "REQUESTED-TRANSPORT TCP (6)", "B": "REQUESTED-ADDRESS-FAMILY IPv6 (0x02)",
                 "C": "REQUESTED-TRANSPORT UDP (17)", "D": "REQUESTED-TRANSPORT UDP (17)"}
        out = []
        for k in rec["sockets"]:
            last = [t for t in rec["transactions"] if t["socket"] == k["label"] and t["method"] == "Allocate"][-1]
            r = last.get("response") or {}
            out.append(OrderedDict(socket=k["label"], client=local[k["label"]], requested=asked[k["label"]],
                                   txid=last["txid"], answer=r.get("code", "success") if r else None,
                                   reason=(r.get("reason") or "").rstrip("\0") or None,
                                   relayed=norm_ap(r["relayed"]) if r.get("relayed") else None))
        facts["refusals"] = out
    if rec["mode"] == "binding-unanswered":
        (t,) = rec["transactions"]
        t0 = t["sendTimes"][0]
        facts["unansweredBinding"] = OrderedDict(
            client=local["S"], server=norm_ap(rec["server"]), txid=t["txid"], sends=t["sends"],
            sendOffsets=[round(x - t0, 3) for x in t["sendTimes"]],
            rtoSeconds=rec["rto"], gaveUpAfter=round(rec["gaveUp"] - t0, 3), answered=False,
            icmp="none: nftables drops every packet to the address on the server host")
        mk = rec["marker"]
        facts["markerBinding"] = OrderedDict(client=norm_ap(mk["local"]), server=norm_ap(mk["server"]),
                                             txid=mk["txid"], answered=mk["answered"],
                                             secondsAfterFirstSend=round(mk["t"] - t0, 3))
    return facts


def sock_channel(sockets, label):
    return next(k["channels"][0] for k in sockets if k.get("label") == label)


def check_own(exp, rec, facts, allocs, errs, problems):
    """The run of our own client shows what the scenario is about."""
    if rec.get("failure"):
        problems.append(f"client failed: {rec['failure']}")
    answered = Counter(t["response"]["code"] for t in rec["transactions"]
                       if t.get("response") and t["response"].get("code")
                       and not (exp.get("redirect") and t["response"]["code"] == 300))
    if answered != errs:
        problems.append(f"client's error answers {dict(answered)} != coturn's {dict(errs)}")
    txs = facts["clientTransactions"]
    if exp.get("refresh_late"):
        late = [t for t in txs if t["afterLifetime"]]
        if rec["refreshAfterLifetime"] <= 1 or not late or late[0]["method"] != "Refresh":
            problems.append("no Refresh after the lifetime ran out")
        if (late[-1]["answer"] or {}).get("code") != 437:
            problems.append("late Refresh not finally answered 437")
        before = [t for t in txs if not t["afterLifetime"]]
        if any(t["method"] == "Refresh" for t in before):
            problems.append("a Refresh within the lifetime")
        laters = [ls for a in allocs for ls in a.get("laterSessions", [])]
        n_err = sum(e["count"] for ls in laters for e in ls["errors"])
        if n_err != len(late):
            problems.append(f"later session errors {n_err} != {len(late)} late transactions")
    if exp.get("stale_loop"):
        refreshes = [t for t in txs if t["method"] == "Refresh"]
        old = facts["staleNonceLoop"]["oldNonce"]
        if len(refreshes) != exp["stale_loop"] or any(t["nonce"] != old for t in refreshes):
            problems.append("Refreshes do not all re-use the old nonce")
        if any((t["answer"] or {}).get("code") != 438 for t in refreshes):
            problems.append("not every Refresh answered 438")
        if not all((t["answer"] or {}).get("nonce") not in (None, old) for t in refreshes):
            problems.append("a 438 without a new nonce")
    if exp.get("unpermitted"):
        u = facts["unpermittedPeer"]
        if u["datagramsSent"] != exp["unpermitted"] or u["answersReceived"] or u["forwardedToClient"]:
            problems.append(f"unpermitted peer: {dict(u)}")
        pp = facts["permittedPeer"]
        if not (pp["sendIndications"] == pp["dataIndications"] == 5):
            problems.append(f"permitted peer exchange: {dict(pp)}")
    if exp.get("misuse"):
        m = facts["misuse"]
        if not (len(m["sendWithoutPermission"]) == len(m["channelDataUnbound"]) == 1
                and m["channelConflict"]["answer"]["code"] == 400 and len(m["afterDeletion"]) == 2
                and all(x["secondsAfterDeletion"] > 2 for x in m["afterDeletion"])
                and m["receivedAfterDeletion"] == 0):
            problems.append(f"misuse not shown: {json.dumps(m)}")
    if exp.get("keepalive_gap"):
        g = facts["keepaliveGap"]
        if g["silentSeconds"] <= exp["keepalive_gap"] or g["dataIndications"] != 6:
            problems.append(f"keepalive gap not shown: {dict(g)}")
    if exp.get("refusals"):
        got = {r["socket"]: r["answer"] for r in facts["refusals"] if r["answer"] != "success"}
        if got != exp["refusals"]:
            problems.append(f"refusals {got} != {exp['refusals']}")
    if exp.get("redirect"):
        r = facts["redirect"]
        if r["answer"]["code"] != 300 or r["answer"]["alternateServer"] == r["server"]:
            problems.append(f"redirect: {json.dumps(r)}")
    if exp.get("binding_sends"):
        b = facts["unansweredBinding"]
        if b["sends"] != exp["binding_sends"] or b["gaveUpAfter"] < 39.5:
            problems.append(f"unanswered binding: {dict(b)}")
    if exp.get("chained"):
        for r in facts["relayToRelay"]:
            if r["messages"] != exp["chained"] or r["delivered"] != exp["chained"]:
                problems.append(f"relay to relay: {dict(r)}")


# --------------------------------------------------------------------- main

class CheckError(Exception):
    pass


def build(d, check):
    run = read_kv(os.path.join(d, "run.txt"))
    scen = run["scenario"]
    meta = SCENARIOS[scen]
    transport = run["transport"]
    caps = read_tsv(os.path.join(d, "captures.tsv"))
    clients = read_tsv(os.path.join(d, "clients.tsv"))
    sessions, software = parse_coturn_log(os.path.join(d, "turnserver.log"))
    fwd, rev, ct_entries = parse_conntrack([os.path.join(d, "conntrack-events.txt"),
                                            os.path.join(d, "conntrack-list.txt")])

    problems = []

    # client sockets, over all client runs in order
    sockets, copts, records = [], {}, {}
    for label, rc, args in clients:
        if args.startswith("turn_client.py"):
            socks, rec = parse_own_client(os.path.join(d, f"client-{label}.json"))
            sockets += socks
            records[label] = rec
            continue
        copts = client_opts(args)
        sockets += parse_client_output(os.path.join(d, f"client-{label}.out"))
    own = records[next(iter(records))] if records else None
    sock_by_label = {s["label"]: s for s in sockets if s.get("own")}
    relay_to_sock = {s["relayed"]: s for s in sockets if s["relayed"]}
    failed_socks = [s for s in sockets if s["failed"]]
    tcp_relay = bool(copts.get("-T") or copts.get("-P"))
    c2c = bool(copts.get("-y")) or tcp_relay or (own is not None and own["mode"] == "chained")
    relay_transport = "tcp" if tcp_relay else "udp"
    peer_ip = copts.get("-e")
    peer_port = int(copts.get("-r") or run.get("peer_port") or 3480)
    if own is not None and own["mode"] in ("permission-drop", "misuse", "keepalive-gap"):
        peer_ip = ip_of(norm_ap(own_arg(own, "--peer")))

    allocations, data_conns = [], []
    failed_sessions = []
    later = []          # (session, transactions) answered after an allocation of ours expired
    redirects = []      # coturn sessions that only answered 300 Try Alternate (turn-alternate-server)
    own_socks = [k for k in sockets if k.get("own")]
    for sid, s in sessions.items():
        is_alloc = s["new"]
        is_failed = (not s["new"]) and sum(s["errors"].values()) > 0
        if is_failed and own is not None and own["mode"] == "alternate" and set(s["errors"]) == {300}:
            redirects.append(s)     # 300 Try Alternate: a redirect, not an allocation attempt here
            continue
        if is_failed and own is not None and own["mode"] == "refresh-late" and len(own_socks) == 1 \
                and not own_socks[0]["failed"]:
            # the late Refresh reaches coturn on a new session of the same 5-tuple
            # (the allocation's session closed at its lifetime): the client's, not
            # a failed allocation. Its transactions: those the client sent after
            # its lifetime had run out (the client's own knowledge).
            later.append(s)
            continue
        if not (is_alloc or is_failed):
            if s["closed"] and tcp_relay:
                data_conns.append(s)
            continue
        if is_failed:
            failed_sessions.append(s)
        allocations.append(s)

    # failed sessions <-> failed client sockets, in order, only if unambiguous
    failed_map = {}
    if len(failed_sessions) == len(failed_socks):
        for s, k in zip(failed_sessions, failed_socks):
            failed_map[s["id"]] = k

    proto = "tcp" if transport == "tcp" else "udp"
    out_allocs = []
    for s in allocations:
        a = OrderedDict()
        a["session"] = s["id"]
        lan = pub = None
        if s["closed"]:
            pub = s["closed"]["remote"]
            lan = rev.get((proto, pub))
        sock = None
        if s["relayed"]:
            sock = relay_to_sock.get(s["relayed"][0])
        elif s["id"] in failed_map:
            sock = failed_map[s["id"]]
        if sock is not None:
            lan2 = sock["local"]
            pub2 = fwd.get((proto, lan2))
            if lan is not None and lan != lan2:
                problems.append(f"session {s['id']}: coturn/conntrack say client {lan}, uclient says {lan2}")
            lan = lan or lan2
            pub = pub or pub2
        a["clientLan"] = lan
        a["clientPublic"] = pub
        if s["relayed"]:
            a["relayed"] = list(s["relayed"])
        a["username"] = s["username"] if s["username"] is not None else (
            s["closed"]["user"] if s["closed"] else None)
        a["realm"] = s["realm"] if s["realm"] is not None else run.get("realm")
        if not s["new"]:
            outcome = "failed"
        elif 0 in s["lifetimes"][1:] and s["closed"]:
            outcome = "deleted"
        elif s["closed"] and s["closed"]["reason"] == "allocation timeout":
            outcome = "expired"
        elif s["closed"]:
            outcome = "closed"
        else:
            outcome = "active"
        a["outcome"] = outcome
        if s["closed"]:
            a["closeReason"] = s["closed"]["reason"]
            if s["closed"]["origin"]:
                a["origin"] = s["closed"]["origin"]
        if s["lifetimes"]:
            a["lifetimes"] = list(s["lifetimes"])
        errors_all = Counter(s["errors"])
        if later and sock is not None and sock.get("own"):
            lt = []
            expiry = own["allocationExpiry"]
            late_tx = [t for t in own["transactions"] if t["t"] > expiry]
            txids = [t["txid"] for t in late_tx]
            answered = [t["response"] for t in late_tx if t.get("response")]
            # coturn logs no usage for a session it has not closed: the client's own
            # count, in coturn's terms (rp/rb received by coturn, sp/sb sent)
            late_counters = OrderedDict(rp=len(late_tx), rb=sum(t["bytes"] for t in late_tx),
                                        sp=len(answered), sb=sum(r["bytes"] for r in answered))
            for ls in later:
                errors_all.update(ls["errors"])
                lt.append(OrderedDict(session=ls["id"],
                                      errors=[{"code": c, "count": n} for c, n in sorted(ls["errors"].items())],
                                      transactions=txids, counters={"clientLeg": late_counters}))
            a["laterSessions"] = lt
        a["errors"] = [{"code": c, "count": n} for c, n in sorted(errors_all.items())]
        a["permissions"] = list(s["permissions"])
        chans = []
        if sock is not None and sock.get("own"):
            chans = [{"number": n, "peer": p} for n, p in zip(sock["channels"], sock["channel_peers"])]
        elif sock is not None and sock["channels"]:
            nums = sock["channels"]
            if not c2c and peer_ip and len(nums) == 2:
                peers = [norm_addr(peer_ip, peer_port + 1), norm_addr(peer_ip, peer_port)]
                chans = [{"number": n, "peer": p} for n, p in zip(nums, peers)]
            else:
                chans = [{"number": n} for n in nums]
        a["channels"] = chans
        if s["usage"] or s["peer_usage"]:
            a["counters"] = {}
            if s["usage"]:
                a["counters"]["clientLeg"] = s["usage"]
            if s["peer_usage"]:
                a["counters"]["peerLeg"] = s["peer_usage"]
        out_allocs.append(a)

    out_data = []
    for s in data_conns:
        pub = s["closed"]["remote"]
        dc = OrderedDict(session=s["id"], clientLan=rev.get(("tcp", pub)), clientPublic=pub,
                         closeReason=s["closed"]["reason"])
        if s["usage"]:
            dc["counters"] = {"clientLeg": s["usage"]}
        out_data.append(dc)

    # ------------------------------------------------------------ own client
    own_facts = own_client_facts(d, run, own, sockets, out_allocs, problems) if own is not None else {}
    if own is not None and own["mode"] == "alternate":
        own_facts["redirect"]["session"] = redirects[0]["id"] if len(redirects) == 1 else None
        if len(redirects) != 1:
            problems.append(f"{len(redirects)} redirect sessions in coturn's log")

    # ------------------------------------------------------------ checks
    exp = meta["expect"]
    outs = Counter(a["outcome"] for a in out_allocs)
    if len(out_allocs) < exp.get("min_allocations", 0):
        problems.append(f"{len(out_allocs)} allocations < {exp['min_allocations']}")
    for o, n in exp.get("outcomes", {}).items():
        if outs[o] != n:
            problems.append(f"outcome {o}: {outs[o]} != {n} ({dict(outs)})")
    errs = Counter()
    for a in out_allocs:
        for e in a["errors"]:
            errs[e["code"]] += e["count"]
    for code, n in exp.get("errors", {}).items():
        if errs[code] < n:
            problems.append(f"error {code}: {errs[code]} < {n}")
    real = [a for a in out_allocs if a["outcome"] != "failed"]
    if exp.get("own_client"):
        check_own(exp, own, own_facts, out_allocs, errs, problems)
    if exp.get("channels") is True and not any(len(a["channels"]) == 2 and "peer" in a["channels"][0]
                                                 for a in real):
        problems.append("no allocation with 2 channels")
    if exp.get("channels") is False and any(a["channels"] for a in real):
        problems.append("unexpected channels")
    if exp.get("permissions") and not any(a["permissions"] for a in real):
        problems.append("no permissions")
    if "peer_packets" in exp:
        if not any(a.get("counters", {}).get("peerLeg", {}).get("rp") == exp["peer_packets"]
                   for a in real):
            problems.append(f"no allocation relayed {exp['peer_packets']} peer packets")
    if exp.get("data_connections") and len(out_data) < exp["data_connections"]:
        problems.append(f"{len(out_data)} TCP data connections < {exp['data_connections']}")
    if exp.get("ipv6") and not all(a["relayed"][0].startswith("[") for a in real):
        problems.append("relayed addresses are not IPv6")
    for a in out_allocs:
        if a["outcome"] != "failed" and (not a["clientLan"] or not a["clientPublic"]):
            problems.append(f"session {a['session']}: client address unknown")
    client_relays = {s["relayed"] for s in sockets if s["relayed"]}
    server_relays = {a["relayed"][0] for a in real}
    if client_relays != server_relays:
        problems.append(f"relays differ: client {sorted(client_relays)} server {sorted(server_relays)}")

    # ------------------------------------------------------------ output
    server = run["server"]
    credentials = [{"username": run["user"], "realm": run.get("realm"), "password": run["password"]}]
    written = []
    for row in caps:
        fname, vantage, fmt, lt, prec, tool, ns, ifc, errf = row
        count, received = capture_packet_count(os.path.join(d, errf), tool)
        if not count:
            problems.append(f"{fname}: no packet count from {tool}")
        elif received != count:
            problems.append(f"{fname}: {tool} wrote {count} of {received} packets (capture incomplete)")
        allocs = []
        for a in out_allocs:
            b = OrderedDict()
            b["client"] = a["clientLan"] if vantage == "client-lan" else a["clientPublic"]
            for k, v in a.items():
                b[k] = v
            if b["client"] is None:
                del b["client"]
            allocs.append(b)
        truth = OrderedDict()
        truth["capture"] = fname
        truth["scenario"] = scen
        truth["vantage"] = vantage
        truth["format"] = fmt
        truth["linkType"] = lt
        truth["timestampPrecision"] = prec
        truth["generator"] = GENERATOR
        truth["packetCount"] = count
        truth["captureTool"] = tool
        truth["captureInterface"] = f"{ns}:{ifc}"
        truth["credentials"] = credentials
        turn = OrderedDict()
        turn["server"] = server
        turn["transport"] = transport
        turn["relayTransport"] = relay_transport
        if software:
            turn["software"] = software
        if peer_ip:
            turn["peer"] = norm_addr(peer_ip, peer_port)
        # which legs of the relay this vantage point sees
        # (client-to-client relaying stays on the server's loopback: no peer leg on the wire)
        turn["legsVisible"] = ["client", "peer"] if vantage == "server" and not c2c else ["client"]
        turn["allocations"] = allocs
        if out_data:
            turn["tcpDataConnections"] = [
                OrderedDict([("client", dc["clientLan"] if vantage == "client-lan" else dc["clientPublic"])]
                            + list(dc.items())) for dc in out_data]
        turn["errorsTotal"] = [{"code": c, "count": n} for c, n in sorted(errs.items())]
        for k, v in own_facts.items():
            turn[k] = at_vantage(v, vantage, fwd)
        truth["turn"] = turn
        truth["nat"] = OrderedDict(
            type="nftables masquerade (Linux NAT, port preserving when free)",
            publicAddresses=["198.51.100.2", "2001:db8:51::2"],
            mappings=[{"proto": e["proto"], "lan": e["lan"], "public": e["public"], "remote": e["remote"]}
                      for e in ct_entries],
        )
        truth["config"] = OrderedDict(
            turnserver=run.get("server_flags", ""),
            clients=[{"tool": "captures/gen/turn_client.py" if args.startswith("turn_client.py")
                      else "turnutils_uclient",
                      "args": args.removeprefix("turn_client.py "),
                      "exit": int(rc) if rc.lstrip("-").isdigit() else "killed (SIGKILL)"}
                     for _, rc, args in clients],
        )
        if run.get("unpermitted_peer"):
            truth["config"]["clients"].append({"tool": "captures/gen/udp_sender.py",
                                               "args": f"--bind {run['unpermitted_peer']} --count 6"})
        if run.get("client_password"):
            truth["config"]["clientPassword"] = run["client_password"]
        truth["notes"] = meta["notes"] + " " + SOURCES_NOTE + (" " + OWN_SOURCES_NOTE if own else "")
        truth["summary"] = meta["summary"]
        if "findings" in meta:
            truth["expectedFindings"] = meta["findings"](vantage)
        stem = fname.rsplit(".", 1)[0]
        out = os.path.join(d, stem + ".truth.json")
        with open(out, "w") as f:
            json.dump(truth, f, indent=2, ensure_ascii=False)
            f.write("\n")
        written.append(out)

    for p in problems:
        print(f"coturn_truth: {scen}: {p}", file=sys.stderr)
    if check and problems:
        raise CheckError(f"{scen}: {len(problems)} problem(s)")
    print(f"coturn_truth: {scen}: {len(out_allocs)} allocation(s) "
          f"{dict(Counter(a['outcome'] for a in out_allocs))}, errors {dict(errs)}, "
          f"{len(written)} truth file(s)", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True, help="scenario work directory")
    ap.add_argument("--check", action="store_true", help="fail when the run does not show the scenario")
    a = ap.parse_args()
    try:
        build(a.dir, a.check)
    except CheckError as e:
        print(f"coturn_truth: FAILED {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
