#!/usr/bin/env python3
"""Runs every example of the documentation and compares it with what the page shows.

The documentation promises that each example is a complete file that `strata check`
accepts, or gives exactly the output shown after it. This script keeps that promise
checked, so that the pages cannot drift from what strata does:

- A ```strata block is a complete file. When the next block (only blank lines between)
  is a ```text transcript, the block is written under the `*.strata` name that the
  transcript's first command names, every command of the transcript is run in a scratch
  directory holding it, and the output must be exactly the one shown. Otherwise
  `strata check FILE` must exit 0 and print nothing but its summary line (warnings must
  be shown in a transcript).
- A ```text block whose first line starts with `$ ` is a transcript. One that follows no
  ```strata block runs in the repository root.
- Markers, an HTML comment on the line just before a block's opening fence, say what
  cannot be run, so that nothing is skipped silently:
    <!-- docs-test: fragment -->          a ```strata block that is not a whole file
    <!-- docs-test: not run: REASON -->   a transcript that needs what the test has not
                                          (a database, a built package, a generated file)
  Any other `docs-test:` comment is an error.

In a transcript, `$ COMMAND` lines are run with bash (`strata` is the executable under
test, `build/cli/strata` too); the lines up to the next `$ ` are its output, stdout and
stderr together, as a terminal shows them; a shown line `...` or `[... WORDS ...]` stands
for any number of printed lines. Blocks in other languages (```sh, ```sql, or
none) are not run.

With STRATA_UPDATE_DOCS=1 the script rewrites, in place, the output of every transcript
that differs and has no elision, from the real run; review the diff (git diff docs/).

A failure names the page and line of the block (docs/writing-versions.md:541) and shows
the difference. The last line counts what was run and what was not.

usage: check_docs.py STRATA_BINARY SOURCE_DIR [MARKDOWN_FILE...]
  (default: README.md and docs/*.md under SOURCE_DIR)
"""
import difflib
import glob
import os
import re
import subprocess
import sys
import tempfile

FENCE = re.compile(r"^(`{3,})([A-Za-z0-9_-]*)\s*$")
MARKER = re.compile(r"^\s*<!--\s*docs-test:\s*(.*?)\s*-->\s*$")
STRATA_NAME = re.compile(r"[\w./-]+\.strata\b")
ELISION = re.compile(r"^\[\.\.\. .* \.\.\.\]$")


class Block:
    def __init__(self, path, line, lang, body, marker):
        self.path = path  # as shown in messages: relative to the source directory
        self.line = line  # 1-based line of the opening fence
        self.lang = lang
        self.body = body  # list of lines, without the fences
        self.marker = marker  # text of a docs-test marker, or None
        self.end = line + len(body) + 1  # line of the closing fence

    def where(self):
        return f"{self.path}:{self.line}"

    def is_transcript(self):
        return self.lang == "text" and bool(self.body) and self.body[0].startswith("$ ")


def read_blocks(path, shown, problems):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    blocks = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            mk = MARKER.match(lines[i])
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            if mk and not FENCE.match(nxt):
                problems.append(f"{shown}:{i + 1}: a docs-test marker must stand on the line "
                                f"just before a block's opening fence")
            i += 1
            continue
        fence, lang, start = m.group(1), m.group(2), i
        body = []
        i += 1
        while i < len(lines) and not lines[i].startswith(fence):
            body.append(lines[i])
            i += 1
        if i == len(lines):
            problems.append(f"{shown}:{start + 1}: unterminated code block")
        mk = MARKER.match(lines[start - 1]) if start > 0 else None
        blocks.append(Block(shown, start + 1, lang, body, mk.group(1) if mk else None))
        i += 1
    return blocks, lines


def parse_transcript(block):
    """[(command, [expected output lines])] of a ```text transcript."""
    steps = []
    for line in block.body:
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            steps[-1][1].append(line)
    return steps


def strata_file_of(command):
    m = STRATA_NAME.search(command)
    return m.group(0) if m else None


def is_elision(line):
    return line.strip() == "..." or bool(ELISION.match(line.strip()))


def matches(expected, actual):
    """Whether the lines printed match the lines shown, where an elision line of the
    page ('...' or '[... 48 more of the same ...]') stands for any number of lines."""
    # reach[j]: the first j printed lines are matched by the shown lines seen so far.
    reach = [True] + [False] * len(actual)
    for e in expected:
        if is_elision(e):
            for j in range(1, len(actual) + 1):
                reach[j] = reach[j] or reach[j - 1]
            continue
        reach = [False] + [reach[j - 1] and actual[j - 1] == e for j in range(1, len(actual) + 1)]
    return reach[len(actual)]


class Runner:
    def __init__(self, strata, source):
        self.strata = os.path.abspath(strata)
        self.source = os.path.abspath(source)
        self.bin = tempfile.mkdtemp(prefix="strata-docs-bin.")
        os.symlink(self.strata, os.path.join(self.bin, "strata"))
        self.env = dict(os.environ)
        self.env["PATH"] = self.bin + os.pathsep + self.env.get("PATH", "")
        self.env["NO_COLOR"] = "1"
        self.env.setdefault("STRATA_CACHE_DIR", tempfile.mkdtemp(prefix="strata-docs-cache."))

    def run(self, command, cwd):
        # `build/cli/strata` (the README runs the freshly built binary) is the binary too.
        command = re.sub(r"(^|[\s;|&(])build/cli/strata\b", r"\1strata", command)
        p = subprocess.run(["bash", "-c", command], cwd=cwd, env=self.env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=300)
        return p.returncode, p.stdout


def compare(where, command, expected, actual, failures):
    exp = "\n".join(expected).rstrip("\n")
    act = actual.rstrip("\n")
    if matches(exp.split("\n"), act.split("\n")):
        return True
    diff = "\n".join(difflib.unified_diff(exp.split("\n"), act.split("\n"), "shown in the docs",
                                          "printed by strata", lineterm=""))
    failures.append(f"{where}: `{command}` prints something else than the page shows:\n{diff}")
    return False


def check_file(runner, path, shown, counts, failures, problems):
    blocks, lines = read_blocks(path, shown, problems)
    edits = []  # (first line index of the transcript's body, old length, new body lines)
    for idx, b in enumerate(blocks):
        nxt = blocks[idx + 1] if idx + 1 < len(blocks) else None
        prev = blocks[idx - 1] if idx > 0 else None
        if b.marker is not None:
            if b.marker == "fragment":
                if b.lang != "strata":
                    problems.append(f"{b.where()}: 'fragment' marks only ```strata blocks")
                counts["fragments"] += 1
                continue
            if b.marker.startswith("not run:") and b.marker[len("not run:"):].strip():
                if not b.is_transcript():
                    problems.append(f"{b.where()}: 'not run' marks only ```text transcripts")
                counts["not run"] += 1
                continue
            problems.append(f"{b.where()}: unknown docs-test marker '{b.marker}' (expected "
                            f"'fragment' or 'not run: REASON')")
            continue
        if b.lang == "strata":
            paired = nxt if (nxt and nxt.is_transcript() and nxt.marker is None and
                             nxt.line == b.end + 2) else None
            if paired is None:
                check_alone(runner, b, counts, failures)
            continue
        if b.is_transcript():
            source_block = prev if (prev and prev.lang == "strata" and prev.marker is None and
                                    b.line == prev.end + 2) else None
            new_body = run_transcript(runner, b, source_block, counts, failures, problems)
            if new_body is not None:
                edits.append((b.line, len(b.body), new_body))
    if edits and os.environ.get("STRATA_UPDATE_DOCS") == "1":
        for first, length, body in sorted(edits, reverse=True):
            lines[first:first + length] = body
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
        print(f"check_docs: rewrote {len(edits)} transcript(s) in {shown}", file=sys.stderr)


def check_alone(runner, b, counts, failures):
    with tempfile.TemporaryDirectory(prefix="strata-docs.") as d:
        with open(os.path.join(d, "example.strata"), "w", encoding="utf-8") as f:
            f.write("\n".join(b.body) + "\n")
        code, out = runner.run("strata check example.strata", d)
    counts["checked"] += 1
    lines = out.rstrip("\n").split("\n")
    if code == 0 and len(lines) == 1 and lines[0].endswith(": ok"):
        return
    # Diagnostics at the page's own lines: example.strata:3:5 is the block's third line.
    out = re.sub(r"example\.strata:(\d+):",
                 lambda m: f"{b.path}:{b.line + int(m.group(1))}:", out)
    failures.append(f"{b.where()}: the example shows no output, so `strata check` must accept "
                    f"it without a diagnostic (or mark it <!-- docs-test: fragment -->, or show "
                    f"the output in a ```text block after it); exit {code}:\n"
                    + out)


def run_transcript(runner, b, source_block, counts, failures, problems):
    """Runs the transcript; returns its body as really printed when it differs from the
    page and can be rewritten (no elision), else None."""
    steps = parse_transcript(b)
    counts["transcripts"] += 1
    with tempfile.TemporaryDirectory(prefix="strata-docs.") as d:
        cwd = runner.source
        if source_block is not None:
            name = strata_file_of(steps[0][0])
            if name is None:
                problems.append(f"{b.where()}: the transcript after the ```strata block at line "
                                f"{source_block.line} names no *.strata file in its first command")
                return None
            target = os.path.join(d, name)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "w", encoding="utf-8") as f:
                f.write("\n".join(source_block.body) + "\n")
            cwd = d
            counts["checked"] += 1
        real, differs, elided = [], False, False
        for command, expected in steps:
            _, out = runner.run(command, cwd)
            real += ["$ " + command] + (out.rstrip("\n").split("\n") if out.strip() else [])
            elided = elided or any(is_elision(e) for e in expected)
            if not compare(b.where(), command, expected, out, failures):
                differs = True
    return real if differs and not elided else None


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    strata, source = sys.argv[1], sys.argv[2]
    files = sys.argv[3:] or ([os.path.join(source, "README.md")] +
                             sorted(glob.glob(os.path.join(source, "docs", "*.md"))))
    runner = Runner(strata, source)
    counts = {"checked": 0, "transcripts": 0, "fragments": 0, "not run": 0}
    failures, problems = [], []
    for path in files:
        shown = os.path.relpath(path, source)
        check_file(runner, path, shown, counts, failures, problems)
    for p in problems + failures:
        print(p, file=sys.stderr)
        print(file=sys.stderr)
    summary = (f"{counts['checked']} strata examples checked, {counts['transcripts']} "
               f"transcripts run, {counts['fragments']} fragments, {counts['not run']} "
               f"transcripts not run (marked)")
    if problems or failures:
        print(f"check_docs: {len(problems) + len(failures)} problem(s); {summary}",
              file=sys.stderr)
        return 1
    print(f"check_docs: ok; {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
