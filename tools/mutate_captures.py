#!/usr/bin/python3
"""Make damaged copies of capture files, for robustness tests.

    tools/mutate_captures.py --out DIR [--count N] [--seed S] [--max-input-bytes B] [INPUT ...]

Reads .pcap and .pcapng files (default: captures/*.pcap* of this repository
and ../shared/captures/public/*.pcap* when present) and writes N mutated
copies to DIR, plus DIR/MANIFEST.tsv with one line per copy:

    file <TAB> source <TAB> mutation <TAB> expect <TAB> detail

`expect` is what a reader must do with the copy:
    damaged   the file header is intact and the damage sits after it: a reader
              must either refuse the file or stop reading it with an error
              (callwall: exit 3, or exit 0 with run.damaged_files = 1)
    any       the copy may or may not be readable (garbage in packet bytes,
              wrong link type, odd lengths that happen to fit)

Mutations (each copy gets one, chosen round-robin so every kind is covered):

    trunc_header     cut inside the file header (pcap global header; pcapng SHB or IDB)
    trunc_rechdr     cut inside a record header (pcap 16-byte header; pcapng block type/length)
    trunc_data       cut inside a record's data (pcap packet bytes; pcapng block body)
    trunc_any        cut at any offset
    corrupt_packets  every packet byte replaced with probability p (editcap -E)
    corrupt_file     a few bytes anywhere in the file replaced (headers included)
    oversize_len     a record's captured length made huge or larger than the snaplen
    len_mismatch     captured length > original length, or zero, or original length huge
    linktype         the link type (pcap header / pcapng IDB) replaced by another one
    snaplen          the snapshot length replaced by 0, 1, tiny or huge
    ts_extreme       timestamps at 0, at 2^32-1 s, going backwards, usec >= 10^6; pcapng
                     64-bit timestamps near 2^64 and odd if_tsresol
    block_len        pcapng: a block's total length 0, <12, not a multiple of 4, huge,
                     or different from its trailing copy
    pcapng_options   pcapng: option lengths running past the block
    pcapng_ifid      pcapng: packets naming an interface that does not exist
    pcapng_blocks    pcapng: unknown block types, a second SHB, an IDB with another link type
    byte_order       the magic number swapped to the other byte order
    splice           a file with another capture (header and all) appended
    garbage_tail     random bytes appended after the last record

Deterministic: the same inputs, --seed and --count give byte-identical output.
"""

import argparse
import glob
import os
import random
import struct
import sys

PCAP_MAGICS = {
    b'\xd4\xc3\xb2\xa1': '<', b'\xa1\xb2\xc3\xd4': '>',   # microseconds
    b'\x4d\x3c\xb2\xa1': '<', b'\xa1\xb2\x3c\x4d': '>',   # nanoseconds
}
PCAPNG_SHB = 0x0A0D0D0A
BYTE_ORDER_MAGIC = 0x1A2B3C4D

MUTATIONS = [
    'trunc_header', 'trunc_rechdr', 'trunc_data', 'trunc_any', 'corrupt_packets', 'corrupt_file',
    'oversize_len', 'len_mismatch', 'linktype', 'snaplen', 'ts_extreme', 'block_len',
    'pcapng_options', 'pcapng_ifid', 'pcapng_blocks', 'byte_order', 'splice', 'garbage_tail',
]
PCAPNG_ONLY = {'block_len', 'pcapng_options', 'pcapng_ifid', 'pcapng_blocks'}

# Link types: decodable ones (so a wrong one still gets decoded, badly) and
# others (a reader must refuse them).
LINKTYPES = [0, 1, 101, 113, 228, 229, 276, 12, 14, 9, 105, 127, 147, 192, 220, 239, 65535,
             0x7FFFFFFF, 0xFFFFFFFF, 0x10000001, 0x04000001]


class Capture:
    """A parsed capture: format, byte order and the records' offsets."""

    def __init__(self, path, data):
        self.path = path
        self.data = data
        self.kind = None       # 'pcap' or 'pcapng'
        self.endian = '<'
        self.header_len = 0    # pcap: 24; pcapng: up to the end of the first IDB
        # pcap: (record offset, data offset, incl_len)
        # pcapng: (block offset, block type, total length)
        self.records = []
        self.parse()

    def parse(self):
        d = self.data
        if d[:4] in PCAP_MAGICS and len(d) >= 24:
            self.kind = 'pcap'
            self.endian = PCAP_MAGICS[d[:4]]
            self.header_len = 24
            off = 24
            while off + 16 <= len(d):
                incl = struct.unpack_from(self.endian + 'I', d, off + 8)[0]
                if off + 16 + incl > len(d):
                    break
                self.records.append((off, off + 16, incl))
                off += 16 + incl
        elif len(d) >= 12 and struct.unpack_from('<I', d, 0)[0] == PCAPNG_SHB:
            self.kind = 'pcapng'
            bom = struct.unpack_from('<I', d, 8)[0]
            self.endian = '<' if bom == BYTE_ORDER_MAGIC else '>'
            off = 0
            while off + 12 <= len(d):
                btype, blen = struct.unpack_from(self.endian + 'II', d, off)
                if blen < 12 or blen % 4 or off + blen > len(d):
                    break
                self.records.append((off, btype, blen))
                if btype == 1 and not self.header_len:
                    self.header_len = off + blen
                off += blen
            if not self.header_len and self.records:
                self.header_len = self.records[0][2]

    def packets(self):
        """(data offset, data length) of packet bytes."""
        out = []
        if self.kind == 'pcap':
            for _, doff, incl in self.records:
                out.append((doff, incl))
        else:
            for off, btype, blen in self.records:
                if btype == 6 and blen >= 32:    # EPB
                    cap = struct.unpack_from(self.endian + 'I', self.data, off + 20)[0]
                    out.append((off + 28, min(cap, blen - 32)))
                elif btype == 3 and blen >= 16:  # SPB
                    out.append((off + 12, blen - 16))
        return out

    def blocks(self, *types):
        return [r for r in self.records if not types or r[1] in types]


def u32(c, v):
    return struct.pack(c.endian + 'I', v & 0xFFFFFFFF)


def u16(c, v):
    return struct.pack(c.endian + 'H', v & 0xFFFF)


def put(buf, off, b):
    buf[off:off + len(b)] = b


class Mutator:
    def __init__(self, rng, others):
        self.rng = rng
        self.others = others  # all inputs, for splice

    def applicable(self, name, c):
        if name in PCAPNG_ONLY and c.kind != 'pcapng':
            return False
        if name in ('trunc_rechdr', 'trunc_data', 'oversize_len', 'len_mismatch', 'corrupt_packets',
                    'ts_extreme') and not c.packets():
            return False
        return True

    def mutate(self, name, c):
        """Returns (bytes, expect, detail)."""
        return getattr(self, 'm_' + name)(c)

    # ---- truncation ----
    def m_trunc_header(self, c):
        cut = self.rng.randrange(1, max(2, c.header_len))
        return c.data[:cut], 'any', 'cut at %d of a %d-byte header' % (cut, c.header_len)

    def m_trunc_rechdr(self, c):
        r = self.rng
        if c.kind == 'pcap':
            off = r.choice(c.records)[0]
            cut = off + r.randrange(1, 16)
            return c.data[:cut], 'damaged', 'cut at %d, inside the record header at %d' % (cut, off)
        rec = r.choice(c.records[1:] or c.records)
        cut = rec[0] + r.randrange(1, 12)
        expect = 'damaged' if rec[0] >= c.header_len else 'any'
        return c.data[:cut], expect, 'cut at %d, inside the header of block type %#x at %d' % (cut, rec[1], rec[0])

    def m_trunc_data(self, c):
        r = self.rng
        if c.kind == 'pcap':
            rec = r.choice([x for x in c.records if x[2] > 0] or c.records)
            if rec[2] == 0:
                return c.data[:rec[1] - 1], 'damaged', 'cut inside the record header at %d' % rec[0]
            cut = rec[1] + r.randrange(0, rec[2])
            return c.data[:cut], 'damaged', 'cut at %d, inside %d packet bytes at %d' % (cut, rec[2], rec[1])
        rec = r.choice(c.records[1:] or c.records)
        cut = rec[0] + r.randrange(12, rec[2])
        expect = 'damaged' if rec[0] >= c.header_len else 'any'
        return c.data[:cut], expect, 'cut at %d, inside block type %#x (%d bytes) at %d' % (cut, rec[1], rec[2], rec[0])

    def m_trunc_any(self, c):
        cut = self.rng.randrange(1, len(c.data))
        return c.data[:cut], 'any', 'cut at %d of %d' % (cut, len(c.data))

    # ---- corruption ----
    def m_corrupt_packets(self, c):
        r = self.rng
        p = r.choice([0.001, 0.01, 0.05, 0.2])
        buf = bytearray(c.data)
        n = 0
        for off, ln in c.packets():
            for i in range(off, off + ln):
                if r.random() < p:
                    buf[i] = r.randrange(256)
                    n += 1
        return bytes(buf), 'any', 'p=%g, %d packet bytes replaced' % (p, n)

    def m_corrupt_file(self, c):
        r = self.rng
        buf = bytearray(c.data)
        k = r.choice([1, 2, 4, 8, 16, 64])
        where = []
        for _ in range(k):
            # Half of the hits land in headers (file header or the first records).
            if r.random() < 0.5:
                i = r.randrange(0, min(len(buf), c.header_len + 64))
            else:
                i = r.randrange(0, len(buf))
            buf[i] = r.randrange(256)
            where.append(i)
        return bytes(buf), 'any', '%d bytes replaced at %s' % (k, ','.join(map(str, sorted(where)[:8])))

    # ---- lengths ----
    def _len_field(self, c):
        """Offset of a random record's captured-length field and the record."""
        r = self.rng
        if c.kind == 'pcap':
            rec = r.choice(c.records)
            return rec[0] + 8, rec
        epbs = c.blocks(6)
        if epbs:
            rec = r.choice(epbs)
            return rec[0] + 20, rec
        spbs = c.blocks(3)
        rec = r.choice(spbs)
        return rec[0] + 8, rec  # SPB original length

    def m_oversize_len(self, c):
        r = self.rng
        off, rec = self._len_field(c)
        v = r.choice([0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 0x10000000, 262145, 262144 + 16, 65536,
                      len(c.data), len(c.data) - rec[0], struct.unpack_from(c.endian + 'I', c.data, off)[0] + 1])
        buf = bytearray(c.data)
        put(buf, off, u32(c, v))
        # A pcap record that claims more bytes than the file has left cannot be read.
        expect = 'damaged' if c.kind == 'pcap' and v > len(c.data) - (rec[0] + 16) else 'any'
        return bytes(buf), expect, 'captured length at %d set to %d' % (off, v)

    def m_len_mismatch(self, c):
        r = self.rng
        off, rec = self._len_field(c)
        buf = bytearray(c.data)
        incl = struct.unpack_from(c.endian + 'I', c.data, off)[0]
        how = r.choice(['orig<incl', 'orig=0', 'orig huge', 'incl=0'])
        if c.kind == 'pcapng' and rec[1] == 3:
            how = 'orig huge'
        if how == 'orig<incl':
            put(buf, off + 4, u32(c, max(0, incl - r.randrange(1, max(2, incl + 1)))))
        elif how == 'orig=0':
            put(buf, off + 4, u32(c, 0))
        elif how == 'orig huge':
            put(buf, off + 4 if not (c.kind == 'pcapng' and rec[1] == 3) else off, u32(c, 0xFFFFFFFF))
        else:
            put(buf, off, u32(c, 0))
            # The record's bytes are now read as the next record header.
        return bytes(buf), 'any', '%s at %d (captured %d)' % (how, off, incl)

    # ---- header fields ----
    def m_linktype(self, c):
        r = self.rng
        v = r.choice(LINKTYPES + [r.randrange(0, 300), r.randrange(0, 1 << 32)])
        buf = bytearray(c.data)
        if c.kind == 'pcap':
            put(buf, 20, u32(c, v))
            where = 20
        else:
            idbs = c.blocks(1)
            if not idbs:
                return self.m_corrupt_file(c)
            where = r.choice(idbs)[0] + 8
            put(buf, where, u16(c, v))
            v &= 0xFFFF
        return bytes(buf), 'any', 'link type at %d set to %d' % (where, v)

    def m_snaplen(self, c):
        r = self.rng
        v = r.choice([0, 1, 14, 20, 40, 0x7FFFFFFF, 0xFFFFFFFF, 262145])
        buf = bytearray(c.data)
        if c.kind == 'pcap':
            put(buf, 16, u32(c, v))
            where = 16
        else:
            idbs = c.blocks(1)
            if not idbs:
                return self.m_corrupt_file(c)
            where = r.choice(idbs)[0] + 12
            put(buf, where, u32(c, v))
        return bytes(buf), 'any', 'snaplen at %d set to %d' % (where, v)

    def m_ts_extreme(self, c):
        r = self.rng
        buf = bytearray(c.data)
        if c.kind == 'pcap':
            how = r.choice(['max', 'zero', 'backwards', 'usec', 'mixed'])
            for i, (off, _, _) in enumerate(c.records):
                if how == 'max':
                    put(buf, off, u32(c, 0xFFFFFFFF))
                    put(buf, off + 4, u32(c, 999999))
                elif how == 'zero':
                    put(buf, off, u32(c, 0))
                elif how == 'backwards':
                    put(buf, off, u32(c, 0x7FFFFFFF - i * 1000))
                elif how == 'usec':
                    put(buf, off + 4, u32(c, 0xFFFFFFFF - i))
                else:
                    put(buf, off, u32(c, r.choice([0, 0xFFFFFFFF, 0x80000000, r.randrange(1 << 32)])))
            return bytes(buf), 'any', 'timestamps: %s' % how
        how = r.choice(['max', 'backwards', 'tsresol', 'mixed'])
        if how == 'tsresol':
            # Add (or replace) an if_tsresol option on every IDB.
            return self._pcapng_tsresol(c, r.choice([0, 1, 9, 19, 63, 0x7F, 0x80, 0xBF, 0xFF]))
        for i, (off, btype, blen) in enumerate(c.blocks(6)):
            if how == 'max':
                hi, lo = 0xFFFFFFFF, 0xFFFFFFFF - i
            elif how == 'backwards':
                hi, lo = 0x7FFFFFFF - i, 0
            else:
                hi, lo = r.randrange(1 << 32), r.randrange(1 << 32)
            put(buf, off + 12, u32(c, hi))
            put(buf, off + 16, u32(c, lo))
        return bytes(buf), 'any', 'timestamps: %s' % how

    def _pcapng_tsresol(self, c, res):
        out = bytearray()
        for off, btype, blen in c.records:
            blk = c.data[off:off + blen]
            if btype == 1:
                fixed = blk[8:16]
                opt = u16(c, 9) + u16(c, 1) + bytes([res, 0, 0, 0]) + u16(c, 0) + u16(c, 0)
                body = fixed + opt
                ln = 12 + len(body)
                blk = u32(c, 1) + u32(c, ln) + body + u32(c, ln)
            out += blk
        last = c.records[-1]
        out += c.data[last[0] + last[2]:]
        return bytes(out), 'any', 'if_tsresol %#x on every IDB' % res

    # ---- pcapng structure ----
    def m_block_len(self, c):
        r = self.rng
        off, btype, blen = r.choice(c.records)
        v = r.choice([0, 4, 8, 11, 12, 13, blen + 1, blen + 2, blen - 4, blen + 4, 0xFFFFFFF0, 0x7FFFFFFC,
                      0xFFFFFFFF, len(c.data) - off + 4])
        trailing = r.random() < 0.3
        buf = bytearray(c.data)
        if trailing:
            put(buf, off + blen - 4, u32(c, v))
        else:
            put(buf, off + 4, u32(c, v))
        expect = 'damaged' if off >= c.header_len else 'any'
        return bytes(buf), expect, '%s length of block type %#x at %d (%d bytes) set to %d' % (
            'trailing' if trailing else 'leading', btype, off, blen, v)

    def m_pcapng_options(self, c):
        r = self.rng
        cands = [b for b in c.records if b[1] in (PCAPNG_SHB, 1, 6)]
        off, btype, blen = r.choice(cands)
        fixed = {PCAPNG_SHB: 24, 1: 16, 6: 28}[btype]
        if btype == 6:
            cap = struct.unpack_from(c.endian + 'I', c.data, off + 20)[0]
            fixed += cap + (-cap % 4)
        buf = bytearray(c.data)
        opt_off = off + fixed
        if opt_off + 4 > off + blen - 4:
            # No room for options: write one over the last bytes of the body.
            opt_off = max(off + 8, off + blen - 8)
        code = r.choice([0, 1, 2, 9, 10, 0x8000, 0xFFFF])
        ln = r.choice([0xFFFF, blen, blen - fixed + 1, 0x8000, 3])
        put(buf, opt_off, u16(c, code) + u16(c, ln))
        return bytes(buf), 'any', 'option code %d length %d at %d in block type %#x' % (code, ln, opt_off, btype)

    def m_pcapng_ifid(self, c):
        r = self.rng
        epbs = c.blocks(6)
        if not epbs:
            return self.m_block_len(c)
        buf = bytearray(c.data)
        v = r.choice([1, 2, 255, 0xFFFF, 0xFFFFFFFF])
        hit = r.sample(epbs, k=min(len(epbs), r.choice([1, 3, len(epbs)])))
        for off, _, _ in hit:
            put(buf, off + 8, u32(c, v))
        expect = 'damaged' if v >= len(c.blocks(1)) else 'any'
        return bytes(buf), expect, 'interface id %d on %d packets' % (v, len(hit))

    def m_pcapng_blocks(self, c):
        r = self.rng
        how = r.choice(['unknown', 'second_shb', 'idb_other_linktype', 'custom'])
        pos = r.choice([b[0] for b in c.records[1:]] or [len(c.data)])
        if how == 'unknown':
            body = bytes(r.randrange(256) for _ in range(r.choice([0, 4, 16, 100])))
            blk = u32(c, r.choice([0x7, 0x42, 0x80000001, 0x0BAD])) + u32(c, 12 + len(body)) + body + u32(c, 12 + len(body))
        elif how == 'second_shb':
            other = '>' if c.endian == '<' else '<'
            body = struct.pack(other + 'IHHq', BYTE_ORDER_MAGIC, r.choice([1, 2, 9]), 0, -1)
            ln = 12 + len(body)
            blk = struct.pack(other + 'II', PCAPNG_SHB, ln) + body + struct.pack(other + 'I', ln)
        elif how == 'idb_other_linktype':
            body = u16(c, r.choice([101, 113, 147, 9999])) + u16(c, 0) + u32(c, 65535)
            blk = u32(c, 1) + u32(c, 12 + len(body)) + body + u32(c, 12 + len(body))
        else:
            body = u32(c, 32473) + bytes(8)
            blk = u32(c, 0x00000BAD) + u32(c, 12 + len(body)) + body + u32(c, 12 + len(body))
        data = c.data[:pos] + blk + c.data[pos:]
        return data, 'any', '%s block inserted at %d' % (how, pos)

    # ---- whole file ----
    def m_byte_order(self, c):
        buf = bytearray(c.data)
        if c.kind == 'pcap':
            buf[0:4] = bytes(reversed(buf[0:4]))
        else:
            buf[8:12] = bytes(reversed(buf[8:12]))
        return bytes(buf), 'any', 'magic byte order swapped'

    def m_splice(self, c):
        other = self.rng.choice(self.others)
        return c.data + other.data, 'any', 'followed by %s' % os.path.basename(other.path)

    def m_garbage_tail(self, c):
        r = self.rng
        n = r.choice([1, 3, 15, 16, 17, 31, 100, 4096])
        tail = bytes(r.randrange(256) for _ in range(n))
        return c.data + tail, 'any', '%d random bytes appended' % n


def default_inputs(repo):
    paths = sorted(glob.glob(os.path.join(repo, 'captures', '*.pcap')) +
                   glob.glob(os.path.join(repo, 'captures', '*.pcapng')))
    public = os.path.join(repo, '..', 'shared', 'captures', 'public')
    if os.path.isdir(public):
        paths += sorted(glob.glob(os.path.join(public, '*.pcap')) + glob.glob(os.path.join(public, '*.pcapng')))
    return paths


def main(argv=None):
    ap = argparse.ArgumentParser(description='write damaged copies of capture files')
    ap.add_argument('--out', required=True, help='output directory (created)')
    ap.add_argument('--count', type=int, default=1000)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--max-input-bytes', type=int, default=512 * 1024,
                    help='skip inputs larger than this (keeps a run fast)')
    ap.add_argument('inputs', nargs='*')
    a = ap.parse_args(argv)

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    paths = a.inputs or default_inputs(repo)
    caps = []
    for p in paths:
        try:
            if os.path.getsize(p) > a.max_input_bytes:
                continue
            with open(p, 'rb') as f:
                data = f.read()
        except OSError as e:
            print('mutate_captures: %s: %s' % (p, e.strerror), file=sys.stderr)
            return 2
        c = Capture(p, data)
        if c.kind and c.records:
            caps.append(c)
    if not caps:
        print('mutate_captures: no readable pcap/pcapng inputs', file=sys.stderr)
        return 2
    pcapng = [c for c in caps if c.kind == 'pcapng']

    os.makedirs(a.out, exist_ok=True)
    rng = random.Random(a.seed)
    m = Mutator(rng, caps)
    lines = []
    for i in range(a.count):
        name = MUTATIONS[i % len(MUTATIONS)]
        pool = pcapng if name in PCAPNG_ONLY else caps
        if not pool:
            name, pool = 'corrupt_file', caps
        for _ in range(20):
            c = rng.choice(pool)
            if m.applicable(name, c):
                break
        else:
            name = 'corrupt_file'
        data, expect, detail = m.mutate(name, c)
        ext = '.pcapng' if c.kind == 'pcapng' else '.pcap'
        stem = os.path.splitext(os.path.basename(c.path))[0][:40]
        fname = '%05d_%s_%s%s' % (i, name, stem, ext)
        with open(os.path.join(a.out, fname), 'wb') as f:
            f.write(data)
        lines.append('\t'.join([fname, c.path, name, expect, detail]))
    with open(os.path.join(a.out, 'MANIFEST.tsv'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
