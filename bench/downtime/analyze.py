#!/usr/bin/env python3
"""Reads the per-transaction logs of pgbench (--log) and the phases of each upgrade run by
bench/downtime/run.sh, and prints one table: per upgrade and phase, the old application's
transactions, failures, throughput, latency percentiles and longest stall.

usage: analyze.py OUT_DIR SCENARIO...

OUT_DIR/SCENARIO/pgbench_log.* are pgbench's logs: one line per transaction,
"client_id transaction_no time script_no time_epoch time_us ...", where time is the
latency in microseconds (or "failed"/"skipped") and time_epoch.time_us its end.
OUT_DIR/SCENARIO/phases has one line per phase: "label start end" (Unix seconds).
OUT_DIR/SCENARIO/aborted holds how many clients pgbench aborted (an error it does not
retry ends a client: a failure of the application).
"""
import glob
import os
import sys


def read_transactions(directory):
    ends, latencies, failed = [], [], []
    for path in glob.glob(os.path.join(directory, "pgbench_log.*")):
        with open(path) as f:
            for line in f:
                fields = line.split()
                if len(fields) < 6:
                    continue
                end = int(fields[4]) + int(fields[5]) / 1e6
                if fields[2] in ("failed", "skipped"):
                    failed.append(end)
                    continue
                ends.append(end)
                latencies.append(int(fields[2]) / 1000.0)
    order = sorted(range(len(ends)), key=lambda i: ends[i])
    return [ends[i] for i in order], [latencies[i] for i in order], sorted(failed)


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100.0 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def phase_figures(ends, latencies, failed, start, end):
    import bisect
    lo, hi = bisect.bisect_left(ends, start), bisect.bisect_left(ends, end)
    window = sorted(latencies[lo:hi])
    # The longest stretch without a completed transaction, window edges included.
    points = [start] + ends[lo:hi] + [end]
    stall = max(b - a for a, b in zip(points, points[1:]))
    fails = bisect.bisect_left(failed, end) - bisect.bisect_left(failed, start)
    duration = end - start
    return {
        "duration": duration,
        "count": hi - lo,
        "failed": fails,
        "tps": (hi - lo) / duration if duration > 0 else float("nan"),
        "p50": percentile(window, 50),
        "p99": percentile(window, 99),
        "max": window[-1] if window else float("nan"),
        "stall": stall * 1000.0,
    }


def main():
    out, scenarios = sys.argv[1], sys.argv[2:]
    print("| upgrade | phase | seconds | transactions | failed | aborted clients | tps "
          "| % of idle tps | p50 ms | p99 ms | max ms | longest stall ms |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    verdicts = {}
    for scenario in scenarios:
        directory = os.path.join(out, scenario)
        ends, latencies, failed = read_transactions(directory)
        with open(os.path.join(directory, "aborted")) as f:
            aborted = f.read().strip()
        phases = []
        with open(os.path.join(directory, "phases")) as f:
            for line in f:
                label, start, end = line.rsplit(None, 2)
                phases.append((label, float(start), float(end)))
        idle = None
        for label, start, end in phases:
            fig = phase_figures(ends, latencies, failed, start, end)
            if idle is None:
                idle = fig["tps"]
            if label == "during upgrade":
                verdicts[scenario] = dict(fig, aborted=int(aborted or 0), backfill=[])
            if "(backfill)" in label:
                verdicts[scenario]["backfill"].append(100.0 * fig["tps"] / idle if idle else 0)
            print("| {} | {} | {:.1f} | {} | {} | {} | {:.0f} | {:.0f}% | {:.1f} | {:.1f} | "
                  "{:.0f} | {:.0f} |".format(scenario, label, fig["duration"], fig["count"],
                                             fig["failed"], aborted, fig["tps"],
                                             100.0 * fig["tps"] / idle if idle else 0,
                                             fig["p50"], fig["p99"], fig["max"], fig["stall"]))


    # The targets of issue 6 for strata's up: zero failures, no stall over 250 ms, p99
    # under 25 ms, throughput during backfills at least 70 % of idle.
    if "strata" in verdicts:
        v = verdicts["strata"]
        checks = [
            ("failed transactions and aborted clients: 0", v["failed"] + v["aborted"] == 0,
             "{}".format(v["failed"] + v["aborted"])),
            ("longest stall <= 250 ms", v["stall"] <= 250, "{:.0f} ms".format(v["stall"])),
            ("p99 < 25 ms", v["p99"] < 25, "{:.1f} ms".format(v["p99"])),
            ("tps during each backfill >= 70% of idle",
             bool(v["backfill"]) and min(v["backfill"]) >= 70,
             ", ".join("{:.0f}%".format(b) for b in v["backfill"]) or "no backfill step"),
        ]
        print()
        print("strata up against the targets:")
        for what, ok, value in checks:
            print("  {:<44} {:<5} ({})".format(what, "ok" if ok else "MISSED", value))


if __name__ == "__main__":
    main()
