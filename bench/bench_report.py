#!/usr/bin/python3
"""Turns the measurements of bench/compare.sh and bench/rss_scaling.sh into
markdown, and splices it into docs/performance.md between markers.

    bench_report.py compare DIR PACKETS [PROFILE]  -> DIR/table.md (PROFILE: office, the default, or busy)
    bench_report.py rss DIR                  -> DIR/rss.md
    bench_report.py micro JSON OUT.md        Google Benchmark JSON (medians) -> markdown
    bench_report.py splice FILE NAME PART.md    replaces what lies between
                                                <!-- NAME:begin --> and <!-- NAME:end -->

compare DIR holds: hyperfine JSON files (<tool>.json), peak-RSS files
(rss-<tool>.txt, one /usr/bin/time %M value in KiB per run, the warm-up
included), machine.txt (key: value lines) and commands.txt (tool<TAB>command).
"""

import json
import os
import re
import statistics
import sys

# The speed targets the tables are judged against (docs/performance.md):
# callwall's time against the libpcap floor's on one core and with the
# default threads, and how many times callwall's time its peers take.
ONE_CORE_FLOOR_TARGET = 1.5
DEFAULT_FLOOR_TARGET = 1.1
TSHARK_TARGET = 150
NDPI_TARGET = 5

TOOLS = [  # (key, label)
    ('floor', 'libpcap floor (`bench/pcap_floor`)'),
    ('floormap', 'libpcap floor fed through a memory map, as callwall reads a pcapng file (`bench/pcap_floor --mapped`)'),
    ('callwall', '**callwall analyze** (default: reader and writer threads beside the decoding one)'),
    ('callwall1', '**callwall analyze --threads 1** (one core)'),
    ('answer', 'callwall analyze without -q (as users run it: the verdict table printed)'),
    ('answer1', 'callwall analyze without -q, --threads 1'),
    ('baseline', 'callwall analyze, baseline binary (`CALLWALL_COMPARE_BASELINE`)'),
    ('baseline1', 'callwall analyze --threads 1, baseline binary'),
    ('baseanswer', 'callwall analyze without -q, baseline binary'),
    ('baseanswer1', 'callwall analyze without -q, --threads 1, baseline binary'),
    ('ndpi', 'ndpiReader (one thread)'),
    ('tshark', 'tshark'),
]


def load_text(before, after):
    """The machine's load around one profile's measurements, said as it was:
    an idle machine is not called shared. The 1-minute load average counts
    this script's own runs of the previous profile (about one CPU busy)."""
    try:
        idle = float(before.split()[0]) < 0.5
    except (ValueError, IndexError, AttributeError):
        idle = False
    head = (f"**Machine load:** load average {before} before, {after} after")
    if idle:
        return (head + ": nothing else ran when this profile started (the figures after count this "
                "script's own runs). Wall times are medians over the runs. Ratios come from this one run.")
    return (head + "; the 1-minute figure counts this script's own earlier runs, and other engineers' "
            "builds and tests may have shared the CPUs. Wall times are medians over the runs and are "
            "inflated by any contention; the CPU column (user + system, mean over the runs) is less "
            "affected. Ratios come from this one run.")


def read_kv(path):
    out = {}
    if os.path.exists(path):
        for line in open(path):
            if ':' in line:
                k, v = line.split(':', 1)
                out[k.strip()] = v.strip()
    return out


def rss_kib(path):
    if not os.path.exists(path):
        return None
    vals = [int(x) for x in open(path).read().split() if x.isdigit()]
    return statistics.median(vals) if vals else None


def hf(path):
    # Missing, or empty: hyperfine stopped on a command that failed (it then
    # leaves the export empty); the row reads "not measured".
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return None
    r = json.load(open(path))['results'][0]
    if any(c != 0 for c in r.get('exit_codes', [])):
        return None
    return r


def fmt_s(s):
    return f'{s:.2f} s' if s >= 1 else f'{s * 1000:.0f} ms'


def fmt_rate(pps):
    return f'{pps / 1e6:.2f} M' if pps >= 1e6 else f'{pps / 1e3:.0f} k'


PROFILE_TEXT = {
    'office': ("`tools/gen_workload.py --packets {p} --seed 1` (the project's workload: an office "
               "mirror port during video calls)"),
    'busy': ("`tools/gen_workload.py --packets {p} --seed 1 --profile busy` (the busy mirror "
             "port: ~37,000 flows, ~100 DNS queries/s, 69 % RTP, 38 % VLAN-tagged)"),
}


def compare(d, packets, profile='office'):
    packets = int(packets)
    m = read_kv(os.path.join(d, 'machine.txt'))
    cmds = {}
    if os.path.exists(os.path.join(d, 'commands.txt')):
        for line in open(os.path.join(d, 'commands.txt')):
            k, _, c = line.rstrip('\n').partition('\t')
            cmds[k] = c
    res = {k: hf(os.path.join(d, f'{k}.json')) for k, _ in TOOLS}
    rss = {k: rss_kib(os.path.join(d, f'rss-{k}.txt')) for k, _ in TOOLS}
    floor = res['floor']['median'] if res['floor'] else None
    cw = res['callwall']['median'] if res['callwall'] else None
    lines = []
    lines.append(f"**Profile {profile}.** Workload: " + PROFILE_TEXT[profile].format(p=packets) + " "
                 f"({m.get('file size', '?')}, {m.get('capture span', '?')} of traffic), "
                 f"read from the page cache (put there as a file read from disk is: `bench/read_from_disk.sh`). "
                 f"Measured by `bench/compare.sh {packets}` on "
                 f"{m.get('date', '?')}: {m.get('cpu', '?')}, {m.get('nproc', '?')} CPUs, "
                 f"{m.get('os', '?')}; callwall {m.get('callwall', '?')}, {m.get('tshark', '?')}, "
                 f"{m.get('ndpi', '?')}, {m.get('hyperfine', '?')}.")
    lines.append('')
    lines.append(load_text(m.get('load before', '?'), m.get('load after', '?')))
    lines.append('')
    lines.append('| Tool | Runs | Median wall | CPU (user+sys) | Packets/s (wall) | Peak RSS | Wall / floor | CPU / floor | × callwall wall |')
    lines.append('|---|---:|---:|---:|---:|---:|---:|---:|---:|')
    floor_cpu = (res['floor']['user'] + res['floor']['system']) if res['floor'] else None
    for k, label in TOOLS:
        r = res[k]
        if not r:
            lines.append(f'| {label} | – | not measured | | | | | | |')
            continue
        med = r['median']
        cpu = r['user'] + r['system']
        row = [label, str(len(r['times'])), fmt_s(med), fmt_s(cpu), fmt_rate(packets / med),
               f'{rss[k] / 1024:.0f} MiB' if rss[k] else '?',
               f'{med / floor:.2f}×' if floor else '?',
               f'{cpu / floor_cpu:.2f}×' if floor_cpu else '?',
               f'{med / cw:.2f}×' if cw else '?']
        lines.append('| ' + ' | '.join(row) + ' |')
    lines.append('')
    def targets(c, title, floor_target):
        t = [f"- callwall / floor = **{c / floor:.2f}×** wall "
             f"(target ≤ {floor_target}×: {'met' if c / floor <= floor_target else 'not met'})."]
        if res['tshark']:
            x = res['tshark']['median'] / c
            t.append(f"- tshark / callwall = **{x:.1f}×** (target ≥ {TSHARK_TARGET}×: "
                     f"{'met' if x >= TSHARK_TARGET else 'not met'}).")
        if res['ndpi']:
            x = res['ndpi']['median'] / c
            t.append(f"- ndpiReader / callwall = **{x:.1f}×** (target ≥ {NDPI_TARGET}×: "
                     f"{'met' if x >= NDPI_TARGET else 'not met'}).")
        return [title] + t + ['']
    cw1 = res['callwall1']['median'] if res.get('callwall1') else None
    if floor and cw1:
        lines += targets(cw1, "The speed targets on one core (`--threads 1`):", ONE_CORE_FLOOR_TARGET)
    if floor and cw:
        lines += targets(cw, "The speed targets with the default threads (ndpiReader and the floor use one):",
                         DEFAULT_FLOOR_TARGET)
    if profile == 'busy' and packets == 2000000:
        peak = max((rss[k] for k in ('callwall', 'callwall1') if rss[k]), default=None)
        if peak:
            lines.append(f"Peak RSS of callwall at 2 M packets of the busy profile: **{peak / 1024:.0f} MiB** "
                         f"(target ≤ 64 MB: {'met' if peak * 1024 <= 64e6 else 'not met'}).")
            lines.append('')
    fm = res.get('floormap')
    if fm and (cw1 or cw):
        lines.append(f"callwall reads a classic pcap file's records in blocks copied with pread (`capture::PcapBlocks`; "
                     f"libpcap reads only the header), a pcapng file's out of its memory map; the floor loop fed "
                     f"through a map takes {fmt_s(fm['median'])} here, with the file cached as read from disk (the "
                     f"map's best case: a file just written costs it several times that). Against that floor "
                     f"callwall takes "
                     + ', '.join(f"{c / fm['median']:.2f}× {name}" for c, name in
                                 ((cw1, 'on one core'), (cw, 'with the second core')) if c)
                     + '. The targets above are against the plain floor, as the issue defines it.')
        lines.append('')
    for base, now, what in (('baseline', 'callwall', 'default threads'), ('baseline1', 'callwall1', 'one core'),
                            ('baseanswer', 'answer', 'without -q, default threads'),
                            ('baseanswer1', 'answer1', 'without -q, one core')):
        b, c = res.get(base), res.get(now)
        if b and c:
            lines.append(f"Before and after, {what}: the baseline binary ({m.get('baseline', '?')}) took "
                         f"{fmt_s(b['median'])}, this build {fmt_s(c['median'])} "
                         f"({(c['median'] / b['median'] - 1) * 100:+.1f}%; CPU "
                         f"{((c['user'] + c['system']) / (b['user'] + b['system']) - 1) * 100:+.1f}%).")
            lines.append('')
    f2 = hf(os.path.join(d, 'floor2.json'))
    if floor and f2:
        lines.append(f"The floor, measured again after the peers: {fmt_s(f2['median'])} "
                     f"({(f2['median'] / floor - 1) * 100:+.0f}% — the drift of the shared machine over the run).")
        lines.append('')
    lines.append('Commands (hyperfine runs each under `/usr/bin/time -f %M` for the peak RSS, the '
                 'same counter as `time -v`\'s "Maximum resident set size"; output goes to /dev/null):')
    lines.append('')
    for k, label in TOOLS:
        if k in cmds:
            lines.append(f'- {label}: `{cmds[k]}`')
    out = os.path.join(d, 'table.md')
    open(out, 'w').write('\n'.join(lines) + '\n')
    print('\n'.join(lines))


def rss(d):
    m = read_kv(os.path.join(d, 'machine.txt'))
    rows = []
    for line in open(os.path.join(d, 'rows.txt')):
        # packets size span flows rss_kib... wall_s...
        f = line.split('\t')
        packets, size, span, flows = f[0], f[1], f[2], f[3]
        rss_v = [int(x) for x in f[4].split()]
        wall_v = [float(x) for x in f[5].split()]
        rows.append((int(packets), size, span, flows, statistics.median(rss_v), statistics.median(wall_v),
                     len(rss_v)))
    profile = m.get('profile', 'office')
    gen = '`tools/gen_workload.py --seed 1`' if profile == 'office' else '`tools/gen_workload.py --seed 1 --profile busy`'
    lines = [f"Same mix and packet rate ({gen}), only longer. `callwall analyze -q FILE --db DB` under `/usr/bin/time -v`, median over "
             f"the runs; {m.get('date', '?')}, callwall {m.get('callwall', '?')}, {m.get('cpu', '?')}, "
             f"load average {m.get('load before', '?')} before, {m.get('load after', '?')} after. "
             f"{m.get('note', '')}".rstrip(), '',
             '| Packets | File | Capture span | Flows written | Runs | Peak RSS | Median wall | Packets/s |',
             '|---:|---:|---:|---:|---:|---:|---:|---:|']
    for p, size, span, flows, r, w, n in rows:
        lines.append(f'| {p / 1e6:g} M | {size} | {span} | {flows} | {n} | {r / 1024:.0f} MiB | {w:.2f} s | '
                     f'{fmt_rate(p / w)} |')
    if len(rows) >= 2:
        a, b = rows[0], rows[-1]
        lines += ['', f"{b[0] / a[0]:g}× the packets: peak RSS × **{b[4] / a[4]:.2f}** "
                      f"({a[4] / 1024:.0f} → {b[4] / 1024:.0f} MiB)."]
    open(os.path.join(d, 'rss.md'), 'w').write('\n'.join(lines) + '\n')
    print('\n'.join(lines))


def micro(path, out):
    d = json.load(open(path))
    ctx = d['context']
    load = ', '.join(f'{x:.2f}' for x in ctx.get('load_avg', []))
    lines = [f"`callwall_bench`, medians of {ctx.get('num_cpus', '?')}-CPU runs on {ctx.get('date', '?')[:16]}, "
             f"load average {load or '?'} at the start (shared machine: compare CPU with wall to see the "
             "contention). Per-item time is the median time divided by the items of one iteration.", '',
             '| Benchmark | Wall | CPU | Items/s | Per item (CPU) | Notes |', '|---|---:|---:|---:|---:|---|']
    scale = {'ns': 1, 'us': 1e3, 'ms': 1e6, 's': 1e9}
    for b in d['benchmarks']:
        if b.get('run_type') == 'aggregate' and b.get('aggregate_name') != 'median':
            continue
        if b.get('error_occurred'):
            continue
        name = re.sub(r'/(min_time:[0-9.]+|real_time|iterations:\d+)', '', b.get('run_name', b['name']))
        u = b['time_unit']
        ips = b.get('items_per_second')
        notes = []
        for k in ('frames', 'flows', 'share_of_frames', 'decoded_share'):
            if k in b:
                v = b[k]
                notes.append(f'{k} {v:.3g}' if isinstance(v, float) and v < 1 else f'{k} {int(v)}')
        per_item = ''
        if ips:
            # items/s is over real time for UseRealTime benchmarks and CPU time otherwise: recompute from CPU.
            items_per_iter = ips * b['real_time' if 'real_time' in b['run_name'] else 'cpu_time'] * scale[u] / 1e9
            if items_per_iter > 0:
                ns = b['cpu_time'] * scale[u] / items_per_iter
                per_item = f'{ns:.0f} ns' if ns < 1e4 else f'{ns / 1e3:.1f} µs'
        lines.append(f"| `{name}` | {b['real_time']:.3g} {u} | {b['cpu_time']:.3g} {u} | "
                     f"{(ips or 0) / 1e6:.2f} M | {per_item} | {', '.join(notes)} |")
    open(out, 'w').write('\n'.join(lines) + '\n')
    print('\n'.join(lines))


def splice(path, name, part):
    begin, end = f'<!-- {name}:begin -->', f'<!-- {name}:end -->'
    body = open(part).read().rstrip('\n')
    text = open(path).read() if os.path.exists(path) else ''
    block = f'{begin}\n{body}\n{end}'
    if begin in text and end in text:
        text = re.sub(re.escape(begin) + r'.*?' + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip('\n') + ('\n\n' if text else '') + block + '\n'
    open(path, 'w').write(text)


if __name__ == '__main__':
    cmd = sys.argv[1] if len(sys.argv) > 1 else ''
    if cmd == 'compare' and len(sys.argv) in (4, 5):
        compare(*sys.argv[2:])
    elif cmd == 'rss' and len(sys.argv) == 3:
        rss(sys.argv[2])
    elif cmd == 'micro' and len(sys.argv) == 4:
        micro(sys.argv[2], sys.argv[3])
    elif cmd == 'splice' and len(sys.argv) == 5:
        splice(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
