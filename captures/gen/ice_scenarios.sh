#!/usr/bin/env bash
# Regenerates the ICE / SIP / classic-STUN captures of the StunScope corpus
# (captures/<scenario>.<vantage>.pcap + .truth.json), from real traffic:
# aioice agents, coturn, stund/stun-client, turnutils_stunclient/natdiscovery,
# Linux NAT routers (nftables masquerade) in network namespaces.
#
#   captures/gen/ice_scenarios.sh              # all scenarios
#   captures/gen/ice_scenarios.sh ice-direct   # one or more by name
#   KEEP=1 captures/gen/ice_scenarios.sh ...   # keep the work directory
#   CAPTURES_OUT=DIR captures/gen/ice_scenarios.sh ...   # into DIR, not captures/
#
# Scenarios: ice-direct ice-relay-symmetric ice-prflx-public ice-relay-only sip-ice-call
#            stun-classic stun-rfc5780 stun-classic-at-server stun-rfc5780-at-server
#
# Topology (every namespace and veth name starts with "si"):
#
#   sia  agent/client A  10.0.1.10 --- 10.0.1.1  sirta (NAT A, port preserving)
#                                                 203.0.113.2 ---+
#   sib  agent/client B  10.0.2.10 --- 10.0.2.1  sirtb (NAT B,    |  sipub: bridge
#                                      port preserving or symmetric) |  sibr0, the
#                                                 203.0.113.3 ---+  "public" segment
#   sisrv coturn 203.0.113.10 (STUN/TURN, relay) + .11 (RFC 5780 alt) -+
#   sistn stund  203.0.113.20 + .21 (RFC 3489 primary/alternate)      -+
#
# Private destinations are blackholed at the NAT routers (no ICMP), and the
# routers drop unsolicited inbound packets in their input chain (so a dropped
# hole-punching packet leaves no conntrack entry behind).
#
# Requires root, iproute2, nftables, conntrack, tcpdump, coturn, stun-client,
# stun-server, python3 with aioice 0.13. Takes about a minute.

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=netns_lib.sh
source "$HERE/netns_lib.sh"
OUT=$(captures_out "$REPO/captures")
PY=$(command -v python3)
WORK=$(mktemp -d /tmp/si-ice.XXXXXX)
ALL_SCENARIOS=(ice-direct ice-relay-symmetric ice-prflx-public ice-relay-only sip-ice-call stun-classic stun-rfc5780
               stun-classic-at-server stun-rfc5780-at-server)

SI_NS=(sipub sisrv sistn sirta sirtb sia sib)
PUB_NET=203.0.113
SRV=$PUB_NET.10; SRV_ALT=$PUB_NET.11
STUND=$PUB_NET.20; STUND_ALT=$PUB_NET.21
WAN_A=$PUB_NET.2; WAN_B=$PUB_NET.3
HOST_A=10.0.1.10; GW_A=10.0.1.1
HOST_A_PUB=$PUB_NET.50   # agent A when it has no NAT (ice-prflx-public)
HOST_B=10.0.2.10; GW_B=10.0.2.1

BG_PIDS=()      # every background process we started (killed on exit)
CAP_PIDS=()     # tcpdump wrappers of the running scenario
COTURN_PID=""

log() { printf '[ice_scenarios %s] %s\n' "$(date +%T)" "$*" >&2; }

net_down() { ns_delete "${SI_NS[@]}"; }

cleanup() {
    local rc=$?
    end_pids "${BG_PIDS[@]}"
    net_down
    if [[ -n "${KEEP:-}" ]]; then
        log "work directory kept: $WORK"
    else
        rm -rf "$WORK"
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ network

# nat_rules <router-ns> <lan-if> <wan-if> <pp|sym> [dnat-port dnat-host]
nat_rules() {
    local ns=$1 lan=$2 wan=$3 kind=$4 dport=${5:-} dhost=${6:-}
    local masq="masquerade"
    [[ $kind == sym ]] && masq="masquerade fully-random"
    local dnat="" fwd_dnat=""
    if [[ -n $dport ]]; then
        dnat="iifname \"$wan\" udp dport $dport dnat to $dhost:$dport"
        fwd_dnat="ct status dnat accept"
    fi
    nsx "$ns" nft -f - <<NFT
table ip sinat {
    chain prerouting {
        type nat hook prerouting priority dstnat; policy accept;
        $dnat
    }
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "$wan" $masq
    }
    chain input {
        type filter hook input priority filter; policy drop;
        iifname "lo" accept
        ct state established,related accept
        iifname "$lan" accept
    }
    chain forward {
        type filter hook forward priority filter; policy drop;
        iifname "$lan" oifname "$wan" accept
        ct state established,related accept
        $fwd_dnat
    }
}
NFT
}

# net_up <nat-a pp|sym|none> <nat-b pp|sym> [sip]
# nat-a "none": agent A sits directly on the public segment ($HOST_A_PUB).
net_up() {
    local nat_a=$1 nat_b=$2 sip=${3:-} ns
    net_down
    # IPv4 only: no router solicitations, MLD or DAD chatter in the captures
    ns_create ipv4-only "${SI_NS[@]}"
    bridge_create sipub sibr0
    ip link add si-srv0 netns sisrv type veth peer name sibp-srv netns sipub
    ip link add si-stn0 netns sistn type veth peer name sibp-stn netns sipub
    ip link add si-rta-wan netns sirta type veth peer name sibp-rta netns sipub
    ip link add si-rtb-wan netns sirtb type veth peer name sibp-rtb netns sipub
    if [[ $nat_a == none ]]; then
        ip link add si-a0 netns sia type veth peer name sibp-a netns sipub
    else
        ip link add si-a0 netns sia type veth peer name si-rta-lan netns sirta
    fi
    ip link add si-b0 netns sib type veth peer name si-rtb-lan netns sirtb
    local p
    for p in sibp-srv sibp-stn sibp-rta sibp-rtb $([[ $nat_a == none ]] && echo sibp-a); do
        nsx sipub ip link set "$p" master sibr0
        nsx sipub ip link set "$p" up
    done
    nsx sisrv ip addr add $SRV/24 dev si-srv0
    nsx sisrv ip addr add $SRV_ALT/24 dev si-srv0
    nsx sisrv ip link set si-srv0 up
    # The TURN server's default route points at an "internet" gateway that is
    # not there (static neighbour, nobody owns the MAC): packets it relays to
    # private peer addresses leave on the public segment and vanish, as on a
    # real server, instead of failing locally with ENETUNREACH (which makes
    # coturn drop the allocation).
    nsx sisrv ip neigh add $PUB_NET.1 lladdr 02:00:5e:00:53:01 dev si-srv0 nud permanent
    nsx sisrv ip route add default via $PUB_NET.1
    nsx sistn ip addr add $STUND/24 dev si-stn0
    nsx sistn ip addr add $STUND_ALT/24 dev si-stn0
    nsx sistn ip link set si-stn0 up

    nsx sirta ip addr add $WAN_A/24 dev si-rta-wan
    [[ $nat_a == none ]] || nsx sirta ip addr add $GW_A/24 dev si-rta-lan
    nsx sirtb ip addr add $WAN_B/24 dev si-rtb-wan
    nsx sirtb ip addr add $GW_B/24 dev si-rtb-lan
    nsx sirta ip link set si-rta-wan up
    [[ $nat_a == none ]] || nsx sirta ip link set si-rta-lan up
    nsx sirtb ip link set si-rtb-wan up; nsx sirtb ip link set si-rtb-lan up
    for ns in sirta sirtb; do
        nsx $ns sysctl -qw net.ipv4.ip_forward=1
        # other private networks are unreachable from the public side: drop silently
        nsx $ns ip route add blackhole 10.0.0.0/8
    done
    [[ $nat_a == none ]] || nat_rules sirta si-rta-lan si-rta-wan "$nat_a"
    if [[ $sip == sip ]]; then
        # SIP port forward: UDP 5060 on NAT B's public address -> host B
        nat_rules sirtb si-rtb-lan si-rtb-wan "$nat_b" 5060 $HOST_B
    else
        nat_rules sirtb si-rtb-lan si-rtb-wan "$nat_b"
    fi

    if [[ $nat_a == none ]]; then
        # public host: default route to the absent internet gateway (see sisrv)
        nsx sia ip addr add $HOST_A_PUB/24 dev si-a0
        nsx sia ip link set si-a0 up
        nsx sia ip neigh add $PUB_NET.1 lladdr 02:00:5e:00:53:01 dev si-a0 nud permanent
        nsx sia ip route add default via $PUB_NET.1
    else
        nsx sia ip addr add $HOST_A/24 dev si-a0
        nsx sia ip link set si-a0 up
        nsx sia ip route add default via $GW_A
    fi
    nsx sib ip addr add $HOST_B/24 dev si-b0
    nsx sib ip link set si-b0 up
    nsx sib ip route add default via $GW_B
    nsx sirta conntrack -F >/dev/null 2>&1 || true
    nsx sirtb conntrack -F >/dev/null 2>&1 || true
}

# ------------------------------------------------------------------ helpers

# capture_start <ns> <if> <file>
capture_start() {
    local ns=$1 ifc=$2 file=$3
    ip netns exec "$ns" timeout 300 tcpdump --immediate-mode -U -n -i "$ifc" -w "$file" 2>"$file.log" &
    local pid=$!
    BG_PIDS+=("$pid"); CAP_PIDS+=("$pid")
    wait_for 10 grep -q "listening on" "$file.log"
}

capture_stop() {
    sleep 0.3
    local p
    for p in "${CAP_PIDS[@]}"; do
        kill -INT "$p" 2>/dev/null || true
    done
    for p in "${CAP_PIDS[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    CAP_PIDS=()
}

coturn_start() {
    local dir=$1
    ip netns exec sisrv timeout 300 turnserver -n \
        --listening-ip=$SRV --listening-ip=$SRV_ALT --listening-port=3478 \
        --relay-ip=$SRV --min-port=49152 --max-port=49999 \
        --lt-cred-mech --user=alice:secret --realm=example.org \
        --no-cli --no-tls --no-dtls --pidfile="$dir/turnserver.pid" \
        -V --simple-log --log-file="$dir/turnserver.log" \
        >"$dir/turnserver.stdout" 2>&1 &
    COTURN_PID=$!
    BG_PIDS+=("$COTURN_PID")
    wait_for 10 sh -c "ip netns exec sisrv ss -uln | grep -q '$SRV_ALT:3479'"
}

coturn_stop() {
    [[ -n $COTURN_PID ]] || return 0
    kill "$COTURN_PID" 2>/dev/null || true
    wait "$COTURN_PID" 2>/dev/null || true
    COTURN_PID=""
}

conntrack_dump() {  # conntrack_dump <dir> : both NAT tables
    nsx sirta conntrack -L -p udp >"$1/conntrack.nat-a.txt" 2>/dev/null || true
    nsx sirtb conntrack -L -p udp >"$1/conntrack.nat-b.txt" 2>/dev/null || true
}

# publish <dir> <scenario> <vantage...>: move the pcaps into captures/
publish() {
    local dir=$1 scen=$2; shift 2
    local v
    for v in "$@"; do
        cp "$dir/$v.pcap" "$OUT/$scen.$v.pcap"
    done
}

# ------------------------------------------------------------------ ICE

# ice_scenario <name> <nat-a> <nat-b> <signal file|sip> <nomination> <expect> <turn yes|no> [linger [policy [vantages]]]
# policy: all (default) or relay (aioice TransportPolicy.RELAY on both agents);
# vantages: comma-separated subset of <lan-a|host-a>,lan-b,public,turn-server
# (default: all four).
# The run is real every time, but which pair aioice selects depends on timing
# (e.g. whether the first hole-punching check is dropped): a run whose
# selected pair does not show what the scenario is about (<expect>, checked by
# ice_truth.py before it writes anything) is thrown away and run again.
ice_scenario() {
    local attempt rc
    for attempt in 1 2 3 4 5; do
        rc=0
        ice_scenario_once "$attempt" "$@" || rc=$?
        ((rc == 0)) && return 0
        log "$1: attempt $attempt did not work out (status $rc), running it again"
        coturn_stop
    done
    log "$1: giving up"
    return 1
}

ice_scenario_once() {
    local attempt=$1 scen=$2 nat_a=$3 nat_b=$4 signal=$5 nomination=$6 expect=$7 turn=$8 linger=${9:-0}
    local policy=${10:-all} vlist=${11:-}
    local dir="$WORK/$scen.$attempt"
    mkdir -p "$dir/x"
    log "$scen: NAT A $nat_a, NAT B $nat_b, signalling $signal, $nomination nomination, policy $policy, expecting $expect"
    # (errexit does not apply inside this function: it runs under "||")
    net_up "$nat_a" "$nat_b" "$([[ $signal == sip ]] && echo sip)" || return 1
    coturn_start "$dir" || return 1
    local va=lan-a host_a=$HOST_A
    if [[ $nat_a == none ]]; then va=host-a; host_a=$HOST_A_PUB; fi
    local vantages=($va lan-b public turn-server)
    [[ -n $vlist ]] && IFS=, read -r -a vantages <<<"$vlist"
    local v
    for v in "${vantages[@]}"; do
        case $v in
            lan-a|host-a) capture_start sia si-a0 "$dir/$v.pcap" || return 1 ;;
            lan-b) capture_start sib si-b0 "$dir/lan-b.pcap" || return 1 ;;
            public) capture_start sipub sibr0 "$dir/public.pcap" || return 1 ;;
            turn-server) capture_start sisrv si-srv0 "$dir/turn-server.pcap" || return 1 ;;
            *) log "unknown vantage $v"; return 1 ;;
        esac
    done

    local common=(--stun "$SRV:3478" --nomination "$nomination" --signal "$signal"
                  --dir "$dir/x" --linger "$linger")
    [[ $turn == yes ]] && common+=(--turn "$SRV:3478" --turn-user alice --turn-pass secret)
    [[ $policy == relay ]] && common+=(--relay-only)
    ip netns exec sib timeout 120 "$PY" "$HERE/ice_agent.py" --name b --peer a "${common[@]}" \
        --sip-local $HOST_B --state "$dir/b.state.json" --log "$dir/b.log" &
    local pb=$!; BG_PIDS+=("$pb")
    # the callee must be listening before the INVITE
    if [[ $signal == sip ]]; then
        wait_for 10 sh -c "ip netns exec sib ss -uln | grep -q ':5060'"
    fi
    ip netns exec sia timeout 120 "$PY" "$HERE/ice_agent.py" --name a --peer b --controlling "${common[@]}" \
        --sip-local $host_a --sip-peer $WAN_B --state "$dir/a.state.json" --log "$dir/a.log" &
    local pa=$!; BG_PIDS+=("$pa")
    local rca=0 rcb=0
    wait "$pa" || rca=$?
    wait "$pb" || rcb=$?
    conntrack_dump "$dir"
    capture_stop
    coturn_stop
    if ((rca != 0 || rcb != 0)); then
        log "$scen: agent a rc=$rca, agent b rc=$rcb"
        tail -n 30 "$dir/a.log" "$dir/b.log" >&2 || true
        return 1
    fi
    "$PY" "$HERE/ice_truth.py" ice --scenario "$scen" --work "$dir" --out "$OUT" \
        --nat-a "$nat_a" --nat-b "$nat_b" --signal "$signal" --nomination "$nomination" \
        --expect "$expect" --turn "$turn" --policy "$policy" --vantages "$(IFS=,; echo "${vantages[*]}")" || return $?
    publish "$dir" "$scen" "${vantages[@]}"
}

# ------------------------------------------------------------------ STUN

# server_conntrack <ns>: connection tracking on the STUN server's own host
# (accept-all rules that only make the kernel track flows, with packet
# counters and a long UDP timeout), so that the truth can say from which
# server address/port each answer left, from the kernel and not the capture.
server_conntrack() {
    local ns=$1
    nsx "$ns" nft -f - <<NFT
table ip sict {
    chain input { type filter hook input priority filter; policy accept; ct state new counter accept; }
    chain output { type filter hook output priority filter; policy accept; ct state new counter accept; }
}
NFT
    nsx "$ns" sysctl -qw net.netfilter.nf_conntrack_acct=1
    nsx "$ns" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=300
    nsx "$ns" sysctl -qw net.netfilter.nf_conntrack_udp_timeout_stream=300
}

# stun_scenario <classic|rfc5780> [lan|server]
#   lan:    captures on both clients' interfaces and the public segment (stun-<kind>)
#   server: the same test, captured on the STUN server's interface and the
#           public segment (stun-<kind>-at-server)
stun_scenario() {
    local kind=$1 where=${2:-lan} scen="stun-$1"
    [[ $where == server ]] && scen="stun-$1-at-server"
    local dir="$WORK/$scen"
    mkdir -p "$dir"
    log "$scen: clients behind a port-preserving NAT (A) and a symmetric NAT (B), captured at the ${where}"
    net_up pp sym
    local server server_alt port=3478 srv_ns srv_if
    if [[ $kind == classic ]]; then srv_ns=sistn; srv_if=si-stn0; else srv_ns=sisrv; srv_if=si-srv0; fi
    [[ $where == server ]] && server_conntrack $srv_ns
    if [[ $kind == classic ]]; then
        server=$STUND; server_alt=$STUND_ALT
        ip netns exec sistn timeout 300 stund -v -h $STUND -a $STUND_ALT >"$dir/stund.log" 2>&1 &
        local spid=$!; BG_PIDS+=("$spid")
        wait_for 10 sh -c "ip netns exec sistn ss -uln | grep -q '$STUND_ALT:3479'"
    else
        server=$SRV; server_alt=$SRV_ALT
        coturn_start "$dir"
    fi
    local vantages=(lan-port-preserving lan-symmetric public)
    if [[ $where == server ]]; then
        vantages=(server public)
        capture_start $srv_ns $srv_if "$dir/server.pcap"
    else
        capture_start sia si-a0 "$dir/lan-port-preserving.pcap"
        capture_start sib si-b0 "$dir/lan-symmetric.pcap"
    fi
    capture_start sipub sibr0 "$dir/public.pcap"

    local side ns
    for side in a b; do
        ns=si$side
        if [[ $kind == classic ]]; then
            # stun-client 0.97: RFC 3489 tests I-III (CHANGE-REQUEST), -v prints
            # every response; fixed source port so that the truth can name it
            nsx $ns timeout 30 stun $server -v -p 40000 >"$dir/client-$side.txt" 2>&1 \
                || echo "exit status $?" >>"$dir/client-$side.txt"
        else
            # Binding with RFC 5780 processing (never exits on its own: bounded)
            nsx $ns timeout 2 turnutils_stunclient -f -L $([[ $side == a ]] && echo $HOST_A || echo $HOST_B) \
                $server >"$dir/stunclient-$side.txt" 2>&1 \
                || echo "exit status $?" >>"$dir/stunclient-$side.txt"
            # RFC 5780 section 4.3 / 4.4: mapping and filtering behaviour
            nsx $ns timeout 60 turnutils_natdiscovery -m -f $server >"$dir/natdiscovery-$side.txt" 2>&1 \
                || echo "exit status $?" >>"$dir/natdiscovery-$side.txt"
        fi
        sleep 0.3
    done
    conntrack_dump "$dir"
    [[ $where == server ]] && { nsx $srv_ns conntrack -L -p udp >"$dir/conntrack.server.txt" 2>/dev/null || true; }
    capture_stop
    if [[ $kind == classic ]]; then
        kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true
    else
        coturn_stop
    fi
    "$PY" "$HERE/ice_truth.py" stun --scenario "$scen" --kind "$kind" --work "$dir" --out "$OUT" \
        --server "$server:$port" --server-alt "$server_alt" --vantages "$(IFS=,; echo "${vantages[*]}")"
    publish "$dir" "$scen" "${vantages[@]}"
}

run_scenario() {
    case $1 in
        ice-direct)          ice_scenario ice-direct pp pp file aggressive direct yes 6 ;;
        ice-relay-symmetric) ice_scenario ice-relay-symmetric pp sym file aggressive relay yes ;;
        # no TURN here: the peer-reflexive pair is the only one that can work
        ice-prflx-public)    ice_scenario ice-prflx-public none sym file aggressive prflx no ;;
        # both agents relay-only (TransportPolicy.RELAY) behind port-preserving
        # NATs: a direct pair would work, but only relay candidates are offered
        ice-relay-only)      ice_scenario ice-relay-only pp pp file aggressive relay-only yes 0 relay \
                                 lan-a,public,turn-server ;;
        sip-ice-call)        ice_scenario sip-ice-call pp pp sip regular direct yes ;;
        stun-classic)        stun_scenario classic ;;
        stun-rfc5780)        stun_scenario rfc5780 ;;
        stun-classic-at-server) stun_scenario classic server ;;
        stun-rfc5780-at-server) stun_scenario rfc5780 server ;;
        *) log "unknown scenario $1 (known: ${ALL_SCENARIOS[*]})"; return 2 ;;
    esac
}

[[ $(id -u) == 0 ]] || { log "must run as root (network namespaces)"; exit 1; }
# The namespace names are fixed: one run at a time.
exec 9>/tmp/si-ice-scenarios.lock
flock -w 900 9 || { log "another ice_scenarios.sh run holds /tmp/si-ice-scenarios.lock"; exit 1; }
scenarios=("$@")
((${#scenarios[@]})) || scenarios=("${ALL_SCENARIOS[@]}")
start=$SECONDS
for s in "${scenarios[@]}"; do
    t=$SECONDS
    run_scenario "$s"
    net_down
    log "$s done in $((SECONDS - t)) s"
done
log "all done in $((SECONDS - start)) s"
