#!/usr/bin/python3
"""Where the wall time of one `callwall analyze` goes, thread by thread:
a timeline of CPU samples per named thread (callwall-read, callwall-store,
callwall-pages, callwall-ckpt, callwall-w0..., the command's own thread
"callwall"), and how busy the machine's CPUs are after the last packet is
read, which is the part of the run no reading or decoding overlaps.

    bench/timeline.py [--file PCAP] [--options "..."] [--freq HZ] [--runs N] [BINARY]

BINARY defaults to build/release/callwall; the workload to the busy-mirror
profile at 2 M packets (tools/gen_workload.py --profile busy --seed 1,
cached as /tmp/callwall-busy-2000000.pcap). Each run is one `perf record
-e cpu-clock -F HZ` (no call graphs: the run is barely slowed), then
`perf script` gives every sample's thread name and time. Prints, per run:

- one line per thread: its first and last sample (ms from the run's first
  sample), its CPU time (samples / HZ) and a bar of 50 cells over the run,
  each cell how busy the thread was in that fiftieth (" .:-=+*#%@", empty
  to always running);
- "after the last packet": from the reading thread's last sample to the
  run's last, the CPU time each thread took there, and that total against
  what the machine's CPUs could have given (the utilisation: when it is
  near 100 %, moving work between threads cannot shorten the run, only
  doing less can).

With --threads 1 there is no reading thread: the last packet is then not
marked. Timings are one run's; compare runs of one session, side by side.
"""

import argparse
import collections
import os
import subprocess
import sys
import tempfile

SHADES = ' .:-=+*#%@'
CELLS = 50


def workload(path):
    if os.path.exists(path):
        return path
    packets = path.rsplit('-', 1)[-1].split('.')[0]
    subprocess.run(['/usr/bin/python3', 'tools/gen_workload.py', '--packets', packets, '--seed', '1', '--profile',
                    'busy', '--out', path], check=True, stdout=subprocess.DEVNULL)
    return path


def samples(binary, pcap, options, freq):
    with tempfile.TemporaryDirectory(prefix='callwall-timeline-') as tmp:
        data = os.path.join(tmp, 'perf.data')
        db = os.path.join(tmp, 'run.sqlite')
        cmd = ['perf', 'record', '-q', '-e', 'cpu-clock', '-F', str(freq), '-o', data, binary, 'analyze', '-q',
               *options.split(), pcap, '--db', db]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out = subprocess.run(['perf', 'script', '-i', data, '-F', 'comm,tid,time'], check=True, capture_output=True,
                             text=True).stdout
    rows = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 3 or not parts[-1].endswith(':'):
            continue
        try:
            rows.append((' '.join(parts[:-2]), int(parts[-2]), float(parts[-1][:-1])))
        except ValueError:
            continue
    return rows


def report(rows, freq, cpus):
    if not rows:
        print('no samples')
        return
    t0 = min(r[2] for r in rows)
    t1 = max(r[2] for r in rows)
    span = max(t1 - t0, 1.0 / freq)
    threads = collections.OrderedDict()
    for name, tid, t in sorted(rows, key=lambda r: r[2]):
        threads.setdefault((name, tid), []).append(t - t0)
    per_cell = span / CELLS * freq  # samples a thread running throughout would give one cell
    print(f'run: {span * 1e3:.0f} ms of samples, {len(rows)} samples at {freq} Hz, {cpus} CPUs')
    print(f'{"thread":<16} {"first":>7} {"last":>7} {"CPU":>7}  timeline')
    for (name, tid), ts in threads.items():
        cells = [0] * CELLS
        for t in ts:
            cells[min(CELLS - 1, int(t / span * CELLS))] += 1
        bar = ''.join(SHADES[min(len(SHADES) - 1, round(c / per_cell * (len(SHADES) - 1)))] for c in cells)
        print(f'{name[:16]:<16} {ts[0] * 1e3:6.0f}m {ts[-1] * 1e3:6.0f}m {len(ts) / freq * 1e3:6.0f}m  |{bar}|')
    readers = [ts for (name, _), ts in threads.items() if name == 'callwall-read']
    if not readers:
        print('after the last packet: no reading thread (one core)')
        return
    last_packet = max(ts[-1] for ts in readers)
    window = span - last_packet
    print(f'after the last packet: {window * 1e3:.0f} ms ({window / span * 100:.0f} % of the run)')
    busy = 0
    for (name, _), ts in threads.items():
        n = sum(1 for t in ts if t > last_packet)
        if n:
            busy += n
            print(f'  {name:<16} {n / freq * 1e3:6.0f} ms CPU')
    if window > 0:
        print(f'  utilisation {busy / freq / (window * cpus) * 100:.0f} % of {cpus} CPUs')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('binary', nargs='?', default='build/release/callwall')
    ap.add_argument('--file', default='/tmp/callwall-busy-2000000.pcap')
    ap.add_argument('--options', default='')
    ap.add_argument('--freq', type=int, default=4000)
    ap.add_argument('--runs', type=int, default=1)
    a = ap.parse_args()
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
    pcap = workload(a.file)
    cpus = os.cpu_count() or 1
    for i in range(a.runs):
        if a.runs > 1:
            print(f'--- run {i + 1} of {a.runs}')
        report(samples(a.binary, pcap, a.options, a.freq), a.freq, cpus)
    return 0


if __name__ == '__main__':
    sys.exit(main())
