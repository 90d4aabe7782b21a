#!/usr/bin/env python3
"""Plain UDP datagrams from a given source to a given destination, with a
record of what was sent (turn_scenarios.sh: the unpermitted peer of
turn-permission-drop, which sends to a TURN relayed address that has no
permission for it). Answers are counted too (there should be none).

  udp_sender.py --bind 198.51.100.21:4000 --to 198.51.100.11:PORT --count 6 --record out.json
"""
import argparse
import json
import os
import socket
import time


def parse_ap(s):
    ip, _, port = s.rpartition(":")
    return ip.strip("[]"), int(port)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bind", required=True)
    p.add_argument("--to", required=True)
    p.add_argument("--count", type=int, default=6)
    p.add_argument("--size", type=int, default=80)
    p.add_argument("--interval", type=float, default=0.2)
    p.add_argument("--record", required=True)
    a = p.parse_args()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(parse_ap(a.bind))
    dst = parse_ap(a.to)
    rec = dict(tool="captures/gen/udp_sender.py", source=a.bind, destination=a.to, sent=[], received=[])
    for i in range(a.count):
        payload = (b"unpermitted-%02d " % i).ljust(a.size, b"u")
        s.sendto(payload, dst)
        rec["sent"].append(dict(t=time.time(), bytes=len(payload)))
        time.sleep(a.interval)
    s.settimeout(0.5)
    try:
        while True:
            data, src = s.recvfrom(65536)
            rec["received"].append(dict(t=time.time(), bytes=len(data), source="%s:%d" % src))
    except (socket.timeout, ConnectionRefusedError):
        pass
    rec["datagramsSent"] = len(rec["sent"])
    rec["bytesSent"] = sum(x["bytes"] for x in rec["sent"])
    with open(a.record + ".tmp", "w") as f:
        json.dump(rec, f, indent=1)
    os.rename(a.record + ".tmp", a.record)
    print(f"udp_sender: {rec['datagramsSent']} datagrams {a.bind} -> {a.to}, {len(rec['received'])} answers")


if __name__ == "__main__":
    main()
