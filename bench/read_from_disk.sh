#!/bin/sh
# Puts a workload file in one known state of the page cache before it is
# measured: its pages dropped, then read back once in order, as a capture
# read from disk is cached.
#
#   bench/read_from_disk.sh FILE
#
# Why: how a file came into the page cache changes how cheaply it can be
# memory-mapped. Read from disk, the kernel caches it in large folios (up to
# 2 MiB) that a map takes in a few steps; the same file after hours of other
# runs (its pages dropped and brought back piecemeal, by the look of the
# kernel's profile: small folios mapped page by page) costs several times
# the system time. Measured here (2026-11-25, busy 2 M workload,
# `bench/pcap_floor --mapped`): 148 ms with 4 ms of system time read from
# disk, 227 ms / 89 ms just written by `cp`, 297 ms / 157 ms after an
# evening of other runs; the plain floor, which copies with read(2),
# 283-298 ms in all three. bench/compare.sh and
# bench/ab.sh call this before measuring, so that two runs compare like
# with like (docs/performance.md).
set -eu
[ $# -eq 1 ] && [ -f "$1" ] || { echo "usage: bench/read_from_disk.sh FILE" >&2; exit 2; }
# GNU dd: with count=0, iflag=nocache drops the whole file's cached pages.
dd if="$1" iflag=nocache count=0 status=none
cat "$1" >/dev/null
