"""What logging every prediction costs the server: modelport with and without its log, side by side.

Run: PYTHONPATH=src:. python bench/log_cost.py [--models forest,logreg,credit] [--rounds 6] [--seconds 10]

Run one after the other, two servers' throughputs on this shared 2-core machine wander by several
per cent from one run to the next (the host's doing), more than the difference measured. So the two
servers run at once: both pinned to CPU 0, where they share the core, each loaded by its own
``wrk -t1 -c64`` pinned to CPU 1, for the same seconds. Whatever slows the core slows both alike, and
the ratio of their requests/s is the ratio of what a request costs each. Rounds alternate which
server gets which port and which wrk starts first (an A/A run showed about 0.7 % in favour of the
first); the cost reported is ``1 - logged / unlogged`` on the mean ratio over the rounds, with each
round's ratio beside it. Every round starts both servers afresh (an empty log) and warms them 2 s.

Beside the throughputs, each server's CPU time (its process and any workers, all threads, from
psutil) over the timed seconds, per request answered: what a request costs each whatever share of
the core the scheduler gave it. The two costs agree when the sharing is fair; a gap between them
would say the log's cost is in waiting (for the GIL, the disk), not in work.

The logged server runs as ``bench/serving_peers.py`` runs it (``--monitor-interval 0``), the other
with ``--no-log-predictions``; the bodies are serving_peers' (one row per request).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.serving_peers import MODELS, Contender, Model, Point, build_model, check_answers, run_wrk


def _cpu_seconds(pid: int) -> float:
    """CPU seconds (user and system) a server's process and its workers have used so far."""
    root = psutil.Process(pid)
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def _round(model_name: str, model: Model, work: Path, swap: bool, seconds: int
           ) -> tuple[Point, Point, list[float]]:
    kinds = ["modelport", "modelport-nolog"]
    if swap:
        kinds.reverse()
    contenders = []
    for kind in kinds:  # each starts its server
        (work / kind).mkdir()
        contenders.append(Contender(kind, model, work / kind, "tensor"))
    try:
        for contender in contenders:
            contender.running.wait_ready(contender.server.health)
            check_answers(contender.server, model, contender.base)
        for warm in (True, False):
            points: list[Point] = [Point(), Point()]

            def drive(i: int, points: list[Point] = points, seconds: int = 2 if warm else seconds) -> None:
                points[i] = run_wrk(contenders[i].url, contenders[i].body, 64, seconds, work / str(i))

            for i in range(2):
                (work / str(i)).mkdir(exist_ok=True)
            cpu = [_cpu_seconds(c.running.process.pid) for c in contenders]
            threads = [threading.Thread(target=drive, args=(i,)) for i in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            cpu = [_cpu_seconds(c.running.process.pid) - before
                   for c, before in zip(contenders, cpu, strict=True)]
        # CPU µs per request: what a request costs each server, whatever share of the core it got
        per_request = [used * 1e6 / (point.rps * seconds) for used, point in zip(cpu, points, strict=True)]
        for point, contender in zip(points, contenders, strict=True):
            if point.failed:
                raise RuntimeError(f"{model_name}, {contender.kind}: {point.failed}")
        logged, unlogged = points if not swap else points[::-1]
        return logged, unlogged, per_request if not swap else per_request[::-1]
    finally:
        for contender in contenders:
            contender.running.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="forest,logreg,credit")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    names = args.models.split(",")
    unknown = set(names) - set(MODELS)
    if unknown:
        raise SystemExit(f"unknown models {sorted(unknown)}; choose from {', '.join(MODELS)}")
    root = Path(tempfile.mkdtemp(prefix="modelport-log-cost-"))
    print(f"{args.rounds} rounds of {args.seconds:.0f} s per model, both servers at once on CPU 0, "
          "wrk -t1 -c64 each on CPU 1\n")
    print("| model | logged requests/s | unlogged requests/s | ratios per round | cost of the log "
          "| CPU a request, logged / unlogged | cost in CPU |")
    print("| --- | ---: | ---: | --- | ---: | ---: | ---: |")
    for name in names:
        model = build_model(name, root)
        ratios, logged, unlogged, cpu_ratios, cpu_logged, cpu_unlogged = [], [], [], [], [], []
        for i in range(args.rounds):
            work = root / f"{name}-{i}"
            work.mkdir()
            with_log, without, cpu = _round(name, model, work, swap=bool(i % 2), seconds=args.seconds)
            cpu_ratios.append(cpu[0] / cpu[1])
            cpu_logged.append(cpu[0])
            cpu_unlogged.append(cpu[1])
            print(f"  {name} round {i}: {with_log.rps:,.0f} / {without.rps:,.0f} requests/s, "
                  f"CPU {cpu[0]:.1f} / {cpu[1]:.1f} µs a request", flush=True)
            ratios.append(without.rps / with_log.rps)
            logged.append(with_log.rps)
            unlogged.append(without.rps)
        cost = 1 - 1 / statistics.mean(ratios)
        print(f"| {name} | {statistics.mean(logged):,.0f} | {statistics.mean(unlogged):,.0f} | "
              f"{', '.join(f'{r:.3f}' for r in ratios)} | {cost:.1%} | "
              f"{statistics.mean(cpu_logged):.1f} / {statistics.mean(cpu_unlogged):.1f} µs | "
              f"{1 - 1 / statistics.mean(cpu_ratios):.1%} |", flush=True)


if __name__ == "__main__":
    main()
