#!/usr/bin/python3
"""Runs one command and appends a line "LABEL... WALL USER SYSTEM" (seconds,
to the microsecond) to a file: what bench/ab.sh records per run.

    bench/time_run.py OUT LABEL [LABEL...] -- COMMAND [ARG...]

/usr/bin/time prints wall and CPU times in hundredths of a second: 10 ms
steps are 3 % of a 0.3 s run, as coarse as the changes ab.sh is asked to
see. Here the wall time is the monotonic clock around the child and the
CPU times are the child's own rusage (wait4), in microseconds. The
command's exit status is passed on; its output goes where this script's
goes.
"""

import os
import sys
import time


def main():
    if '--' not in sys.argv or sys.argv.index('--') < 3 or sys.argv.index('--') == len(sys.argv) - 1:
        sys.exit('usage: bench/time_run.py OUT LABEL [LABEL...] -- COMMAND [ARG...]')
    sep = sys.argv.index('--')
    out, labels, cmd = sys.argv[1], sys.argv[2:sep], sys.argv[sep + 1:]
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    _, status, ru = os.wait4(pid, 0)
    wall = time.monotonic() - t0
    with open(out, 'a') as f:
        f.write(' '.join(labels) + f' {wall:.6f} {ru.ru_utime:.6f} {ru.ru_stime:.6f}\n')
    sys.exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)


if __name__ == '__main__':
    main()
