"""A journey's activities as a directed graph: each activity points to the activities its
participants may go to next. Pure, iterative (no recursion limit on long journeys)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Edge:
    """``source`` sends participants to ``target`` through the member at ``path``."""

    source: str
    target: str
    path: str


Graph = Mapping[str, Sequence[Edge]]
"""Every activity id to the edges leaving it (an empty list for an end of the journey)."""


def find_cycle(graph: Graph) -> tuple[Edge, list[str]] | None:
    """An edge that closes a loop and the loop's activities in order (first == last), or
    None when the graph is acyclic. Activities are visited in the graph's order, so the
    answer is the same for the same request."""
    done: set[str] = set()
    for root in graph:
        if root in done:
            continue
        trail: list[str] = [root]
        on_trail = {root}
        pending: list[Iterator[Edge]] = [iter(graph[root])]
        while pending:
            edge = next(pending[-1], None)
            if edge is None:
                pending.pop()
                on_trail.discard(trail.pop())
                continue
            if edge.target in on_trail:
                loop = trail[trail.index(edge.target) :]
                return edge, [*loop, edge.target]
            if edge.target not in done and edge.target in graph:
                done.add(edge.target)
                trail.append(edge.target)
                on_trail.add(edge.target)
                pending.append(iter(graph[edge.target]))
        done.add(root)
    return None


def reachable(graph: Graph, start: str) -> set[str]:
    """The activities a participant entering at ``start`` may reach, ``start`` included."""
    seen = {start}
    queue = [start]
    while queue:
        for edge in graph.get(queue.pop(), ()):
            if edge.target not in seen:
                seen.add(edge.target)
                queue.append(edge.target)
    return seen


def leads_to(graph: Graph, source: str, target: str) -> bool:
    """Whether some path of one or more steps goes from ``source`` to ``target``."""
    return any(target in reachable(graph, edge.target) for edge in graph.get(source, ()))
