#!/usr/bin/env bash
# Regenerates the TURN part of the StunScope capture corpus (issue 3).
#
#   sudo bash captures/gen/turn_scenarios.sh              # all TURN scenarios
#   sudo bash captures/gen/turn_scenarios.sh turn-tcp ... # only these
#   sudo bash captures/gen/turn_scenarios.sh --list
#
# Real traffic only: coturn (turnserver), turnutils_uclient and turnutils_peer
# run in network namespaces (see turn_net.sh); tcpdump/dumpcap capture at
# several vantage points of the same run. Where uclient cannot be told to
# misbehave (late Refresh, stale nonce re-used, relay to relay), a TURN
# client of our own (turn_client.py) plays the client and keeps its own
# record of what it sent. Truth files are written by coturn_truth.py from
# coturn's verbose log, the client's -v output or record, the NAT's conntrack
# table and the scenario configuration -- never from the captures.
#
# Needs root, coturn, tcpdump, tshark (dumpcap, capinfos), nftables, iproute2,
# conntrack, python3. Work files go to captures/gen/work/turn (gitignored);
# captures and truth files are copied to captures/ ($CAPTURES_OUT when set)
# only when a scenario passed its own checks (a scenario is retried up to 3
# times).
set -euo pipefail

GEN=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$GEN/../.." && pwd)
WORK=$GEN/work/turn
# shellcheck source=turn_net.sh
source "$GEN/turn_net.sh"   # and through it netns_lib.sh
OUT=$(captures_out "$REPO/captures")

ALL_SCENARIOS=(turn-udp-channels turn-udp-send turn-tcp turn-tcp-relay
    turn-wrong-password turn-expiry turn-stale-nonce turn-quota
    turn-forbidden-peer turn-ipv6 turn-xss-strings
    turn-refresh-late turn-stale-nonce-loop turn-permission-drop turn-relay-chained
    turn-client-misuse turn-keepalive-gap turn-server-refusals stun-server-down
    turn-alternate-server)

PEER_PORT=3480
UNPERMITTED4=198.51.100.21   # turn-permission-drop: a peer without permission
UNPERMITTED_PORT=4000
CONFLICT_PORT=3481           # turn-client-misuse: peer B of the re-bound channel
RELAY_PORT=49152             # turn-server-refusals: the only relay port
ALT4=198.51.100.13           # turn-alternate-server: coturn's second listening address, the alternate
DOWN4=198.51.100.12          # stun-server-down: an address on the server host that drops everything
USER_NAME=alice
USER_PASS=secret
DEFAULT_REALM=example.org

declare -a BG_PIDS=()     # every background process we started (by PID)
declare -a CAP_PIDS=()    # capture processes of the current scenario
declare -a CAP_TCPDUMP=() # "pid:stderr-file" of its tcpdump processes

log() { printf '[turn %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

cleanup() {
    local pid
    for pid in "${BG_PIDS[@]}"; do kill_pid "$pid" KILL; done
    BG_PIDS=()
    net_down
}
trap cleanup EXIT
trap 'exit 130' INT TERM

require() {
    [[ $(id -u) == 0 ]] || die "run as root (network namespaces, captures)"
    local t
    for t in turnserver turnutils_uclient turnutils_peer tcpdump dumpcap \
             capinfos nft conntrack ip python3; do
        command -v "$t" >/dev/null || die "missing tool: $t"
    done
}

# ---------------------------------------------------------------- captures ---
# start_capture NS IFACE KIND FILE-STEM VANTAGE
#   KIND: pcap (tcpdump), nano (tcpdump, ns timestamps), sll2 (tcpdump -i any),
#         pcapng (dumpcap, native pcapng)
start_capture() {
    local ns=$1 ifc=$2 kind=$3 stem=$4 vantage=$5 file fmt lt prec tool err
    case $kind in
        pcap)   file=$stem.pcap;   fmt=pcap;   lt=EN10MB;     prec=micro; tool=tcpdump ;;
        nano)   file=$stem.pcap;   fmt=pcap;   lt=EN10MB;     prec=nano;  tool=tcpdump ;;
        sll2)   file=$stem.pcap;   fmt=pcap;   lt=LINUX_SLL2; prec=micro; tool=tcpdump; ifc=any ;;
        pcapng) file=$stem.pcapng; fmt=pcapng; lt=EN10MB;     prec=nano;  tool=dumpcap ;;  # dumpcap 4.x: if_tsresol=9
        *) die "unknown capture kind $kind" ;;
    esac
    err=$D/cap.$file.stderr
    case $tool in
        tcpdump)
            local extra=()
            [[ $kind == nano ]] && extra=(--time-stamp-precision=nano)
            ip netns exec "$ns" tcpdump --immediate-mode -U -n -Z root -s 262144 -i "$ifc" "${extra[@]}" \
                -w "$D/$file" 2>"$err" &
            ;;
        dumpcap)
            ip netns exec "$ns" dumpcap -i "$ifc" -s 262144 -w "$D/$file" 2>"$err" &
            ;;
    esac
    local pid=$!
    BG_PIDS+=("$pid"); CAP_PIDS+=("$pid")
    [[ $tool == tcpdump ]] && CAP_TCPDUMP+=("$pid:$err")
    wait_for 10 grep -qE 'listening on|Capturing on' "$err" || die "capture $file did not start"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$file" "$vantage" "$fmt" "$lt" "$prec" \
        "$tool" "$ns" "$ifc" "cap.$file.stderr" >>"$D/captures.tsv"
}

# tcpdump_caught_up: ask every tcpdump for its counters (SIGUSR1) and succeed
# when each has written every packet the kernel handed it.
tcpdump_caught_up() {
    local e pid err c r
    for e in "${CAP_TCPDUMP[@]}"; do kill -USR1 "${e%%:*}" 2>/dev/null || true; done
    sleep 0.3
    for e in "${CAP_TCPDUMP[@]}"; do
        err=${e#*:}
        c=$(grep -oE '[0-9]+ packets? captured' "$err" | tail -1 | cut -d' ' -f1)
        r=$(grep -oE '[0-9]+ packets? received by filter' "$err" | tail -1 | cut -d' ' -f1)
        [[ -n $c && $c == "$r" ]] || return 1
    done
}

stop_captures() {
    local pid i
    sleep 1     # let the last frames reach the capture processes
    # On a loaded machine tcpdump can lag behind the kernel; SIGINT would drop
    # what it has not written yet. Wait (bounded) until it has caught up.
    for i in $(seq 20); do
        tcpdump_caught_up && break
        sleep 0.3
    done
    for pid in "${CAP_PIDS[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
    for pid in "${CAP_PIDS[@]}"; do
        timeout 10 tail --pid="$pid" -f /dev/null || kill_pid "$pid" KILL
        wait "$pid" 2>/dev/null || true
    done
    CAP_PIDS=(); CAP_TCPDUMP=()
}

# ------------------------------------------------------------------ actors ---
start_turnserver() { # start_turnserver [extra turnserver flags...]
    local realm=${REALM:-$DEFAULT_REALM}
    local relays=(--relay-ip=$RELAY4)
    [[ -n ${NO_RELAY6:-} ]] || relays+=(--relay-ip=$RELAY6)   # NO_RELAY6=1: IPv4-only relay
    local listen=()
    [[ -z ${EXTRA_LISTEN:-} ]] || listen=(--listening-ip=$EXTRA_LISTEN)   # turn-alternate-server
    TS_FLAGS=(-n --listening-ip=$SRV4 --listening-ip=$SRV6 "${listen[@]}"
        "${relays[@]}"
        --lt-cred-mech "--user=$USER_NAME:$USER_PASS" "--realm=$realm"
        --no-cli --no-tls --no-dtls "$@")
    ip netns exec stsrv turnserver "${TS_FLAGS[@]}" --pidfile="$D/turnserver.pid" \
        --log-file="$D/turnserver.log" --simple-log --no-stdout-log -V \
        >"$D/turnserver.stdout" 2>&1 &
    TS_PID=$!; BG_PIDS+=("$TS_PID")
    wait_for 10 grep -qE 'UDP listener opened on: \[?2001:db8:51::10\]?:3478' "$D/turnserver.log" \
        || die "turnserver did not start"
    sleep 0.3
    {
        echo "realm=$realm"
        echo "server_flags=${TS_FLAGS[*]}"
    } >>"$D/run.txt"
}

start_peer() {
    ip netns exec stpeer turnutils_peer -L $PEER4 -L $PEER6 -p $PEER_PORT >"$D/peer.out" 2>&1 &
    PEER_PID=$!; BG_PIDS+=("$PEER_PID")
    sleep 0.3
}

start_conntrack_events() {
    ip netns exec strtr conntrack -E -o timestamp >"$D/conntrack-events.txt" 2>&1 &
    CT_PID=$!; BG_PIDS+=("$CT_PID")
    sleep 0.2
}

# run_client LABEL TIMEOUT uclient-args...: foreground, bounded
run_client() {
    local label=$1 tmo=$2 rc=0; shift 2
    log "  client $label: turnutils_uclient $*"
    timeout "$tmo" ip netns exec stcli turnutils_uclient -v "$@" \
        >"$D/client-$label.out" 2>&1 || rc=$?
    printf '%s\t%s\t%s\n' "$label" "$rc" "$*" >>"$D/clients.tsv"
    log "  client $label exited rc=$rc"
}

# start_client_bg LABEL uclient-args...: background; sets CL_PID
start_client_bg() {
    local label=$1; shift
    log "  client $label (background): turnutils_uclient $*"
    ip netns exec stcli turnutils_uclient -v "$@" >"$D/client-$label.out" 2>&1 &
    CL_PID=$!; BG_PIDS+=("$CL_PID")
    printf '%s\t%s\t%s\n' "$label" "bg" "$*" >>"$D/clients.tsv"
}

# run_own_client LABEL TIMEOUT MODE ARGS...: our TURN client (turn_client.py)
# in the client namespace, foreground, bounded; its record goes to
# client-LABEL.json (read by coturn_truth.py).
run_own_client() {
    local label=$1 tmo=$2 rc=0; shift 2
    log "  client $label: turn_client.py $*"
    timeout "$tmo" ip netns exec stcli python3 "$GEN/turn_client.py" "$@" --server $S4 \
        --user $USER_NAME --password $USER_PASS --record "$D/client-$label.json" \
        >"$D/client-$label.out" 2>&1 || rc=$?
    printf '%s\t%s\t%s\n' "$label" "$rc" "turn_client.py $*" >>"$D/clients.tsv"
    log "  client $label exited rc=$rc"
    return "$rc"
}

# wait_sessions_settled SECONDS: wait until every allocation whose client sent
# a Refresh with lifetime 0 has been closed by coturn (it closes ~1 s later).
wait_sessions_settled() {
    timeout "$1" bash -c '
        while :; do
            want=$(grep -cE "session [0-9]+: refreshed, .*lifetime=0$" "$1" || true)
            have=$(grep -cE "session [0-9]+: closed \(2nd stage\)" "$1" || true)
            [ "$have" -ge "$want" ] && break
            sleep 0.2
        done' _ "$D/turnserver.log" || log "  (some deleted sessions not closed yet)"
}

# ------------------------------------------------------------- scenarios ---
# Where each vantage point is captured: namespace and interface.
declare -A VANTAGE_IFACE=([server]="stsrv st-srv0" [client-lan]="stcli st-cli0" [public]="stpub stb-rtr")

# capture_at VANTAGE[-KIND]: capture the scenario at VANTAGE into
# $SC.VANTAGE[-KIND].pcap; KIND (see start_capture) defaults to pcap.
capture_at() {
    local tag=$1 vantage=$1 kind=pcap
    [[ $tag == server-* ]] && { vantage=server; kind=${tag#server-}; }
    # shellcheck disable=SC2086  # "namespace interface"
    start_capture ${VANTAGE_IFACE[$vantage]} "$kind" "$SC.$tag" "$vantage"
}

# scenario_begin NAME "VANTAGE..." [turnserver flags...]: a fresh network,
# the captures (started in the order given, before any traffic), coturn
# with the flags ($REALM: another realm) and the peer.
scenario_begin() {
    SC=$1; D=$WORK/$SC
    local vantages=$2 v; shift 2
    rm -rf "$D"; mkdir -p "$D"
    : >"$D/captures.tsv"; : >"$D/clients.tsv"
    {
        echo "scenario=$SC"
        echo "user=$USER_NAME"
        echo "password=$USER_PASS"
        echo "peer_port=$PEER_PORT"
        echo "started=$(date -u +%FT%TZ)"
    } >"$D/run.txt"
    CAP_PIDS=(); CAP_TCPDUMP=()
    net_up
    start_conntrack_events
    [[ -z ${SETUP_HOOK:-} ]] || "$SETUP_HOOK"
    # let the interface-up ICMPv6 (MLD reports) die down: all captures of a run
    # then start on a quiet network and hold the same packets
    sleep 2
    for v in $vantages; do capture_at "$v"; done
    start_turnserver "$@"
    start_peer
}

scenario_end() { # scenario_end SERVER-IP:PORT TRANSPORT
    local server=$1 transport=$2
    nsx strtr conntrack -L >"$D/conntrack-list.txt" 2>/dev/null || true
    nsx strtr conntrack -L -f ipv6 >>"$D/conntrack-list.txt" 2>/dev/null || true
    stop_captures
    kill_pid "$CT_PID" TERM
    [[ -n ${CL_PID:-} ]] && kill_pid "$CL_PID" KILL
    kill_pid "$PEER_PID" TERM
    kill_pid "$TS_PID" TERM
    CL_PID=
    {
        echo "server=$server"
        echo "transport=$transport"
        echo "finished=$(date -u +%FT%TZ)"
    } >>"$D/run.txt"
    net_down
    python3 "$GEN/coturn_truth.py" --dir "$D" --check
}

# Common peer/server endpoints
S4=$SRV4:3478
S6="[$SRV6]:3478"

sc_turn-udp-channels() {
    scenario_begin turn-udp-channels "server server-sll2 server-pcapng server-nano client-lan public"
    run_client main 40 -n 5 -m 1 -c -u $USER_NAME -w $USER_PASS -e $PEER4 -r $PEER_PORT $SRV4
    wait_sessions_settled 10
    scenario_end "$S4" udp
}

sc_turn-udp-send() {
    scenario_begin turn-udp-send "server client-lan"
    run_client main 40 -s -n 5 -m 1 -c -u $USER_NAME -w $USER_PASS -e $PEER4 -r $PEER_PORT $SRV4
    wait_sessions_settled 10
    scenario_end "$S4" udp
}

sc_turn-tcp() {
    scenario_begin turn-tcp "server client-lan public"
    # -l 998: ChannelData of 4+998 bytes needs 2 padding bytes over TCP;
    # -z 0: all messages back to back, so TCP segments carry several
    # STUN/ChannelData messages and messages straddle segment boundaries.
    run_client main 40 -t -n 10 -z 0 -l 998 -m 1 -c -u $USER_NAME -w $USER_PASS \
        -e $PEER4 -r $PEER_PORT $SRV4
    wait_sessions_settled 10
    scenario_end "$S4" tcp
}

sc_turn-tcp-relay() {
    scenario_begin turn-tcp-relay "server client-lan"
    # -T: RFC 6062 TCP relay between two allocations of the same client
    # (Connect / ConnectionAttempt / ConnectionBind on data connections).
    run_client main 40 -T -n 5 -m 1 -u $USER_NAME -w $USER_PASS $SRV4
    wait_sessions_settled 10
    scenario_end "$S4" tcp
}

sc_turn-wrong-password() {
    scenario_begin turn-wrong-password "server client-lan"
    run_client main 30 -n 1 -m 1 -c -u $USER_NAME -w wrong-password -e $PEER4 -r $PEER_PORT $SRV4
    echo "client_password=wrong-password" >>"$D/run.txt"
    sleep 1
    scenario_end "$S4" udp
}

sc_turn-expiry() {
    scenario_begin turn-expiry "server client-lan" --max-allocate-lifetime=12
    # -h: keep the allocation after the last message, no deallocation;
    # SIGKILL the client once its messages went through: no Refresh(0) ever.
    start_client_bg main -h -n 5 -m 1 -c -u $USER_NAME -w $USER_PASS -e $PEER4 -r $PEER_PORT $SRV4
    wait_for 20 grep -qE 'tot_send_msgs=5, tot_recv_msgs=5' "$D/client-main.out" \
        || die "expiry client did not finish its messages"
    kill -KILL "$CL_PID"; wait "$CL_PID" 2>/dev/null || true
    log "  client killed with SIGKILL; waiting for coturn to expire the allocations"
    echo "client_killed=$(date -u +%FT%TZ)" >>"$D/run.txt"
    timeout 30 bash -c '
        until [ "$(grep -cE "session [0-9]+: closed \(2nd stage\)" "$1")" -ge \
                "$(grep -cE "session [0-9]+: new," "$1")" ]; do sleep 0.2; done' \
        _ "$D/turnserver.log" || die "allocations did not expire"
    # UDP expiry leaves nothing on the wire: a STUN Binding from the client
    # host after the expiry shows (at every vantage) that the capture runs past
    # the allocations' lifetime.
    sleep 2
    log "  STUN Binding from the client host after the expiry"
    timeout 5 ip netns exec stcli turnutils_stunclient $SRV4 >"$D/stunclient.out" 2>&1 || true
    echo "binding_after_expiry=$(date -u +%FT%TZ)" >>"$D/run.txt"
    sleep 0.5
    scenario_end "$S4" udp
}

sc_turn-stale-nonce() {
    scenario_begin turn-stale-nonce "server client-lan" --stale-nonce=20
    # one message per second for >30 s: uclient refreshes (Refresh +
    # CreatePermission + ChannelBind) 30 s after start, when the nonce from the
    # 401 is older than 20 s: 438, new nonce, Refresh retried.
    run_client main 70 -n 31 -z 1000 -m 1 -c -u $USER_NAME -w $USER_PASS -e $PEER4 -r $PEER_PORT $SRV4
    wait_sessions_settled 10
    scenario_end "$S4" udp
}

sc_turn-quota() {
    scenario_begin turn-quota "server client-lan" --user-quota=1
    # uclient's first ("probe") allocation takes alice's only slot; the real
    # allocation on the second socket gets 486.
    run_client main 30 -n 1 -m 1 -c -u $USER_NAME -w $USER_PASS -e $PEER4 -r $PEER_PORT $SRV4
    sleep 1
    scenario_end "$S4" udp
}

sc_turn-forbidden-peer() {
    scenario_begin turn-forbidden-peer "server client-lan" --denied-peer-ip=$PEER4
    run_client main 30 -n 1 -m 1 -c -u $USER_NAME -w $USER_PASS -e $PEER4 -r $PEER_PORT $SRV4
    sleep 1
    scenario_end "$S4" udp
}

sc_turn-ipv6() {
    scenario_begin turn-ipv6 "server client-lan public"
    run_client main 40 -n 5 -m 1 -c -u $USER_NAME -w $USER_PASS -e $PEER6 -r $PEER_PORT $SRV6
    wait_sessions_settled 10
    scenario_end "$S6" udp
}

sc_turn-xss-strings() {
    # coturn cannot change its SOFTWARE attribute (only --no-software-attribute);
    # the realm is free text and goes into REALM of every 401 and every
    # authenticated request; uclient -o adds ORIGIN attributes.
    REALM='<script>alert(1)</script>' scenario_begin turn-xss-strings "server client-lan"
    run_client main 40 -n 3 -m 1 -c -u $USER_NAME -w $USER_PASS \
        -o '<script>alert(2)</script>' -e $PEER4 -r $PEER_PORT $SRV4
    echo "client_origin=<script>alert(2)</script>" >>"$D/run.txt"
    wait_sessions_settled 10
    scenario_end "$S4" udp
}

sc_turn-refresh-late() {
    scenario_begin turn-refresh-late "server client-lan" --max-allocate-lifetime=8
    # our client allocates (lifetime granted 8 s), sends its Refresh 4 s after
    # the lifetime ran out (coturn expired the allocation meanwhile), retries
    # once if coturn asks for a new nonce (438), and stops after the answer.
    run_own_client main 40 refresh-late --late 4
    sleep 1
    scenario_end "$S4" udp
}

sc_turn-stale-nonce-loop() {
    scenario_begin turn-stale-nonce-loop "server client-lan" --stale-nonce=3
    # nonce valid 3 s; the client's Refresh 5 s after the Allocate gets 438 with
    # a new NONCE, which the client ignores: 5 more Refreshes, 1 s apart, all
    # with the old nonce, all 438; then it gives up (allocation left active).
    run_own_client main 40 stale-nonce-loop --wait 5 --repeats 5 --interval 1
    sleep 1
    scenario_end "$S4" udp
}

sc_turn-permission-drop() {
    scenario_begin turn-permission-drop "server client-lan"
    # a second peer host on the public segment, without a permission
    nsx stpeer ip addr add $UNPERMITTED4/24 dev st-peer0
    echo "unpermitted_peer=$UNPERMITTED4:$UNPERMITTED_PORT" >>"$D/run.txt"
    log "  client main (background): turn_client.py permission-drop"
    ip netns exec stcli python3 "$GEN/turn_client.py" permission-drop --server $S4 \
        --user $USER_NAME --password $USER_PASS --peer $PEER4:$PEER_PORT --messages 5 \
        --ready-file "$D/relay-ready" --go-file "$D/relay-go" --go-timeout 20 \
        --record "$D/client-main.json" >"$D/client-main.out" 2>&1 &
    CL_PID=$!; BG_PIDS+=("$CL_PID")
    wait_for 15 test -s "$D/relay-ready" || die "client did not allocate"
    # the unpermitted peer sends to the relayed address: coturn drops it all
    log "  unpermitted peer $UNPERMITTED4:$UNPERMITTED_PORT -> $(cat "$D/relay-ready")"
    timeout 20 ip netns exec stpeer python3 "$GEN/udp_sender.py" \
        --bind $UNPERMITTED4:$UNPERMITTED_PORT --to "$(cat "$D/relay-ready")" --count 6 \
        --record "$D/unpermitted.json" >"$D/unpermitted.out" 2>&1 || die "unpermitted sender failed"
    touch "$D/relay-go"
    local rc=0
    timeout 20 tail --pid="$CL_PID" -f /dev/null || rc=124
    wait "$CL_PID" || rc=$?
    CL_PID=
    printf '%s\t%s\t%s\n' main "$rc" "turn_client.py permission-drop --peer $PEER4:$PEER_PORT --messages 5" \
        >>"$D/clients.tsv"
    log "  client main exited rc=$rc"
    ((rc == 0)) || die "permission-drop client failed"
    wait_sessions_settled 10
    scenario_end "$S4" udp
}

sc_turn-relay-chained() {
    scenario_begin turn-relay-chained "server client-lan"
    # two allocations of our client on the same coturn, each the other's peer:
    # A binds a channel to B's relayed address, B creates a permission for A's;
    # 5 ChannelData A -> B (B gets Data indications), 5 Send indications
    # B -> A (A gets ChannelData); coturn relays between its own relayed
    # addresses inside the server host. No extra coturn option is needed.
    run_own_client main 30 chained --messages 5
    wait_sessions_settled 10
    scenario_end "$S4" udp
}

sc_turn-client-misuse() {
    scenario_begin turn-client-misuse "server client-lan"
    # one allocation, four client mistakes: Send without permission, ChannelData
    # on an unbound channel, a bound channel re-bound to another peer, use of
    # the allocation after Refresh 0 (see turn_client.py misuse)
    run_own_client main 30 misuse --peer $PEER4:$PEER_PORT --peer2 $PEER4:$CONFLICT_PORT
    wait_sessions_settled 10
    sleep 1
    scenario_end "$S4" udp
}

sc_turn-keepalive-gap() {
    scenario_begin turn-keepalive-gap "server client-lan"
    # lifetime 600 s; 3 Send indications, 35 s of silence, 3 more, Refresh 0
    run_own_client main 60 keepalive-gap --peer $PEER4:$PEER_PORT --messages 3 --gap 35
    wait_sessions_settled 10
    scenario_end "$S4" udp
}

sc_turn-server-refusals() {
    # no TCP relay, IPv4-only relay address, a relay port range of one port
    NO_RELAY6=1 scenario_begin turn-server-refusals "server client-lan" \
        --no-tcp-relay --min-port=$RELAY_PORT --max-port=$RELAY_PORT
    run_own_client main 30 refusals
    wait_sessions_settled 10
    sleep 1
    scenario_end "$S4" udp
}

sc_turn-alternate-server() {
    # coturn listens on .10 and .13 and names .13 as the alternate server: it
    # redirects Allocates arriving at .10 (300) and serves those at .13 (its
    # own alternate address: no redirect loop)
    EXTRA_LISTEN=$ALT4 SETUP_HOOK=add_alt4 scenario_begin turn-alternate-server "server client-lan" \
        --alternate-server=$ALT4:3478
    echo "alternate_server=$ALT4:3478" >>"$D/run.txt"
    run_own_client main 30 alternate
    wait_sessions_settled 10
    sleep 1
    scenario_end "$ALT4:3478" udp
}
add_alt4() { nsx stsrv ip addr add $ALT4/24 dev st-srv0; }

sc_stun-server-down() {
    scenario_begin stun-server-down "server client-lan"
    # a second address on the server host where nothing listens and nftables
    # drops every packet before the stack could answer (no ICMP)
    nsx stsrv ip addr add $DOWN4/24 dev st-srv0
    nsx stsrv nft -f - <<NFT
table inet stdown {
    chain input {
        type filter hook input priority filter; policy accept;
        ip daddr $DOWN4 drop
    }
}
NFT
    echo "down_server=$DOWN4:3478" >>"$D/run.txt"
    # Binding per RFC 8489 (RTO 500 ms, 7 sends, gives up 39.5 s after the first)
    # then (another socket) one answered Binding to coturn: a capture file ends
    # with its last packet, this one shows that the capture runs past the give-up
    timeout 50 ip netns exec stcli python3 "$GEN/turn_client.py" binding-unanswered --server $DOWN4:3478 \
        --marker $S4 --record "$D/client-main.json" >"$D/client-main.out" 2>&1 || die "binding client failed"
    printf '%s\t%s\t%s\n' main 0 "turn_client.py binding-unanswered --marker $S4" >>"$D/clients.tsv"
    sleep 0.5
    scenario_end "$DOWN4:3478" udp
}

# ------------------------------------------------------------------- main ---
publish() { # copy captures + truth files of scenario $1 to captures/
    local d=$WORK/$1 f
    rm -f "$OUT/$1".*
    while IFS=$'\t' read -r f _; do
        cp "$d/$f" "$OUT/$f"
        chmod 644 "$OUT/$f"
    done <"$d/captures.tsv"
    cp "$d"/*.truth.json "$OUT/"
}

run_one() { # one scenario in this process; the EXIT trap cleans up
    require
    mkdir -p "$WORK"
    "sc_$1"
}

main() {
    case ${1:-} in
        --list) printf '%s\n' "${ALL_SCENARIOS[@]}"; return ;;
        --run-one) run_one "$2"; return ;;
    esac
    require
    local scenarios=("$@") s try ok t0=$SECONDS
    ((${#scenarios[@]})) || scenarios=("${ALL_SCENARIOS[@]}")
    for s in "${scenarios[@]}"; do
        declare -F "sc_$s" >/dev/null || die "unknown scenario $s (see --list)"
    done
    for s in "${scenarios[@]}"; do
        ok=0
        for try in 1 2 3; do
            log "scenario $s (try $try)"
            # own process: set -e stays in force and its EXIT trap cleans up
            if bash "$GEN/turn_scenarios.sh" --run-one "$s"; then ok=1; break; fi
            log "scenario $s failed; retrying"
        done
        ((ok)) || die "scenario $s failed 3 times"
        publish "$s"
    done
    log "done: ${#scenarios[@]} scenario(s) in $((SECONDS - t0)) s"
}

main "$@"; exit $?  # keep on one line: bash reads scripts while running them
