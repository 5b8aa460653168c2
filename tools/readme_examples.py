#!/usr/bin/python3
"""Runs the README's example sessions and compares their output.

    tools/readme_examples.py --callwall BUILD/callwall [--readme README.md] [--update]

A fenced block preceded by a marker line is an example:

    <!-- readme-example: run [needs=userns] [files=PATH,PATH] -->
    <!-- readme-example: skip REASON -->

In a `run` block, each line starting with "$ " is a command, and the lines up
to the next command are its expected standard output. Every command of a block
runs in order in one fresh directory (bash, with the binary's directory first
on PATH), where the repository's captures/ and tests/ are linked and the files
named by files= are copied (by their base name). A line "..." in the expected
output stands for any number of lines.

Normalised before comparing, because it must vary: the line `time X s, N
packets/s` of analyze (wall time). Trailing blanks are ignored.

needs=userns: skipped (with the reason) where `unshare -U -r -n true` fails.
A "$ " console block with no marker is an error, so no example escapes the
test. --update rewrites the expected output of every command whose output
no longer matches (review the diff).

Exit 0 every run block matched (skips listed), 1 a mismatch, 2 usage.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

MARK = re.compile(r'^<!-- readme-example: (run|skip)(.*?)-->\s*$')
NORMALISE = [
    (re.compile(r'^time [0-9.]+ s, [0-9]+ packets/s$'), 'time X s, N packets/s'),
]
TIMEOUT_S = 120


def blocks(lines):
    """(marker kind, marker args, index of the opening fence, index of the
    closing fence) for every marked block; raises on an unmarked console
    block with commands."""
    out = []
    i = 0
    pending = None
    while i < len(lines):
        m = MARK.match(lines[i])
        if m:
            pending = (m.group(1), m.group(2).strip(), i)
            i += 1
            continue
        if lines[i].startswith('```'):
            j = i + 1
            while j < len(lines) and not lines[j].startswith('```'):
                j += 1
            body = lines[i + 1:j]
            if pending is not None:
                out.append((pending[0], pending[1], i, j))
            elif lines[i].strip() == '```console' and any(l.startswith('$ ') for l in body):
                raise SystemExit(f'README line {i + 1}: a console block with commands and no readme-example marker')
            pending = None
            i = j + 1
            continue
        if lines[i].strip():
            pending = None if not lines[i].startswith('<!--') else pending
        i += 1
    return out


def parse_args_of(text):
    opts = {}
    for word in text.split():
        if '=' in word:
            k, v = word.split('=', 1)
            opts[k] = v
    return opts


def commands_of(body):
    """[(command, [expected lines])] of a block's body."""
    cmds = []
    for line in body:
        if line.startswith('$ '):
            cmds.append((line[2:], []))
        elif cmds:
            cmds[-1][1].append(line)
    return cmds


def normalise(line):
    line = line.rstrip()
    for pat, rep in NORMALISE:
        if pat.match(line):
            return rep
    return line


def matches(expected, actual):
    """Line by line; '...' in expected matches any run of lines."""
    exp = [normalise(l) for l in expected]
    act = [normalise(l) for l in actual]
    while exp and exp[-1] == '':
        exp.pop()
    while act and act[-1] == '':
        act.pop()

    def go(i, j):
        if i == len(exp):
            return j == len(act)
        if exp[i] == '...':
            return any(go(i + 1, k) for k in range(j, len(act) + 1))
        return j < len(act) and exp[i] == act[j] and go(i + 1, j + 1)

    return go(0, 0)


def userns_ok():
    try:
        return subprocess.run(['unshare', '-U', '-r', '-n', 'true'], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def run_block(root, callwall, opts, cmds):
    """[(command, expected, actual lines)]."""
    work = tempfile.mkdtemp(prefix='callwall-readme.')
    try:
        for d in ('captures', 'tests'):
            os.symlink(os.path.join(root, d), os.path.join(work, d))
        for f in filter(None, opts.get('files', '').split(',')):
            shutil.copy(os.path.join(root, f), os.path.join(work, os.path.basename(f)))
        env = dict(os.environ)
        env['PATH'] = os.path.dirname(os.path.abspath(callwall)) + os.pathsep + env.get('PATH', '')
        env['LC_ALL'] = 'C.UTF-8'
        env.pop('CALLWALL_CATALOG_DIR', None)
        results = []
        for cmd, expected in cmds:
            p = subprocess.run(['bash', '-c', cmd], cwd=work,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT_S,
                               stdin=subprocess.DEVNULL)
            actual = p.stdout.decode('utf-8', 'replace').split('\n')
            if actual and actual[-1] == '':
                actual.pop()
            results.append((cmd, expected, actual, p.stderr.decode('utf-8', 'replace')))
        return results
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--callwall', required=True)
    ap.add_argument('--readme', default=None)
    ap.add_argument('--update', action='store_true')
    a = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    readme = a.readme or os.path.join(root, 'README.md')
    if not os.access(a.callwall, os.X_OK):
        print(f'readme_examples: no binary {a.callwall}', file=sys.stderr)
        return 2
    lines = open(readme, encoding='utf-8').read().split('\n')
    found = blocks(lines)
    have_userns = None
    failed = ran = 0
    skipped = []
    edits = []  # (open fence, close fence, new body)
    for kind, args, lo, hi in found:
        where = f'README line {lo + 1}'
        if kind == 'skip':
            skipped.append(f'{where}: skipped in the README itself: {args}')
            continue
        opts = parse_args_of(args)
        if opts.get('needs') == 'userns':
            if have_userns is None:
                have_userns = userns_ok()
            if not have_userns:
                skipped.append(f'{where}: skipped: user namespaces cannot be made here (unshare -U -r -n)')
                continue
        cmds = commands_of(lines[lo + 1:hi])
        if not cmds:
            print(f'{where}: a run block with no "$ " command', file=sys.stderr)
            failed += 1
            continue
        ran += 1
        results = run_block(root, a.callwall, opts, cmds)
        if a.update:
            body = []
            for cmd, expected, actual, _ in results:
                body.append('$ ' + cmd)
                if matches(expected, actual):
                    body.extend(expected)  # kept as written: its "..." and blank lines
                else:
                    body.extend(l.rstrip() for l in actual)
            edits.append((lo, hi, body))
            continue
        for cmd, expected, actual, err in results:
            if matches(expected, actual):
                continue
            failed += 1
            print(f'{where}: $ {cmd}\n  expected:', file=sys.stderr)
            for l in expected:
                print('    ' + l, file=sys.stderr)
            print('  got:', file=sys.stderr)
            for l in actual:
                print('    ' + l, file=sys.stderr)
            if err.strip():
                print('  stderr:\n    ' + err.strip().replace('\n', '\n    '), file=sys.stderr)
    if a.update:
        for lo, hi, body in reversed(edits):
            lines[lo + 1:hi] = body
        open(readme, 'w', encoding='utf-8').write('\n'.join(lines))
        print(f'readme_examples: {len(edits)} block(s) rewritten in {readme}')
        return 0
    for s in skipped:
        print(s)
    print(f'readme_examples: {ran} block(s) run, {failed} mismatch(es), {len(skipped)} skipped')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
