#!/usr/bin/env bash
# Generates the foundation captures: one real capture per link type
# (captures/link-*.pcap*) and per decoding path (captures/decode-*.pcap),
# plus damaged copies for the error paths (captures/broken/).
#
# Real traffic between two network namespaces joined by a veth pair:
#
#   sfcli                                     sfsrv
#   sf-c0        10.99.0.1 / fd99::1   ----   sf-s0        10.99.0.2 / fd99::2
#   sf-c100 (tap) 10.99.100.1 / fd99:100::1   sf-s100 (tap) 10.99.100.2
#   sf-cq   (tap) 10.99.210.1 / fd99:210::1   sf-sq   (tap) 10.99.210.2
#   sf-tun0      10.99.50.1 / fd99:50::1  (tun, answered by a python process
#                as 10.99.50.2 / fd99:50::2: RAW link type)
#
# This kernel has no 8021q module: vlan_trunk.py bridges each tap (an access
# port of the kernel's stack) onto the veth trunk, tagging 802.1Q VLAN 100 on
# sf-?100 and QinQ (802.1ad 200 outside, 802.1Q 10 inside) on sf-?q.
#
# Peers: coturn as a STUN server (UDP and TCP 3478) and a python UDP echo
# (port 7000) in sfsrv; python clients (foundation_traffic.py) and
# turnutils_stunclient in sfcli. NULL, LOOP, IPV4 and IPV6 link types cannot
# be captured on Linux: relink.py re-encapsulates link-en10mb.pcap.
#
# Needs root, tcpdump, dumpcap, coturn, iproute2, python3. Only the sfcli and
# sfsrv namespaces are touched; every wait is bounded.
#
#   captures/gen/foundation_captures.sh            # all captures
#   CAPTURES_OUT=DIR captures/gen/foundation_captures.sh   # into DIR, not captures/
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=netns_lib.sh
source "$HERE/netns_lib.sh"
OUT=$(captures_out "$HERE/..")
WORK="$HERE/work/foundation"
PY=python3
TRAFFIC="$HERE/foundation_traffic.py"
NS=(sfcli sfsrv)
BG_PIDS=()  # background processes (started with `ip netns exec` directly, so $! is
            # the process itself, not a subshell)

log() { echo "[foundation] $*" >&2; }

net_down() { ns_delete "${NS[@]}"; }

cleanup() {
    end_pids "${BG_PIDS[@]}"
    net_down
}
trap cleanup EXIT

net_up() {
    net_down
    ns_create dual-stack "${NS[@]}"
    ip link add sf-c0 netns sfcli type veth peer name sf-s0 netns sfsrv
    local side ifc n
    for side in c s; do
        ns=sfcli; n=1
        [[ $side == s ]] && { ns=sfsrv; n=2; }
        ifc=sf-${side}0
        nsx $ns ip addr add 10.99.0.$n/24 dev $ifc
        nsx $ns ip addr add fd99::$n/64 dev $ifc nodad
        nsx $ns ip link set $ifc up
        # VLAN access ports (taps) bridged onto the veth trunk by vlan_trunk.py:
        # 802.1Q VLAN 100, and QinQ (802.1ad service tag 200 + 802.1Q tag 10)
        nsx $ns ip tuntap add mode tap name sf-${side}100
        nsx $ns ip tuntap add mode tap name sf-${side}q
        nsx $ns ip link set sf-${side}100 mtu 1400 address 02:00:00:99:01:0$n
        nsx $ns ip link set sf-${side}q mtu 1400 address 02:00:00:99:02:0$n
        nsx $ns ip addr add 10.99.100.$n/24 dev sf-${side}100
        nsx $ns ip addr add fd99:100::$n/64 dev sf-${side}100 nodad
        nsx $ns ip addr add 10.99.210.$n/24 dev sf-${side}q
        nsx $ns ip addr add fd99:210::$n/64 dev sf-${side}q nodad
        nsx $ns ip link set sf-${side}100 up
        nsx $ns ip link set sf-${side}q up
    done
    # tun device in sfcli, held open and answered by foundation_traffic.py
    nsx sfcli ip tuntap add mode tun name sf-tun0
    nsx sfcli ip link set sf-tun0 addrgenmode none
    nsx sfcli ip addr add 10.99.50.1/24 dev sf-tun0
    nsx sfcli ip addr add fd99:50::1/64 dev sf-tun0 nodad
    nsx sfcli ip link set sf-tun0 up
}

servers_up() {
    ip netns exec sfsrv timeout 600 turnserver -n -S --no-cli --no-tls --no-dtls \
        --listening-port=3478 --pidfile="$WORK/turnserver.pid" \
        --simple-log --log-file="$WORK/turnserver.log" >"$WORK/turnserver.stdout" 2>&1 &
    BG_PIDS+=($!)
    ip netns exec sfsrv timeout 600 $PY "$TRAFFIC" echo-udp 7000 2>"$WORK/echo.log" &
    BG_PIDS+=($!)
    ip netns exec sfcli timeout 600 $PY "$TRAFFIC" tun-responder sf-tun0 --seconds 590 2>"$WORK/tun.log" &
    BG_PIDS+=($!)
    ip netns exec sfcli timeout 600 $PY "$HERE/vlan_trunk.py" sf-c0 sf-c100=8100:100 sf-cq=88a8:200,8100:10 \
        --seconds 590 2>"$WORK/trunk-c.log" &
    BG_PIDS+=($!)
    ip netns exec sfsrv timeout 600 $PY "$HERE/vlan_trunk.py" sf-s0 sf-s100=8100:100 sf-sq=88a8:200,8100:10 \
        --seconds 590 2>"$WORK/trunk-s.log" &
    BG_PIDS+=($!)
    wait_for 15 sh -c "ip netns exec sfsrv ss -uln | grep -q '10.99.0.2:3478'"
    wait_for 15 sh -c "ip netns exec sfsrv ss -tln | grep -q '10.99.0.2:3478'"
    wait_for 15 sh -c "ip netns exec sfsrv ss -uln | grep -q '\[fd99::2\]:3478'"
    wait_for 15 sh -c "ip netns exec sfsrv ss -uln | grep -q '10.99.210.2:3478'"
    wait_for 15 sh -c "ip netns exec sfsrv ss -uln | grep -q ':7000'"
    wait_for 15 grep -q attached "$WORK/tun.log"
    wait_for 15 grep -q ready "$WORK/trunk-c.log"
    wait_for 15 grep -q ready "$WORK/trunk-s.log"
    # Neighbour entries first, so the captures do not all start with ARP/ND.
    nsx sfcli $PY "$TRAFFIC" stun-udp 10.99.0.2 --count 1 >/dev/null 2>&1 || true
}

CAP_PIDS=()
# cap_start <ns> <file> <tool and args ...>: tool is tcpdump or dumpcap
cap_start() {
    local ns=$1 file=$2; shift 2
    local tool=$1; shift
    rm -f "$file"
    if [[ $tool == dumpcap ]]; then
        ip netns exec "$ns" timeout 120 dumpcap -q "$@" -w "$file" 2>"$file.log" &
        CAP_PIDS+=($!); BG_PIDS+=($!)
        wait_for 15 grep -q "Capturing on" "$file.log"
        sleep 0.5
    else
        ip netns exec "$ns" timeout 120 tcpdump -Z root -U -n --immediate-mode "$@" -w "$file" 2>"$file.log" &
        CAP_PIDS+=($!); BG_PIDS+=($!)
        wait_for 15 grep -q "listening on" "$file.log"
    fi
}

cap_stop() {
    # tcpdump runs in immediate mode; dumpcap's ring blocks time out after 1 s.
    sleep 1.2
    local p
    for p in "${CAP_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${CAP_PIDS[@]}"; do
        for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
        wait "$p" 2>/dev/null || true
    done
    CAP_PIDS=()
}

set_mtu() { nsx sfcli ip link set sf-c0 mtu "$1"; nsx sfsrv ip link set sf-s0 mtu "$1"; }

# run_step KIND ARGS...: one traffic step of a capture.
#   cli ARGS       foundation_traffic.py ARGS in sfcli: must succeed
#   srv ARGS       foundation_traffic.py ARGS in sfsrv: must succeed
#   may-fail ARGS  foundation_traffic.py ARGS in sfcli, unanswered is expected
#   stunclient HOST  turnutils_stunclient (RFC 5780 checks) in sfcli; its
#                    outcome is not ours to check
run_step() {
    local kind=$1; shift
    case $kind in
        cli) nsx sfcli timeout 20 $PY "$TRAFFIC" "$@" ;;
        srv) nsx sfsrv timeout 20 $PY "$TRAFFIC" "$@" ;;
        may-fail) nsx sfcli timeout 20 $PY "$TRAFFIC" "$@" >/dev/null 2>&1 || true ;;
        stunclient) nsx sfcli timeout 5 turnutils_stunclient -p 3478 "$@" >/dev/null 2>&1 || true ;;
        *) log "unknown step $kind"; return 1 ;;
    esac
}

# capture "NAME: WHAT" NS FILE TOOL ARGS... <<STEPS: one capture file. TOOL
# (tcpdump or dumpcap, with ARGS) runs in NS writing $WORK/FILE while the
# steps (one a line, see run_step; # starts a comment) run in order; then
# every running capture is stopped.
capture() {
    local what=$1 ns=$2 file=$3; shift 3
    local steps step words
    mapfile -t steps   # all of stdin first: the steps' own commands must not read it
    log "$what"
    cap_start "$ns" "$WORK/$file" "$@"
    for step in "${steps[@]}"; do
        [[ $step =~ ^[[:space:]]*(#|$) ]] && continue
        read -ra words <<<"$step"
        run_step "${words[@]}" </dev/null
    done
    cap_stop
}

main() {
    [[ $(id -u) == 0 ]] || { log "needs root (network namespaces, tcpdump)"; exit 1; }
    rm -rf "$WORK"; mkdir -p "$WORK"
    net_up
    servers_up

    capture "link-en10mb: Ethernet; UDP/TCP STUN over v4/v6, fragments, ICMP" \
        sfsrv link-en10mb.pcap tcpdump -i sf-s0 <<'STEPS'
stunclient 10.99.0.2
cli stun-udp 10.99.0.2 --count 2
cli stun-udp fd99::2 --count 2
cli tcp-stun 10.99.0.2 --mode split
cli udp-big 10.99.0.2 --size 2000 --count 1
cli udp-big fd99::2 --size 2000 --count 1
cli udp-closed 10.99.0.2 --count 1
cli udp-closed fd99::2 --count 1
STEPS

    capture "link-nano: nanosecond pcap" \
        sfsrv link-nano.pcap tcpdump -i sf-s0 --time-stamp-precision=nano <<'STEPS'
stunclient fd99::2
cli stun-udp 10.99.0.2 --count 2
cli stun-udp fd99::2 --count 2
STEPS

    capture "link-pcapng: dumpcap, two interfaces (veth and lo)" \
        sfsrv link-pcapng.pcapng dumpcap -i sf-s0 -i lo <<'STEPS'
cli stun-udp 10.99.0.2 --count 2
srv stun-udp 127.0.0.1 --count 2
srv stun-udp ::1 --count 1
cli stun-udp fd99::2 --count 1
STEPS

    capture "link-pcapng-mixed: dumpcap on veth (EN10MB) and tun (RAW) in one pcapng" \
        sfcli link-pcapng-mixed.pcapng dumpcap -i sf-c0 -i sf-tun0 <<'STEPS'
cli stun-udp 10.99.0.2 --count 2
cli stun-udp 10.99.50.2 --count 2
cli stun-udp fd99:50::2 --count 1
cli tcp-stun 10.99.0.2 --mode coalesced
STEPS

    capture "link-vlan: 802.1Q VLAN 100, captured on the parent" \
        sfsrv link-vlan.pcap tcpdump -i sf-s0 <<'STEPS'
cli stun-udp 10.99.100.2 --count 2
cli stun-udp fd99:100::2 --count 2
cli tcp-stun 10.99.100.2 --mode coalesced
STEPS

    capture "link-qinq: 802.1ad 200 + 802.1Q 10, captured on the parent" \
        sfsrv link-qinq.pcap tcpdump -i sf-s0 <<'STEPS'
cli stun-udp 10.99.210.2 --count 2
cli stun-udp fd99:210::2 --count 2
cli udp-big 10.99.210.2 --size 2000 --count 1
STEPS

    capture "link-sll: tcpdump -i any -y LINUX_SLL (veth, tun, VLAN interfaces)" \
        sfcli link-sll.pcap tcpdump -i any -y LINUX_SLL <<'STEPS'
cli stun-udp 10.99.0.2 --count 2
cli stun-udp fd99:50::2 --count 1
cli stun-udp 10.99.100.2 --count 1
cli tcp-stun fd99::2 --mode split
STEPS

    capture "link-sll2: tcpdump -i any (LINUX_SLL2)" \
        sfcli link-sll2.pcap tcpdump -i any <<'STEPS'
cli stun-udp 10.99.0.2 --count 2
cli stun-udp 10.99.50.2 --count 1
cli stun-udp fd99:210::2 --count 1
cli udp-closed fd99::2 --count 1
STEPS

    capture "link-raw: tun device (LINKTYPE_RAW)" \
        sfcli link-raw.pcap tcpdump -i sf-tun0 <<'STEPS'
cli stun-udp 10.99.50.2 --count 2
cli stun-udp fd99:50::2 --count 2
cli udp-big 10.99.50.2 --size 1200 --count 1
# a datagram larger than the tun MTU: fragments, not answered
may-fail udp-big 10.99.50.2 --size 3000 --count 1
STEPS

    set_mtu 1280
    capture "decode-frag-v4: IPv4 fragments (MTU 1280)" \
        sfsrv decode-frag-v4.pcap tcpdump -i sf-s0 <<'STEPS'
cli udp-big 10.99.0.2 --size 3000 --count 2
cli udp-big 10.99.0.2 --size 1400 --count 1
cli stun-udp 10.99.0.2 --count 1 --pad 2900
STEPS

    capture "decode-frag-v6: IPv6 fragments, with hop-by-hop and destination options" \
        sfsrv decode-frag-v6.pcap tcpdump -i sf-s0 <<'STEPS'
cli udp-big fd99::2 --size 3000 --count 2
cli stun-udp fd99::2 --count 1 --pad 2900
cli stun-udp fd99::2 --count 1 --pad 2900 --hopopts
cli udp-big fd99::2 --size 3000 --count 1 --dstopts
STEPS
    set_mtu 1500

    capture "decode-ip-options: IPv4 options, IPv6 hop-by-hop and destination options" \
        sfsrv decode-ip-options.pcap tcpdump -i sf-s0 <<'STEPS'
cli stun-udp 10.99.0.2 --count 2 --ipopts
cli stun-udp fd99::2 --count 2 --hopopts
cli stun-udp fd99::2 --count 2 --dstopts
cli stun-udp fd99::2 --count 1 --hopopts --dstopts
STEPS

    capture "decode-tcp-split: STUN over TCP written in small pieces (TCP_NODELAY)" \
        sfsrv decode-tcp-split.pcap tcpdump -i sf-s0 <<'STEPS'
cli tcp-stun 10.99.0.2 --mode split
cli tcp-stun fd99::2 --mode split
STEPS

    capture "decode-tcp-coalesced: several STUN messages per segment, one straddling" \
        sfsrv decode-tcp-coalesced.pcap tcpdump -i sf-s0 <<'STEPS'
cli tcp-stun 10.99.0.2 --mode coalesced
cli tcp-stun fd99::2 --mode coalesced
STEPS

    capture "decode-icmp-unreach: STUN to a closed port" \
        sfsrv decode-icmp-unreach.pcap tcpdump -i sf-s0 <<'STEPS'
cli udp-closed 10.99.0.2 --count 2 --gap 1.1
cli udp-closed fd99::2 --count 2 --gap 1.1
STEPS

    # the client end is captured too (started first, stopped with the server end)
    cap_start sfcli "$WORK/decode-merge.client.pcap" tcpdump -i sf-c0
    capture "decode-merge: the same traffic on both ends of the veth (overlapping files)" \
        sfsrv decode-merge.server.pcap tcpdump -i sf-s0 <<'STEPS'
cli stun-udp 10.99.0.2 --count 3 --gap 0.2
cli stun-udp fd99::2 --count 3 --gap 0.2
STEPS

    mkdir -p "$WORK/rotate"
    capture "decode-rotate: tcpdump -G 1 rotation (consecutive files)" \
        sfsrv rotate/rot-%s.pcap tcpdump -i sf-s0 -G 1 <<'STEPS'
cli stun-udp 10.99.0.2 --count 12 --gap 0.25
STEPS
    local i=0 f
    for f in $(ls "$WORK"/rotate/rot-*.pcap | sort); do
        mv "$f" "$WORK/decode-rotate.$i.pcap"; i=$((i + 1))
    done

    log "relinked: NULL, LOOP, IPV4, IPV6 from link-en10mb.pcap"
    $PY "$HERE/relink.py" null "$WORK/link-en10mb.pcap" "$WORK/link-null.pcap"
    $PY "$HERE/relink.py" loop "$WORK/link-en10mb.pcap" "$WORK/link-loop.pcap"
    $PY "$HERE/relink.py" ipv4 "$WORK/link-en10mb.pcap" "$WORK/link-ipv4.pcap"
    $PY "$HERE/relink.py" ipv6 "$WORK/link-en10mb.pcap" "$WORK/link-ipv6.pcap"

    rm -f "$OUT"/link-*.pcap "$OUT"/link-*.pcapng "$OUT"/decode-*.pcap
    cp "$WORK"/link-*.pcap "$WORK"/link-*.pcapng "$WORK"/decode-*.pcap "$OUT"/
    rm -rf "$OUT/broken"
    $PY "$HERE/break_captures.py" "$OUT/link-en10mb.pcap" "$OUT/link-pcapng.pcapng" "$OUT/broken"
    (cd "$OUT" && capinfos -T -c -l -E link-*.pcap* decode-*.pcap) >&2
}

[[ ${BASH_SOURCE[0]} != "$0" ]] || main "$@"
