#!/usr/bin/env python3
"""Tests check_docs.py itself: a page whose examples hold passes, and a page whose examples
drifted fails, naming each block by page and line.

usage: check_docs_selftest.py STRATA_BINARY
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
STRATA = sys.argv[1]
failures = []


def run(page):
    p = subprocess.run([sys.executable, os.path.join(HERE, "check_docs.py"), STRATA, HERE,
                        os.path.join(HERE, "fixtures", page)],
                       capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout + p.stderr


code, out = run("ok.md")
if code != 0 or "2 strata examples checked, 1 transcripts run, 1 fragments, 1 transcripts not run" not in out:
    failures.append(f"ok.md: expected a pass with every block counted, got exit {code}:\n{out}")

code, out = run("drift.md")
expected = [
    # the refused block, with the diagnostic at the page's own line
    "fixtures/drift.md:5: the example shows no output",
    "fixtures/drift.md:8:38: error: unknown type \"texx\"",
    # the transcript that shows less than strata prints
    "fixtures/drift.md:23: `strata check upper.strata` prints something else",
    "+upper.strata:3:11: warning: unquoted identifier \"T\"",
    # a marker the script does not know is an error, not a silent skip
    "fixtures/drift.md:34: unknown docs-test marker 'skip'",
    "check_docs: 3 problem(s)",
]
if code != 1:
    failures.append(f"drift.md: expected exit 1, got {code}:\n{out}")
for e in expected:
    if e not in out:
        failures.append(f"drift.md: output lacks {e!r}:\n{out}")

for f in failures:
    print(f, file=sys.stderr)
print("check_docs_selftest: " + ("ok" if not failures else f"{len(failures)} failure(s)"))
sys.exit(1 if failures else 0)
