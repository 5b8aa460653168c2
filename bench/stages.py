#!/usr/bin/python3
"""Per-stage profile of `callwall analyze` for one or more builds, side by
side: how much of the run each stage takes (inclusive: a stage counts what
it calls), so a change can be shown before and after, stage by stage.

    bench/stages.py [--perf] [--file PCAP] [--options "..."] [LABEL=]BINARY ...

Two ways to count, on the same stages:

- callgrind (the default): instructions executed, counted by valgrind. They
  do not depend on the machine's load, so two builds can be compared on
  this shared machine to a fraction of a per cent; they do not see cache
  misses or page faults, which is where much of the reading's time goes.
- `--perf`: CPU time by `perf record -e cpu-clock` samples with DWARF call
  graphs (time, cache misses, page faults and the machine's load), and each
  stage's share, the median of --runs runs (default 3) per binary, the
  binaries taking turns.

The workload is the busy-mirror profile at 1 M packets (tools/gen_workload.py
--profile busy --seed 1, cached as /tmp/callwall-busy-1000000.pcap), run
with `--threads 1` (one thread, so every stage is on the one call stack);
--file and --options change them. Prints a markdown table.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

# (label, function): inclusive cost of the function. Names as demangled.
STAGES = [
    ('Reading the records (`capture::PcapSource::next`)', 'callwall::capture::PcapSource::next'),
    ('Decoding the headers (`decode::parse_frame_ok`)', 'callwall::decode::parse_frame_ok'),
    ('Flow table (`flow::FlowTable::update`)', 'callwall::flow::FlowTable::update'),
    ('Dissectors, per packet, with their rows (`Dissector::on_packet`)', 'callwall::pipeline::Dissector::on_packet'),
    ('Flows expired while reading, with their rows (`FlowTable::expire`)', 'callwall::flow::FlowTable::expire'),
    ('Flows left at the end, with their rows (`Analyzer::finish`)', 'callwall::pipeline::Analyzer::finish'),
    ('Attribution (`attrib::run_attribution`)', 'callwall::attrib::run_attribution'),
    ('of which the reader indexes (`Store::create_reader_indexes`)', 'callwall::store::Store::create_reader_indexes'),
    ('Rows written behind, on the store\'s thread or in the reading thread\'s idle time (`Store::apply_rows`; default threads)',
     'callwall::store::Store::apply_rows'),
    ('SQLite statements, wherever called (`sqlite3_step`)', 'sqlite3_step'),
]
DEFAULT_FILE = '/tmp/callwall-busy-1000000.pcap'


def name_pattern(fn):
    # The function itself, with or without its parameter list (callgrind
    # prints it, perf does not), not a longer name that starts the same.
    return re.compile(r'(^|[\s:])' + re.escape(fn) + r'(\(|\s|$|\[)')


PATTERNS = [(fn, name_pattern(fn)) for _, fn in STAGES]


def note_stage(costs, name, cost):
    """Keeps, per stage, the largest cost of the lines naming its function
    (a function appears once per file it was inlined from)."""
    for fn, pattern in PATTERNS:
        if pattern.search(' ' + name):
            costs[fn] = max(costs.get(fn, 0), cost)


def report_lines(argv, pattern):
    """The lines of a profiler report that match `pattern`, as matches."""
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    return re.finditer(pattern, out, re.M)


def parse_callgrind(path):
    """(instructions of the run, {function: instructions})."""
    total = None
    costs = {}
    for m in report_lines(['callgrind_annotate', '--inclusive=yes', '--threshold=100', path],
                          r'^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*)$'):
        n = int(m.group(1).replace(',', ''))
        what = m.group(2)
        if what.startswith('PROGRAM TOTALS'):
            total = n
            continue
        # "file:function [object]": the function starts after the first ':'
        # that follows the file name (callgrind writes file:function).
        note_stage(costs, what.split(':', 1)[1] if ':' in what.split('(', 1)[0] else what, n)
    return total, costs


PERF_HZ = 4000  # samples per second of CPU time


def perf_cpu_ms(path):
    # cpu-clock counts nanoseconds: the run's event count is its CPU time.
    for m in report_lines(['perf', 'report', '-i', path, '--sort', 'pid', '-g', 'none', '--stdio'],
                          r'Event count \(approx\.\):\s*(\d+)'):
        return int(m.group(1)) / 1e6
    return 0.0


def parse_perf(path):
    """(CPU milliseconds of the run, {function: share in per cent})."""
    costs = {}
    for m in report_lines(['perf', 'report', '-i', path, '--children', '--sort', 'symbol', '-g', 'none',
                           '--percent-limit', '0', '--stdio'], r'^\s*([\d.]+)%\s+([\d.]+)%\s+\[[.k]\]\s+(.*)$'):
        note_stage(costs, m.group(3).strip(), float(m.group(1)))
    return perf_cpu_ms(path), costs


def run_one(binary, pcap, options, use_perf, work):
    """(total, {function: cost}): instructions, or for perf CPU ms and shares."""
    db = os.path.join(work, 'stages.sqlite')
    for suffix in ('', '-wal', '-shm'):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    cmd = [binary, 'analyze', '-q', pcap, '--db', db] + options
    data = os.path.join(work, 'profile.out')
    if use_perf:
        checked(['perf', 'record', '-q', '-e', 'cpu-clock', '-F', str(PERF_HZ), '--call-graph', 'dwarf,16384', '-o', data,
                 '--'] + cmd)
        return parse_perf(data)
    checked(['valgrind', '-q', '--tool=callgrind', '--callgrind-out-file=' + data, '--'] + cmd)
    return parse_callgrind(data)


def checked(argv):
    r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        last = [line for line in r.stderr.splitlines() if line.strip()][-1:] or ['(no message)']
        sys.exit(f'stages: {" ".join(argv)}: exit {r.returncode}: {last[0]}')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--perf', action='store_true', help='CPU time by perf cpu-clock samples instead of instructions')
    ap.add_argument('--file', default=DEFAULT_FILE)
    ap.add_argument('--options', default='--threads 1', help='analyze options (default: --threads 1)')
    ap.add_argument('--runs', type=int, default=3, help='with --perf: runs per binary, medians (default 3)')
    ap.add_argument('binaries', nargs='+', metavar='[LABEL=]BINARY')
    args = ap.parse_args()
    tool = 'perf' if args.perf else 'valgrind'
    if not shutil.which(tool):
        sys.exit(f'stages: {tool} is not installed (tools/setup.sh --bench installs it)')
    if not os.path.isfile(args.file):
        if args.file != DEFAULT_FILE:
            sys.exit(f'stages: {args.file}: no such file')
        subprocess.run(['/usr/bin/python3', 'tools/gen_workload.py', '--profile', 'busy', '--seed', '1', '--packets',
                        '1000000', '--out', args.file], check=True, stdout=subprocess.DEVNULL,
                       cwd=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
    specs = []
    for spec in args.binaries:
        label, _, binary = spec.rpartition('=')
        if not os.access(binary, os.X_OK):
            sys.exit(f'stages: {binary}: not an executable')
        specs.append((label or binary, binary))
    runs = max(1, args.runs) if args.perf else 1
    results = [[] for _ in specs]
    with tempfile.TemporaryDirectory(prefix='callwall-stages-') as work:
        for _ in range(runs):  # interleaved: the machine's drift falls on every build alike
            for i, (_, binary) in enumerate(specs):
                results[i].append(run_one(binary, args.file, args.options.split(), args.perf, work))
    columns = []
    for (label, _), rs in zip(specs, results):
        total = statistics.median(r[0] for r in rs)
        costs = {fn: statistics.median(r[1].get(fn, 0.0) for r in rs) for _, fn in STAGES if fn in rs[0][1]}
        columns.append((label, (total, costs)))
    unit = (f'CPU time from cpu-clock samples at {PERF_HZ} Hz (DWARF call graphs slow the run), and its share, '
            f'median of {runs} runs' if args.perf else 'instructions (M), share of the run')
    print(f'`callwall analyze -q {os.path.basename(args.file)} {args.options}`; {unit}; inclusive')
    print()
    print('| Stage | ' + ' | '.join(label for label, _ in columns) + ' |')
    print('|---|' + '---:|' * len(columns))
    for stage_label, fn in STAGES:
        cells = []
        for _, (total, costs) in columns:
            if fn not in costs:
                cells.append('–')
            elif args.perf:
                cells.append(f'{costs[fn] * total / 100:,.0f} ms ({costs[fn]:.1f} %)')
            else:
                cells.append(f'{costs[fn] / 1e6:,.0f} M ({100.0 * costs[fn] / total:.1f} %)')
        print(f'| {stage_label} | ' + ' | '.join(cells) + ' |')
    whole = (lambda t: f'**{t:,.0f} ms**') if args.perf else (lambda t: f'**{t / 1e6:,.0f} M**')
    print('| **Whole run** | ' + ' | '.join(whole(total) for _, (total, _) in columns) + ' |')


if __name__ == '__main__':
    main()
