"""The lab's vendor cloud for a test that brings its own namespaces.

`LabCloud(cloud_ns, router_ns, client_ns, cloud_link, profile, workdir)`, used
as a context manager, does in those namespaces what tools/lab/run.sh does for
a lab run, from the same tables (labplan.py): the cloud's service addresses
on its loopback, the router's route to them, the client's resolver
(/etc/netns/CLIENT_NS/resolv.conf: the lab's dnsmasq), the lab's
certificates (make_certs.sh), and the servers: dnsmasq with the profile's
zone, the coturn instances, tls_server.py and udp_server.py. It waits until
every one of their sockets listens (bounded: 20 s) and on exit stops each
process by its PID and removes /etc/netns/CLIENT_NS.

The cloud sends ICMP errors without a rate limit, so that every probe to a
port where nothing listens gets its port-unreachable (Linux limits them to
about one per second per destination otherwise), as the lab's router does
for the errors it makes.
"""
import os
import shutil
import subprocess
import time

import labplan

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"
TOOLS = ("dnsmasq", "turnserver", "openssl", "ss")


def missing_tools():
    return [t for t in TOOLS if not shutil.which(t)]


class LabCloud:
    def __init__(self, cloud_ns, router_ns, client_ns, cloud_link, profile, workdir):
        self.s, self.f, self.c = cloud_ns, router_ns, client_ns
        self.link, self.profile, self.d = cloud_link, profile, workdir
        self.procs, self.etc = [], None

    def _sh(self, *args):
        subprocess.run(args, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def _start(self, name, args):
        log = open(os.path.join(self.d, name + ".log"), "w")
        self.procs.append((name, subprocess.Popen(["ip", "netns", "exec", self.s, *args], stdout=log,
                                                  stderr=subprocess.STDOUT)))
        log.close()

    def __enter__(self):
        try:
            self._setup()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _setup(self):
        for a in labplan.cloud_addresses():
            self._sh("ip", "-n", self.s, "addr", "add", a, "dev", "lo", *(["nodad"] if ":" in a else []))
        self._sh("ip", "-n", self.f, "route", "add", labplan.SERVICE_NETS["4"], "via", self.link)
        self._sh("ip", "netns", "exec", self.s, "sysctl", "-qw", "net.ipv4.icmp_ratelimit=0")
        self.etc = "/etc/netns/" + self.c
        os.makedirs(self.etc, exist_ok=True)
        with open(os.path.join(self.etc, "resolv.conf"), "w") as f:
            f.write("nameserver %s\noptions timeout:2 attempts:2\n" % labplan.RESOLVER["4"])
        with open(os.path.join(self.etc, "hosts"), "w") as f:
            f.write("127.0.0.1 localhost\n::1 localhost\n")
        self._sh(os.path.join(HERE, "make_certs.sh"), os.path.join(self.d, "certs"))
        conf = os.path.join(self.d, "dnsmasq.conf")
        with open(conf, "w") as f:
            f.write(labplan.dnsmasq_conf(self.profile))
        self._start("dnsmasq", ["dnsmasq", "--conf-file=" + conf, "--keep-in-foreground", "--log-facility=-",
                                "--user=root", "--pid-file="])
        for label, cmd in labplan.coturn_commands(self.d):
            self._start("coturn-" + label, cmd)
        self._start("tls-server", [PY, os.path.join(HERE, "servers", "tls_server.py"), os.path.join(self.d, "certs")])
        self._start("udp-server", [PY, os.path.join(HERE, "servers", "udp_server.py")])
        want = {(p, a, port) for p, a, port in labplan.expect_sockets() if port != 3480}  # no relay peers here
        for _ in range(100):
            out = subprocess.run(["ip", "netns", "exec", self.s, "ss", "-Hlntu"], stdout=subprocess.PIPE,
                                 text=True).stdout
            have = set()
            for line in out.splitlines():
                w = line.split()
                addr, _, port = w[4].rpartition(":")
                have.add((w[0], addr.strip("[]").split("%")[0], int(port)))
            if want <= have:
                return
            time.sleep(0.2)
        logs = "".join(open(os.path.join(self.d, n + ".log")).read()[-400:] for n, _ in self.procs)
        raise RuntimeError("lab servers not listening: %s\n%s" % (sorted(want - have)[:5], logs))

    def __exit__(self, *exc):
        for _name, p in reversed(self.procs):
            p.terminate()
        for _name, p in reversed(self.procs):
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = []
        if self.etc:
            shutil.rmtree(self.etc, ignore_errors=True)
            try:
                os.rmdir("/etc/netns")
            except OSError:
                pass
