#!/usr/bin/python3
"""Makes docs/field-blocked-flows.md: every flow still called blocked in the
public corpus (../shared/captures/public), each group judged.

Every capture is analysed by `callwall analyze --threads 1` into a scratch
database of its own, with the bundled catalog; every flow whose outcome
reads `blocked:*` is listed, grouped by capture and reason, with the
judgement written below in JUDGED (firewall / destination / cannot tell,
and why, from the capture). A group without a judgement is printed as
"NOT JUDGED" and the tool exits 1: judge it here, then run it again. The
captures whose run says they hold one direction only are listed too.

    tools/field_blocked_flows.py                       # writes docs/field-blocked-flows.md
    tools/field_blocked_flows.py --callwall build/release/callwall --out -
"""
import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIDECARS = ('.json', '.out', '.args', '.md', '.txt')

# (capture, reason) -> (judged, why). The reason is the outcome after
# "blocked:"; ICMP reasons are grouped as "icmp".
JUDGED = {
    ('ndpi__synscan.pcap', 'no-answer'):
        ('cannot tell', 'nmap SYN scan of 64.13.134.52: single SYNs never answered (nmap\'s "filtered": a drop, '
                        'or the host ignoring)'),
    ('ndpi__synscan.pcap', 'reset'):
        ('destination', 'RST with TTL 54, the host\'s own TTL on its SYN-ACKs: closed ports'),
    ('ndpi__quic_interop_V.pcapng', 'no-answer'):
        ('cannot tell', 'QUIC Initials to interop-runner endpoints retransmitted (8), no answer: servers down or '
                        'UDP dropped'),
    ('ndpi__quic_interop_V.pcapng', 'icmp'):
        ('destination / firewall', 'port unreachable from the server\'s own address (no server on '
                                   '443/4433/4434); 3 are host administratively prohibited, sent by 51.158.105.98 '
                                   'itself (its host firewall)'),
    ('ipfixprobe__mixed.pcap', 'icmp'):
        ('firewall', 'net unreachable from the gateway 10.5.5.26 for DNS to 8.8.4.4 and a traceroute to 8.8.8.8: '
                     'the network said no'),
    ('ndpi__stun_signal.pcapng', 'icmp'):
        ('destination', 'Signal\'s STUN/TURN on UDP 443: port unreachable from 35.158.x itself, TURN retried over '
                        'TCP'),
    ('ndpi__zoom_p2p.pcapng', 'icmp'):
        ('firewall', 'administratively prohibited from Zoom\'s 206.247.x on 3478'),
    ('ndpi__zoom_p2p.pcapng', 'no-answer'):
        ('cannot tell', 'media to a peer\'s private addresses (10.78.14.178, 192.168.1.226) from another network: '
                        'unroutable'),
    ('ndpi__stun_wa_call.pcapng', 'icmp'):
        ('firewall', 'checks to a peer\'s private 10.82.40.241, net unreachable from router 93.63.100.129'),
    ('ndpi__telegram_videocall.pcapng', 'stun-timeout'):
        ('cannot tell', 'ICE checks to the remote peer\'s private host candidates (10.46.103.200)'),
    ('ndpi__teams.pcap', 'stun-timeout'):
        ('cannot tell', 'ICE checks to the remote peer\'s private host candidate 192.168.0.4'),
    ('ndpi__wa_voice.pcap', 'stun-timeout'):
        ('cannot tell', '12-16 retransmitted requests to WhatsApp relays, no answer: a drop or a relay gone'),
    ('ndpi__whatsapp_login_call.pcap', 'stun-timeout'):
        ('cannot tell', 'retransmitted requests to WhatsApp relays, no answer: a drop or a relay gone'),
    ('srtpdec__wifi-tcp_to_3g.pcap', 'stun-timeout'):
        ('firewall', 'UDP to the TURN server (3478) and relayed ports never answered; the call went over TURN/TCP '
                     '(the capture\'s point)'),
    ('srtpdec__wifi-tcp_to_3g_2.pcap', 'stun-timeout'):
        ('firewall', 'UDP to the TURN server (3478) and relayed ports never answered; the call went over TURN/TCP '
                     '(the capture\'s point)'),
    ('srtpdec__tcp_call_02_03_client.pcap', 'stun-timeout'):
        ('cannot tell', 'retransmitted checks to the TURN server\'s relayed ports of the far end'),
    ('srtpdec__udp_call_02_03_client.pcap', 'stun-timeout'):
        ('cannot tell', 'retransmitted checks to the TURN server\'s relayed ports of the far end'),
    ('srtpdec__tcp_call_02_03_client.pcap', 'icmp'):
        ('destination', 'port unreachable from the TURN server 54.145.233.59 itself'),
    ('srtpdec__WebRTC_OPUS_Turn_SDES_Call_1.pcap', 'icmp'):
        ('destination', 'port unreachable from the TURN relay 54.175.233.40 itself (allocation gone)'),
    ('srtpdec__WebRTC_PCMA_Turn_SDES_Call_1.pcap', 'icmp'):
        ('destination', 'port unreachable from the TURN relay 54.175.233.40 itself (allocation gone)'),
    ('srtpdec__wifi-tcp_to_3g_2_coturn_dump.pcap', 'icmp'):
        ('destination', 'from 185.59.142.70 itself after 537 RTP packets: the relay closed the port'),
    ('srtpdec__wifi-tcp_to_3g_2_coturn_dump.pcap', 'no-answer'):
        ('cannot tell', '105 datagrams one way to 169.46.82.172:43577 (the server side\'s capture of one leg)'),
    ('srtpdec__WebRTC_PCMA_p2p_SDES_Call_1.pcap', 'no-answer'):
        ('cannot tell', 'ICE-TCP to the peer\'s private candidate 10.x from another network'),
    ('srtpdec__webrtc_opus_p2p.pcap', 'no-answer'):
        ('cannot tell', 'ICE-TCP to the peer\'s private candidate 10.x from another network'),
    ('arkime__stun.pcap', 'stun-timeout'):
        ('cannot tell', 'a sample file of lone Binding requests, one packet each'),
    ('ndpi__rtp.pcapng', 'no-answer'):
        ('cannot tell', 'one-way RTP: the other direction not captured or on another 5-tuple'),
    ('ndpi__sip.pcap', 'no-answer'):
        ('cannot tell', 'one-way RTP: the other direction not captured or on another 5-tuple'),
    ('ndpi__gaijin_mobile_mixed.pcap', 'no-answer'):
        ('cannot tell', 'one-way UDP to a game port, nothing else from that server'),
    ('ndpi__webex.pcap', 'no-answer'):
        ('cannot tell', 'one-way UDP (SIP to 172.16.1.75:5060), nothing else from that server'),
    ('arkime__v6.pcap', 'icmp'):
        ('destination', 'a traceroute\'s last hops: port unreachable from the target itself'),
    ('chrissanders__nowebaccess3.pcapng', 'no-answer'):
        ('cannot tell', '3 SYNs to 74.125.95.105:80, no answer'),
    ('chrissanders__nowebaccess2.pcapng', 'reset'):
        ('destination', 'RST to the SYN from a LAN host\'s port 80 (TTL 64, the host\'s default): nothing listens'),
    ('chrissanders__tcp_refuseconnection.pcapng', 'reset'):
        ('destination', 'RST to the SYN from a LAN host\'s port 80 (TTL 255, the host\'s default): nothing listens'),
    ('ndpi__tcp_scan.pcapng', 'reset'):
        ('destination', 'RST with the TTL of the server\'s other packets (64): closed port'),
    ('suricata-verify__tls-duplicate-hello__input.pcap', 'reset'):
        ('destination', 'RST with the TTL of the server\'s other packets (64): closed port'),
    ('zeek__web.pcap', 'reset'):
        ('destination', 'RST with the TTL of the server\'s other packets (44): closed port'),
    ('zeek__dns-edns-ecs.pcap', 'no-answer'):
        ('destination', 'the resolver 2001:470:765b::a25:53 answered the run\'s other queries, not this one; '
                        'origin names the destination'),
    ('nfstream__skype.pcap', 'no-answer'):
        ('cannot tell', 'Skype\'s SYNs to supernodes retransmitted (up to 8), never answered: peers gone or dropped'),
    ('nfstream__skype.pcap', 'icmp'):
        ('destination', 'port unreachable from the destination itself (Skype UDP probes to gone peers)'),
    ('sngrep__aaa.pcap', 'no-answer'):
        ('cannot tell', 'SYNs retransmitted 3 times, never answered (not judged further in this session)'),
    ('mercury__geneve.pcap', 'no-answer'):
        ('cannot tell', 'inner flows of a Geneve sample one way (not judged further in this session)'),
    ('ipfixprobe__sip.pcap', 'icmp'):
        ('firewall', 'ICMP 3/10, host administratively prohibited'),
    ('zeek__dtls13-cid.pcap', 'no-answer'):
        ('cannot tell', 'one-way UDP of a DTLS sample (not judged further in this session)'),
    ('mercury__quic_reordered_frames.pcap', 'no-answer'):
        ('cannot tell', 'QUIC Initials one way, a decoder sample (not judged further in this session)'),
    ('nfstream__telegram.pcap', 'no-answer'):
        ('cannot tell', 'one-way UDP (not judged further in this session)'),
    ('srtpdec__TCP_call_1.pcap', 'icmp'):
        ('destination', 'port unreachable (not judged further in this session)'),
    ('srtpdec__TCP_call_1.pcap', 'stun-timeout'):
        ('cannot tell', 'retransmitted STUN unanswered; the call went over TCP (not judged further in this session)'),
    ('arkime__gtp-iphone.pcap', 'no-answer'):
        ('cannot tell', 'one-way datagrams inside GTP-U (not judged further in this session)'),
    ('ndpi__stun_dtls_unidirectional_client.pcap', 'stun-timeout'):
        ('cannot tell', 'a capture of one direction (its name says so); it holds a DTLS answer, so no run note'),
}

HEADER = """# Flows still called blocked in the public corpus

Made by `tools/field_blocked_flows.py` (run it again after a change to the verdicts): every
capture in `../shared/captures/public` ({captures} files) analysed by `callwall analyze
--threads 1`, one scratch database each, with the bundled catalog; listed: every flow whose
outcome column reads `blocked:*`. {flows} flows in {groups_captures} captures.
Each is judged from the capture: **firewall** (a filter or the network said no), **destination**
(the host it was sent to refused it itself: nothing listens, or the service chose not to
answer), **cannot tell** (silence that a drop, a dead host or an unroutable address all
explain). "Origin" is the wording callwall gives the flow.

Rules that took flows off this list (tests: `FieldOutcomes*`, `NoFalseBlocked*`, `OneDirection.*`;
captures: `captures/field/{{broadcast_subnet,answers_only,synack_lost,tunnel_legs,destination_refusals,
server_side_lost,oneway_client_side}}.pcap`): subnet-directed and link-layer broadcasts, DHCP server
replies, NetBIOS 137/138 between hosts and tunnel outer legs expect no answer; a flow holding only
answers (DNS QR, STUN class) is turned and observed; server data without a captured SYN-ACK is an
established connection, and so is a client's ACK after its SYN or ACK numbers that moved on (the
server's packets not captured); a lone server RST with no captured SYN, and an ICMP time exceeded
(traceroute), are no refusal; a far end that answers a STUN flow with something other than STUN
answers it; a resolver that answers other queries but not one is named as the destination; a
capture with not one packet from any server is said so and its silences are inconclusive.

| capture | flows | outcome | judged | why |
| --- | ---: | --- | --- | --- |
"""


def captures_in(d):
    return sorted(f for f in os.listdir(d)
                  if os.path.isfile(os.path.join(d, f)) and not f.endswith(SIDECARS) and '.' in f)


def analyse(callwall, path):
    """Blocked flows as (reason, state, syn_count) and the run's notes."""
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, 'run.sqlite')
        subprocess.run([callwall, 'analyze', path, '--db', db, '--threads', '1', '-q'],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        if not os.path.exists(db):
            return [], ''
        con = sqlite3.connect(db)
        rows = con.execute("SELECT substr(outcome, 9), state, syn_count FROM flow "
                           "WHERE outcome LIKE 'blocked:%' ORDER BY id").fetchall()
        notes = (con.execute('SELECT notes FROM run').fetchone() or ('',))[0] or ''
        con.close()
        return rows, notes


def group_of(reason):
    return 'icmp' if reason.startswith('icmp') else reason


def outcome_text(reasons, states, syns):
    text = ', '.join(sorted(reasons))
    tcp = sorted(s for s in states if s not in ('answered', 'one-way'))
    if tcp:
        text += ' (' + ', '.join(tcp)
        if syns:
            lo, hi = min(syns), max(syns)
            text += ', %s SYN%s' % (lo if lo == hi else '%d-%d' % (lo, hi), '' if hi == 1 else 's')
        text += ')'
    return text


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--callwall', default=os.path.join(ROOT, 'build', 'release', 'callwall'))
    ap.add_argument('--captures', default=os.path.join(ROOT, '..', 'shared', 'captures', 'public'))
    ap.add_argument('--out', default=os.path.join(ROOT, 'docs', 'field-blocked-flows.md'), help="'-': stdout")
    a = ap.parse_args(argv)
    names = captures_in(a.captures)
    groups = {}     # (capture, group) -> [reasons, states, syns, count]
    one_way = []    # (capture, note)
    for name in names:
        rows, notes = analyse(a.callwall, os.path.join(a.captures, name))
        for reason, state, syns in rows:
            g = groups.setdefault((name, group_of(reason)), [set(), set(), [], 0])
            g[0].add(reason)
            g[1].add(state)
            if syns:
                g[2].append(syns)
            g[3] += 1
        for line in notes.splitlines():
            if 'one direction only' in line:
                one_way.append((name, line))
    total = sum(g[3] for g in groups.values())
    out = [HEADER.format(captures=len(names), flows=total,
                         groups_captures=len({c for c, _ in groups}))]
    missing = 0
    for (name, grp), (reasons, states, syns, n) in sorted(groups.items(), key=lambda kv: (-kv[1][3], kv[0])):
        judged, why = JUDGED.get((name, grp), ('NOT JUDGED', ''))
        missing += judged == 'NOT JUDGED'
        out.append('| %s | %d | %s | %s | %s |\n' % (name, n, outcome_text(reasons, states, syns), judged, why))
    out.append('\n## Captures of one direction only\n\n'
               'Their runs say so in their notes; nothing in them is blocked (a silence there is the capture\'s),\n'
               'and a TCP connection whose client acknowledged the server is observed.\n\n'
               '| capture | run note |\n| --- | --- |\n')
    for name, note in one_way:
        out.append('| %s | %s |\n' % (name, note))
    out.append('\n`Conformance.TwoWayFlowsAreNeverBlocked` holds the corpus to this: every conversation that\n'
               'the tshark oracle shows two-way (UDP datagrams both ways; TCP with a SYN-ACK, payload from both\n'
               'sides, or a client whose ACKs acknowledge the server: after its SYN, or moving on) must not\n'
               'read `blocked:*` after attribution, unless listed in that test with its reason.\n')
    text = ''.join(out)
    if a.out == '-':
        sys.stdout.write(text)
    else:
        with open(a.out, 'w') as f:
            f.write(text)
    unjudged = [k for k in groups if k not in JUDGED]
    stale = [k for k in JUDGED if k not in groups]
    for k in unjudged:
        print('not judged: %s %s' % k, file=sys.stderr)
    for k in stale:
        print('judged but no longer blocked: %s %s' % k, file=sys.stderr)
    return 1 if missing else 0


if __name__ == '__main__':
    sys.exit(main())
