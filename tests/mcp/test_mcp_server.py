"""The MCP server end to end: the SDK's client lists and calls the tools against the fakes.

What is asserted is what reaches the fake networks (statuses at FakeMastodon, posts read back
from FakeBluesky) and what the client receives (structured content validated by the SDK
against each tool's output schema).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from tests.mcp.mcp_support import Session, World

from socialkit.mcp import ApprovalStateError
from socialkit.mcp._workspace import AWAITING
from socialkit.workflows.planner import Runner

pytestmark = pytest.mark.anyio

READ_TOOLS = {
    "list_accounts",
    "list_posts",
    "get_metrics",
    "read_inbox",
    "listening",
    "alerts",
    "best_times",
    "calendar",
    "list_approvals",
    "check_post",
}
ACT_TOOLS = {"plan_post", "publish", "reply", "route"}


def _later(hours: float) -> datetime:
    return datetime.now(timezone.utc) + timedelta(hours=hours)


async def test_lists_every_tool_typed_in_and_out(session: Session) -> None:
    listed = (await session.client.list_tools()).tools
    tools = {t.name: t for t in listed}
    assert set(tools) == READ_TOOLS | ACT_TOOLS
    for tool in listed:
        assert tool.input_schema["type"] == "object", tool.name
        assert tool.output_schema is not None
        assert tool.output_schema["type"] == "object"
        assert tool.annotations is not None
        assert tool.annotations.read_only_hint is (tool.name not in ACT_TOOLS), tool.name
    # The inputs are the models' schemas: a post is an object with its text required.
    post = tools["publish"].input_schema
    assert post["required"] == ["post", "accounts"]
    post_schema = post["$defs"]["PostIn"]
    assert "text" in post_schema["required"]
    assert post_schema["additionalProperties"] is False
    assert set(tools["read_inbox"].output_schema["properties"]) >= {"items", "queues", "new"}

    resources = {str(r.uri): r for r in (await session.client.list_resources()).resources}
    assert set(resources) == {
        "socialkit://report",
        "socialkit://heatmap.png",
        "socialkit://accounts",
    }
    assert resources["socialkit://heatmap.png"].mime_type == "image/png"


async def test_accounts_show_capabilities_and_switches(session: Session) -> None:
    data = await session.ok("list_accounts")
    accounts = {a["label"]: a for a in data["accounts"]}
    assert {a: v["network"] for a, v in accounts.items()} == {
        "bird": "x",
        "masto": "mastodon",
        "sky": "bluesky",
    }
    assert "publish_text" in accounts["masto"]["capabilities"]
    assert accounts["sky"]["text_unit"] == "graphemes"
    assert accounts["masto"]["acting"]["publish"] == {"enabled": True, "approval": True}
    assert accounts["bird"]["acting"]["publish"] == {"enabled": False, "approval": True}
    assert accounts["bird"]["acting"]["reply"]["enabled"] is False
    assert accounts["bird"]["acting"]["route"] == {"enabled": True, "approval": False}


async def test_read_inbox_routes_and_filters(session: Session, world: World) -> None:
    fan = world.mastodon.add_user("fan")
    world.mastodon.mention(fan, "help, my order never arrived")
    world.mastodon.mention(fan, "love the new release")

    data = await session.ok("read_inbox", {"network": "mastodon"})
    assert data["new"] == 2
    by_text = {i["message"]["text"].split(" ", 1)[1]: i for i in data["items"]}
    assert set(by_text) == {"help, my order never arrived", "love the new release"}
    assert by_text["help, my order never arrived"]["queue"] == "support"
    assert by_text["help, my order never arrived"]["priority"] == 50
    assert by_text["love the new release"]["queue"] == "inbox"
    # Highest priority first; the queues report counts both.
    assert data["items"][0]["queue"] == "support"
    assert {q["queue"]: q["open"] for q in data["queues"]} == {"inbox": 1, "support": 1}

    support = await session.ok("read_inbox", {"queue": "support", "poll": False})
    assert [i["queue"] for i in support["items"]] == ["support"]
    assert support["new"] == 0
    none_answered = await session.ok("read_inbox", {"status": ["answered"], "poll": False})
    assert none_answered["items"] == []
    other_network = await session.ok("read_inbox", {"network": "bluesky", "poll": False})
    assert other_network["items"] == []


async def test_check_plan_approve_published_once(session: Session, world: World) -> None:
    too_long = await session.ok("check_post", {"post": {"text": "x" * 400}})
    verdicts = {r["account"]: r for r in too_long["results"]}
    assert too_long["ok"] is False
    assert verdicts["masto"]["ok"] is True  # 500 characters on Mastodon
    assert verdicts["sky"]["ok"] is False  # 300 graphemes on Bluesky
    assert verdicts["sky"]["problems"][0]["code"] == "text_too_long"
    assert verdicts["sky"]["problems"][0]["limit"] == 300

    text = "Our spring release is out"
    checked = await session.ok("check_post", {"post": {"text": text}, "accounts": ["masto", "sky"]})
    assert checked["ok"] is True

    at = _later(1)
    planned = await session.ok(
        "plan_post",
        {"post": {"text": text}, "accounts": ["masto", "sky"], "at": at.isoformat()},
    )
    pending = planned["pending"]
    assert planned["planned"] == []
    assert pending["status"] == "pending"
    assert pending["kind"] == "plan"
    calendar = await session.ok("calendar", {})
    assert calendar["entries"] == []
    assert [p["id"] for p in calendar["awaiting_approval"]] == [pending["id"]]

    # A person approves (socialkit mcp approve ID): the post enters the calendar.
    approved = await world.workspace.approve(pending["id"])
    assert approved.status == "done"
    calendar = await session.ok("calendar", {})
    assert calendar["awaiting_approval"] == []
    assert {(e["account"], e["status"], e["text"]) for e in calendar["entries"]} == {
        ("masto", "planned", text),
        ("sky", "planned", text),
    }
    assert world.masto_statuses() == []

    # The planner's worker publishes when due, once, however often it runs.
    def runner() -> Runner:
        return Runner(world.plan_db, world.adapters, clock=lambda: at + timedelta(minutes=1))

    outcomes = await runner().run_once()
    assert sorted(o.status for o in outcomes) == ["published", "published"]
    assert await runner().run_once() == []
    assert len(world.masto_statuses()) == 1
    sky_posts = [p async for p in world.adapters["sky"].posts(limit=10)]
    assert [p.text for p in sky_posts] == [text]
    calendar = await session.ok("calendar", {"status": ["published"]})
    assert len(calendar["entries"]) == 2
    assert all(e["url"] for e in calendar["entries"])
    that_day = await session.ok("calendar", {"day": at.date().isoformat(), "account": "sky"})
    assert [e["account"] for e in that_day["entries"]] == ["sky"]
    other_day = (at + timedelta(days=3)).date().isoformat()
    assert (await session.ok("calendar", {"day": other_day}))["entries"] == []

    # Approving again does nothing: the action is done.
    with pytest.raises(ApprovalStateError):
        await world.workspace.approve(pending["id"])
    assert len(world.masto_statuses()) == 1


async def test_publish_waits_for_approval_then_goes_out_once(
    session: Session, world: World
) -> None:
    result = await session.ok("publish", {"post": {"text": "Hello"}, "accounts": ["masto"]})
    assert result["published"] == []
    assert result["pending"]["status"] == "pending"
    assert world.masto_statuses() == []
    waiting = await session.ok("list_approvals", {"status": ["pending"]})
    assert [a["id"] for a in waiting["actions"]] == [result["pending"]["id"]]

    done = await world.workspace.approve(result["pending"]["id"])
    assert done.status == "done"
    assert done.detail == "published on masto"
    assert len(world.masto_statuses()) == 1
    with pytest.raises(ApprovalStateError):
        await world.workspace.approve(result["pending"]["id"])
    assert len(world.masto_statuses()) == 1
    assert (await session.ok("list_approvals", {"status": ["pending"]}))["actions"] == []


async def test_rejected_publish_never_goes_out(session: Session, world: World) -> None:
    result = await session.ok("publish", {"post": {"text": "Not this"}, "accounts": ["masto"]})
    rejected = await world.workspace.reject(result["pending"]["id"], "off brand")
    assert rejected.status == "rejected"
    with pytest.raises(ApprovalStateError):
        await world.workspace.approve(result["pending"]["id"])
    assert world.masto_statuses() == []


@pytest.mark.parametrize(
    "settings",
    [{"act": {"publish": {"accounts": ["masto"], "approval": False}}}],
)
async def test_publish_without_approval_goes_out_at_once(session: Session, world: World) -> None:
    result = await session.ok(
        "publish", {"post": {"text": "Live", "thread": ["and more"]}, "accounts": ["masto"]}
    )
    [posted] = result["published"]
    assert posted["account"] == "masto"
    assert posted["text"] == "Live"
    assert len(posted["thread"]) == 1
    assert result["pending"]["status"] == "done"
    assert sorted(world.masto_statuses()) == sorted([posted["id"], *posted["thread"]])


async def test_reply_waits_in_the_inbox_then_is_sent(session: Session, world: World) -> None:
    fan = world.mastodon.add_user("fan")
    status_id = world.mastodon.mention(fan, "help please")
    [item] = (await session.ok("read_inbox"))["items"]

    drafted = await session.ok("reply", {"item": item["key"], "text": "We are on it!"})
    assert drafted["reply"] is None
    assert drafted["pending"]["kind"] == "reply"
    inbox = await session.ok("read_inbox", {"poll": False})
    assert inbox["items"][0]["assignee"] == AWAITING
    assert [p["id"] for p in inbox["awaiting_approval"]] == [drafted["pending"]["id"]]
    assert world.masto_statuses() == []

    await world.workspace.approve(drafted["pending"]["id"])
    [reply_id] = world.masto_statuses()
    assert world.mastodon.status_of(reply_id)["in_reply_to_id"] == status_id
    answered = await session.ok("read_inbox", {"status": ["answered"], "poll": False})
    assert [i["key"] for i in answered["items"]] == [item["key"]]


async def test_route_moves_assigns_and_closes(session: Session, world: World) -> None:
    fan = world.mastodon.add_user("fan")
    world.mastodon.mention(fan, "a question about invoices")
    [item] = (await session.ok("read_inbox"))["items"]
    moved = await session.ok("route", {"item": item["key"], "action": "move", "queue": "billing"})
    assert moved["item"]["queue"] == "billing"
    assert moved["item"]["status"] == "assigned"
    assigned = await session.ok(
        "route", {"item": item["key"], "action": "assign", "assignee": "ana"}
    )
    assert assigned["item"]["assignee"] == "ana"
    closed = await session.ok("route", {"item": item["key"], "action": "ignore"})
    assert closed["item"]["status"] == "ignored"
    error = await session.error("route", {"item": item["key"], "action": "move"})
    assert error["type"] == "ConfigurationError"
    assert "queue" in error["message"]


@pytest.mark.parametrize("settings", [{}])
async def test_acting_tools_are_off_by_default(session: Session, world: World) -> None:
    fan = world.mastodon.add_user("fan")
    world.mastodon.mention(fan, "hello?")
    [item] = (await session.ok("read_inbox"))["items"]
    calls: list[tuple[str, dict[str, Any]]] = [
        ("publish", {"post": {"text": "no"}, "accounts": ["masto"]}),
        ("plan_post", {"post": {"text": "no"}, "accounts": ["masto"], "at": _later(2).isoformat()}),
        ("reply", {"item": item["key"], "text": "no"}),
        ("route", {"item": item["key"], "action": "ignore"}),
    ]
    for name, arguments in calls:
        error = await session.error(name, arguments)
        assert error["type"] == "ConfigurationError", name
        assert f"the tool {name} is turned off" in error["message"]
        assert f"[act.{name}]" in error["problems"][0]["message"]
        assert "mcp.toml" in error["fix"]
    assert world.masto_statuses() == []
    assert (await session.ok("list_approvals"))["actions"] == []
    # Reading and the offline check stay available.
    assert (await session.ok("check_post", {"post": {"text": "fine"}}))["ok"] is True


async def test_acting_for_an_account_not_listed_is_refused(session: Session, world: World) -> None:
    error = await session.error("publish", {"post": {"text": "hi"}, "accounts": ["masto", "bird"]})
    assert error["type"] == "ConfigurationError"
    assert error["problems"][0]["message"].startswith("act.publish.accounts: add 'bird'")
    assert (await session.ok("list_approvals"))["actions"] == []


async def test_bad_arguments_get_typed_errors(session: Session, world: World) -> None:
    error = await session.error("list_posts", {"account": "masto", "limit": "many"})
    assert error["type"] == "ValidationError"
    assert error["problems"][0]["field"] == "limit"

    error = await session.error("publish", {"post": {"text": "hi"}})
    assert error["type"] == "ValidationError"
    assert [p["field"] for p in error["problems"]] == ["accounts"]

    error = await session.error("check_post", {"post": {"text": "hi", "colour": "red"}})
    assert error["type"] == "ValidationError"
    assert error["problems"][0]["field"] == "post.colour"

    error = await session.error("list_posts", {"account": "nobody"})
    assert error["type"] == "ConfigurationError"
    assert "unknown account 'nobody'" in error["message"]
    assert "bird, masto, sky" in error["problems"][0]["message"]

    error = await session.error("reply", {"item": "mastodon:404", "text": "hello"})
    assert error["type"] == "NotFoundError"

    error = await session.error("check_post", {"post": {"text": "hi", "language": "not a tag"}})
    assert error["type"] == "ModelValidationError"
    assert error["problems"][0]["field"] == "language"

    unknown = await session.call("delete_everything", {})
    assert unknown.is_error


async def test_calendar_times_need_a_zone_and_an_order(session: Session) -> None:
    """A naive start or end would be read in the server's zone, not the caller's: refused."""
    error = await session.error("calendar", {"start": "2026-01-01T00:00:00"})
    assert error["type"] == "ValidationError"
    assert error["problems"][0]["field"] == "start"
    error = await session.error(
        "calendar", {"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00"}
    )
    assert error["type"] == "ValidationError"
    assert error["problems"][0]["field"] == "end"
    error = await session.error(
        "calendar", {"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"}
    )
    assert error["type"] == "ValidationError"
    assert "after start" in error["message"]


async def test_metrics_take_a_bounded_number_of_ids(session: Session) -> None:
    """An unbounded id list would turn into as many network requests: refused by the schema."""
    ids = [str(n) for n in range(1, 202)]
    error = await session.error("get_metrics", {"account": "masto", "post_ids": ids})
    assert error["type"] == "ValidationError"
    assert error["problems"][0]["field"] == "post_ids"


async def test_invalid_post_is_refused_before_any_request(session: Session, world: World) -> None:
    error = await session.error("publish", {"post": {"text": "y" * 600}, "accounts": ["masto"]})
    assert error["type"] == "InvalidPostError"
    assert error["problems"][0]["code"] == "text_too_long"
    assert error["problems"][0]["actual"] == 600
    assert "problem" in error["fix"]
    assert (await session.ok("list_approvals"))["actions"] == []
    assert world.masto_statuses() == []


async def test_posts_metrics_best_times_and_resources(session: Session, world: World) -> None:
    fan = world.mastodon.add_user("fan")
    posted = await world.adapters["masto"].publish(_post("Metrics please"))
    world.mastodon.like(posted.id or "", fan)

    posts = await session.ok("list_posts", {"account": "masto"})
    assert [(p["id"], p["metrics"]["likes"]) for p in posts["posts"]] == [(posted.id, 1)]
    metrics = await session.ok("get_metrics", {"account": "masto"})
    assert metrics["posts"][posted.id or ""]["likes"] == 1
    assert "followers" in metrics["account_metrics"]

    best = await session.ok("best_times", {"accounts": ["masto"]})
    assert best["posts"] == 1
    assert best["tz"] == "UTC"
    assert len(best["best_hours"]) == 1

    report = await session.client.read_resource("socialkit://report")
    assert '"posts": 1' in report.contents[0].text  # type: ignore[union-attr]
    world.seen.append(report.model_dump_json())
    heatmap = await session.client.read_resource("socialkit://heatmap.png")
    blob = heatmap.contents[0]
    assert blob.mime_type == "image/png"
    import base64

    assert base64.b64decode(blob.blob).startswith(b"\x89PNG\r\n\x1a\n")  # type: ignore[union-attr]


async def test_listening_share_of_voice_and_alerts(session: Session, world: World) -> None:
    fan = world.mastodon.add_user("fan")
    for text in ("socialkit rocks", "socialkit again", "rivalkit is fine"):
        world.mastodon.publish_as(fan, text)
    data = await session.ok("listening", {})
    assert sorted(i["watch"] for i in data["items"]) == ["brand", "brand", "rival"]
    assert data["share_of_voice"] == pytest.approx({"brand": 2 / 3, "rival": 1 / 3})
    only = await session.ok("listening", {"watch": "rival", "poll": False})
    assert [i["watch"] for i in only["items"]] == ["rival"]
    error = await session.error("listening", {"watch": "nope"})
    assert error["type"] == "ConfigurationError"

    alerts = await session.ok("alerts", {})
    assert alerts["new"] == []
    assert alerts["recent"] == []


@pytest.mark.parametrize("settings", [{}])
async def test_listening_needs_watches(session: Session) -> None:
    error = await session.error("alerts", {})
    assert error["type"] == "ConfigurationError"
    assert "[[watches]]" in error["problems"][0]["message"]


def _post(text: str) -> Any:
    from socialkit import Post

    return Post(text=text)


async def test_secrets_stay_out_of_errors(tmp_path: Any, caplog: pytest.LogCaptureFixture) -> None:
    """A refused token, an unexpected failure quoting a token, an error echoing one: the
    results name the error, never the secret."""
    from mcp import Client

    from socialkit._errors import ConfigurationError
    from socialkit._store import MemoryStore
    from socialkit.mcp import McpSettings, Workspace, build_server
    from socialkit.testing.fakes import FakeMastodon

    mastodon = FakeMastodon()
    wrong = "wrong-token-" + "s" * 30
    refused = mastodon.connect(access_token=wrong)
    good = mastodon.connect()
    workspace = Workspace(
        {"refused": refused, "good": good}, store=MemoryStore(), settings=McpSettings()
    )
    server = build_server(workspace)
    texts: list[str] = []

    def boom(**kwargs: Any) -> Any:
        raise RuntimeError(f"failed with Authorization: Bearer {mastodon.access_token}")

    async def echo(*args: Any, **kwargs: Any) -> Any:
        raise ConfigurationError(f"the value {mastodon.access_token} looks odd")

    try:
        async with Client(server) as client:
            auth = await client.call_tool("list_posts", {"account": "refused"})
            assert auth.is_error
            assert auth.structured_content is not None
            assert auth.structured_content["error"]["type"] == "AuthError"
            assert "socialkit auth login" in auth.structured_content["error"]["fix"]
            texts.append(auth.model_dump_json())

            good.posts = boom  # type: ignore[method-assign]
            crash = await client.call_tool("list_posts", {"account": "good"})
            assert crash.structured_content is not None
            assert crash.structured_content["error"] == {
                "type": "InternalError",
                "message": "the server failed (RuntimeError)",
                "problems": [],
                "fix": "An unexpected error; a person looks at the server's log.",
                "retry_after": None,
            }
            texts.append(crash.model_dump_json())

            good.account_metrics = echo  # type: ignore[method-assign]
            echoed = await client.call_tool("get_metrics", {"account": "good", "post_ids": ["1"]})
            assert echoed.structured_content is not None
            # Redacted (by pattern, or by the scrubber by value: whichever sees it first).
            message = echoed.structured_content["error"]["message"]
            assert message.lower() == "the value [redacted] looks odd"
            texts.append(echoed.model_dump_json())
    finally:
        await refused.aclose()
        await good.aclose()
    # The crash is logged for a person, with its traceback, and without the token.
    logged = [r for r in caplog.records if r.name == "socialkit.mcp"]
    assert len(logged) == 1
    assert "RuntimeError" in logged[0].getMessage()
    assert "[redacted]" in logged[0].getMessage().lower()
    texts.append(caplog.text)
    for text in texts:
        assert wrong not in text
        assert mastodon.access_token not in text


async def test_a_crisis_pause_holds_an_approved_publish(session: Session, world: World) -> None:
    """Publishing goes through the planner: a paused account keeps the post in the calendar."""
    from socialkit.workflows.planner import Planner

    await Planner(world.plan_db).pause("masto", reason="bad buzz")
    result = await session.ok("publish", {"post": {"text": "Held"}, "accounts": ["masto", "sky"]})
    done = await world.workspace.approve(result["pending"]["id"])
    assert done.status == "done"
    assert done.detail is not None
    assert done.detail.startswith("published on sky; waiting in the calendar on masto")
    assert world.masto_statuses() == []
    calendar = await session.ok("calendar", {})
    by_account = {e["account"]: e for e in calendar["entries"]}
    assert by_account["masto"]["status"] == "planned"
    assert by_account["masto"]["paused"] is True
    assert by_account["sky"]["status"] == "published"

    await Planner(world.plan_db).resume("masto")
    outcomes = await Runner(world.plan_db, world.adapters).run_once()
    assert [o.status for o in outcomes] == ["published"]
    assert len(world.masto_statuses()) == 1


async def test_planning_follows_the_cadence_rules(tmp_path: Any) -> None:
    from mcp import Client

    from socialkit.workflows.planner import CadenceRule

    world = World(tmp_path, {"act": {"plan_post": {"accounts": ["*"], "approval": False}}})
    world.workspace.rules = [CadenceRule(account="masto", max_per_day=1)]
    # Noon (UTC, the rule's day) of tomorrow: both posts fall on one day whatever the hour the
    # test runs (two hours from now, the second post crossed midnight after 21:55 UTC).
    at = _later(24).replace(hour=12, minute=0, second=0, microsecond=0)
    try:
        async with Client(world.server) as client:
            session = Session(client, world)
            first = await session.ok(
                "plan_post", {"post": {"text": "one"}, "accounts": ["masto"], "at": at.isoformat()}
            )
            assert [e["status"] for e in first["planned"]] == ["planned"]
            error = await session.error(
                "plan_post",
                {
                    "post": {"text": "two"},
                    "accounts": ["masto"],
                    "at": (at + timedelta(minutes=5)).isoformat(),
                },
            )
            assert error["type"] == "PlanConflictError"
            assert error["problems"][0]["code"] == "conflict"
            assert "Choose another time" in error["fix"]
            past = await session.error(
                "plan_post",
                {"post": {"text": "late"}, "accounts": ["masto"], "at": _later(-1).isoformat()},
            )
            assert past["type"] == "ValidationError"
            assert "in the past" in past["message"]
            assert past["problems"][0]["field"] == "at"
    finally:
        await world.aclose()


async def test_alerts_report_a_bad_buzz_once(tmp_path: Any) -> None:
    """Five quiet days of mentions on FakeMastodon, then a burst of complaints: the alerts
    tool finds it once, and keeps it among the recent alerts."""
    from mcp import Client

    from socialkit.testing.fakes import FakeMastodon

    hour = timedelta(hours=1)
    t0 = datetime(2026, 11, 30, 12, tzinfo=timezone.utc)
    mastodon = FakeMastodon()
    fan = mastodon.add_user("fan")
    for h in range(5 * 24):
        for j in range(3):
            mastodon.clock.set(t0 - 5 * 24 * hour + h * hour + timedelta(minutes=10 * j))
            mastodon.publish_as(fan, "using acme today")
    for j in range(12):
        mastodon.clock.set(t0 + timedelta(minutes=4 * j))
        mastodon.publish_as(fan, "acme charged me twice, this is a scam")
    mastodon.clock.set(t0 + hour + timedelta(minutes=1))
    world = World(
        tmp_path,
        {
            "listening_history_days": 6,
            "watches": [{"name": "acme", "role": "brand", "keywords": ["acme"]}],
        },
        mastodon=mastodon,
        clock=mastodon.clock.now,
    )
    try:
        async with Client(world.server) as client:
            session = Session(client, world)
            found = await session.ok("alerts", {})
            [alert] = found["new"]
            assert (alert["watch"], alert["polarity"], alert["network"]) == (
                "acme",
                "negative",
                "mastodon",
            )
            assert alert["negative"] >= 5
            assert [a["start"] for a in found["recent"]] == [alert["start"]]
            again = await session.ok("alerts", {})
            assert again["new"] == []
            assert [a["kind"] for a in again["recent"]] == [alert["kind"]]
    finally:
        await world.aclose()


async def test_resources_fail_with_typed_errors(session: Session) -> None:
    """No post yet: the heatmap says so as a typed error with its fix; the report is empty."""
    import json

    from mcp import MCPError

    with pytest.raises(MCPError) as caught:
        await session.client.read_resource("socialkit://heatmap.png")
    error = json.loads(str(caught.value.error.message))["error"]
    assert error["type"] == "NothingToShowError"
    assert "no posts in the last 30 days" in error["message"]
    assert error["fix"].startswith("Publish first")
    report = await session.client.read_resource("socialkit://report")
    text = report.contents[0].text  # type: ignore[union-attr]
    assert json.loads(text)["posts"] == 0
    session.world.seen.append(text)


@pytest.mark.parametrize("settings", [{"act": {"reply": {"accounts": ["*"], "approval": False}}}])
async def test_reply_without_approval_is_sent_at_once(session: Session, world: World) -> None:
    fan = world.mastodon.add_user("fan")
    status_id = world.mastodon.mention(fan, "is it open source?")
    [item] = (await session.ok("read_inbox"))["items"]
    sent = await session.ok("reply", {"item": item["key"], "text": "Yes, MIT."})
    assert sent["pending"]["status"] == "done"
    assert sent["reply"]["text"].endswith("Yes, MIT.")
    [reply_id] = world.masto_statuses()
    assert sent["reply"]["id"] == reply_id
    assert world.mastodon.status_of(reply_id)["in_reply_to_id"] == status_id
    answered = await session.ok("read_inbox", {"status": ["answered"], "poll": False})
    assert [i["key"] for i in answered["items"]] == [item["key"]]
    empty = await session.error("reply", {"item": item["key"], "text": "   "})
    assert empty["type"] == "InvalidPostError"
    assert len(world.masto_statuses()) == 1


@pytest.mark.parametrize(
    "settings",
    [{"act": {"publish": {"accounts": ["masto"], "approval": False}}}],
)
async def test_a_retried_publish_with_its_request_id_goes_out_once(
    session: Session, world: World
) -> None:
    """An assistant whose call timed out calls again with the same request_id: the second
    call returns the first one's action; nothing is published twice."""
    arguments = {"post": {"text": "Once"}, "accounts": ["masto"], "request_id": "launch-1"}
    first = await session.ok("publish", arguments)
    assert len(first["published"]) == 1
    again = await session.ok("publish", arguments)
    assert again["published"] == []
    assert again["pending"]["id"] == first["pending"]["id"]
    assert again["pending"]["status"] == "done"
    assert len(world.masto_statuses()) == 1

    other = await session.error(
        "publish", {"post": {"text": "Another"}, "accounts": ["masto"], "request_id": "launch-1"}
    )
    assert other["type"] == "ApprovalStateError"
    assert "request_id" in other["problems"][0]["message"]
    assert len(world.masto_statuses()) == 1


async def test_a_retried_draft_is_queued_once(session: Session, world: World) -> None:
    arguments = {"post": {"text": "Draft"}, "accounts": ["masto"], "request_id": "d-1"}
    first = await session.ok("publish", arguments)
    again = await session.ok("publish", arguments)
    assert again["pending"]["id"] == first["pending"]["id"]
    assert len((await session.ok("list_approvals"))["actions"]) == 1


def test_the_scrubber_replaces_configured_secrets_by_value() -> None:
    from socialkit.mcp import Scrubber

    scrubber = Scrubber(["plain-words-secret", "short", "plain-words-secret-longer"])
    data = {
        "a": ["x plain-words-secret-longer y", "plain-words-secret"],
        "plain-words-secret": 1,
        "n": 3,
    }
    assert scrubber.data(data) == {
        "a": ["x [redacted] y", "[redacted]"],
        "[redacted]": 1,
        "n": 3,
    }
    # Values too short to be secrets are not replaced (they would garble the data).
    assert scrubber.text("short") == "short"
