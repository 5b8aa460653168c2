#!/usr/bin/python3
"""The probe through the lab's firewall profiles.

For each profile: three network namespaces of its own (a client with the lab's
client address, the lab's router with its interfaces fw-in and fw-out and the
profile's ruleset from labplan.nft_ruleset(), a cloud host), `callwall reflect`
in the cloud answering every TCP and UDP port, and `callwall probe` of each
vendor (one run per vendor) from the client through the router to the
reflector. Each entry's verdict must be what the profile's rule table implies
(labplan.action_for, the table the ruleset is generated from, as the lab's
ground truth is) for the ports the run probed for that entry (a probe's flow
counts only for the entry it was sent for, though through one reflector
address it carries every probed name): every port accepted -> observed, none
-> blocked, some -> partial; an entry the probe does not exercise (inbound)
must say so.

Two more profiles put a middlebox on the open profile's router:
  sni-filter      a transparent TLS proxy (sni_filter.py) that resets every
                  connection whose ClientHello names appearin.net or
                  whereby.com: those TLS probes must read blocked
                  (tls-reset), the rest observed; one probe run per TCP entry
                  (with the UDP entries, which make the vendor active by name
                  for its third-party entry), so that each run's verdicts
                  show one TLS name's fate
  stun-middlebox  a second reflector with another key answers every UDP
                  probe on the real one's behalf (DNAT): UDP entries must read
                  inconclusive (intercepted), TCP ones observed

    tools/lab/probe_matrix.py --callwall BIN [--profile P]... [--rate N] [--vendor V]...

Needs root (ip netns, nft). Exit 0: every entry of every profile agrees;
1: a disagreement (listed); 77: cannot make namespaces here (skip).
Prints the wall time of each probe run.
"""
import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import labplan  # noqa: E402

KEY = "probe-matrix-key"
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
        sh(["ip", "netns", "exec", self.f, "sysctl", "-qw", "net.ipv4.ip_forward=1"])
        return self

    def __exit__(self, *exc):
        for ns in self.made:
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)


def plan_ports(callwall, vendor):
    """entry id -> set of (transport, port) the probe plans; entries it skips."""
    out = sh([callwall, "probe", "--reflector", CLOUD, "--key", KEY, "--dry-run", "--vendor", vendor]).stdout
    planned, skipped = {}, set()
    for line in out.splitlines():
        words = line.split()
        if line.startswith("  not exercised"):
            skipped.add(words[2].rstrip(":"))
        elif line.startswith("  ") and len(words) >= 3 and words[-1].startswith("("):
            kind, where, entry = words[0], words[1], words[-1].strip("()")
            transport = "tcp" if kind in ("tcp", "tls") else "udp"
            host = words[2] if len(words) >= 4 else ""  # a destination-ANY entry's probes carry no name
            planned.setdefault(entry, set()).add((transport, int(where.rsplit(":", 1)[1]), host))
    return planned, skipped


def entry_ranges(callwall, vendor):
    """entry id -> (transport, [(lo, hi)...]) from the catalog listing."""
    rows = json.loads(sh([callwall, "catalog", "list", "--vendor", vendor, "--format", "json"]).stdout)
    return {r["id"]: (r["transport"], [tuple(x) for x in r["ports"]]) for r in rows}


def evidence_ports(entry, planned, ranges):
    """The run's probes that serve `entry`: its own, each on its transport and
    in its ranges (the probe tells attribution which entry each of its flows
    was sent for; other entries' flows never count for it)."""
    transport, rs = ranges[entry]
    own = {(t, p, h) for t, p, h in planned[entry] if t == transport and any(lo <= p <= hi for lo, hi in rs)}
    assert own == set(planned[entry]), "%s: probes outside its own ranges: %s" % (entry, planned[entry] - own)
    return own


SNI_FORBIDDEN = ("appearin.net", "whereby.com")
MIDDLEBOXES = {"sni-filter": "open", "stun-middlebox": "open"}  # middlebox profile -> the ruleset under it


def action(profile, transport, port, host):
    """What the profile does to one probe: "accept", "block" or "intercept"."""
    if profile == "sni-filter":
        cut = transport == "tcp" and port == 443 and any(host == s or host.endswith("." + s) for s in SNI_FORBIDDEN)
        return "block" if cut else "accept"
    if profile == "stun-middlebox":
        return "intercept" if transport == "udp" else "accept"
    return "accept" if labplan.action_for(profile, transport, port) == "accept" else "block"


def expected(profile, probes):
    acts = [action(profile, t, p, h) for t, p, h in sorted(probes)]
    if acts and all(a == "intercept" for a in acts):
        return "inconclusive"
    acts = [a for a in acts if a != "intercept"]
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
        args = [CALLWALL[0], "reflect", "--listen", FW_IN, "--udp", "443", "--key", "NOT-" + KEY, "--port", "30998",
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


def run_profile(callwall, profile, vendor, rate, planned, skipped, ranges, tag, entries=()):
    with Namespaces(tag) as ns, tempfile.TemporaryDirectory(prefix="callwall-probe-matrix-") as d:
        os.chmod(d, 0o755)  # the probe drops to nobody once its files are open
        subprocess.run(["ip", "netns", "exec", ns.f, "nft", "-f", "-"],
                       input=labplan.nft_ruleset(MIDDLEBOXES.get(profile, profile)), text=True, check=True)
        box = middlebox(profile, ns, d) if profile in MIDDLEBOXES else None
        log = os.path.join(d, "reflect.log")
        with open(log, "w") as lf:
            reflector = subprocess.Popen(
                ["ip", "netns", "exec", ns.s, callwall, "reflect", "--listen", CLOUD, "--tcp", "1-65535", "--udp",
                 "1-65535", "--key", KEY, "--nft", "--duration", "300"], stdout=lf, stderr=subprocess.STDOUT)
        try:
            for _ in range(50):
                if "answering on" in open(log).read():
                    break
                time.sleep(0.1)
            else:
                raise RuntimeError("the reflector did not start: " + open(log).read())
            db = os.path.join(d, "probe.sqlite")
            args = ["ip", "netns", "exec", ns.c, callwall, "probe", "--db", db, "--reflector", CLOUD, "--key", KEY,
                    "--rate", str(rate), "--vendor", vendor] + ([] if os.environ.get("PM_VERBOSE") else ["-q"])
            for e in entries:
                args += ["--entry", e]
            start = time.monotonic()
            p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
            took = time.monotonic() - start
            if os.environ.get("PM_VERBOSE"):
                print(p.stdout)
            if p.returncode != 0:
                raise RuntimeError("probe exit %d: %s" % (p.returncode, p.stdout))
            con = sqlite3.connect(db)
            got = dict(con.execute("SELECT entry_id, verdict FROM verdict"))
            why = dict(con.execute("SELECT entry_id, why FROM verdict"))
            con.close()
        finally:
            for proc in (reflector, box):
                if proc:
                    proc.terminate()
                    proc.wait(10)
    if entries:  # one entry's run: the others were not probed
        planned = {e: planned[e] for e in entries}
        skipped = set()
    wrong = []
    for entry in sorted(set(planned) | skipped):
        want = expected(profile, evidence_ports(entry, planned, ranges)) if entry in planned else "not_exercised"
        if got.get(entry) != want:
            wrong.append("%s %s: the table says %s, the probe says %s (%s)" %
                         (profile, entry, want, got.get(entry), why.get(entry, "")))
    probes = sum(len(v) for v in planned.values())
    print("%-14s %-9s %-30s %2d entries, %3d probes at %s/s: %5.1f s, %d disagree" %
          (profile, vendor, entries[0] if entries else "", len(planned) + len(skipped), probes, rate, took,
           len(wrong)), flush=True)
    return wrong, took


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--callwall", required=True)
    ap.add_argument("--profile", action="append", choices=labplan.PROFILE_ORDER + list(MIDDLEBOXES))
    ap.add_argument("--vendor", action="append")
    ap.add_argument("--rate", default="20")
    a = ap.parse_args()
    callwall = os.path.abspath(a.callwall)
    CALLWALL[0] = callwall
    vendors = a.vendor or ["whereby", "sendbird", "agora"]
    if os.geteuid() != 0 or not shutil.which("nft"):
        print("skipped: needs root and nft to make the namespaces")
        return 77
    probe_ns = "pmX%d" % os.getpid()
    if subprocess.run(["ip", "netns", "add", probe_ns], stderr=subprocess.DEVNULL).returncode != 0:
        print("skipped: cannot create network namespaces here (ip netns add failed)")
        return 77
    subprocess.run(["ip", "netns", "del", probe_ns])
    plans = {v: plan_ports(callwall, v) for v in vendors}
    ranges = {v: entry_ranges(callwall, v) for v in vendors}
    wrong = []
    for i, profile in enumerate(a.profile or labplan.PROFILE_ORDER + list(MIDDLEBOXES)):
        total = 0.0
        tag = "%d%d" % (os.getpid() % 10000, i)
        if profile == "sni-filter":  # Whereby's TCP entries, one run each, with the UDP ones
            planned, skipped = plans.get("whereby") or plan_ports(callwall, "whereby")
            rng = ranges.get("whereby") or entry_ranges(callwall, "whereby")
            udp = tuple(e for e in sorted(planned) if rng[e][0] == "udp")
            for j, e in enumerate(e for e in sorted(planned) if rng[e][0] == "tcp"):
                w, took = run_profile(callwall, profile, "whereby", a.rate, planned, skipped, rng, tag + str(j),
                                      (e,) + udp)
                wrong += w
            continue
        for j, v in enumerate(vendors if profile != "stun-middlebox" else ["whereby"]):
            planned, skipped = plans.get(v) or plan_ports(callwall, v)
            w, took = run_profile(callwall, profile, v, a.rate, planned, skipped, ranges.get(v) or entry_ranges(callwall, v),
                                  tag + str(j))
            wrong += w
            total += took
        print("%-14s all %d vendors: %.1f s" % (profile, len(vendors), total), flush=True)
    for w in wrong:
        print("DISAGREE " + w)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
