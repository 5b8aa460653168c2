#!/usr/bin/python3
"""The remote end of the lab's peer-to-peer call: headless Chromium on
webrtc/p2p.html (role=remote), in the "peer" namespace beyond the firewall.
It waits for the local end's offer on the signaling server, answers, and
hangs up when the local end says bye. run.sh starts it before the clients and
stops it by PID at teardown; Chromium is killed with its process group.

With --relay-only it gathers relay candidates only (iceTransportPolicy
"relay") on Sendbird's TURN server (labplan.REMOTE_TURN, UDP, given by
address): its checks then reach the local end from the relay address
(labplan.REMOTE_RELAY). Otherwise it has no ICE servers and its checks come
from its own address.

Usage: peer.py --workdir DIR --log FILE [--duration S] [--relay-only]
       (default duration: until after the local end's bye)
"""
import argparse
import os
import signal
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import clients  # noqa: E402
import labplan  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--log", required=True)
    # Long enough for the local end's call and its bye (the page then hangs
    # up and stays quiet); stopped then, so that its log gets written before
    # run.sh stops the captures.
    call = next(s for s in labplan.STEPS if s["kind"] == "p2p")
    ap.add_argument("--duration", type=int, default=int(call["at"] + call["duration"] + 6))
    ap.add_argument("--relay-only", action="store_true")
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, clients.kill_all)
    signal.signal(signal.SIGINT, clients.kill_all)
    # The signaling name without DNS: the peer's lookups stay off the lab's links.
    rule = "--host-resolver-rules=MAP %s %s" % (labplan.P2P_SIGNAL_NAME, labplan.addr_of(labplan.P2P_SIGNAL_NAME, "4"))
    if a.relay_only:
        ice = [{"urls": ["turn:%s:%d?transport=udp" % labplan.REMOTE_TURN], "username": labplan.TURN_USER,
                "credential": labplan.TURN_PASS}]
        url = clients.p2p_url("remote", ice, policy="relay")
    else:
        url = clients.p2p_url("remote")
    rc, lines = clients.chromium(url, a.duration, a.workdir, a.log, [rule])
    print("peer: chromium rc=%s, %d log lines, connected=%s" % (rc, len(lines), "state connected" in lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
