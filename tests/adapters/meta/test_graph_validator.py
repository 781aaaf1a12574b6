"""The Graph traffic validator (tests/_validation/graph.py) refuses what Meta's descriptions do
not have: otherwise the checks of the Meta tests could not fail."""

from __future__ import annotations

import json

import httpx
import pytest
from tests._specs import specs_dir
from tests._validation.graph import GraphChecker, ThreadsChecker

TYPES = {"111": "Page", "111_2": "PagePost", "178": "IGUser", "179": "IGMedia"}


@pytest.fixture
def graph() -> GraphChecker:
    return GraphChecker(specs_dir("meta", "graph"), TYPES.get, version="v25.0")


@pytest.fixture
def threads() -> ThreadsChecker:
    return ThreadsChecker(specs_dir("meta", "threads", "threads-api.postman_collection.json"))


def get(path: str, **params: str) -> httpx.Request:
    return httpx.Request("GET", f"https://graph.facebook.com{path}", params=params)


def post(path: str, body: dict[str, object]) -> httpx.Request:
    return httpx.Request("POST", f"https://graph.facebook.com{path}", json=body)


def test_good_requests_pass(graph: GraphChecker) -> None:
    assert (
        graph.request_violations(get("/v25.0/111/posts", fields="id,message,from", limit="5")) == []
    )
    assert graph.request_violations(post("/v25.0/111/feed", {"message": "hi", "link": "x"})) == []
    assert graph.request_violations(get("/v25.0/179", fields="id,children{id,media_url}")) == []
    assert (
        graph.request_violations(
            get("/v25.0/178", fields="business_discovery.username(x){id,media.limit(2){caption}}")
        )
        == []
    )


@pytest.mark.parametrize(
    ("request_", "problem"),
    [
        (post("/v25.0/111/likes_everything", {}), "no edge POST likes_everything"),
        (get("/v25.0/111_2/comments", sort="new"), "parameter 'sort'"),
        (post("/v25.0/111/feed", {"mesage": "typo"}), "parameter 'mesage'"),
        (get("/v25.0/111_2", fields="id,messages"), "no field 'messages'"),
        (get("/v25.0/179", fields="children{id,nonsense}"), "IGMedia has no field 'nonsense'"),
        (get("/v25.0/999", fields="id"), "unknown object"),
        (get("/v24.0/111", fields="id"), "not under the Graph API version"),
        (get("/v25.0/111/feed/extra"), "a Graph path is"),
    ],
)
def test_departures_are_named(graph: GraphChecker, request_: httpx.Request, problem: str) -> None:
    problems = graph.request_violations(request_)
    assert any(problem in p for p in problems), problems


def test_batches_are_checked_call_by_call(graph: GraphChecker) -> None:
    calls = [
        {"method": "GET", "relative_url": "111_2/insights?metric=post_clicks"},
        {"method": "GET", "relative_url": "111_2/insights?metrics=typo"},
    ]
    request = httpx.Request(
        "POST", "https://graph.facebook.com/v25.0/", data={"batch": json.dumps(calls)}
    )
    problems = graph.request_violations(request)
    assert len(problems) == 1
    assert "'metrics'" in problems[0]
    too_many = httpx.Request(
        "POST", "https://graph.facebook.com/v25.0/", data={"batch": json.dumps(calls * 26)}
    )
    assert any("at most 50" in p for p in graph.request_violations(too_many))


def test_threads_requests_follow_the_collection(threads: ThreadsChecker) -> None:
    base = "https://graph.threads.net/v1.0"
    ok = httpx.Request("POST", f"{base}/me/threads", json={"media_type": "TEXT", "text": "x"})
    assert threads.request_violations(ok) == []
    read = httpx.Request("GET", f"{base}/123", params={"fields": "id,text,permalink"})
    assert threads.request_violations(read) == []
    bad_param = httpx.Request("POST", f"{base}/me/threads", json={"media_type": "TEXT", "txt": "x"})
    assert any("'txt'" in p for p in threads.request_violations(bad_param))
    bad_field = httpx.Request("GET", f"{base}/123", params={"fields": "id,likes_total"})
    assert any("likes_total" in p for p in threads.request_violations(bad_field))
    bad_path = httpx.Request("GET", f"{base}/me/followers")
    assert any("no GET" in p for p in threads.request_violations(bad_path))
