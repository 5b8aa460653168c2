#!/usr/bin/env python3
"""Opens callwall HTML reports in headless Chromium and checks how they render.

Driven by the Chrome DevTools protocol over --remote-debugging-pipe (file
descriptors 3 and 4, NUL-terminated JSON): the standard library is enough,
nothing to install besides Chromium.

    cdp_check.py [--chromium PATH] [--widths 1400,420] [--shots DIR]
                 REPORT.html:RUN.db ...

Each report is checked against its database (the flows' stored outcomes are
the truth, not the page's own classes), at each viewport width:
  - every timeline bar and every outcome badge of a blocked flow (outcome
    "blocked" or "blocked:<reason>") has the blocked colour, and no other
    flow has it; verdict badges saying "blocked" have it too;
  - nothing is wider than the viewport: the document does not scroll
    sideways, and no element sticks out of it unless it sits inside a
    container that scrolls horizontally on purpose (overflow-x auto/scroll);
  - the timeline's lane labels are all different, and a clipped one shows
    whole words;
  - the answer comes before the run's metadata; a merged run says where it
    came from above it; every verdict cell is on screen (no sideways scroll);
  - the catalog-gap flows are grouped by vendor, name, transport and port,
    and the groups' outcome badges stand for exactly the run's gap flows;
  - a requirement with more flows than the page lists says "N more" (N the
    flows left out) in its timeline lane and its evidence section.
Exit status: 0 all passed, 1 an assertion failed, 3 Chromium could not start.
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

DEFAULT_CHROMIUM = "/usr/lib/chromium/chromium"


class ChromiumUnavailable(Exception):
    pass


class Browser:
    """A headless Chromium with one page, spoken to over the debugging pipe."""

    def __init__(self, chromium, timeout_s=30.0):
        self.timeout_s = timeout_s
        self.scratch = tempfile.mkdtemp(prefix="callwall-cdp.")
        for d in ("home", "tmp", "profile", "config", "cache", "data", "runtime"):
            os.makedirs(os.path.join(self.scratch, d), mode=0o700)
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()

        def child_fds():
            # Chromium reads commands on fd 3 and writes answers on fd 4.
            a, b = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        env = dict(os.environ)
        for var, d in (("HOME", "home"), ("TMPDIR", "tmp"), ("XDG_CONFIG_HOME", "config"),
                       ("XDG_CACHE_HOME", "cache"), ("XDG_DATA_HOME", "data"), ("XDG_RUNTIME_DIR", "runtime")):
            env[var] = os.path.join(self.scratch, d)
        self.log = open(os.path.join(self.scratch, "chromium.log"), "wb")
        args = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
                "--user-data-dir=" + os.path.join(self.scratch, "profile"), "--remote-debugging-pipe",
                "about:blank"]
        try:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
                                         env=env, preexec_fn=child_fds, close_fds=False)
        except OSError as e:
            raise ChromiumUnavailable(str(e))
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buf = b""
        self.next_id = 0
        self.session = None
        try:
            target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        except Exception as e:
            raise ChromiumUnavailable("%s; chromium said:\n%s" % (e, self.log_tail()))

    def log_tail(self):
        self.log.flush()
        with open(self.log.name, "rb") as f:
            return b"\n".join(f.read().splitlines()[-15:]).decode("utf-8", "replace")

    def _read_message(self, deadline):
        import select
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from chromium within %.0f s" % self.timeout_s)
            ready, _, _ = select.select([self.from_chrome], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.from_chrome, 1 << 20)
            if not chunk:
                raise EOFError("chromium closed the debugging pipe (exit %s)" % self.proc.poll())
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=True):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        data = json.dumps(msg).encode() + b"\0"
        while data:
            data = data[os.write(self.to_chrome, data):]
        deadline = time.monotonic() + self.timeout_s
        while True:
            answer = self._read_message(deadline)
            if answer.get("id") != self.next_id:
                continue  # an event
            if "error" in answer:
                raise RuntimeError("%s: %s" % (method, answer["error"]))
            return answer.get("result", {})

    def evaluate(self, expression):
        r = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in r:
            raise RuntimeError("page script failed: %s" % json.dumps(r["exceptionDetails"])[:2000])
        return r["result"].get("value")

    def open(self, path, width, height=900):
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        self.call("Page.navigate", {"url": "file://" + os.path.abspath(path)})
        deadline = time.monotonic() + self.timeout_s
        while self.evaluate("document.readyState") != "complete" or \
                self.evaluate("location.href") != "file://" + os.path.abspath(path):
            if time.monotonic() > deadline:
                raise TimeoutError("page did not load: " + path)
            time.sleep(0.05)

    def screenshot(self, out, width, max_height=0):
        import base64
        h = self.evaluate("Math.ceil(document.documentElement.scrollHeight)")
        if max_height:
            h = min(h, max_height)
        r = self.call("Page.captureScreenshot",
                      {"format": "png", "captureBeyondViewport": True,
                       "clip": {"x": 0, "y": 0, "width": width, "height": h, "scale": 1}})
        with open(out, "wb") as f:
            f.write(base64.b64decode(r["data"]))

    def close(self):
        try:
            self.call("Browser.close", session=False)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.scratch, ignore_errors=True)


def truth_from_db(db, run=None):
    """Flow id -> stored outcome of the run (default the latest), per-entry
    flow counts, and the run's origin, catalog-gap flows and their groups."""
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        if run is None:
            run = con.execute("SELECT max(id) FROM run").fetchone()[0]
        outcomes = {str(i): o for i, o in con.execute("SELECT id, outcome FROM flow WHERE run_id=?", (run,))}
        counts = {e: o + b + i for e, o, b, i in con.execute(
            "SELECT entry_id, flows_observed, flows_blocked, flows_inconclusive FROM verdict_summary "
            "WHERE run_id=?", (run,))}
        origin = con.execute("SELECT origin FROM run WHERE id=?", (run,)).fetchone()[0] or ""
        gaps = con.execute(
            "SELECT u.flow_id, u.vendor, u.name, f.transport, f.server_port FROM unmatched_flow u "
            "JOIN flow f ON f.run_id = u.run_id AND f.id = u.flow_id WHERE u.run_id=?", (run,)).fetchall()
    finally:
        con.close()
    facts = {"origin": origin, "gap_flows": [g[0] for g in gaps],
             "gap_groups": len({(g[1], g[2] or "", g[3], g[4]) for g in gaps})}
    return outcomes, counts, facts


PAGE_CHECKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "page_checks.js")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--chromium", default=DEFAULT_CHROMIUM)
    ap.add_argument("--widths", default="1400,420")
    ap.add_argument("--shots", help="write a full-page PNG of every report at every width here")
    ap.add_argument("--shot-height", type=int, default=0, help="cut each PNG at this height (px; 0: the whole page)")
    ap.add_argument("--only-shots", default="", help="comma-separated report names (without .html) to take PNGs of")
    ap.add_argument("reports", nargs="+", help="REPORT.html:RUN.db[:RUN_ID] (default the latest run)")
    a = ap.parse_args()
    widths = [int(w) for w in a.widths.split(",")]
    with open(PAGE_CHECKS, encoding="utf-8") as f:
        checks_js = f.read()
    try:
        browser = Browser(a.chromium)
    except (ChromiumUnavailable, OSError, TimeoutError, EOFError) as e:
        print("SKIP: headless Chromium could not start: %s" % e, file=sys.stderr)
        return 3
    failed = 0
    try:
        for spec in a.reports:
            html, _, db = spec.rpartition(":")
            run = None
            if db.isdigit():  # REPORT.html:RUN.db:RUN_ID
                run = int(db)
                html, _, db = html.rpartition(":")
            outcomes, counts, facts = truth_from_db(db, run)
            for w in widths:
                browser.open(html, w)
                result = browser.evaluate("(%s)(%s, %s, %s)" % (checks_js.strip().rstrip(";"), json.dumps(outcomes),
                                                                  json.dumps(counts), json.dumps(facts)))
                name = "%s @%dpx" % (os.path.basename(html), w)
                if result["failures"]:
                    failed += 1
                    print("FAIL %s" % name)
                    # At most a few messages of each kind (bars, badges, overflow, lanes...).
                    kinds = {}
                    for msg in result["failures"]:
                        kinds.setdefault("overflow" if msg.startswith("<") else " ".join(msg.split()[:2]), []).append(msg)
                    for msgs in kinds.values():
                        for msg in msgs[:4]:
                            print("     %s" % msg)
                        if len(msgs) > 4:
                            print("     ... and %d more like it" % (len(msgs) - 4))
                else:
                    print("ok   %s (%s)" % (name, result["summary"]))
                stem = os.path.basename(html)[:-5]
                if a.shots and (not a.only_shots or stem in a.only_shots.split(",")):
                    os.makedirs(a.shots, exist_ok=True)
                    browser.screenshot(os.path.join(a.shots, "%s-%d.png" % (stem, w)), w, a.shot_height)
    finally:
        browser.close()
    print("%d of %d page renderings failed" % (failed, len(a.reports) * len(widths)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
