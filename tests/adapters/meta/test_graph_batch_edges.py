"""``Graph.batch_edges``: every page of several edges, read in batch requests.

A Graph edge's page carries ``paging.cursors.after`` and, when there is more, ``paging.next``
("Paginated Results", https://developers.facebook.com/docs/graph-api/results). The walk
follows them edge by edge until none has a next page; a cursor that comes back (a server
answering in a cycle) ends that edge instead of reading it forever."""

from __future__ import annotations

from typing import Any

import pytest

from socialkit.adapters.meta._graph import Graph

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _page(ids: list[str], after: str | None) -> dict[str, Any]:
    paging: dict[str, Any] = {"cursors": {"before": "B", "after": after or "END"}}
    if after is not None:
        paging["next"] = f"https://graph.facebook.com/v25.0/x/comments?after={after}"
    return {"data": [{"id": i} for i in ids], "paging": paging}


class ScriptedGraph(Graph):
    """A Graph whose batch requests answer from a script keyed by relative URL."""

    def __init__(self, answers: dict[str, dict[str, Any]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def batch(self, calls: Any) -> list[Any]:  # type: ignore[override]
        self.asked.extend(url for _, url in calls)
        assert len(self.asked) < 20, "the walk does not end"
        return [self.answers[url] for _, url in calls]


async def test_every_page_of_each_edge_is_read() -> None:
    graph = ScriptedGraph(
        {
            "1/comments?limit=2": _page(["a", "b"], "c1"),
            "1/comments?limit=2&after=c1": _page(["c"], None),
            "2/comments?limit=2": _page(["d"], None),
        }
    )
    got = await graph.batch_edges(["1/comments?limit=2", "2/comments?limit=2"])
    assert got == [[{"id": "a"}, {"id": "b"}, {"id": "c"}], [{"id": "d"}]]


async def test_a_cursor_that_comes_back_ends_the_edge() -> None:
    graph = ScriptedGraph(
        {
            "1/comments": _page(["a"], "A"),
            "1/comments?after=A": _page(["b"], "B"),
            "1/comments?after=B": _page(["c"], "A"),  # back to A: a cycle
        }
    )
    got = await graph.batch_edges(["1/comments"])
    assert got == [[{"id": "a"}, {"id": "b"}, {"id": "c"}]]
    assert graph.asked == ["1/comments", "1/comments?after=A", "1/comments?after=B"]
