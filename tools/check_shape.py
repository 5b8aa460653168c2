#!/usr/bin/python3
"""The shape docs/architecture.md promises: no file under src/ over ~700
lines, no function over ~120, and no sqlite3 outside src/store/.

A function is a definition at column 0 (the tree is clang-formatted:
namespaces do not indent) from its opening line to the `}` that closes it at
column 0; lambdas and local classes count toward the function they are in.
Member functions defined inside a class body are indented and not counted
(they are short by the style guide). Exit 0 clean, 1 with each offender.
   tools/check_shape.py [--max-file N] [--max-function N]
"""
import argparse
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
# A definition's first line: column 0, not a preprocessor line, a comment, a
# namespace, a class/struct/enum or a using/typedef.
NOT_FUNCTION = re.compile(r"^(#|//|/\*|\*|namespace\b|class\b|struct\b|enum\b|union\b|using\b|typedef\b|template\b|extern\b|static_assert\b|\}|\{)")


def functions(lines):
    """Yields (name, first line number, length) of each column-0 function."""
    i = 0
    while i < len(lines):
        line = lines[i]
        if line and not line[0].isspace() and not NOT_FUNCTION.match(line) and "(" in line:
            # The signature may span lines; its body opens with a '{' ending a line.
            j = i
            while j < len(lines) and j < i + 12 and not lines[j].rstrip().endswith(("{", ";", "}")):
                j += 1
            if j < len(lines) and lines[j].rstrip().endswith("{") and not lines[j].rstrip().endswith("= {"):
                k = j + 1
                while k < len(lines) and lines[k].rstrip() != "}":
                    k += 1
                name = re.sub(r"\s*\(.*", "", line).split()[-1] if line.split() else line
                yield name, i + 1, k - i + 1
                i = k + 1
                continue
        i += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-file", type=int, default=700)
    ap.add_argument("--max-function", type=int, default=120)
    a = ap.parse_args()
    bad = []
    files = sorted(p for p in (ROOT / "src").rglob("*") if p.suffix in (".cpp", ".hpp"))
    longest = (0, "")
    for p in files:
        rel = p.relative_to(ROOT)
        lines = p.read_text().split("\n")
        n = len(lines) - (1 if lines and lines[-1] == "" else 0)
        if n > a.max_file:
            bad.append(f"{rel}: {n} lines (over {a.max_file})")
        for name, at, length in functions(lines):
            longest = max(longest, (length, f"{rel}:{at} {name}"))
            if length > a.max_function:
                bad.append(f"{rel}:{at}: function {name} is {length} lines (over {a.max_function})")
        if "store" not in rel.parts[:2] and re.search(r"\bsqlite3", p.read_text()):
            bad.append(f"{rel}: uses sqlite3 outside src/store/")
    if bad:
        print("\n".join(bad))
        return 1
    print(f"shape: {len(files)} files under {a.max_file} lines, longest function {longest[0]} lines ({longest[1]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
