#!/usr/bin/python3
"""The lab's client side: runs labplan.STEPS with real client programs, inside
the client namespace, and records what each one did.

  dig, curl, openssl s_client      DNS and TLS with SNI (verified with the lab CA)
  turnutils_stunclient/_uclient    STUN; TURN over UDP (ChannelData, or Send
                                   indications with -s), TCP, TLS, DTLS, IPv6
  gst-launch-1.0                   RTP + RTCP (Opus, VP8), stopped by timeout
  chromium                         WebRTC call through TURN (webrtc/call.html)
  chromium (p2p)                   direct WebRTC call to the remote peer beyond
                                   the firewall (webrtc/p2p.html; the remote end
                                   is tools/lab/peer.py, started by run.sh)
  a small UDP sender               Agora-like request/response datagrams

Steps start at their `at` offset and run in parallel; each is bounded by a
timeout. After all have finished the capture runs on for labplan.TAIL_S
seconds, then the late step starts and this program exits labplan.LATE_STOP_S
seconds later (run.sh stops the captures when it exits).

Every process started here is killed by its process group on exit or SIGTERM.

Usage: clients.py --workdir DIR --ca CA.pem --steps OUT.jsonl --logs DIR
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import labplan  # noqa: E402

CHROMIUM = "/usr/lib/chromium/chromium"
_procs = set()
_procs_lock = threading.Lock()
_records = []
_records_lock = threading.Lock()


def now():
    return time.time()


def run(cmd, timeout, env=None, input_data=None):
    """Runs cmd in its own process group; kills the group on timeout."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.PIPE
                         if input_data is not None else subprocess.DEVNULL, env=env, start_new_session=True)
    with _procs_lock:
        _procs.add(p)
    try:
        out, _ = p.communicate(input=input_data, timeout=timeout)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            out, _ = p.communicate(timeout=3)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, _ = p.communicate()
        rc = "timeout"
    finally:
        with _procs_lock:
            _procs.discard(p)
    return rc, out.decode("utf-8", "replace")


def dig(name, rrtype, family="4"):
    """A lookup from the client's address of `family`, to the resolver's
    address of that family: callwall names a flow from DNS answers that the
    flow's own client address received."""
    rc, out = run(["dig", "+time=2", "+tries=2", "+noall", "+answer", "+comments",
                   "@" + labplan.RESOLVER[family], name, rrtype], timeout=10)
    addrs = []
    status = ""
    for line in out.splitlines():
        if "status:" in line:
            status = line.split("status:")[1].split(",")[0].strip()
        parts = line.split()
        if len(parts) >= 5 and not line.startswith(";") and parts[3] == rrtype:
            addrs.append(parts[4])
    return status, addrs, out


def resolve(name, family):
    status, addrs, out = dig(name, "A" if family == "4" else "AAAA", family)
    if not addrs:
        raise RuntimeError("no address for %s (IPv%s): %s" % (name, family, status or out.strip()))
    return addrs[0]


def tail(text, n=6):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return " | ".join(lines[-n:])[-600:]


# --- step kinds ---------------------------------------------------------------------
def step_dig(s, ctx):
    status, addrs, out = dig(s["name"], s["rrtype"])
    return dict(rc=0, result="%s %s" % (status, ",".join(addrs) or "(no address)"), cmd="dig %s %s" % (s["name"], s["rrtype"]))


def step_curl(s, ctx):
    if s["family"] == "6":
        # curl resolves through the system resolver (IPv4 transport); the IPv6
        # address looks the name up itself too, as a v6-only stack would.
        resolve(urllib.parse.urlsplit(s["url"]).hostname, "6")
    cmd = ["curl", "-sS", "-o", "/dev/null", "-w", "http=%{http_code} remote=%{remote_ip}:%{remote_port}",
           "-" + s["family"], "--cacert", ctx.ca, "--connect-timeout", "4", "--max-time", "8", s["url"]]
    rc, out = run(cmd, timeout=12)
    return dict(rc=rc, result=tail(out), cmd=" ".join(cmd))


def step_openssl(s, ctx):
    if s["family"] == "6":
        resolve(s["name"], "6")
    cmd = ["openssl", "s_client", "-" + s["family"], "-connect", "%s:%d" % (s["name"], s["port"]),
           "-servername", s["name"], "-CAfile", ctx.ca, "-verify_return_error", "-brief"]
    rc, out = run(cmd, timeout=10, input_data=b"GET / HTTP/1.1\r\nHost: %s\r\n\r\n" % s["name"].encode())
    return dict(rc=rc, result=tail(out, 8), cmd=" ".join(cmd))


def step_stun(s, ctx):
    ip = s.get("ip") or resolve(s["name"], s["family"])
    cmd = ["turnutils_stunclient", "-p", str(s["port"]), ip]
    rc, out = run(cmd, timeout=10)
    return dict(rc=rc, result=tail(out, 3), cmd=" ".join(cmd), ip=ip)


def step_uclient(s, ctx):
    ip = resolve(s["name"], s["family"])
    cmd = (["turnutils_uclient", "-u", labplan.TURN_USER, "-w", labplan.TURN_PASS, "-e",
            labplan.RELAY_PEER[s["family"]], "-r", "3480", "-n", "10", "-l", "160", "-c"]
           + s["flags"] + ["-p", str(s["port"]), ip])
    rc, out = run(cmd, timeout=14)
    keep = [l for l in out.splitlines() if "Total" in l or "rror" in l or "ERROR" in l]
    return dict(rc=rc, result=" | ".join(keep[-4:])[-600:], cmd=" ".join(cmd), ip=ip)


def step_gst(s, ctx):
    ip = resolve(s["name"], s["family"])
    if s["codec"] == "opus":
        src = ("audiotestsrc is-live=true wave=sine ! audioconvert ! audioresample ! opusenc bitrate=32000 "
               "! rtpopuspay pt=111")
    else:
        src = ("videotestsrc is-live=true pattern=ball ! video/x-raw,width=160,height=120,framerate=10/1 "
               "! vp8enc deadline=1 target-bitrate=100000 ! rtpvp8pay pt=96")
    pipeline = ("rtpsession name=s rtcp-min-interval=1000000000 %s ! s.send_rtp_sink "
                "s.send_rtp_src ! udpsink host=%s port=%d "
                "s.send_rtcp_src ! udpsink host=%s port=%d sync=false async=false"
                % (src, ip, s["port"], ip, s["port"] + 1))
    cmd = ["timeout", str(s["duration"]), "gst-launch-1.0", "-q"] + pipeline.split()
    rc, out = run(cmd, timeout=s["duration"] + 6)
    # `timeout` exits 124 when it had to stop the sender: that is the normal end.
    return dict(rc=rc, result="stopped by timeout after %ss" % s["duration"] if rc == 124 else tail(out),
                cmd=" ".join(cmd), ip=ip)


def step_udp(s, ctx):
    ip = resolve(s["name"], s["family"])
    fam = socket.AF_INET if s["family"] == "4" else socket.AF_INET6
    answered = 0
    with socket.socket(fam, socket.SOCK_DGRAM) as so:
        so.settimeout(1.0)
        if s.get("lport"):
            so.bind(("0.0.0.0" if s["family"] == "4" else "::", s["lport"]))
        so.connect((ip, s["port"]))
        for i in range(s["count"]):
            # Agora-like stand-in: marker 0xF5, version, length, URI, opaque bytes.
            uri = b"/rtm/ping"
            payload = bytes([0xF5, 0x01]) + len(uri).to_bytes(2, "little") + uri + os.urandom(24)
            t0 = time.time()
            try:
                so.send(payload)
                so.recv(2048)
                answered += 1
            except (socket.timeout, ConnectionRefusedError, OSError):
                pass
            time.sleep(max(0.0, 1.0 - (time.time() - t0)))
    return dict(rc=0, result="%d of %d datagrams answered" % (answered, s["count"]),
                cmd="udp %s:%d x%d%s" % (ip, s["port"], s["count"],
                                         " from local port %d" % s["lport"] if s.get("lport") else ""), ip=ip)


def chromium(url, duration, workdir, log_path, extra_flags=()):
    """Runs headless Chromium on url for `duration` seconds with its own
    profile under workdir; writes the page's "CWLAB " lines to log_path and
    returns (rc, lines)."""
    home = os.path.join(workdir, "chromium-home")
    for d in ("", "tmp", "config", "cache", "data", "profile"):
        os.makedirs(os.path.join(home, d), exist_ok=True)
    env = dict(os.environ, HOME=home, TMPDIR=os.path.join(home, "tmp"), XDG_CONFIG_HOME=os.path.join(home, "config"),
               XDG_CACHE_HOME=os.path.join(home, "cache"), XDG_DATA_HOME=os.path.join(home, "data"),
               XDG_RUNTIME_DIR=os.path.join(home, "tmp"))
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--user-data-dir=" + os.path.join(home, "profile"),
           "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
           # The lab CA is not in Chromium's store: accept the TURN server's certificate.
           "--ignore-certificate-errors",
           # No mDNS host-candidate obfuscation (multicast noise on the link).
           "--disable-features=WebRtcHideLocalIpsWithMdns",
           "--enable-logging=stderr", "--v=0"] + list(extra_flags) + [url]
    rc, out = run(["timeout", str(duration)] + cmd, timeout=duration + 10, env=env)
    lines = []
    for l in out.splitlines():
        if "CWLAB " in l:
            msg = l.split("CWLAB ", 1)[1]
            msg = msg.split('", source:')[0]
            lines.append(msg)
    with open(log_path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return rc, lines


def step_chromium(s, ctx):
    name = s["turn_name"]
    ice = [{"urls": ["turn:%s:443?transport=udp" % name, "turn:%s:3478?transport=udp" % name,
                     "turn:%s:443?transport=tcp" % name, "turns:%s:443?transport=tcp" % name],
            "username": labplan.TURN_USER, "credential": labplan.TURN_PASS}]
    url = "file://%s/webrtc/call.html?ice=%s" % (HERE, urllib.parse.quote(json.dumps(ice)))
    rc, lines = chromium(url, s["duration"], ctx.workdir, os.path.join(ctx.logs, "chromium.log"))
    stats = [l for l in lines if l.startswith("stats ")]
    connected = any(l == "b state connected" for l in lines)
    return dict(rc=rc, result="connected=%s last: %s" % (connected, stats[-1] if stats else "(no stats)"),
                cmd="chromium call.html (TURN %s)" % name, connected=connected)


def p2p_url(role, ice=(), duration=0, policy="all", hold_ms=0):
    q = dict(role=role, sig="https://%s/p2p" % labplan.P2P_SIGNAL_NAME, ice=json.dumps(list(ice)), dur=duration,
             policy=policy, hold=hold_ms)
    return "file://%s/webrtc/p2p.html?%s" % (HERE, urllib.parse.urlencode(q))


def step_p2p(s, ctx):
    """The local end of the peer-to-peer call: Sendbird's STUN, no TURN."""
    stun_name, stun_port = labplan.P2P_STUN
    ice = [{"urls": ["stun:%s:%d" % (stun_name, stun_port)]}]
    # Where the profile wants the far end to speak first, this end takes the
    # remote end's candidates late, so the remote's checks come before its own.
    hold_ms = 2500 if labplan.PROFILES[ctx.profile].get("far_end_first") else 0
    # The page hangs up itself a second before Chromium is stopped.
    rc, lines = chromium(p2p_url("local", ice, s["duration"], hold_ms=hold_ms), s["duration"] + 1,
                         os.path.join(ctx.workdir, "p2p"), os.path.join(ctx.logs, "p2p-local.log"))
    stats = [l for l in lines if l.startswith("stats ")]
    connected = "state connected" in lines
    return dict(rc=rc, result="connected=%s last: %s" % (connected, stats[-1] if stats else "(no stats)"),
                cmd="chromium p2p.html role=local (STUN %s:%d)" % labplan.P2P_STUN, connected=connected)


KINDS = dict(dig=step_dig, curl=step_curl, openssl=step_openssl, stun=step_stun, stun_ip=step_stun,
             uclient=step_uclient, gst=step_gst, udp=step_udp, chromium=step_chromium, p2p=step_p2p)


def do_step(s, ctx):
    t0 = now()
    try:
        r = KINDS[s["kind"]](s, ctx)
    except Exception as e:  # a step that fails to start is recorded, not fatal
        r = dict(rc="error", result="%s: %s" % (type(e).__name__, e))
    r.update(id=s["id"], kind=s["kind"], start=round(t0, 6), end=round(now(), 6))
    with _records_lock:
        _records.append(r)
    print("clients: %-24s %6.1fs rc=%s %s" % (s["id"], r["end"] - r["start"], r.get("rc"), r.get("result", "")[:150]),
          flush=True)


def kill_all(*_):
    with _procs_lock:
        for p in list(_procs):
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    os._exit(143)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--steps", required=True)
    ap.add_argument("--logs", required=True)
    ap.add_argument("--profile", required=True, choices=sorted(labplan.PROFILES))
    ctx = ap.parse_args()
    signal.signal(signal.SIGTERM, kill_all)
    signal.signal(signal.SIGINT, kill_all)
    t_start = now()
    threads = []
    for s in sorted(labplan.STEPS, key=lambda x: x["at"]):
        delay = t_start + s["at"] - now()
        if delay > 0:
            time.sleep(delay)
        th = threading.Thread(target=do_step, args=(s, ctx), daemon=True)
        th.start()
        threads.append(th)
    deadline = now() + 60
    for th in threads:
        th.join(timeout=max(0.1, deadline - now()))
    time.sleep(labplan.TAIL_S)
    t_late = now()
    late = threading.Thread(target=do_step, args=(labplan.LATE_STEP, ctx), daemon=True)
    late.start()
    time.sleep(labplan.LATE_STOP_S)
    with _records_lock:
        recs = sorted(_records, key=lambda r: r["start"])
    late_rec = dict(id=labplan.LATE_STEP["id"], kind=labplan.LATE_STEP["kind"], start=round(t_late, 6),
                    result="still running when the capture stopped %.2f s after its start" % labplan.LATE_STOP_S)
    with open(ctx.steps, "w") as f:
        for r in recs:
            f.write(json.dumps(r, sort_keys=True) + "\n")
        if not any(r["id"] == late_rec["id"] for r in recs):
            f.write(json.dumps(late_rec, sort_keys=True) + "\n")
    print("clients: done", flush=True)
    # Leave at once: run.sh stops the captures when this process exits. The
    # late step's process is killed with the rest.
    with _procs_lock:
        for p in list(_procs):
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    os._exit(0)


if __name__ == "__main__":
    main()
