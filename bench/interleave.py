#!/usr/bin/env python3
"""Times commands in interleaved rounds and compares each with a baseline, round by round.

    bench/interleave.py --rounds 15 --prepare "CMD" NAME=COMMAND ... BASELINE_NAME=COMMAND

Each round runs `--prepare`, then one command, for every command in turn (the order
rotates from round to round); the last command is the baseline. It prints each command's
median and mean wall time, and the median over rounds of its time divided by the baseline's
in the same round.

Why not hyperfine alone: hyperfine runs all the runs of one command, then all of the next.
On a shared 2-core VM the machine's speed drifts by tens of percent over a minute, so two
blocks of runs a minute apart compare two different machines (one such run put the old
strata 1.18x *faster* than psql). Pairing the commands within each round cancels the drift.
"""
import argparse
import shlex
import statistics
import subprocess
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--prepare", default="")
    parser.add_argument("commands", nargs="+", help="NAME=COMMAND; the last is the baseline")
    args = parser.parse_args()
    named = [c.split("=", 1) for c in args.commands]
    times = {name: [] for name, _ in named}
    for r in range(args.rounds):
        order = named[r % len(named):] + named[:r % len(named)]
        for name, command in order:
            if args.prepare:
                subprocess.run(args.prepare, shell=True, check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            start = time.perf_counter()
            done = subprocess.run(shlex.split(command), stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE)
            elapsed = time.perf_counter() - start
            if done.returncode != 0:
                sys.stderr.write(f"{name} failed ({done.returncode}):\n{done.stderr.decode()}")
                return 1
            times[name].append(elapsed)
    baseline = named[-1][0]
    print(f"{args.rounds} rounds; ratio = the command's time / {baseline}'s, in the same round")
    for name, _ in named:
        t = times[name]
        ratios = [a / b for a, b in zip(t, times[baseline])]
        print(f"  {name:<28} median {statistics.median(t):7.3f} s   mean {statistics.mean(t):7.3f} s"
              f"   ratio median {statistics.median(ratios):.3f}  (quartiles "
              f"{statistics.quantiles(ratios, n=4)[0]:.3f}-{statistics.quantiles(ratios, n=4)[2]:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
