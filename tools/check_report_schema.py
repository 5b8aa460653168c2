#!/usr/bin/python3
"""Validates `callwall report --format json` against docs/report.schema.json.

    tools/check_report_schema.py CALLWALL_BINARY

Analyses every verdict scenario capture (captures/scenarios/*.pcap) and the
field captures (captures/field/*) into a database of its own, renders its JSON
report, and validates it with python3-jsonschema (Draft 7). Then checks that
the schema can fail: a report with a verdict or an evidence outcome it does not
know, or without schema_version, must be rejected.

Exit 0 all valid; 1 a report is invalid or the schema accepted a broken one;
77 python3-jsonschema is not installed (ctest reports the test as skipped).
"""
import copy
import glob
import json
import os
import subprocess
import sys
import tempfile

try:
    import jsonschema
except ImportError:
    print("SKIP: python3-jsonschema is not installed (apt-get install python3-jsonschema)")
    sys.exit(77)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def report_of(callwall, capture, tmp):
    db = os.path.join(tmp, os.path.basename(capture) + ".sqlite")
    subprocess.run([callwall, "analyze", "-q", capture, "--db", db], check=True, timeout=120)
    out = subprocess.run([callwall, "report", "--db", db, "--format", "json", "--all"], check=True, timeout=120,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    callwall = sys.argv[1]
    with open(os.path.join(ROOT, "docs", "report.schema.json")) as f:
        schema = json.load(f)
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    captures = sorted(glob.glob(os.path.join(ROOT, "captures", "scenarios", "*.pcap")) +
                      glob.glob(os.path.join(ROOT, "captures", "field", "*.pcap*")))
    failures = 0
    reports = []
    with tempfile.TemporaryDirectory(prefix="callwall-schema-") as tmp:
        for capture in captures:
            doc = report_of(callwall, capture, tmp)
            errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
            for e in errors[:5]:
                print(f"{os.path.relpath(capture, ROOT)}: {'/'.join(map(str, e.path))}: {e.message}")
            failures += bool(errors)
            reports.append(doc)
    # The schema must be able to fail.
    with_evidence = next(d for d in reports if any(v["evidence"] for v in d["verdicts"]))
    broken = []
    d = copy.deepcopy(with_evidence)
    d["verdicts"][0]["verdict"] = "passed"
    broken.append(("unknown verdict", d))
    d = copy.deepcopy(with_evidence)
    next(v for v in d["verdicts"] if v["evidence"])["evidence"][0]["outcome"] = "blocked"
    broken.append(("outcome 'blocked' without a reason", d))
    d = copy.deepcopy(with_evidence)
    d.pop("schema_version", None)
    broken.append(("no schema_version", d))
    d = copy.deepcopy(with_evidence)
    d["runs"][0]["notes"] = "one string"
    broken.append(("notes not a list", d))
    for what, doc in broken:
        if validator.is_valid(doc):
            print(f"the schema accepted a report with {what}")
            failures += 1
    print(f"{len(captures)} reports checked against docs/report.schema.json, "
          f"{len(broken)} broken ones must be rejected: {failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
