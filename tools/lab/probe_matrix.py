#!/usr/bin/python3
"""The probe through the lab's firewall profiles.

For each profile: three network namespaces of its own (a client with the lab's
client address, the lab's router with its interfaces fw-in and fw-out and the
profile's ruleset from labplan.nft_ruleset(), a cloud host), and `callwall
probe` of each vendor (one run per vendor) from the client through the router,
in one of two ways:

  --against reflector (the default)
      `callwall reflect` in the cloud answers every TCP and UDP port; every
      probe goes to it.
  --against servers
      the lab's own vendor cloud (lab_cloud.py: dnsmasq with the profile's
      zone, coturn, tls_server.py, udp_server.py, the lab's certificates);
      the vendor names resolved by the lab's dnsmasq in the client namespace.
      Each entry is probed through the lab name its destinations match
      (--target ENTRY=NAME; of several, the one with most servers on the
      entry's ports); entries no lab name matches (third-party names,
      destination ANY) must read not exercised.

Each entry's verdict must be what the profile's rule table implies
(labplan.action_for, the table the ruleset is generated from, as the lab's
ground truth is) for the ports the run probed for that entry (a probe's flow
counts only for the entry it was sent for, though through one reflector
address it carries every probed name): every port accepted -> observed, none
-> blocked, some -> partial; an entry the probe does not exercise (inbound)
must say so. Towards the lab's servers a port the firewall passes but where
nothing listens (labplan.listening, the cloud's server table) is refused by
the destination itself (RST, or ICMP port unreachable from the destination):
the firewall passed the probe, so such a flow is inconclusive and not
counted; so is a UDP probe the firewall drops where the vendor's server need
not answer STUN (probe::Probe::answer_expected, answer_expected() here); an
entry with nothing else is inconclusive. Beyond the verdicts, every
probe's flows must have the outcome the table says, with its reason
(no-answer, stun-timeout, reset, icmp-3-3 or icmp-3-13) and, for an ICMP
error, who sent it (the router or the destination).

A profile whose outbound rules are another's (labplan "probe_as": strict has
udp-egress's) is probed through only when named with --profile: a probe sees
nothing but the outbound rules.

Two more profiles put a middlebox on the open profile's router (against the
reflector only; they are judged by their verdicts):
  sni-filter      a transparent TLS proxy (sni_filter.py) that resets every
                  connection whose ClientHello names appearin.net or
                  whereby.com: those TLS probes must read blocked
                  (tls-reset), the rest observed; one probe run per TCP entry
                  (with the UDP entries, which make the vendor active by name
                  for its third-party entry), so that each run's verdicts
                  show one TLS name's fate
  stun-middlebox  a STUN server in the firewall (stun_middlebox.py) answers
                  every UDP probe on the reflector's behalf (DNAT), without
                  the reflector's token: UDP entries must read
                  inconclusive (intercepted), TCP ones observed

    tools/lab/probe_matrix.py --callwall BIN [--against reflector|servers] [--profile P]... [--rate N] [--vendor V]...
                              [--jobs N]

Profiles run --jobs at a time (default 3), each in namespaces of its own
(the probes mostly wait for answers and timeouts); each profile's lines are
printed together, in the profiles' order.

Needs root (ip netns, nft), and for --against servers the lab's packages
(tools/setup.sh --lab). Exit 0: every entry of every profile agrees;
1: a disagreement (listed); 77: cannot make namespaces here, or the lab's
servers are not installed (skip). Prints the wall time of each probe run.
"""
import argparse
import concurrent.futures
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import labplan  # noqa: E402
import lab_cloud  # noqa: E402

KEY = "probe-matrix-key"
# The reflector's key reaches both ends through the environment, as an
# operator would pass it (never on a command line, where ps shows it).
os.environ["CALLWALL_REFLECT_KEY"] = KEY
# Through the reflector a probe sweeps every port of a range by default; the
# matrix checks a sample of each range against every profile (the sweep
# itself is tested in tests/probe/probe_netns_test.cpp).
SAMPLE = ["--sample", "16"]
CLIENT = labplan.CLIENT["4"]
FW_IN = labplan.FW_INSIDE["4"]
FW_OUT = labplan.FW_OUTSIDE["4"]
CLOUD = labplan.CLOUD_LINK["4"]


def sh(args, **kw):
    return subprocess.run(args, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


class Namespaces:
    """Client, router and cloud namespaces, removed on exit."""

    def __init__(self, tag):
        self.c, self.f, self.s = "pmC" + tag, "pmF" + tag, "pmS" + tag
        self.made = []

    def __enter__(self):
        for ns in (self.c, self.f, self.s):
            sh(["ip", "netns", "add", ns])
            self.made.append(ns)
        sh(["ip", "link", "add", "pmc0", "netns", self.c, "type", "veth", "peer", "name", "fw-in", "netns", self.f])
        sh(["ip", "link", "add", "pms0", "netns", self.s, "type", "veth", "peer", "name", "fw-out", "netns", self.f])
        for ns, dev, addr in ((self.c, "pmc0", CLIENT), (self.f, "fw-in", FW_IN), (self.f, "fw-out", FW_OUT),
                              (self.s, "pms0", CLOUD)):
            sh(["ip", "-n", ns, "addr", "add", addr + "/24", "dev", dev])
            sh(["ip", "-n", ns, "link", "set", dev, "up"])
        for ns in (self.c, self.f, self.s):
            sh(["ip", "-n", ns, "link", "set", "lo", "up"])
        sh(["ip", "-n", self.c, "route", "add", "default", "via", FW_IN])
        sh(["ip", "-n", self.s, "route", "add", "default", "via", FW_OUT])
        # Forwarding, and no ICMP rate limit: every rejected probe gets its
        # error, as in run.sh's router (Linux sends about one a second per
        # destination otherwise, and the rest read as silence).
        sh(["ip", "netns", "exec", self.f, "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv4.icmp_ratelimit=0"])
        return self

    def __exit__(self, *exc):
        for ns in self.made:
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)


def plan_ports(callwall, vendor, how):
    """entry id -> set of (transport, port, host, address, kind) the probe
    plans; the entries it skips. `how`: the probe's arguments that say where
    probes go."""
    out = sh([callwall, "probe", "--dry-run", "--vendor", vendor, *how]).stdout
    planned, skipped = {}, set()
    for line in out.splitlines():
        words = line.split()
        if line.startswith("  not exercised"):
            skipped.add(words[2].rstrip(":"))
        elif line.startswith("  ") and not line.startswith("  coverage ") and len(words) >= 3 \
                and words[-1].startswith("("):
            kind, where, entry = words[0], words[1], words[-1].strip("()")
            transport = "tcp" if kind in ("tcp", "tls") else "udp"
            host = words[2] if len(words) >= 4 else ""  # a destination-ANY entry's probes carry no name
            addr, _, port = where.rpartition(":")
            planned.setdefault(entry, set()).add((transport, int(port), host, addr, kind))
    return planned, skipped


def entry_rows(callwall, vendor):
    """entry id -> (transport, [(lo, hi)...], destinations, direction) from the catalog listing."""
    rows = json.loads(sh([callwall, "catalog", "list", "--vendor", vendor, "--format", "json"]).stdout)
    return {r["id"]: (r["transport"], [tuple(x) for x in r["ports"]], r["destinations"], r["direction"])
            for r in rows}


def pattern_matches(pattern, host):
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    if pattern.startswith("."):
        return host == pattern[1:] or host.endswith(pattern)
    return host == pattern  # ANY stands for no lab name


def lab_targets(rows):
    """entry id -> the lab name its probes go to: of the lab's names (labplan.HOSTS)
    that the entry's destinations match, the one with the most servers on the
    entry's transport and ports (ties: the first name in order). Entries no lab
    name matches (third-party names, destination ANY) get none: the probe
    says they are not exercised."""
    listening = labplan.listening()
    out = {}
    for entry, (transport, rs, dests, direction) in sorted(rows.items()):
        if direction != "outbound" or not rs:
            continue
        best = None
        for host in sorted(labplan.HOSTS):
            if not any(pattern_matches(d, host) for d in dests):
                continue
            addr = labplan.addr_of(host, "4")
            served = sum(1 for (a, t, p) in listening if (a, t) == (addr, transport) and
                         any(lo <= p <= hi for lo, hi in rs))
            if best is None or served > best[0]:
                best = (served, host)
        if best:
            out[entry] = best[1]
    return out


def servers_args(targets):
    """The probe's arguments towards the lab's servers: a --target per entry.
    For the dry run, the names' lab addresses too (--resolve): it plans
    outside the client namespace, where the lab's resolver is not."""
    args = []
    for entry, host in sorted(targets.items()):
        args += ["--target", "%s=%s" % (entry, host)]
    resolve = []
    for host in sorted(set(targets.values())):
        resolve += ["--resolve", "%s=%s" % (host, labplan.addr_of(host, "4"))]
    return args, resolve


def evidence_ports(entry, planned, rows):
    """The run's probes that serve `entry`: its own, each on its transport and
    in its ranges (the probe tells attribution which entry each of its flows
    was sent for; other entries' flows never count for it)."""
    transport, rs = rows[entry][:2]
    own = {q for q in planned[entry] if q[0] == transport and any(lo <= q[1] <= hi for lo, hi in rs)}
    assert own == set(planned[entry]), "%s: probes outside its own ranges: %s" % (entry, planned[entry] - own)
    return own


SNI_FORBIDDEN = ("appearin.net", "whereby.com")
MIDDLEBOXES = {"sni-filter": "open", "stun-middlebox": "open"}  # middlebox profile -> the ruleset under it


def answering(profile, planned):
    """The addresses some probe of the run got an answer from (the firewall
    passed it and something listens): callwall tells a RST as the server's by
    comparing its TTL with those answers; from an address that never answered
    a RST could be a firewall's, and stays a block."""
    return {q[3] for qs in planned.values() for q in qs
            if labplan.action_for(profile, q[0], q[1]) == "accept" and (q[3], q[0], q[1]) in LISTENING}


def answer_expected(probe, rows, entry):
    """probe::Probe::answer_expected: a UDP probe whose silence says something
    (a TURN Allocate to a port the entry lists rather than one of a wide
    range's spread, or any STUN request to 3478 or 5349); TCP always."""
    transport, port, host, addr, kind = probe
    if transport != "udp":
        return True  # a SYN is answered by any host, listening or not
    listed = any(lo <= port <= hi and hi - lo + 1 <= PORTS_PER_RANGE for lo, hi in rows[entry][1])
    return (kind == "turn-allocate" and listed) or port in (3478, 5349)


def action(profile, probe, against="reflector", answered=frozenset(), expect_answer=True):
    """What happens to one probe: "accept", "block", "intercept", or, towards
    the lab's servers, "refused" (the firewall passed it to a port of the
    cloud where nothing listens: ICMP port unreachable from the destination
    itself, or a RST from an address whose other answers show its TTL) and
    "silent" (a UDP probe the firewall drops silently where the vendor's
    server need not answer STUN: no evidence either way)."""
    transport, port, host, addr, kind = probe
    if profile == "sni-filter":
        cut = transport == "tcp" and port == 443 and any(host == s or host.endswith("." + s) for s in SNI_FORBIDDEN)
        return "block" if cut else "accept"
    if profile == "stun-middlebox":
        return "intercept" if transport == "udp" else "accept"
    fw = labplan.action_for(profile, transport, port)
    if fw == "drop" and against == "servers" and not expect_answer:
        return "silent"
    if fw != "accept":
        return "block"
    if against == "servers" and (addr, transport, port) not in LISTENING:
        return "refused" if transport == "udp" or addr in answered else "block"
    return "accept"


def expected(profile, probes, against="reflector", answered=frozenset(), rows=None, entry=None):
    """Intercepted answers, the vendor's server's own refusals and silence
    where it need not answer are not counted (an entry with nothing else is
    inconclusive)."""
    uncounted = ("intercept", "refused", "silent")
    acts = [action(profile, q, against, answered, answer_expected(q, rows, entry) if rows else True)
            for q in sorted(probes)]
    if acts and all(a in uncounted for a in acts):
        return "inconclusive"
    acts = [a for a in acts if a not in uncounted]
    if all(a == "accept" for a in acts):
        return "observed"
    return "blocked" if not any(a == "accept" for a in acts) else "partial"


def middlebox(profile, ns, d):
    """Starts the profile's middlebox in the router; returns its process."""
    here = os.path.dirname(os.path.abspath(__file__))
    log = os.path.join(d, "middlebox.log")
    if profile == "sni-filter":
        subprocess.run(["ip", "netns", "exec", ns.f, "nft", "-f", "-"], text=True, check=True, input=(
            'table ip pmsni {\n chain pre {\n type nat hook prerouting priority dstnat;\n'
            ' iifname "fw-in" tcp dport 443 redirect to :15443\n }\n}\n'))
        args = ["/usr/bin/python3", os.path.join(here, "sni_filter.py"), "--port", "15443", "--forbid",
                *SNI_FORBIDDEN, "--duration", "300"]
        ready = "filtering on"
    else:
        subprocess.run(["ip", "netns", "exec", ns.f, "nft", "-f", "-"], text=True, check=True, input=(
            'table ip pmmb {\n chain pre {\n type nat hook prerouting priority dstnat;\n'
            ' iifname "fw-in" meta l4proto udp udp dport != 53 dnat to %s:30998\n }\n}\n' % FW_IN))
        args = ["/usr/bin/python3", os.path.join(here, "stun_middlebox.py"), "--listen", FW_IN, "--port", "30998",
                "--duration", "300"]
        ready = "answering on"
    with open(log, "w") as lf:
        proc = subprocess.Popen(["ip", "netns", "exec", ns.f, *args], stdout=lf, stderr=subprocess.STDOUT)
    for _ in range(50):
        if ready in open(log).read():
            return proc
        time.sleep(0.1)
    proc.terminate()
    raise RuntimeError("the middlebox did not start: " + open(log).read())


CALLWALL = [""]
# The lines of the profile this thread runs (say()), printed together once
# it is done, so that profiles run side by side still read one after another.
LINES = threading.local()


def say(line):
    if getattr(LINES, "out", None) is not None:
        LINES.out.append(line)
    else:
        print(line, flush=True)


def collected(fn, *args):
    """fn(*args) on this thread, with what it says kept: (result, lines)."""
    LINES.out = []
    try:
        return fn(*args), LINES.out
    finally:
        LINES.out = None


LISTENING = labplan.listening()
PORTS_PER_RANGE = 16  # the probe's --ports-per-range default


def run_probe(ns, d, vendor, rate, how, entries=()):
    """`callwall probe` of one vendor from the client namespace; returns
    ({entry: verdict}, {entry: why}, seconds)."""
    callwall = CALLWALL[0]
    db = os.path.join(d, "probe-%s.sqlite" % vendor)
    args = ["ip", "netns", "exec", ns.c, callwall, "probe", "--db", db, *how, "--rate", str(rate), "--vendor",
            vendor] + ([] if os.environ.get("PM_VERBOSE") else ["-q"])
    for e in entries:
        args += ["--entry", e]
    start = time.monotonic()
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    took = time.monotonic() - start
    if os.environ.get("PM_VERBOSE"):
        say(p.stdout)
    if p.returncode != 0:
        raise RuntimeError("probe exit %d: %s" % (p.returncode, p.stdout))
    con = sqlite3.connect(db)
    got = dict(con.execute("SELECT entry_id, verdict FROM verdict"))
    why = dict(con.execute("SELECT entry_id, why FROM verdict"))
    flows = {}
    for t, a, port, outcome, icmp_from in con.execute(
            "SELECT transport, server_ip, server_port, outcome, coalesce(icmp_from, '') FROM flow"):
        flows.setdefault((t, a, port), set()).add((outcome, icmp_from))
    con.close()
    os.unlink(db)
    return got, why, took, flows


def flow_outcome(profile, transport, port, addr, against, answered, expect_answer):
    """The outcome each flow of a probe to (transport, addr, port) must get, and
    who sends the ICMP error: the firewall's action from the profile's table
    (labplan.action_for) and, towards the lab's servers, whether anything
    listens there (labplan.listening)."""
    act = labplan.action_for(profile, transport, port)
    if act == "accept":
        if against == "servers" and (addr, transport, port) not in LISTENING:
            if transport == "udp":
                return "inconclusive", addr  # the destination's own port unreachable
            return ("inconclusive", "") if addr in answered else ("blocked:reset", "")
        return "observed", ""
    if act == "drop" and against == "servers" and not expect_answer:
        return "inconclusive", ""  # silence where the vendor's server need not answer STUN
    return {
        "drop": ("blocked:no-answer" if transport == "tcp" else "blocked:stun-timeout", ""),
        "reset": ("blocked:reset", ""),
        "icmp-port-unreachable": ("blocked:icmp-3-3", FW_IN),
        "icmp-admin-prohibited": ("blocked:icmp-3-13", FW_IN),
    }[act]


def check_flows(profile, planned, flows, against, answered, rows):
    """Every probe's flows got the outcome the table says (the four firewall
    profiles; the middlebox ones are judged by their verdicts)."""
    wrong = []
    expect = {}  # (transport, port, addr) -> whether some probe there expects an answer
    for e, qs in planned.items():
        for q in qs:
            k = (q[0], q[1], q[3])
            expect[k] = expect.get(k, False) or answer_expected(q, rows, e)
    for t, port, addr in sorted(expect):
        want = flow_outcome(profile, t, port, addr, against, answered, expect[(t, port, addr)])
        have = flows.get((t, addr, port), set())
        if have != {want}:
            wrong.append("%s %s %s %s:%d: every flow should be %s%s, the capture has %s" %
                         (against, profile, t, addr, port, want[0], " from " + want[1] if want[1] else "",
                          sorted(have) or "no flow"))
    return wrong


def judge(profile, vendor, planned, skipped, rows, result, against="reflector", entries=()):
    """Each entry's verdict against the table's; prints the run's line, returns the disagreements."""
    got, why, took, flows = result
    if entries:  # one entry's run: the others were not probed
        planned = {e: planned[e] for e in entries}
        skipped = set()
    answered = answering(profile, planned) if against == "servers" else frozenset()
    wrong = [] if profile in MIDDLEBOXES else check_flows(profile, planned, flows, against, answered, rows)
    for entry in sorted(set(planned) | skipped):
        want = (expected(profile, evidence_ports(entry, planned, rows), against, answered, rows, entry)
                if entry in planned else "not_exercised")
        if got.get(entry) != want:
            wrong.append("%s %s %s: the table says %s, the probe says %s (%s)" %
                         (against, profile, entry, want, got.get(entry), why.get(entry, "")))
    probes = sum(len(v) for v in planned.values())
    # A sweep's ports go at the probe's --sweep-rate (default 1000/s), the rest at --rate.
    rate = RATE[0] + "/s" if SAMPLE else RATE[0] + "/s, ranges swept at 1000/s"
    say("%-9s %-14s %-9s %-30s %2d entries, %3d probes at %s: %5.1f s, %d disagree" %
        (against, profile, vendor, entries[0] if entries else "", len(planned) + len(skipped), probes,
         rate, took, len(wrong)))
    return wrong, took


def run_profile(profile, vendor, planned, skipped, rows, tag, entries=()):
    """One vendor through the profile to `callwall reflect` in the cloud."""
    callwall = CALLWALL[0]
    with Namespaces(tag) as ns, tempfile.TemporaryDirectory(prefix="callwall-probe-matrix-") as d:
        os.chmod(d, 0o755)  # the probe drops to nobody once its files are open
        subprocess.run(["ip", "netns", "exec", ns.f, "nft", "-f", "-"],
                       input=labplan.nft_ruleset(MIDDLEBOXES.get(profile, profile)), text=True, check=True)
        box = middlebox(profile, ns, d) if profile in MIDDLEBOXES else None
        log = os.path.join(d, "reflect.log")
        with open(log, "w") as lf:
            reflector = subprocess.Popen(
                ["ip", "netns", "exec", ns.s, callwall, "reflect", "--listen", CLOUD, "--tcp", "1-65535", "--udp",
                 "1-65535", "--nft", "--duration", "300"], stdout=lf, stderr=subprocess.STDOUT)
        try:
            for _ in range(50):
                if "answering on" in open(log).read():
                    break
                time.sleep(0.1)
            else:
                raise RuntimeError("the reflector did not start: " + open(log).read())
            result = run_probe(ns, d, vendor, RATE[0], ["--reflector", CLOUD] + SAMPLE, entries)
        finally:
            for proc in (reflector, box):
                if proc:
                    proc.terminate()
                    proc.wait(10)
    return judge(profile, vendor, planned, skipped, rows, result, "reflector", entries)


def run_servers_profile(profile, vendors, plans, rows, targets, tag):
    """Every vendor through the profile to the lab's own servers (lab_cloud.py),
    names resolved by the lab's dnsmasq."""
    wrong, total = [], 0.0
    with Namespaces(tag) as ns, tempfile.TemporaryDirectory(prefix="callwall-probe-servers-") as d:
        os.chmod(d, 0o755)
        subprocess.run(["ip", "netns", "exec", ns.f, "nft", "-f", "-"], input=labplan.nft_ruleset(profile),
                       text=True, check=True)
        with lab_cloud.LabCloud(ns.s, ns.f, ns.c, CLOUD, profile, d):
            for v in vendors:
                planned, skipped = plans[v]
                result = run_probe(ns, d, v, RATE[0], servers_args(targets[v])[0])
                w, took = judge(profile, v, planned, skipped, rows[v], result, "servers")
                wrong += w
                total += took
    say("servers   %-14s all %d vendors: %.1f s" % (profile, len(vendors), total))
    return wrong


def run_reflector_profile(i, profile, vendors, plans, rows):
    """Every vendor through one profile to the reflector; returns the disagreements."""
    wrong, total = [], 0.0
    tag = "%d%d" % (os.getpid() % 10000, i)
    if profile == "sni-filter":  # Whereby's TCP entries, one run each, with the UDP ones
        planned, skipped = plans["whereby"]
        rng = rows["whereby"]
        udp = tuple(e for e in sorted(planned) if rng[e][0] == "udp")
        for j, e in enumerate(e for e in sorted(planned) if rng[e][0] == "tcp"):
            wrong += run_profile(profile, "whereby", planned, skipped, rng, tag + str(j), (e,) + udp)[0]
        return wrong
    for j, v in enumerate(vendors if profile != "stun-middlebox" else ["whereby"]):
        planned, skipped = plans[v]
        w, took = run_profile(profile, v, planned, skipped, rows[v], tag + str(j))
        wrong += w
        total += took
    say("reflector %-14s all %d vendors: %.1f s" % (profile, len(vendors), total))
    return wrong


def run_profiles(jobs, runs):
    """runs: [(fn, args)], one per profile, run `jobs` at a time; each one's
    lines printed once it and those before it are done. Returns every
    disagreement."""
    wrong = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(collected, fn, *args) for fn, args in runs]
        for f in futures:
            w, lines = f.result()
            for line in lines:
                print(line, flush=True)
            wrong += w
    return wrong


RATE = ["20"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--callwall", required=True)
    ap.add_argument("--against", choices=("reflector", "servers"), default="reflector")
    ap.add_argument("--profile", action="append", choices=labplan.PROFILE_ORDER + list(MIDDLEBOXES))
    ap.add_argument("--vendor", action="append")
    ap.add_argument("--rate", default="20")
    ap.add_argument("--jobs", type=int, default=3, help="profiles run at the same time (default 3)")
    ap.add_argument("--sweep", action="store_true",
                    help="through the reflector, sweep every port of every range instead of a sample of 16")
    a = ap.parse_args()
    # A profile with another's outbound rules (labplan "probe_as") only when named.
    probed = [p for p in labplan.PROFILE_ORDER if not labplan.PROFILES[p].get("probe_as")]
    if a.sweep:
        SAMPLE.clear()
    CALLWALL[0] = callwall = os.path.abspath(a.callwall)
    RATE[0] = a.rate
    vendors = a.vendor or ["whereby", "sendbird", "agora"]
    if os.geteuid() != 0 or not shutil.which("nft"):
        print("skipped: needs root and nft to make the namespaces")
        return 77
    if a.against == "servers" and lab_cloud.missing_tools():
        print("skipped: the lab's servers are not installed (%s; tools/setup.sh --lab)" %
              ", ".join(lab_cloud.missing_tools()))
        return 77
    probe_ns = "pmX%d" % os.getpid()
    if subprocess.run(["ip", "netns", "add", probe_ns], stderr=subprocess.DEVNULL).returncode != 0:
        print("skipped: cannot create network namespaces here (ip netns add failed)")
        return 77
    subprocess.run(["ip", "netns", "del", probe_ns])
    rows = {v: entry_rows(callwall, v) for v in set(vendors) | {"whereby"}}
    if a.against == "servers":
        targets = {v: lab_targets(rows[v]) for v in vendors}
        plans = {v: plan_ports(callwall, v, sum(servers_args(targets[v]), [])) for v in vendors}
        profiles = a.profile or probed
        if any(p in MIDDLEBOXES for p in profiles):
            raise SystemExit("probe_matrix.py: the middlebox profiles run against the reflector only")
        wrong = run_profiles(a.jobs, [(run_servers_profile,
                                       (p, vendors, plans, rows, targets, "%d%d" % (os.getpid() % 10000, i)))
                                      for i, p in enumerate(profiles)])
    else:
        plans = {v: plan_ports(callwall, v, ["--reflector", CLOUD] + SAMPLE) for v in set(vendors) | {"whereby"}}
        profiles = a.profile or probed + list(MIDDLEBOXES)
        wrong = run_profiles(a.jobs, [(run_reflector_profile, (i, p, vendors, plans, rows))
                                      for i, p in enumerate(profiles)])
    for w in wrong:
        print("DISAGREE " + w)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
