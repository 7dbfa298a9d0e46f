#!/usr/bin/env python3
"""Regenerates the table of diagnostic codes in docs/diagnostics.md from
compiler/DiagnosticKinds.def, so that the documentation lists exactly what strata can emit.

    python3 scripts/gen-diag-table.py           # rewrite the table in docs/diagnostics.md
    python3 scripts/gen-diag-table.py --check   # exit 1 if the doc is out of date
    python3 scripts/gen-diag-table.py --stdout  # print the table only

The table sits between the lines `<!-- BEGIN diag-table -->` and `<!-- END diag-table -->`;
nothing else in the doc is touched. One sub-table per `// --- section ---` comment of the
.def file, in the file's order. Diagnostics that no code under compiler/, planner/,
runtime/ or cli/ reports yet are listed after the tables.
"""
import argparse
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEF_FILE = ROOT / "compiler" / "DiagnosticKinds.def"
DOC_FILE = ROOT / "docs" / "diagnostics.md"
SOURCE_DIRS = ["compiler", "planner", "runtime", "cli"]
BEGIN = "<!-- BEGIN diag-table -->"
END = "<!-- END diag-table -->"

SECTION = re.compile(r"^//\s*---\s*(.*?)\s*-*\s*$")
DIAG = re.compile(r'^DIAG\(\s*(\w+)\s*,\s*"([^"]+)"\s*,\s*(\w+)\s*,\s*"((?:[^"\\]|\\.)*)"\s*\)')


def unescape(text):
    """The C string literal's value (the .def file only uses \\" and \\\\)."""
    return re.sub(r"\\(.)", r"\1", text)


def read_diagnostics():
    """[(section, [(id, code, severity, format)])] in the order of the .def file."""
    sections = []
    for line in DEF_FILE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        match = SECTION.match(line)
        if match:
            sections.append((match.group(1), []))
            continue
        match = DIAG.match(line)
        if not match:
            continue
        if not sections:
            sections.append(("diagnostics", []))
        ident, code, severity, fmt = match.groups()
        sections[-1][1].append((ident, code, severity.lower(), unescape(fmt)))
    return [(name, diags) for name, diags in sections if diags]


def unused_ids(ids):
    """Ids that no source file mentions as DiagID::Id."""
    text = []
    for folder in SOURCE_DIRS:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in (".cpp", ".h"):
                text.append(path.read_text(encoding="utf-8", errors="replace"))
    blob = "\n".join(text)
    # The planner's findings are reported by their code ("C203"), looked up in the table.
    return [i for i in ids
            if not re.search(r"DiagID::%s\b" % re.escape(i), blob)
            and not (i.startswith("Finding") and '"%s"' % i[len("Finding"):] in blob)]


def cell(text):
    """A table cell in a code span; `{}` marks where the details go."""
    return "`" + text.replace("|", "\\|") + "`"


def render(sections):
    out = []
    codes = {}
    for name, diags in sections:
        out.append("")
        out.append("### " + name)
        out.append("")
        out.append("| code | severity | message |")
        out.append("|---|---|---|")
        for ident, code, severity, fmt in diags:
            codes[ident] = code
            out.append("| %s | %s | %s |" % (code, severity, cell(fmt)))
    unused = unused_ids(list(codes))
    if unused:
        out.append("")
        out.append("Declared but not reported by any code yet: %s."
                   % ", ".join(codes[i] for i in unused))
    out.append("")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="exit 1 if the doc is out of date")
    mode.add_argument("--stdout", action="store_true", help="print the table only")
    args = parser.parse_args()

    table = render(read_diagnostics())
    if args.stdout:
        sys.stdout.write(table.lstrip("\n"))
        return 0
    doc = DOC_FILE.read_text(encoding="utf-8")
    begin, end = doc.find(BEGIN), doc.find(END)
    if begin < 0 or end < begin:
        print("gen-diag-table: error: %s has no %s ... %s block" % (DOC_FILE, BEGIN, END),
              file=sys.stderr)
        return 1
    updated = doc[: begin + len(BEGIN)] + "\n" + table + doc[end:]
    if args.check:
        if updated != doc:
            print("gen-diag-table: %s is out of date; run python3 scripts/gen-diag-table.py"
                  % DOC_FILE.relative_to(ROOT), file=sys.stderr)
            return 1
        return 0
    if updated != doc:
        DOC_FILE.write_text(updated, encoding="utf-8")
        print("gen-diag-table: updated %s" % DOC_FILE.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
