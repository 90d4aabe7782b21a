# Sourced by the real-traffic capture generators (turn_scenarios.sh through
# turn_net.sh, ice_scenarios.sh, foundation_captures.sh): network namespaces,
# bounded waits and the ending of our own processes, written once.
#
# Each generator owns a fixed set of namespaces with its own name prefix
# (st*, si*, sf*) and passes only those here; nothing else on the host is
# touched. Processes are ended by PID, never by name.

# nsx NS COMMAND...: run COMMAND inside NS. Foreground only: a backgrounded
# function is a subshell and $! would not be the process; background
# processes are started with `ip netns exec NS ... &` directly.
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# wait_for SECONDS COMMAND...: poll until COMMAND succeeds; fails (with a
# message on stderr) when it has not after SECONDS.
wait_for() {
    local t=$1; shift
    local deadline=$((SECONDS + t))
    until "$@" >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then
            echo "timed out after $t s waiting for: $*" >&2
            return 1
        fi
        sleep 0.05
    done
}

# kill_pid PID [SIGNAL]: end one process we started; SIGKILL if it has not
# gone 5 s after SIGNAL (default TERM).
kill_pid() {
    local pid=$1 sig=${2:-TERM}
    kill -0 "$pid" 2>/dev/null || return 0
    kill "-$sig" "$pid" 2>/dev/null || true
    timeout 5 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
}

# end_pids PID...: SIGTERM to all first (they stop in parallel), then up to
# 5 s each before SIGKILL.
end_pids() {
    local pid
    for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "$@"; do kill_pid "$pid" TERM; done
}

# ns_delete NS...: end whatever still runs inside our namespaces (we started
# it: a safety net for processes a failed run left behind), then delete them.
ns_delete() {
    local ns
    for ns in "$@"; do
        # shellcheck disable=SC2046  # one PID per word
        end_pids $(ip netns pids "$ns" 2>/dev/null)
        ip netns del "$ns" 2>/dev/null || true
    done
}

# ns_create dual-stack|ipv4-only NS...: fresh namespaces with loopback up.
#   dual-stack: IPv6 on, but no DAD delay (addresses usable at once), no
#     router advertisements or solicitations: the captures hold the test
#     traffic, not autoconfiguration chatter.
#   ipv4-only: IPv6 off altogether (no MLD, RS or DAD packets at all).
ns_create() {
    local mode=$1 ns; shift
    for ns in "$@"; do
        ip netns add "$ns"
        nsx "$ns" ip link set lo up
        case $mode in
            dual-stack)
                nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=0
                nsx "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0
                nsx "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0
                nsx "$ns" sysctl -qw net.ipv6.conf.default.accept_ra=0
                nsx "$ns" sysctl -qw net.ipv6.conf.default.router_solicitations=0
                nsx "$ns" sysctl -qw net.ipv6.conf.all.router_solicitations=0
                ;;
            ipv4-only)
                nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
                nsx "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
                ;;
            *) echo "ns_create: unknown mode $mode" >&2; return 1 ;;
        esac
    done
}

# bridge_create NS BRIDGE: a plain learning bridge (the "public" segment):
# no STP and no forward delay, so ports forward at once; no multicast
# snooping, so every port sees multicast (IPv6 neighbour solicitations)
# whatever MLD reports the bridge has or has not seen.
bridge_create() {
    local ns=$1 br=$2
    nsx "$ns" ip link add "$br" type bridge
    nsx "$ns" ip link set "$br" type bridge stp_state 0 forward_delay 0 mcast_snooping 0
    nsx "$ns" ip link set "$br" up
}

# captures_out DEFAULT: where a generator publishes its captures: $CAPTURES_OUT
# when set (a scratch directory, to compare a run with the committed files),
# else DEFAULT (the repository's captures/).
captures_out() {
    local out=${CAPTURES_OUT:-$1}
    mkdir -p "$out"
    (cd "$out" && pwd)
}
