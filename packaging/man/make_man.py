#!/usr/bin/env python3
"""Writes callwall's man pages, gzipped as Debian wants, from the binary's own
--help text, so that every option a page lists is one the binary accepts.

usage: make_man.py CALLWALL VERSION OUTDIR

Pages: callwall(1), and callwall-CMD(1) for every command that 'callwall
--help' lists under "commands:" (a new command gets its page without an edit
here). The text comes from 'callwall [CMD] --help'; the sections ENVIRONMENT,
FILES and SEE ALSO are written here. Output is reproducible (no date in the
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


ENVIRONMENT = r""".SH ENVIRONMENT
.TP
.B CALLWALL_CATALOG_DIR
The bundled catalog's directory, instead of the one installed with the binary.
When it is set (and not empty) it is the only place looked in.
"""

FILES = r""".SH FILES
.TP
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
(the build tree). When none is found the error names every place tried.
.TP
.I /var/lib/callwall
The databases written by the
.B callwall-capture@.service
systemd unit (one per interface: the unit's instance).
"""


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
        elif head.lower() in ("examples:", "commands:"):
            sections.append((head[:-1].upper(), verbatim([l[2:] if l.startswith("  ") else l for l in b[1:]])))
        elif head.startswith("Exit codes"):
            sections.append(("EXIT STATUS", [".PP", esc(" ".join(l.strip() for l in b))]))
        else:
            description += [".PP", esc(" ".join(l.strip() for l in b))]
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
    order = ["COMMANDS", "OPTIONS", "EXAMPLES", "EXIT STATUS"]
    sections.sort(key=lambda s: order.index(s[0]))
    for title, body in sections:
        out += [".SH " + title] + body
    if cmd != "report":
        out.append(ENVIRONMENT.rstrip("\n"))
    out.append(FILES.rstrip("\n"))
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
