#!/usr/bin/python3
"""Validates `callwall analyze --events FILE` against docs/events.schema.json.

    tools/check_events_schema.py CALLWALL_BINARY
    tools/check_events_schema.py CALLWALL_BINARY --public DIR

The second form reads every capture in DIR and below it (the shared public
captures, ../shared/captures/public; the committed captures/, lab ones
included) instead: each line valid under the schema, and
each flow line's Community ID equal to this script's own (from the line's
tuple, ICMP types mapped to their counterparts here) and to one tshark
computes for a packet of the capture (tshark --enable-protocol communityid;
that part is skipped without tshark). Exit 77 when DIR does not exist.

Analyses every verdict scenario capture (captures/scenarios/*.pcap) with
--events into a database of its own and checks, for each:
  - every line is one JSON object valid under the schema (python3-jsonschema,
    Draft 7);
  - one run_start first and one run_end last, with the run's id and status;
  - one flow line per row of the flow table, with that row's 5-tuple, packet
    and byte counts and conn_state, and every other column of the row (but
    the outcome, the flow's at its end) under its own name with its value;
  - every Community ID equals the one this script computes itself from the
    flow's 5-tuple (an independent implementation of Community ID v1);
  - one verdict line per verdict row whose verdict is not not_exercised, with
    that verdict and every column of the row (the lists as arrays).
Then checks that the schema can fail (a line without schema_version, or with
an unknown verdict, is rejected).

Exit 0 all valid; 1 a check failed; 77 python3-jsonschema is not installed
(ctest reports the test as skipped).
"""
import base64
import glob
import hashlib
import ipaddress
import json
import os
import sqlite3
import struct
import subprocess
import sys
import tempfile

try:
    import jsonschema
except ImportError:
    print("SKIP: python3-jsonschema is not installed (apt-get install python3-jsonschema)")
    sys.exit(77)

# The flow columns a flow line carries as Zeek fields (events.hpp's
# kZeekViewedColumns); every other column is there under its own name.
ZEEK_VIEWED = {"id", "transport", "client_ip", "client_port", "server_ip", "server_port", "first_ts", "last_ts",
               "packets_c2s", "bytes_c2s", "packets_s2c", "bytes_s2c", "state", "app", "name", "name_source"}
# The run, dns_answer and flow_name columns the run_start, run_end, dns and
# name lines carry under names (and meanings) of their own (events.hpp's
# kRunStartViewedColumns, kRunEndViewedColumns, kDnsViewedColumns,
# kNameViewedColumns); every other column is there under its own name.
RUN_START_VIEWED = {"kind", "source", "tool_version", "catalog_digest", "started_at"}
RUN_END_VIEWED = {"ended_at", "status", "packets", "bytes", "flows", "kernel_dropped", "first_ts", "last_ts"}
DNS_VIEWED = {"ts", "client_ip", "qname", "rrtype", "answer", "ttl"}
NAME_VIEWED = {"flow_id", "name", "source"}
# The verdict columns that hold a JSON array (events.hpp's kVerdictJsonColumns).
VERDICT_JSON = {"reasons", "ports_observed", "ports_blocked", "evidence_flows"}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROTO = {"tcp": 6, "udp": 17}

# corelight/community-id-spec defers ICMP to Zeek's mapping; pycommunityid
# (the reference implementation) spells it out: a type with a counterpart is
# hashed like ports (type, counterpart), any other as sent (type, code).
ICMP4_PAIRS = {8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 10: 9, 9: 10, 17: 18, 18: 17}
ICMP6_PAIRS = {128: 129, 129: 128, 130: 131, 131: 130, 133: 134, 134: 133, 135: 136, 136: 135, 139: 140,
               140: 139, 144: 145, 145: 144}


def community_id(saddr, sport, daddr, dport, proto, seed=0, one_way=False):
    """Community ID v1 (corelight/community-id-spec)."""
    s = ipaddress.ip_address(saddr).packed
    d = ipaddress.ip_address(daddr).packed
    if not one_way and (s, sport) > (d, dport):
        s, sport, d, dport = d, dport, s, sport
    data = struct.pack("!H", seed) + s + d + struct.pack("!BBHH", proto, 0, sport, dport)
    return "1:" + base64.b64encode(hashlib.sha1(data).digest()).decode()


def line_community_id(e):
    """The Community ID of a flow line's own tuple (Zeek's meaning of the ports)."""
    if e["proto"] in PROTO:
        return community_id(e["id.orig_h"], e["id.orig_p"], e["id.resp_h"], e["id.resp_p"], PROTO[e["proto"]])
    if e["proto"] == "icmp":
        v6 = ":" in e["id.orig_h"]
        proto, pairs = (58, ICMP6_PAIRS) if v6 else (1, ICMP4_PAIRS)
        t, other = e["id.orig_p"], e["id.resp_p"]
        if pairs.get(t) == other:
            return community_id(e["id.orig_h"], t, e["id.resp_h"], other, proto)
        if pairs.get(other) == t:  # the responder's type first (a reply seen first)
            return community_id(e["id.orig_h"], t, e["id.resp_h"], other, proto)
        # One-way: (type, code) as sent, by the originator.
        return community_id(e["id.orig_h"], t, e["id.resp_h"], other, proto, one_way=True)
    return None


def fail(msg):
    print("FAIL: " + msg)
    return 1


def check_capture(callwall, validator, pcap, tmp):
    name = os.path.basename(pcap)
    db = os.path.join(tmp, name + ".db")
    events = os.path.join(tmp, name + ".jsonl")
    r = subprocess.run([callwall, "analyze", "--quiet", "--db", db, "--events", events, pcap],
                       capture_output=True, text=True)
    if r.returncode not in (0, 3):  # 3: --fail-on not given, so only 0 is expected; keep 3 readable
        return fail(f"{name}: analyze exited {r.returncode}: {r.stderr.strip()}")
    with open(events) as f:
        lines = [json.loads(line) for line in f]
    errors = 0
    for i, e in enumerate(lines):
        for err in validator.iter_errors(e):
            errors += fail(f"{name} line {i + 1}: {err.message}")
    if not lines or lines[0]["event"] != "run_start" or lines[-1]["event"] != "run_end":
        return errors + fail(f"{name}: the stream does not start with run_start and end with run_end")
    con = sqlite3.connect(db)
    run_id, status = con.execute("SELECT id, status FROM run ORDER BY id DESC LIMIT 1").fetchone()
    if lines[0]["run_id"] != run_id or lines[-1]["run_id"] != run_id or lines[-1]["status"] != status:
        errors += fail(f"{name}: run_start/run_end say run {lines[0]['run_id']}/{lines[-1]['status']}, "
                       f"the database run {run_id}/{status}")
    rows = {fid: (t, cip, cport, sip, sport, cp, cb, sp, sb, st) for fid, t, cip, cport, sip, sport, cp, cb, sp, sb, st in
            con.execute("SELECT id, transport, client_ip, client_port, server_ip, server_port, packets_c2s, bytes_c2s, "
                        "packets_s2c, bytes_s2c, state FROM flow WHERE run_id=?", (run_id,))}
    flows = [e for e in lines if e["event"] == "flow"]
    if len(flows) != len(rows):
        errors += fail(f"{name}: {len(flows)} flow lines, {len(rows)} flow rows")
    for e in flows:
        row = rows.get(e["flow_id"])
        if row is None:
            errors += fail(f"{name}: flow line {e['flow_id']} has no row")
            continue
        t, cip, cport, sip, sport, cp, cb, sp, sb, st = row
        # IP bytes are the row's bytes; TCP's conn_state is the row's state
        # (UDP's row says answered / one-way, the line Zeek's SF / S0 / SHR).
        got = (e["proto"], e["id.orig_h"], e["id.resp_h"], e["orig_pkts"], e["orig_ip_bytes"], e["resp_pkts"],
               e["resp_ip_bytes"])
        want = (t if t in PROTO else e["proto"], cip, sip, cp, cb, sp, sb)
        if t in PROTO:
            got += (e["id.orig_p"], e["id.resp_p"])
            want += (cport, sport)
        if t == "tcp":
            got += (e["conn_state"],)
            want += (st,)
        elif t == "udp":
            got += (e["conn_state"],)
            want += ({"answered": "SF", "one-way": "S0"}.get(st, st) if cp else "SHR",)
        if got != want:
            errors += fail(f"{name}: flow {e['flow_id']}: line {got} != row {want}")
        if e["orig_bytes"] > e["orig_ip_bytes"] or e["resp_bytes"] > e["resp_ip_bytes"]:
            errors += fail(f"{name}: flow {e['flow_id']}: more payload than IP bytes")
        if t in PROTO and e["community_id"] != community_id(cip, cport, sip, sport, PROTO[t]):
            errors += fail(f"{name}: flow {e['flow_id']}: community_id {e['community_id']} != "
                           f"{community_id(cip, cport, sip, sport, PROTO[t])}")
    # The line is a view of the flow's row: every column it does not carry
    # under a Zeek name is there under its own, with the row's value (times
    # to the microsecond). The outcome is the one the flow ended with;
    # attribution, after the last packet, may judge it otherwise.
    cur = con.execute("SELECT * FROM flow WHERE run_id=?", (run_id,))
    names = [d[0] for d in cur.description]
    full = {r[names.index("id")]: dict(zip(names, r)) for r in cur}
    for e in flows:
        row = full.get(e["flow_id"])
        if row is None:
            continue
        own = [c for c in names if c in e]
        if len(own) < len(names) - len(ZEEK_VIEWED) - 1:  # run_id is the line's too
            errors += fail(f"{name}: flow {e['flow_id']}: the line lacks columns "
                           f"{sorted(set(names) - set(own) - ZEEK_VIEWED - {'run_id'})}")
        for c in own:
            if c in ZEEK_VIEWED or c in ("run_id", "outcome"):
                continue
            if not same_value(e[c], row[c]):
                errors += fail(f"{name}: flow {e['flow_id']}: {c} {e[c]!r} in the line, {row[c]!r} in the row")
    verdict_rows = dict(con.execute("SELECT entry_id, verdict FROM verdict WHERE run_id=? AND verdict != "
                                    "'not_exercised'", (run_id,)))
    verdicts = {e["entry_id"]: e["verdict"] for e in lines if e["event"] == "verdict"}
    if verdicts != verdict_rows:
        errors += fail(f"{name}: verdict lines {verdicts} != verdict rows {verdict_rows}")
    # A verdict line is a view of its verdict row: every column of the row is
    # on it with the row's value (the lists as JSON arrays).
    cur = con.execute("SELECT * FROM verdict WHERE run_id=?", (run_id,))
    names = [d[0] for d in cur.description]
    vrows = {r[names.index("entry_id")]: dict(zip(names, r)) for r in cur}
    for e in lines:
        if e["event"] != "verdict":
            continue
        row = vrows.get(e["entry_id"], {})
        for c in names:
            want = json.loads(row[c]) if c in VERDICT_JSON else row.get(c)
            if c not in e or e[c] != want:
                errors += fail(f"{name}: verdict {e['entry_id']}: {c} {e.get(c)!r} in the line, {want!r} in the row")
    errors += check_record_views(name, con, run_id, lines)
    errors += check_dns_view(callwall, name, pcap, tmp, [e for e in lines if e["event"] == "dns"])
    return errors


def same_value(line_value, row_value):
    """A line's member holds the row's value (reals to the microsecond the stream writes)."""
    if isinstance(row_value, float) and isinstance(line_value, (int, float)):
        return abs(line_value - row_value) < 1e-6
    return line_value == row_value


def check_record_views(name, con, run_id, lines):
    """The run_start, run_end and name lines are views of the run and
    flow_name rows: every column of a line's record is on it, under a name
    of the line's own or under its own with the row's value."""
    errors = 0
    cur = con.execute("SELECT * FROM run WHERE id=?", (run_id,))
    names = [d[0] for d in cur.description]
    run_row = dict(zip(names, cur.fetchone()))
    start, end = lines[0], lines[-1]
    if (start["kind"], start["tool_version"]) != (run_row["kind"], run_row["tool_version"]):
        errors += fail(f"{name}: run_start says {start['kind']} {start['tool_version']}, the run's row "
                       f"{run_row['kind']} {run_row['tool_version']}")
    for c in names:
        if c == "id" or c in RUN_START_VIEWED or c in RUN_END_VIEWED:
            continue
        on = [line["event"] for line in (start, end) if c in line]
        if len(on) != 1:
            errors += fail(f"{name}: the run's column {c} is on {on or 'neither run line'}, not on one of them")
            continue
        line = start if on[0] == "run_start" else end
        if not same_value(line[c], run_row[c]):
            errors += fail(f"{name}: {on[0]}: {c} {line[c]!r} in the line, {run_row[c]!r} in the run's row")
    cur = con.execute("SELECT * FROM flow_name WHERE run_id=?", (run_id,))
    names = [d[0] for d in cur.description]
    flow_names = {(r[names.index("flow_id")], r[names.index("name")], r[names.index("source")]) for r in cur}
    for e in (line for line in lines if line["event"] == "name"):
        for c in set(names) - NAME_VIEWED - {"run_id"}:
            if c not in e:
                errors += fail(f"{name}: name line {e['name']} lacks the column {c}")
        if (e["flow_id"], e["name"], "sni") not in flow_names:
            errors += fail(f"{name}: name line {e['flow_id']} {e['name']} is no flow_name row")
    return errors


def check_dns_view(callwall, name, pcap, tmp, dns_lines):
    """The dns lines are views of the dns_answer rows, which only --detail
    writes: the capture again with --detail gives the same dns lines, and
    each is a row of its dns_answer table, every column on the line under a
    name of the line's own or under its own with the row's value."""
    errors = 0
    db = os.path.join(tmp, name + ".detail.db")
    events = os.path.join(tmp, name + ".detail.events")
    r = subprocess.run([callwall, "analyze", "--quiet", "--detail", "--db", db, "--events", events, pcap],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return fail(f"{name}: analyze --detail exited {r.returncode}: {r.stderr.strip()}")
    with open(events) as f:
        detail_lines = [e for e in map(json.loads, f) if e["event"] == "dns"]
    if detail_lines != dns_lines:
        errors += fail(f"{name}: the dns lines with --detail differ from those without")
    con = sqlite3.connect(db)
    (run_id,) = con.execute("SELECT max(id) FROM run").fetchone()
    cur = con.execute("SELECT * FROM dns_answer WHERE run_id=?", (run_id,))
    names = [d[0] for d in cur.description]
    answers = [dict(zip(names, r)) for r in cur]
    for e in detail_lines:
        for c in set(names) - DNS_VIEWED - {"run_id"}:
            if c not in e:
                errors += fail(f"{name}: dns line {e['qname']} {e['rrtype']} lacks the column {c}")
        rows = [r for r in answers
                if all(same_value(e[c], r[c]) for c in names if c not in DNS_VIEWED and c != "run_id" and c in e)
                and (r["client_ip"], r["qname"], r["rrtype"], r["ttl"]) == (e["client"], e["qname"], e["rrtype"],
                                                                           e["ttl"])
                and same_value(e["ts"], r["ts"])
                # HTTPS and SVCB: the line's answer is the target, the row's the record's presentation.
                and (r["answer"] == e["answer"] or (r["rrtype"] in ("HTTPS", "SVCB")
                                                    and r["answer"].split(" ")[1:2] == [e["answer"]]))]
        if not rows:
            errors += fail(f"{name}: dns line {e} is no dns_answer row")
    return errors


def tshark_ids(pcap):
    """Every Community ID tshark computes for a packet of `pcap` (None without tshark)."""
    try:
        r = subprocess.run(["tshark", "--enable-protocol", "communityid", "-r", pcap, "-T", "fields", "-e",
                            "communityid"], capture_output=True, text=True, timeout=120)
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return None
    return {v for line in r.stdout.splitlines() for v in line.split(",") if v}


def check_public(callwall, validator, directory, tmp):
    captures = sorted(p for p in glob.glob(os.path.join(directory, "**", "*"), recursive=True)
                      if p.endswith((".pcap", ".pcapng", ".cap")))
    errors = 0
    counts = {}
    for pcap in captures:
        name = os.path.relpath(pcap, directory)
        db = os.path.join(tmp, name.replace(os.sep, "_") + ".db")
        events = os.path.join(tmp, name.replace(os.sep, "_") + ".jsonl")
        r = subprocess.run([callwall, "analyze", "--quiet", "--db", db, "--events", events, pcap],
                           capture_output=True, text=True)
        if not os.path.exists(events):
            errors += fail(f"{name}: analyze exited {r.returncode} without an event stream: {r.stderr.strip()}")
            continue
        with open(events, "rb") as f:
            raw = f.read()
        try:
            lines = [json.loads(line) for line in raw.decode("utf-8").splitlines()]
        except (UnicodeDecodeError, json.JSONDecodeError) as ex:
            errors += fail(f"{name}: the event stream is not UTF-8 JSON lines: {ex}")
            continue
        for i, e in enumerate(lines):
            for err in validator.iter_errors(e):
                errors += fail(f"{name} line {i + 1}: {err.message}")
        flows = [e for e in lines if e["event"] == "flow"]
        ids = tshark_ids(pcap) if any(e["proto"] in ("icmp", "tcp", "udp") for e in flows) else set()
        for e in flows:
            own = line_community_id(e)
            if own is None:
                continue
            counts[e["proto"]] = counts.get(e["proto"], 0) + 1
            if e["community_id"] != own:
                errors += fail(f"{name}: flow {e['flow_id']} {e['proto']} {e['id.orig_h']}:{e['id.orig_p']} > "
                               f"{e['id.resp_h']}:{e['id.resp_p']}: community_id {e['community_id']} != {own}")
            # tshark hashes the outermost IP header; a flow inside a tunnel
            # or a fragment it did not reassemble has no packet of its own there.
            if ids and e["community_id"] not in ids and e["proto"] == "icmp":
                errors += fail(f"{name}: flow {e['flow_id']} icmp {e['id.orig_h']} > {e['id.resp_h']}: "
                               f"community_id {e['community_id']} is no packet's for tshark")
        os.remove(db)
    print(f"{len(captures)} captures under {directory}, flow lines checked per protocol {counts}: "
          f"{'OK' if not errors else str(errors) + ' failures'}")
    return errors


def main():
    if len(sys.argv) not in (2, 4) or (len(sys.argv) == 4 and sys.argv[2] != "--public"):
        print(__doc__)
        return 2
    callwall = sys.argv[1]
    with open(os.path.join(ROOT, "docs", "events.schema.json")) as f:
        schema = json.load(f)
    validator = jsonschema.Draft7Validator(schema)
    if len(sys.argv) == 4:
        if not os.path.isdir(sys.argv[3]):
            print(f"SKIP: {sys.argv[3]} does not exist (the shared public captures)")
            return 77
        with tempfile.TemporaryDirectory() as tmp:
            return 1 if check_public(callwall, validator, sys.argv[3], tmp) else 0
    captures = sorted(glob.glob(os.path.join(ROOT, "captures", "scenarios", "*.pcap")))
    if not captures:
        return fail("no captures under captures/scenarios")
    errors = 0
    kinds = set()
    with tempfile.TemporaryDirectory() as tmp:
        for pcap in captures:
            errors += check_capture(callwall, validator, pcap, tmp)
        for path in glob.glob(os.path.join(tmp, "*.jsonl")):
            with open(path) as f:
                kinds |= {json.loads(line)["event"] for line in f}
        # The schema can fail.
        sample = {"schema_version": 2, "event": "verdict", "ts": 1.0, "run_id": 1, "entry_id": "x", "vendor": "V",
                  "product": "P", "service": "S", "verdict": "observed", "previous": "", "reasons": [],
                  "flows_observed": 1, "flows_blocked": 0, "flows_inconclusive": 0,
                  "ports_observed": [443], "ports_blocked": [], "evidence_flows": [4], "origin": "", "why": ""}
        if list(validator.iter_errors(sample)):
            errors += fail("a valid verdict line is rejected: " + "; ".join(e.message for e in validator.iter_errors(sample)))
        for broken in ({k: v for k, v in sample.items() if k != "schema_version"}, dict(sample, verdict="maybe")):
            if validator.is_valid(broken):
                errors += fail(f"the schema accepts a broken line: {broken}")
    missing = {"run_start", "run_end", "flow", "dns", "name", "verdict"} - kinds
    if missing:
        errors += fail(f"no line of kind {sorted(missing)} in any scenario")
    print(f"{len(captures)} captures, event kinds {sorted(kinds)}: {'OK' if not errors else str(errors) + ' failures'}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
