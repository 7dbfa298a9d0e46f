#!/usr/bin/env python3
"""Validates the real JSON output of the strata executable against schemas/*.schema.json.

Runs `strata check --format json`, `strata plan --format json` and, when STRATA_TEST_DB
names a PostgreSQL server (scripts/pg.sh), `strata status --format json` in every state a
database goes through (needs bootstrap, new versions, pending finish, up to date), in a
database of its own. Each output must parse and validate; each exit code must be the
documented one (docs/cli.md). Uses python3-jsonschema (scripts/install-deps.sh).

usage: validate_outputs.py STRATA_BINARY SOURCE_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

try:
    import jsonschema
except ImportError:
    sys.exit("validate_outputs: python3-jsonschema is missing; run scripts/install-deps.sh")

STRATA, SOURCE = sys.argv[1], sys.argv[2]
failures = []
validated = []


def schema(name):
    with open(os.path.join(SOURCE, "schemas", name)) as f:
        s = json.load(f)
    jsonschema.Draft202012Validator.check_schema(s)
    return jsonschema.Draft202012Validator(s)


SCHEMAS = {n: schema(n + ".schema.json") for n in ("diagnostics", "plan", "status")}


def run(what, args, expected_code, schema_name, check=None):
    p = subprocess.run([STRATA] + args, capture_output=True, text=True, timeout=300)
    if p.returncode != expected_code:
        failures.append(f"{what}: exit {p.returncode}, expected {expected_code}\n{p.stderr}")
        return None
    try:
        doc = json.loads(p.stdout)
    except json.JSONDecodeError as e:
        failures.append(f"{what}: not JSON ({e}):\n{p.stdout[:500]}")
        return None
    errors = sorted(SCHEMAS[schema_name].iter_errors(doc), key=lambda e: list(e.path))
    for e in errors:
        failures.append(f"{what}: {schema_name}.schema.json: {'/'.join(map(str, e.path))}: {e.message}")
    if not errors and check:
        problem = check(doc)
        if problem:
            failures.append(f"{what}: {problem}")
    validated.append(what)
    return doc


gateway = os.path.join(SOURCE, "examples", "gateway")
design = os.path.join(SOURCE, "examples", "design")

with tempfile.TemporaryDirectory() as tmp:
    # check: a project with no errors (the gateway's upgrades give the planner's warnings),
    # then errors with notes.
    run("check (warnings only)", ["check", "--format", "json", gateway], 0, "diagnostics",
        lambda d: None if d and all(x["severity"] == "warning" for x in d)
        else f"expected warnings only: {d}")
    bad = os.path.join(tmp, "bad.strata")
    with open(bad, "w") as f:
        f.write('subsystem core {\n  version "1.0.0" {\n    table t {\n'
                '      id uuid primary key\n      id text\n      x texxt\n    }\n  }\n}\n')
    run("check (errors)", ["check", "--format", "json", bad], 1, "diagnostics",
        lambda d: None if len(d) == 2 and any("notes" in x for x in d)
        else f"expected 2 errors, one with a note: {d}")

    # plan: every phase, with findings and backfills.
    run("plan bootstrap", ["plan", "bootstrap", "--format", "json", gateway], 0, "plan")
    run("plan up", ["plan", "up", "--format", "json", "--from", "core@0.14.1,acl@1.0.0,"
                    "key_auth@1.0.0,oauth2@1.0.0,rate_limiting@1.0.0", gateway], 0, "plan",
        lambda d: None if d["steps"] and d["findings"] else "expected steps and findings")
    run("plan finish", ["plan", "finish", "--format", "json", "--from", "core@1.0.0", design],
        0, "plan")

    # status: every state of a database, in a database of its own.
    server = os.environ.get("STRATA_TEST_DB")
    if server:
        name = f"strata_schema_{os.getpid()}"
        subprocess.run(["psql", server, "-qXc", f"CREATE DATABASE {name}"], check=True)
        db = f"{server} dbname={name}"
        try:
            base = ["--format", "json", "--db", db, design]
            run("status (needs bootstrap)", ["status"] + base, 3, "status",
                lambda d: None if d["needs_bootstrap"] else "needs_bootstrap should be true")
            subprocess.run([STRATA, "apply", "bootstrap", "--db", db, "--to", "core@0.14.1",
                            design], check=True, capture_output=True)
            run("status (new versions)", ["status"] + base, 5, "status",
                lambda d: None if d["subsystems"][0]["new"] else "expected new versions")
            # An up cut short after its first step, as its record in strata_steps says.
            step = ("INSERT INTO strata_steps (subsystem, version, phase, step, status, sql_hash)"
                    " VALUES ('core', '1.0.0', 'up', 0, 'done', 'x')")
            subprocess.run(["psql", db, "-qXc", step], check=True)
            run("status (interrupted)", ["status"] + base, 8, "status",
                lambda d: None if d["interrupted"] and d["subsystems"][0]["interrupted"]
                else "expected an interrupted version")
            subprocess.run(["psql", db, "-qXc", "DELETE FROM strata_steps"], check=True)
            subprocess.run([STRATA, "apply", "up", "--db", db, design], check=True,
                           capture_output=True)
            run("status (pending finish)", ["status"] + base, 4, "status",
                lambda d: None if d["subsystems"][0]["pending_finish"]
                else "expected versions pending finish")
            subprocess.run([STRATA, "apply", "finish", "--yes", "--db", db, design], check=True,
                           capture_output=True)
            run("status (up to date)", ["status"] + base, 0, "status",
                lambda d: None if d["status"] == 0 else "expected status 0")
        finally:
            subprocess.run(["psql", server, "-qXc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"])
    else:
        print("validate_outputs: STRATA_TEST_DB is not set: status outputs not validated")

for f in failures:
    print("FAIL", f)
print(f"validate_outputs: {len(validated)} outputs validated, {len(failures)} failures")
sys.exit(1 if failures or not validated else 0)
