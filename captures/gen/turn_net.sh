# Sourced by turn_scenarios.sh: namespace topology for the TURN captures.
#
#   stcli (client LAN)         strtr (NAT router)          stpub (bridge "public" segment)
#   st-cli0 192.168.77.10 ---- st-lan0 192.168.77.1
#          fd00:77::10                 fd00:77::1
#                              st-wan0 198.51.100.2  ---- stb-rtr ┐
#                                      2001:db8:51::2             │ stbr0
#   stsrv (TURN server)                                           │
#   st-srv0 198.51.100.10 (listen) / .11 (relay)  ----------- stb-srv ┤
#           2001:db8:51::10 (listen) / ::11 (relay)               │
#   stpeer (turnutils_peer)                                       │
#   st-peer0 198.51.100.20 / 2001:db8:51::20  --------------- stb-peer┘
#
# All names start with "st". Only these namespaces are touched.

ST_NS=(stcli strtr stpub stsrv stpeer)

SRV4=198.51.100.10; RELAY4=198.51.100.11; PEER4=198.51.100.20; WAN4=198.51.100.2
SRV6=2001:db8:51::10; RELAY6=2001:db8:51::11; PEER6=2001:db8:51::20; WAN6=2001:db8:51::2
CLI4=192.168.77.10; LANGW4=192.168.77.1
CLI6=fd00:77::10; LANGW6=fd00:77::1

# shellcheck source=netns_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/netns_lib.sh"

net_down() { ns_delete "${ST_NS[@]}"; }

net_up() {
    net_down
    ns_create dual-stack "${ST_NS[@]}"
    bridge_create stpub stbr0
    # veth pairs: <ns-side name> <bridge/router-side name>
    ip link add st-srv0 netns stsrv type veth peer name stb-srv netns stpub
    ip link add st-peer0 netns stpeer type veth peer name stb-peer netns stpub
    ip link add st-wan0 netns strtr type veth peer name stb-rtr netns stpub
    ip link add st-cli0 netns stcli type veth peer name st-lan0 netns strtr
    local p
    for p in stb-srv stb-peer stb-rtr; do
        nsx stpub ip link set "$p" master stbr0
        nsx stpub ip link set "$p" up
    done
    nsx stsrv ip addr add $SRV4/24 dev st-srv0
    nsx stsrv ip addr add $RELAY4/24 dev st-srv0
    nsx stsrv ip addr add $SRV6/64 dev st-srv0 nodad
    nsx stsrv ip addr add $RELAY6/64 dev st-srv0 nodad
    nsx stsrv ip link set st-srv0 up
    nsx stpeer ip addr add $PEER4/24 dev st-peer0
    nsx stpeer ip addr add $PEER6/64 dev st-peer0 nodad
    nsx stpeer ip link set st-peer0 up
    nsx strtr ip addr add $WAN4/24 dev st-wan0
    nsx strtr ip addr add $WAN6/64 dev st-wan0 nodad
    nsx strtr ip addr add $LANGW4/24 dev st-lan0
    nsx strtr ip addr add $LANGW6/64 dev st-lan0 nodad
    nsx strtr ip link set st-wan0 up
    nsx strtr ip link set st-lan0 up
    nsx strtr sysctl -qw net.ipv4.ip_forward=1
    nsx strtr sysctl -qw net.ipv6.conf.all.forwarding=1
    nsx stcli ip addr add $CLI4/24 dev st-cli0
    nsx stcli ip addr add $CLI6/64 dev st-cli0 nodad
    nsx stcli ip link set st-cli0 up
    nsx stcli ip route add default via $LANGW4
    nsx stcli ip -6 route add default via $LANGW6
    # NAT: masquerade everything leaving the WAN side (v4 and v6). Linux keeps
    # the source port when it is free on the public address (port preserving).
    nsx strtr nft -f - <<NFT
table inet stnat {
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "st-wan0" masquerade
    }
}
NFT
    # static neighbour entries: no ARP/NDP resolution noise in the first packets
    nsx strtr conntrack -F 2>/dev/null || true
}
