"""The waits-for graph between a plan's items (see the package's docstring for the rule):
the items by position (``_Plan``), its edges, and the order in which the passes over it
visit them (what is waited for first)."""

from __future__ import annotations

from collections import defaultdict

from .values import MILESTONE, TASK, Edge


def edges(items):
    """The waits-for edges between the items (see the module's docstring)."""
    plan = _Plan(list(items))
    return [Edge(plan.items[b].id, plan.items[a].id, gap) for b, a, gap in plan.links]


class _Plan:
    """The items as the passes over the graph see them: by position. ``keys[k]`` stands
    for the id of item ``k`` (the position of the last item with that id, the one a
    dict by id keeps), ``items[key]`` is that item, ``links`` are the waits-for edges as
    (before, after, gap) in the order ``edges`` gives them, and ``preds[after]`` the
    (before, gap) pairs into each. Ids are often UUIDs, which hash in Python: the
    passes look up small ints instead, a few times per edge."""

    __slots__ = ("items", "index", "keys", "links", "preds")

    def __init__(self, items):
        self.items = items
        index = {}
        for k, item in enumerate(items):
            index[item.id] = k
        self.index = index
        # With unique ids (a room's rows) each item is its own key.
        unique = len(index) == len(items)
        keys = self.keys = list(range(len(items))) if unique else [index[i.id] for i in items]
        tasks_of = defaultdict(list)  # a milestone's key -> the positions of its tasks
        for k, item in enumerate(items):
            if item.kind == TASK:
                m = index.get(item.milestone_id, -1)
                if m >= 0:
                    tasks_of[m].append(k)
        links = self.links = []
        preds = self.preds = defaultdict(list)

        def link(before, after, gap):
            links.append((before, after, gap))
            preds[after].append((before, gap))

        for k, m in enumerate(items):
            if m.kind != MILESTONE:
                continue
            km = keys[k]
            deps = []
            for d in m.depends_on:
                kd = index.get(d, -1)
                if kd >= 0 and kd != km:
                    deps.append(kd)
            for kd in deps:
                link(kd, km, max(0, _gap(items[kd].date, m.date)))
            for t in tasks_of[km]:
                task = items[t]
                if task.date is None:
                    continue
                kt = keys[t]
                link(kt, km, max(0, _gap(task.date, m.date)))
                for kd in deps:
                    dep = items[kd]
                    if dep.date is not None:
                        # The task keeps its planned distance to what its milestone waits for.
                        link(kd, kt, _gap(dep.date, task.date))


def _gap(before, after):
    if before is None or after is None:
        return 0
    return (after - before).days


def _order(keys, preds):
    """The keys (``_Plan`` positions) so that what is waited for comes first (Kahn); the
    members of a cycle, which cannot exist in good data, follow in their plan order."""
    size = max(keys, default=-1) + 1
    indegree = [0] * size
    succs = defaultdict(list)
    for after, before_list in preds.items():
        for before, _gap in before_list:
            indegree[after] += 1
            succs[before].append(after)
    ready = [i for i in keys if indegree[i] == 0]
    out = []
    seen = [False] * size
    while ready:
        nxt = []
        for i in ready:
            out.append(i)
            seen[i] = True
            for s in succs.get(i, ()):
                indegree[s] -= 1
                if indegree[s] == 0:
                    nxt.append(s)
        ready = nxt
    out.extend(i for i in keys if not seen[i])
    return out


def topological_order(items):
    """A plain topological sort of the same graph (the benchmark's baseline): the ids,
    what is waited for first."""
    plan = _Plan(list(items))
    return [plan.items[k].id for k in _order(plan.keys, plan.preds)]
