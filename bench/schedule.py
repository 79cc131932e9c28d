"""The plan's schedule: projecting a 200-item plan, against a plain topological sort.

    .venv/bin/python bench/schedule.py [--milestones 20] [--tasks 180] [--repeat 25]
                                       [--round-ms 100] [--against REV] [--profile]

Builds a synthetic plan in memory (no database): MILESTONES milestones in five layers,
each waiting for one or two milestones of the layer before (diamonds and parallel
branches), and TASKS tasks spread over them; the early layers are partly done, and
some of their open tasks and milestones are past their dates. Then, in the same run,
with ``timeit`` (REPEAT rounds per case, each of as many calls as fill about ROUND_MS;
time per call: best and median of the rounds):

1. baseline: ``schedule.topological_order(items)`` (builds the same edges and orders
   them, nothing more);
2. ``schedule.project(items, today=, target_close=)``;
3. ``Schedule.consequences()`` on the projected plan (one more forward pass per late
   item), and project + consequences together (what a room page or an alert run pays).

Prints absolute times per plan, the ratio project / toposort, and whether projecting
the plan stays well under 5 ms (taken as: at most half of it). ``--against REV`` also
measures ``plans/schedule`` as it was at git revision REV, on the same plan in the
same run. ``--profile`` adds a cProfile of ``project``.
"""

import argparse
import cProfile
import dataclasses
import datetime
import importlib.util
import io
import pstats
import random
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from plans import schedule  # noqa: E402  (pure module: no Django needed)

TODAY = datetime.date(2026, 12, 6)
LAYERS = 5
TARGET_MS = 5.0


def build(milestones=20, tasks=180, seed=2026):
    """The plan's items (milestones first, then tasks), and its target close."""
    rnd = random.Random(seed)
    day = datetime.timedelta(days=1)
    per_layer = max(1, milestones // LAYERS)
    layers = []
    items = []
    for n in range(milestones):
        layer = min(n // per_layer, LAYERS - 1)
        while len(layers) <= layer:
            layers.append([])
        # Layer 0 lies around today (some of it behind), the last one at the close.
        date = TODAY + (layer * 14 - 6 + rnd.randint(0, 6)) * day
        before = layers[layer - 1] if layer else []
        depends = tuple(m.id for m in rnd.sample(before, min(len(before), rnd.choice((1, 2)))))
        done = layer == 0 and rnd.random() < 0.5
        m = schedule.Item(
            id=uuid.UUID(int=rnd.getrandbits(128)),
            kind=schedule.MILESTONE,
            title=f"Milestone {n + 1}",
            date=date,
            done=done,
            completed=date - 2 * day if done else None,
            depends_on=depends,
            order=n,
        )
        layers[layer].append(m)
        items.append(m)
    ms = list(items)
    for n in range(tasks):
        m = ms[n % len(ms)]
        due = m.date - rnd.randint(0, 12) * day
        done = m.done or (due < TODAY and rnd.random() < 0.4)
        items.append(
            schedule.Item(
                id=uuid.UUID(int=rnd.getrandbits(128)),
                kind=schedule.TASK,
                title=f"Task {n + 1}",
                date=due,
                done=done,
                completed=due + rnd.randint(-2, 2) * day if done else None,
                milestone_id=m.id,
                order=n,
            )
        )
    target_close = max(m.date for m in ms)
    return items, target_close


def measure(fn, repeat, round_seconds):
    """Seconds per call: (best, median) over ``repeat`` rounds, and the calls per round
    (as many as take about ``round_seconds``)."""
    timer = timeit.Timer(fn)
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-6)
    number = max(1, round(round_seconds / once))
    rounds = [t / number for t in timer.repeat(repeat=repeat, number=number)]
    return min(rounds), statistics.median(rounds), number


def ms(seconds):
    return f"{seconds * 1000:.3f} ms"


def module_at(rev):
    """``plans/schedule`` as it was at git revision ``rev``, as a module (a package since it
    was split by concern; one file before)."""

    def show(path):
        return subprocess.run(
            ["git", "show", f"{rev}:{path}"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    listed = subprocess.run(
        ["git", "ls-tree", "--name-only", rev, "plans/schedule/"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    folder = Path(tempfile.mkdtemp())
    if listed:  # the package: its modules, imported under a name of their own
        package = folder / "schedule_at_rev"
        package.mkdir()
        for name in listed:
            if name.endswith(".py"):
                (package / Path(name).name).write_text(show(name))
        spec = importlib.util.spec_from_file_location(
            "schedule_at_rev", package / "__init__.py", submodule_search_locations=[str(package)]
        )
    else:
        path = folder / "schedule_at_rev.py"
        path.write_text(show("plans/schedule.py"))
        spec = importlib.util.spec_from_file_location("schedule_at_rev", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def cases(module, items, target_close, prefix=""):
    """What is timed, for one version of the module (its own Item rows)."""
    if module is not schedule:
        items = [module.Item(**dataclasses.asdict(i)) for i in items]
    projected = module.project(items, today=TODAY, target_close=target_close)

    def project():
        return module.project(items, today=TODAY, target_close=target_close)

    return [
        (prefix + "baseline: topological_order", lambda: module.topological_order(items)),
        (prefix + "project", project),
        (prefix + "Schedule.consequences()", projected.consequences),
        (prefix + "project + consequences()", lambda: project().consequences()),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--milestones", type=int, default=20)
    parser.add_argument("--tasks", type=int, default=180)
    parser.add_argument("--repeat", type=int, default=25, help="rounds per case")
    parser.add_argument("--round-ms", type=float, default=100, help="length of a round")
    parser.add_argument("--against", metavar="REV", help="also time the module at REV")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    items, target_close = build(args.milestones, args.tasks)
    projected = schedule.project(items, today=TODAY, target_close=target_close)
    edges = schedule.edges(items)
    late = [p for p in projected.items.values() if p.overdue]
    consequences = projected.consequences()
    done = sum(1 for i in items if i.done)
    print(
        f"plan: {len(items)} items ({args.milestones} milestones, {args.tasks} tasks), "
        f"{len(edges)} edges, {done} done, {len(late)} late (open, past their date); "
        f"today {TODAY}, target close {target_close}, projected close "
        f"{projected.projected_close} (slip {projected.slip_days} days), critical path "
        f"{len(projected.critical_path)} items, {len(consequences)} consequences"
    )
    assert len(schedule.topological_order(items)) == len(items)

    r, round_seconds = args.repeat, args.round_ms / 1000
    timed = cases(schedule, items, target_close)
    if args.against:
        timed += cases(module_at(args.against), items, target_close, f"{args.against}: ")
    results = {}
    print(f"\n{r} rounds per case of about {args.round_ms:g} ms; time per plan")
    print(
        f"{'':37} {'calls/round':>11} {'best':>10} {'median':>10} "
        f"{'ratio (best)':>13} {'ratio (median)':>15}"
    )
    base = None
    for name, fn in timed:
        fn()  # warm-up
        best, median, number = measure(fn, r, round_seconds)
        results[name] = (best, median)
        if "baseline" in name:
            base = (best, median)  # ratios: to the baseline of the same version
        print(
            f"{name:37} {number:>11} {ms(best):>10} {ms(median):>10} "
            f"{best / base[0]:>13.2f} {median / base[1]:>15.2f}"
        )
    best, median = results["project"]
    verdict = "met" if median <= TARGET_MS / 1000 / 2 else "NOT met"
    print(
        f"\nproject, {len(items)} items: {ms(median)} median, {ms(best)} best "
        f"({median * 1e6 / len(items):.2f} µs an item); target well under {TARGET_MS:g} ms "
        f"(taken as at most half of it): {verdict}"
    )
    cons = results["Schedule.consequences()"][1]
    print(
        f"consequences(): {ms(cons)} median for {len(late)} late items "
        f"({cons * 1e6 / max(1, len(late)):.1f} µs a late item)"
    )

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(200):
            schedule.project(items, today=TODAY, target_close=target_close)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(12)
        print("\n" + out.getvalue())


if __name__ == "__main__":
    main()
