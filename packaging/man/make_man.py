#!/usr/bin/env python3
"""Writes callwall's man pages, gzipped as Debian wants, from the binary's own
--help text, so that every option a page lists is one the binary accepts.

usage: make_man.py CALLWALL VERSION OUTDIR

Pages: callwall(1), and callwall-CMD(1) for every command that 'callwall
--help' lists under "commands:" (a new command gets its page without an edit
here). The text comes from 'callwall [CMD] --help'; the sections ENVIRONMENT,
FILES, SIGNALS, DATABASE (callwall(1)) and SEE ALSO are written here, and
EXIT STATUS and EXAMPLES where a command's --help has none. Output is reproducible (no date in the
page, gzip without a timestamp); OUTDIR keeps no page of a command that is gone.
"""
import glob
import gzip
import os
import re
import subprocess
import sys

SUMMARY = "check whether a firewall passes real-time-communication vendors' traffic"


def help_text(binary, cmd):
    args = [binary] + ([cmd] if cmd else []) + ["--help"]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def commands(binary):
    """{command: one-line summary} from the "commands:" block of 'callwall
    --help': "  NAME ARGS...   summary" (two spaces or more before it)."""
    out, inside = {}, False
    for line in help_text(binary, "").splitlines():
        if line.strip().lower() == "commands:":
            inside = True
        elif inside and not line.strip():
            break
        elif inside:
            m = re.match(r"^  ([a-z][a-z0-9-]*)\b.*?\s{2,}(\S.*)$", line)
            if m:
                out[m.group(1)] = m.group(2).strip()
    if not out:
        sys.exit("make_man.py: no commands in '%s --help'" % binary)
    return out


CATALOG_ENV = r""".TP
.B CALLWALL_CATALOG_DIR
The bundled catalog's directory, instead of the one installed with the binary.
When it is set (and not empty) it is the only place looked in."""

KEY_ENV = r""".TP
.B CALLWALL_REFLECT_KEY
The key shared by
.B callwall probe \-\-reflector
and
.BR "callwall reflect" ,
when neither \-\-key\-file nor \-\-key is given. Prefer it (or \-\-key\-file) to
\-\-key, which every user of the host can read in ps(1)."""

SQLITE_ENV = r""".TP
.BR SQLITE_TMPDIR ", " TMPDIR
Where SQLite puts the temporary files of large sorts and indexes (default
/var/tmp, then /usr/tmp, then /tmp)."""

NO_ENV = r""".PP
This command reads no environment variable of its own."""

# ENVIRONMENT, per command ("" is callwall(1)).
ENVIRONMENTS = {
    "": [CATALOG_ENV, KEY_ENV, SQLITE_ENV],
    "analyze": [CATALOG_ENV, SQLITE_ENV],
    "capture": [CATALOG_ENV, SQLITE_ENV],
    "report": [SQLITE_ENV],
    "catalog": [CATALOG_ENV],
    "probe": [CATALOG_ENV, KEY_ENV, SQLITE_ENV],
    "reflect": [KEY_ENV],
    "audit": [CATALOG_ENV, SQLITE_ENV],
    "merge": [SQLITE_ENV],
    "export": [SQLITE_ENV],
}

CATALOG_FILES = r""".TP
.I <prefix>/share/callwall/catalog
The bundled vendor catalog (TOML files and a README describing their schema).
Without
.BR CALLWALL_CATALOG_DIR ,
callwall looks for it relative to its own executable (/proc/self/exe):
first in
.IR <exe_dir>/../share/callwall/catalog
(the installed layout, e.g. /usr/bin/callwall and /usr/share/callwall/catalog),
then in
.IR <exe_dir>/share/callwall/catalog
(the build tree). When none is found the error names every place tried."""

DB_FILES = r""".TP
.I OUT.sqlite
The SQLite database given with \-\-db: created when missing, otherwise the
new run is added to the runs already in it (see DATABASE in
.BR callwall (1)).
Written in WAL mode: OUT.sqlite\-wal and OUT.sqlite\-shm sit beside it while
it is open."""

UNIT_FILES = r""".TP
.I /usr/lib/systemd/system/callwall\-capture@.service
The capture service, the interface as its instance
(systemctl enable \-\-now callwall\-capture@eth1.service).
.TP
.I /var/lib/callwall/IFACE.sqlite
The database the service writes for interface IFACE. It runs with
ProtectSystem=strict: a \-\-metrics file outside /var/lib/callwall needs its
directory in ReadWritePaths= (a drop-in made with systemctl edit)."""

COMPLETION_FILES = r""".TP
.I /usr/share/bash\-completion/completions/callwall
Bash completion of the commands, their options and values."""

# FILES, per command.
FILES = {
    "": [CATALOG_FILES, DB_FILES, UNIT_FILES, COMPLETION_FILES],
    "analyze": [CATALOG_FILES, DB_FILES],
    "capture": [CATALOG_FILES, DB_FILES, UNIT_FILES],
    "report": [r""".TP
.I FILE.sqlite
The database given with \-\-db, only read (a database being written by a
capture can be read at the same time)."""],
    "catalog": [CATALOG_FILES],
    "probe": [CATALOG_FILES, DB_FILES],
    "reflect": [r""".TP
.I KEYFILE
The file given with \-\-key\-file: its first line is the key. It should be
readable by its owner only (chmod 600); callwall warns otherwise."""],
    "audit": [CATALOG_FILES, DB_FILES, r""".TP
.I RULESET
The nftables ruleset (\-\-nft, as nft \-f reads it) or iptables\-save dump
(\-\-iptables) under audit: only read, and loaded in a sandbox of network
namespaces, never on the host."""],
    "export": [r""".TP
.I FILE.sqlite
The database given with \-\-db: only read."""],
    "merge": [r""".TP
.I SRC.sqlite
The source databases: only read.
.TP
.I OUT.sqlite
The database given with \-\-db: created when missing; the copied runs get new
ids."""],
}

STOP_SIGNALS = r""".TP
.BR SIGINT ", " SIGTERM
End the run cleanly: what was read is written, the run is marked
interrupted and its verdicts are computed. A second one during that final
attribution stops it (the run then has no verdicts)."""

PIPE_SIGNAL = r""".TP
.B SIGPIPE
Ignored: a write to a closed pipe or standard output is an error of that
output, reported on standard error."""

# SIGNALS, for the commands that handle some.
SIGNALS = {
    "": [r""".PP
analyze, capture and probe end their run cleanly on SIGINT or SIGTERM; capture
also starts the next run on SIGHUP; reflect stops on SIGINT or SIGTERM.""", PIPE_SIGNAL],
    "analyze": [STOP_SIGNALS, PIPE_SIGNAL],
    "capture": [STOP_SIGNALS, r""".TP
.B SIGHUP
Ends the current run (with its verdicts) and starts the next one on the same
interfaces and database, as \-\-rotate does (systemctl reload).""", PIPE_SIGNAL],
    "probe": [r""".TP
.BR SIGINT ", " SIGTERM
Stop sending probes; what was captured is judged and written.""", PIPE_SIGNAL],
    "reflect": [r""".TP
.BR SIGINT ", " SIGTERM
Stop answering and remove the redirect table (\-\-nft).""", PIPE_SIGNAL],
}

# EXIT STATUS of the commands whose --help does not list the codes.
EXIT_STATUS = {
    "": "0 ok, 2 usage, 3 input (capture file, interface or ruleset), 4 catalog, 5 database, "
    "6 permission, 7 output (standard output, -o FILE, --events or --metrics not written), "
    "10 --fail-on matched, 11 --fail-on on a run that did not finish (running or failed), 70 internal error. "
    "Each command's page lists its own.",
    "probe": "0 ok, 2 usage, 3 the probes could not be sent or captured, 4 catalog, 5 database, "
    "6 permission (no CAP_NET_RAW to capture), 7 output not written, 10 --fail-on matched.",
    "reflect": "0 ok (stopped by a signal or --duration), 2 usage, 3 the sockets or the redirect table "
    "could not be set up, 6 permission.",
}

# EXAMPLES of the commands whose --help shows none.
EXAMPLES = {
    "": ["callwall analyze call.pcapng --db call.sqlite",
         "callwall report --db call.sqlite --format html -o report.html",
         "callwall capture -i eth1 --duration 600 --db call.sqlite --vendor whereby",
         "sqlite3 call.sqlite \"SELECT vendor, entry_id, verdict FROM verdict_summary WHERE run_id = 1\""],
    "catalog": ["callwall catalog list --vendor whereby",
                "callwall catalog show whereby.turn.udp",
                "callwall catalog check my-vendors/",
                "callwall catalog export --format nft --vendor agora"],
    "reflect": ["printf '%s\\n' \"$(openssl rand -hex 16)\" > key; chmod 600 key",
                "callwall reflect --listen 0.0.0.0 --udp 3478,10000-20000 --tcp 443 --key-file key --nft"],
}

DATABASE = r""".SH DATABASE
Every command that judges traffic (analyze, capture, probe, audit) adds a
run to an SQLite database; report reads it and merge copies runs between
databases. The main tables, each keyed by run_id:
.TP
.B run
One row per run: its kind, source, command line, version, times, status
(running, finished, interrupted, failed), packet and flow counters and notes.
.TP
.B flow
One row per flow (5-tuple): the client and server, transport, application
protocol seen, packets and bytes each way, state and outcome.
.TP
.BR flow_name ", " dns_answer ", " dns_query ", " dns_name ", " tls_hello ", " stun_message ", " rtp_stream ", " icmp_error
What was decoded: names a flow was reached by, DNS questions and answers,
TLS and QUIC ClientHellos (SNI), STUN/TURN messages, RTP streams and ICMP
errors quoting a flow.
.TP
.B catalog_entry
The catalog requirements the run was judged against (vendor, product,
service, transport, ports, destinations, source document).
.TP
.B flow_match
Which flow matched which requirement, with the evidence and confidence.
.TP
.BR verdict ", " product_verdict
Each requirement's verdict (observed, blocked, partial, inconclusive,
not_exercised) with its reasons and evidence flows; each product's
conclusion.
.TP
.BR run_source ", " allow_list ", " unmatched_flow
The run's input files, the allow list exported for it, and vendor flows no
requirement matched.
.PP
The views verdict_summary (verdicts with their requirements) and
unmatched_vendor_flows are meant for queries by hand with sqlite3(1)."""


def esc(text: str) -> str:
    """Escapes text for roff: backslashes, hyphens, and control characters at
    the start of a line."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    if text.startswith((".", "'")):
        text = "\\&" + text
    return text


def verbatim(lines):
    out = [".PP", ".nf"]
    out += [esc(l) for l in lines]
    out.append(".fi")
    return out


def options(lines):
    """Boost.Program_options' two columns: an option at column 2, its
    description after two spaces or more, continuation lines indented."""
    out, current = [], None
    # The description column: where continuation lines start.
    indents = [len(l) - len(l.lstrip()) for l in lines if l.strip() and not l.lstrip().startswith("-")]
    col = min(indents) if indents else 0
    for line in lines:
        m = re.match(r"^  (-\S.*?)(?:\s{2,}(.*))?$", line)
        if m:
            if col and len(line) > col and line[col - 1] == " " and line[:col].strip():
                current = [line[:col].strip(), line[col:].strip()]
            else:
                current = [m.group(1).strip(), (m.group(2) or "").strip()]
            out.append(current)
        elif current is not None and line.strip():
            current[1] = (current[1] + " " + line.strip()).strip()
    roff = []
    for opt, desc in out:
        # Boost writes "-i [ --interface ] IFACE"; man pages "-i, --interface IFACE".
        opt = re.sub(r"^(-\S) \[ (--\S+) \]", r"\1, \2", opt)
        roff += [".TP", ".B " + esc(opt), esc(desc)]
    return roff


def blocks(text):
    block = []
    for line in text.splitlines():
        if line.strip():
            block.append(line.rstrip())
        elif block:
            yield block
            block = []
    if block:
        yield block


def page(binary, version, cmd, pages):
    text = help_text(binary, cmd)
    name = "callwall" + ("-" + cmd if cmd else "")
    synopsis, description, sections = [], [], []
    for i, b in enumerate(blocks(text)):
        head = b[0].strip()
        if i == 0:
            # "usage: " starts the first line; the others are aligned under it.
            cut = len("usage: ") if b[0].startswith("usage: ") else 0
            synopsis = [b[0][cut:]] + [l[cut:] if l[:cut].isspace() else l.strip() for l in b[1:]]
            continue
        if head.lower() in ("options:",):
            sections.append(("OPTIONS", options(b[1:])))
        elif head.lower() in ("examples:", "example:", "commands:"):
            title = "EXAMPLES" if head.lower().startswith("example") else "COMMANDS"
            sections.append((title, verbatim([l[2:] if l.startswith("  ") else l for l in b[1:]])))
        elif "Exit codes" in " ".join(b) and re.search(r"Exit codes[: ]+0 ", " ".join(l.strip() for l in b)):
            # "... Exit codes: 0 ok, ...": the text before it is description.
            joined = " ".join(l.strip() for l in b)
            cut = joined.index("Exit codes")
            if joined[:cut].strip():
                description += [".PP", esc(joined[:cut].strip())]
            sections.append(("EXIT STATUS", [".PP", esc(joined[cut:])]))
        else:
            description += [".PP", esc(" ".join(l.strip() for l in b))]
    titles = [t for t, _ in sections]
    if "EXIT STATUS" not in titles and cmd in EXIT_STATUS:
        sections.append(("EXIT STATUS", [".PP", esc(EXIT_STATUS[cmd])]))
    if "EXAMPLES" not in titles and cmd in EXAMPLES:
        sections.append(("EXAMPLES", verbatim(EXAMPLES[cmd])))
    if cmd in SIGNALS:
        sections.append(("SIGNALS", SIGNALS[cmd]))
    out = [
        '.\\" Generated by packaging/man/make_man.py from "%s --help"; edit the help text, not this page.'
        % " ".join(["callwall"] + ([cmd] if cmd else [])),
        '.TH %s 1 "" "callwall %s" "User Commands"' % (name.upper(), version),
        ".SH NAME",
        "%s \\- %s" % (esc(name), esc(pages[cmd])),
        ".SH SYNOPSIS",
    ]
    out += [".nf"] + [esc(l) for l in synopsis] + [".fi"]
    out += [".SH DESCRIPTION"] + description
    # The usual order of a man page's sections, whatever the help's order.
    order = ["COMMANDS", "OPTIONS", "EXIT STATUS", "SIGNALS", "EXAMPLES"]
    sections.sort(key=lambda s: order.index(s[0]))
    for title, body in sections:
        out += [".SH " + title] + body
    out += [".SH ENVIRONMENT"] + ENVIRONMENTS.get(cmd, [NO_ENV])
    out += [".SH FILES"] + FILES.get(cmd, [CATALOG_FILES])
    if not cmd:
        out.append(DATABASE)
    others = [("callwall-" + c if c else "callwall") for c in pages if c != cmd]
    out += [".SH SEE ALSO", ",\n".join(".BR %s (1)" % esc(o) for o in others)]
    return name, "\n".join(out) + "\n"


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: make_man.py CALLWALL VERSION OUTDIR")
    binary, version, outdir = sys.argv[1:]
    pages = {"": SUMMARY}
    pages.update(commands(binary))
    for old in glob.glob(os.path.join(outdir, "callwall*.1.gz")):
        os.remove(old)
    for cmd in pages:
        name, text = page(binary, version, cmd, pages)
        with open(os.path.join(outdir, name + ".1.gz"), "wb") as f:
            with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=f, mtime=0) as gz:
                gz.write(text.encode())


if __name__ == "__main__":
    main()
