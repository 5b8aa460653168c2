#!/usr/bin/python3
"""Write a capture whose server names carry every byte a terminal acts on.

    tools/gen_terminal_names.py [--out captures/field/terminal_names.pcap]

A client resolves and opens TLS connections to Whereby signaling names
(*.srv.whereby.com, a catalog destination) whose first label holds, one name
each: every C0 control byte (NUL, BEL, BS, TAB, LF, VT, FF, CR, ESC, ...), DEL,
the C1 bytes 0x80, 0x9b (CSI) and 0x9f raw, the same C1 code points encoded as
UTF-8 (c2 9b), 0xff, a bidirectional override (U+202E), a forged report line
(CR LF "blocked ..."), a window-title sequence (ESC ] 0 ; ... BEL) and a
clear-screen sequence (ESC [ 2 J). Each name is asked by DNS (query and
answer) and sent as the SNI of a TLS connection on port 443 (the signaling
entry: observed, its evidence under -v) and on port 8443 (no entry lists it:
a catalog gap, whose lines print every name).

What it is for: the text report, -v, the live view and the catalog's text
output must print such names escaped (\\x1b), never raw, and stay valid UTF-8.

The packet builders come from tools/gen_scenarios.py (imported, not changed):
the names are built with placeholders of the same length, which are replaced
by the raw bytes in each DNS message and ClientHello before the packet is
framed, so lengths and checksums hold. Deterministic; documentation and
private addresses only.
"""

import argparse
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_scenarios as sc  # noqa: E402
from gen_captures import ms, sec  # noqa: E402

SUFFIX = b'.srv.whereby.com'


def hostile_labels():
    """(what, label bytes): every label at least 3 bytes, none with a dot."""
    out = []
    for b in range(0x20):
        out.append((f'C0 0x{b:02x}', b'a' + bytes([b]) + b'z'))
    out.append(('DEL', b'a\x7fz'))
    for b in (0x80, 0x9b, 0x9f):
        out.append((f'C1 raw 0x{b:02x}', b'a' + bytes([b]) + b'z'))
    out.append(('C1 as UTF-8 (CSI)', b'a\xc2\x9b2Jz'))
    out.append(('0xff', b'a\xffz'))
    out.append(('bidi override', b'a\xe2\x80\xaegnp'))
    out.append(('forged line', b'x\r\n  Whereby signaling (wss)        tcp 443          blocked'))
    out.append(('window title', b'x\x1b]0;owned\x07y'))
    out.append(('clear screen', b'x\x1b[2J\x1b[Hy'))
    return out


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--out', default=os.path.join(here, '..', 'captures', 'field', 'terminal_names.pcap'))
    a = ap.parse_args(argv)

    labels = hostile_labels()
    # Placeholder (ASCII, same length, unique) -> raw bytes.
    swaps = {}
    for i, (_, raw) in enumerate(labels):
        ph = (f'q{i:02d}' + 'q' * len(raw))[:len(raw)]
        assert len(ph) == len(raw) and ph not in swaps
        swaps[ph.encode()] = raw

    def patched(fn):
        def wrap(*args, **kw):
            b = fn(*args, **kw)
            for ph, raw in swaps.items():
                b = b.replace(ph, raw)
            return b
        return wrap

    # The builders gen_scenarios calls by name.
    sc.tls_client_hello = patched(sc.tls_client_hello)
    sc.dns_query = patched(sc.dns_query)
    sc.dns_msg = patched(sc.dns_msg)

    s = sc.Scene(random.Random(20261127))
    C = '10.1.0.10'
    t = 0
    for i, ph in enumerate(swaps):
        name = ph.decode() + SUFFIX.decode()
        srv = f'198.51.100.{10 + i}'
        t = s.resolve(t + ms(5), C, name, srv)
        s.tls(t + ms(2), C, srv, name, exchanges=())
        s.tls(t + ms(60), C, srv, name, sport=8443, exchanges=())
        t += ms(150)
    n = s.write(a.out)
    print(f'{os.path.basename(a.out)}: {n} packets, {len(labels)} names')
    return 0


if __name__ == '__main__':
    sys.exit(main())
