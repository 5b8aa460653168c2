#!/usr/bin/python3
"""Generate the captures of vendors that publish address ranges (catalog schema 2).

    tools/gen_range_scenarios.py [--out captures/ranges] [--only NAME ...] [--list]

Each capture plays a call of the tests' own Teams-like vendor
(tests/data/catalog_ranges/teams_like.toml): media over UDP to addresses
inside its published ranges, with no name on the wire (the attribution's
evidence is the address), and the web/relay over TLS to its names.  Next to
every NAME.pcap the script writes NAME.expected.tsv: one line per entry,
``entry_id<TAB>verdict<TAB>reasons``, then ``#product<TAB>conclusion<TAB>
detail prefix`` lines: what the scenario was DESIGNED to produce, never
callwall's output.  captures/ranges/README.md explains every flow.

The packet builders are tools/gen_scenarios.py's Scene (imported, not
changed).  Output is byte-identical on every run (timestamps from
2026-01-01T00:00:00Z, one random.Random(crc32(name)) per capture).  The
vendor's addresses are the test catalog's (shaped like Microsoft's
published Teams ranges), the clients private ones.
"""

import argparse
import hashlib
import os
import random
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_scenarios as gs  # noqa: E402
from gen_captures import ms, sec, stun_msg  # noqa: E402

MEDIA = 'teams-like.media.optimize.udp'
ALLOW = 'teams-like.media.allow.tcp'
ENTRIES = [MEDIA, ALLOW]

SCENARIOS = {}


def scenario(name):
    def deco(fn):
        SCENARIOS[name] = (fn, zlib.crc32(name.encode()))
        return fn
    return deco


@scenario('ranges_fallback_turn_tls')
def sc_fallback(s):
    """UDP media to the Optimize ranges is dropped (STUN from the client's
    media port 50010 to 52.112.0.5:3478 and from 50011 to 13.107.64.20:3479,
    retransmitted, never answered); the client falls back to TURN/TLS on TCP
    443 to relay.teams-like.invalid (resolved to 52.113.7.9, inside the
    Allow row's range), which works.  The conclusion follows the vendor's
    order: works, degraded, fell back to TURN/TLS."""
    C = '10.1.0.10'
    tid = s.rng.randbytes(12)
    s.udp_retx(0, C, '52.112.0.5', 50010, 3478, stun_msg('BindingRequest', tid, []), gs.STUN_RETX)
    tid = s.rng.randbytes(12)
    s.udp_retx(ms(20), C, '13.107.64.20', 50011, 3479, stun_msg('BindingRequest', tid, []), gs.STUN_RETX)
    t = s.resolve(sec(8), C, 'relay.teams-like.invalid', '52.113.7.9')
    s.tls(t + ms(2), C, '52.113.7.9', 'relay.teams-like.invalid', exchanges=((420, 2600), (900, 900), (900, 900)))
    return {MEDIA: ('blocked', ['stun-timeout']), ALLOW: ('observed', [])}, [
        ('Teams Like', 'works, degraded', 'fell back to TURN/TLS (UDP media blocked)')]


@scenario('ranges_udp_media')
def sc_udp_media(s):
    """UDP media works: the client's port 50020 to 52.120.1.2:3479 (ICE,
    DTLS, SRTP both ways) and an IPv6 STUN binding from port 50030 to
    2603:1063::10:3478, answered: both inside the Optimize ranges, no name.
    A STUN binding from port 61000 (outside the vendor's client source ports
    50000-50059) to 52.112.0.9:3478 is never answered: the source-port
    constraint keeps it off the entry, so it is a catalog gap named by the
    address, not a block.  The first step of the chain got through: ready."""
    C, C6 = '10.1.0.20', '2001:db8:1::20'
    s.webrtc_media(0, C, '52.120.1.2', 50020, 3479, seconds=2.0, rtt=ms(30))
    s.stun_binding(ms(500), C6, '2603:1063::10', 50030, 3478, rtt=ms(28), mapped=('2001:db8:1::20', 50030))
    tid = s.rng.randbytes(12)
    s.udp_retx(ms(600), C, '52.112.0.9', 61000, 3478, stun_msg('BindingRequest', tid, []), gs.STUN_RETX)
    return {MEDIA: ('observed', [])}, [('Teams Like', 'ready', 'everything exercised got through')]


def write_expected(path, verdicts, products):
    lines = []
    for e in ENTRIES:
        v, reasons = verdicts.get(e, ('not_exercised', []))
        assert (v in ('blocked', 'partial')) == bool(reasons), (e, v, reasons)
        lines.append(f'{e}\t{v}\t{",".join(sorted(reasons))}\n')
    for product, conclusion, detail in products:
        lines.append(f'#product\t{product}\t{conclusion}\t{detail}\n')
    with open(path, 'w') as f:
        f.writelines(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--out', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..',
                                                  'captures', 'ranges'))
    ap.add_argument('--only', nargs='*', help='scenario names to build (default: all)')
    ap.add_argument('--list', action='store_true')
    a = ap.parse_args(argv)
    if a.list:
        for n, (fn, _) in SCENARIOS.items():
            print(f'{n + ".pcap":28s} {fn.__doc__.strip().splitlines()[0]}')
        return 0
    os.makedirs(a.out, exist_ok=True)
    sums = []
    for name, (fn, seed) in SCENARIOS.items():
        if a.only and name not in a.only:
            continue
        s = gs.Scene(random.Random(seed))
        verdicts, products = fn(s)
        pcap = os.path.join(a.out, name + '.pcap')
        n = s.write(pcap)
        write_expected(os.path.join(a.out, name + '.expected.tsv'), verdicts, products)
        print(f'{name + ".pcap":32s} {n:5d} packets {os.path.getsize(pcap):7d} bytes')
        for f in (name + '.pcap', name + '.expected.tsv'):
            with open(os.path.join(a.out, f), 'rb') as fh:
                sums.append(f'{hashlib.sha256(fh.read()).hexdigest()}  {f}\n')
    if not a.only:
        with open(os.path.join(a.out, 'SHA256SUMS'), 'w') as f:
            f.writelines(sums)
    return 0


if __name__ == '__main__':
    sys.exit(main())
