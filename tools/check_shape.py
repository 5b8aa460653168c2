#!/usr/bin/python3
"""The shape docs/architecture.md promises: no file under src/ over ~700
lines, no function over ~120, and no sqlite3 outside src/store/; no issue
number cited in the project's code; the packet path (src/pipeline/) not
including the store or attribution and the store not the report, beyond the
includes listed as still to untangle; and no
helper that two files define alike in anonymous namespaces of the same
namespace (src/ and tests/ each), which the asan preset's unity build (eight
sources per translation unit) turns into a redefinition as soon as its
batches bring the two files together: such helpers belong in a shared header.

A function is a definition at column 0 (the tree is clang-formatted:
namespaces do not indent) from its opening line to the `}` that closes it at
column 0; lambdas and local classes count toward the function they are in.
Member functions defined inside a class body (indented once) are counted
apart and held to the same limit, beyond those listed in KNOWN_LONG_MEMBERS. Exit 0 clean, 1 with each offender.
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


# A class or struct whose body opens on its first line, at column 0.
CLASS_OPEN = re.compile(r"^(?:template <.*> )?(?:class|struct) \w+[^;]*\{\s*$")
MEMBER_NOT_FUNCTION = re.compile(r"^\s*(//|#|return\b|case\b|[A-Z][A-Z0-9_]*\(|alignas\b|using\b|static_assert\b)")


def member_functions(lines):
    """Yields (name, first line number, length) of each member function
    defined in the body of a column-0 class or struct (indented once)."""
    i = 0
    while i < len(lines):
        if not CLASS_OPEN.match(lines[i]):
            i += 1
            continue
        k = i + 1
        while k < len(lines) and not lines[k].startswith("};"):
            line = lines[k]
            if (line.startswith("    ") and not line.startswith("     ") and "(" in line
                    and not MEMBER_NOT_FUNCTION.match(line)):
                j = k
                while j < len(lines) and j < k + 8 and not lines[j].rstrip().endswith(("{", ";", "}")):
                    j += 1
                if j < len(lines) and lines[j].rstrip().endswith("{") and not lines[j].rstrip().endswith("= {"):
                    m = j + 1
                    while m < len(lines) and lines[m].rstrip() != "    }":
                        m += 1
                    yield re.sub(r"\s*\(.*", "", line).split()[-1], k + 1, m - k + 1
                    k = m + 1
                    continue
            k += 1
        i = k + 1


# Member functions defined in a class body over the limit, still to move out
# and split: they may only go away (none today).
KNOWN_LONG_MEMBERS: set[str] = set()


ANON_OPEN = re.compile(r"^namespace \{")
NAMED_OPEN = re.compile(r"^namespace ([\w:]+) \{")
# A column-0 definition inside an anonymous namespace: a type, a constant or
# a function (the line up to its parameters' end, the signature).
ANON_TYPE = re.compile(r"^(?:struct|class|enum class|enum|union) (\w+)\b(?!;)")
ANON_CONST = re.compile(r"^(?:static )?(?:inline )?constexpr [\w:<>, ]+? (\w+)(?:\[\w*\])? *[={]")
ANON_FUNC = re.compile(r"^(?!return\b)[\w:<>,*& \[\]]+?[ *&](\w+)\((.*)")


def without_parameter_names(sig):
    """A function signature with its parameters' names dropped: `f(int a,
    const T& b)` and `f(int, const T&)` declare the same function."""
    m = re.match(r"^(.*?\()(.*)(\).*)$", sig)
    if not m:
        return sig
    params = []
    for param in m.group(2).split(","):  # a template argument's comma splits wrongly, and harmlessly
        tokens = param.strip().split()
        if len(tokens) > 1 and re.fullmatch(r"[*&]*\w+", tokens[-1]):
            tokens[-1] = re.sub(r"\w+$", "", tokens[-1])
        params.append(" ".join(t for t in tokens if t))
    return m.group(1) + ", ".join(params) + m.group(3)


def anonymous_helpers(path):
    """Yields ((namespace, name), signature) for each column-0 definition
    inside an anonymous namespace of `path`."""
    outer, anon = "", False
    lines = path.read_text().split("\n")
    for i, line in enumerate(lines):
        m = NAMED_OPEN.match(line)
        if m:
            outer = m.group(1)
            continue
        if ANON_OPEN.match(line):
            anon = True
            continue
        if line.startswith("}  // namespace"):
            anon = False
            continue
        if not anon or not line or line[0].isspace() or NOT_FUNCTION.match(line) and not ANON_TYPE.match(line):
            continue
        for pattern in (ANON_TYPE, ANON_CONST, ANON_FUNC):
            m = pattern.match(line)
            if m:
                # The signature: up to the body's brace, over at most a few lines.
                sig, j = line, i
                while "{" not in sig and ";" not in sig and j + 1 < len(lines) and j < i + 6:
                    j += 1
                    sig += " " + lines[j].strip()
                sig = re.sub(r"\s+", " ", re.split(r"\{|=|;", sig)[0]).strip()
                yield (outer, m.group(1)), without_parameter_names(sig)
                break


def clashing_helpers(files):
    """Pairs of files defining the same helper alike in anonymous namespaces."""
    seen, bad = {}, []
    for p in files:
        if p.suffix != ".cpp":
            continue
        for key, sig in anonymous_helpers(p):
            other = seen.setdefault((key, sig), p)
            if other != p:
                bad.append(f"{p.relative_to(ROOT)} and {other.relative_to(ROOT)}: both define `{sig}` in an anonymous "
                           f"namespace of {key[0] or 'the global namespace'} (a clash in the unity build: share it)")
    return bad


# A comment says what the code does and why, not which issue or round of
# work produced it: no file of the project's code cites an issue number.
CITES_ISSUE = re.compile(r"\b[Ii]ssues? #?[0-9]+")
CODE_DIRS = ("src", "tests", "tools", "bench", "packaging", ".ci")
CODE_SUFFIXES = (".cpp", ".hpp", ".h", ".py", ".sh", ".txt", ".cmake", "")


def issue_citations():
    bad = []
    paths = [ROOT / "CMakeLists.txt"]
    for d in CODE_DIRS:
        paths += [p for p in (ROOT / d).rglob("*") if p.is_file() and p.suffix in CODE_SUFFIXES]
    for p in sorted(paths):
        if "fuzz" in p.parts and "regressions" in p.parts:
            continue  # crash inputs, not code
        try:
            text = p.read_text()
        except (UnicodeDecodeError, OSError):
            continue
        for i, line in enumerate(text.split("\n"), 1):
            if CITES_ISSUE.search(line):
                bad.append(f"{p.relative_to(ROOT)}:{i}: cites an issue number (say what and why instead)")
    return bad


# Which module may include which. The packet path (pipeline/) depends only on
# the decoders, the flow table and facts/ (the seam both sides share), never
# on a source, the catalog, the store, attribution or an output; facts/ on
# what the packet path is made of and the records' declarations (a fact
# becomes its record there, once for every writer), nothing that writes
# them; the store never on the report. Includes that break this are listed below (KNOWN_INCLUDES)
# and may only go away: a new one fails, and so does an entry no longer
# true (so the list stays exact as the dependencies are untangled).
# records/ (each table's columns, declared once) depends on nothing of
# callwall's: every writer may include it. The store and the event stream
# are writers of records, never of attribution; the report renders data,
# not a run.
ALLOWED_INCLUDES = {"src/pipeline": ("pipeline/", "facts/", "decode/", "flow/", "proto/", "bytes/", "util/"),
                    "src/facts": ("facts/", "records/", "decode/", "flow/", "proto/", "bytes/", "util/"),
                    "src/records": ("records/",)}
FORBIDDEN_INCLUDES = {"src/store": ("report/", "attrib/", "events/"), "src/events": ("attrib/",),
                      "src/report": ("run/",)}
KNOWN_INCLUDES: dict[str, set[str]] = {}
INCLUDE = re.compile(r'^#include "([^"]+)"')


def breaks_layer(folder, include):
    if folder in ALLOWED_INCLUDES:
        return "/" in include and not include.startswith(ALLOWED_INCLUDES[folder])
    return include.startswith(FORBIDDEN_INCLUDES[folder])


def layer_includes():
    bad, found = [], {}
    for folder in (*ALLOWED_INCLUDES, *FORBIDDEN_INCLUDES):
        for p in sorted((ROOT / folder).rglob("*")):
            if p.suffix not in (".cpp", ".hpp"):
                continue
            rel = str(p.relative_to(ROOT))
            for line in p.read_text().split("\n"):
                m = INCLUDE.match(line)
                if m and breaks_layer(folder, m.group(1)):
                    found.setdefault(rel, set()).add(m.group(1))
    for rel, incs in sorted(found.items()):
        for inc in sorted(incs - KNOWN_INCLUDES.get(rel, set())):
            bad.append(f"{rel}: includes {inc} (its module may not depend on that one)")
    for rel, incs in sorted(KNOWN_INCLUDES.items()):
        for inc in sorted(incs - found.get(rel, set())):
            bad.append(f"{rel}: no longer includes {inc}: drop it from check_shape.py's KNOWN_INCLUDES")
    return bad


def module_cycles():
    """No module (a folder of src/) includes one that includes it back,
    directly or through others: every strongly connected group of the
    module graph larger than one module is reported, with one include of
    each edge inside it."""
    src = ROOT / "src"
    modules = {p.name for p in src.iterdir() if p.is_dir()}
    edges: dict[str, dict[str, str]] = {m: {} for m in modules}
    for p in sorted(src.rglob("*")):
        if p.suffix not in (".cpp", ".hpp"):
            continue
        mod = p.relative_to(src).parts[0]
        if mod not in modules:
            continue
        for line in p.read_text().split("\n"):
            m = INCLUDE.match(line)
            to = m.group(1).split("/")[0] if m and "/" in m.group(1) else None
            if to in modules and to != mod:
                edges[mod].setdefault(to, f"{p.relative_to(ROOT)} includes {m.group(1)}")
    # Tarjan's algorithm, iterative enough for a dozen modules.
    index, low, stack, on, groups = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(modules):
        if v not in index:
            visit(v)
    bad = []
    for g in groups:
        why = "; ".join(edges[a][b] for a in g for b in sorted(edges[a]) if b in g)
        bad.append(f"src/{{{','.join(g)}}}: modules that include each other ({why})")
    return bad


WAITING_TESTS = ROOT / "tests" / "waiting_tests.cmake"
GTEST_CASE = re.compile(r"\bTEST(?:_F|_P)?\(\s*(\w+)\s*,\s*(\w+)\s*\)")


def waiting_tests_exist():
    """Every test tests/waiting_tests.cmake names is one of the tests' TEST()s
    (ctest ignores a name it does not know: a renamed test would quietly go
    back to counting as busy)."""
    if not WAITING_TESTS.exists():
        return []
    defined = set()
    for p in (ROOT / "tests").rglob("*.cpp"):
        for suite, name in GTEST_CASE.findall(p.read_text(errors="replace")):
            defined.add(f"{suite}.{name}")
    bad = []
    for line in WAITING_TESTS.read_text().split("\n"):
        name = line.strip()
        if re.fullmatch(r"\w+\.\w+", name) and name not in defined:
            bad.append(f"tests/waiting_tests.cmake: {name}: no such test (renamed? update the list)")
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-file", type=int, default=700)
    ap.add_argument("--max-function", type=int, default=120)
    a = ap.parse_args()
    bad = []
    files = sorted(p for p in (ROOT / "src").rglob("*") if p.suffix in (".cpp", ".hpp"))
    longest = (0, "")
    members, long_members = 0, set()
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
        for name, at, length in member_functions(lines):
            members += 1
            if length <= a.max_function:
                continue
            long_members.add(f"{rel} {name}")
            if f"{rel} {name}" not in KNOWN_LONG_MEMBERS:
                bad.append(f"{rel}:{at}: member function {name}, defined in its class body, is {length} lines "
                           f"(over {a.max_function})")
        if "store" not in rel.parts[:2] and re.search(r"\bsqlite3", p.read_text()):
            bad.append(f"{rel}: uses sqlite3 outside src/store/")
    bad += [f"{k}: no longer a long member function: take it off KNOWN_LONG_MEMBERS"
            for k in sorted(KNOWN_LONG_MEMBERS - long_members)]
    bad += clashing_helpers(files)
    bad += issue_citations()
    bad += layer_includes()
    bad += module_cycles()
    bad += waiting_tests_exist()
    bad += clashing_helpers(sorted(p for p in (ROOT / "tests").rglob("*.cpp") if "fuzz" not in p.parts))
    if bad:
        print("\n".join(bad))
        return 1
    print(f"shape: {len(files)} files under {a.max_file} lines, longest function {longest[0]} lines ({longest[1]}); "
          f"{members} member functions defined in class bodies, {len(long_members)} over {a.max_function} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
