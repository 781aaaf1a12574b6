"""The MCP server (official SDK, ``mcp`` >= 2): tools and resources over a :class:`Workspace`.

Every tool has a typed input (its signature, with descriptions) and a typed output (a pydantic
model of :mod:`socialkit.mcp._models`, published as the tool's ``outputSchema``). A failure is a
result with ``isError`` whose structured content is a :class:`~socialkit.mcp.ToolFailure`: the
socialkit error's class, message, problems and the fix. Arguments the schema refuses get the
same shape (a ``ValidationError``). Every result goes through the server's scrubber, which
replaces each configured secret (the adapters' ``SecretStr`` settings, the HTTP token) found in
it, whatever path it took.
"""

from __future__ import annotations

import functools
import json
import logging
import traceback
from collections.abc import Awaitable, Callable, Iterable
from datetime import date, datetime
from typing import Annotated, Any, Literal, TypeVar

import pydantic
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.context import Context
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.types import CallToolResult, InputRequiredResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field, SecretStr

from socialkit._errors import SocialkitError
from socialkit._http._redact import redact_text
from socialkit._version import __version__
from socialkit.mcp._failures import error_info, validation_info
from socialkit.mcp._models import (
    AccountsResult,
    AlertsResult,
    ApprovalsResult,
    BestTimesResult,
    CalendarResult,
    CheckResult,
    ErrorInfo,
    InboxResult,
    ListeningResult,
    MetricsResult,
    PlanResult,
    PostIn,
    PostsResult,
    PublishResult,
    ReplyResult,
    RouteResult,
    ToolFailure,
)
from socialkit.mcp._workspace import Workspace
from socialkit.workflows.inbox import Status
from socialkit.workflows.planner import TargetStatus

__all__ = ["Scrubber", "SocialkitMCP", "build_server"]

REDACTED = "[redacted]"

logger = logging.getLogger("socialkit.mcp")

_M = TypeVar("_M", bound=BaseModel)
_R = TypeVar("_R")

INSTRUCTIONS = """\
socialkit: the social media accounts of this organisation (Mastodon, Bluesky, X, ...).
Read first: list_accounts (what each account can do, which acting tools are on), read_inbox,
listening, alerts, best_times, calendar. Before publishing or planning, run check_post: it
finds every problem offline. Acting tools (publish, reply, route, plan_post) are off unless a
person turned them on for an account; publish, reply and plan_post may only queue the action
for a person's approval (the result's `pending`), which is the expected outcome, not an error.
A failed call returns {"error": {"type", "message", "problems", "fix"}}: follow the fix.
"""


class Scrubber:
    """Replaces known secret values in any text or JSON data by ``[redacted]``.

    The errors of socialkit are built never to carry secrets; this is the last guard, by value,
    for whatever a network or a library might echo.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret containing another is replaced whole. Short values are
        # left out: replacing "1" everywhere would destroy the data and protect nothing.
        self.secrets = sorted({s for s in secrets if len(s) >= 8}, key=len, reverse=True)

    @classmethod
    def for_workspace(cls, workspace: Workspace, extra: Iterable[str] = ()) -> Scrubber:
        found = list(extra)
        for adapter in workspace.adapters.values():
            for name in type(adapter.settings).model_fields:
                value = getattr(adapter.settings, name, None)
                if isinstance(value, SecretStr):
                    found.append(value.get_secret_value())
        return cls(found)

    def text(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def data(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        return value


class SocialkitMCP(MCPServer[Any]):
    """``MCPServer`` whose refused arguments come back as a socialkit ``ValidationError``."""

    def __init__(self, workspace: Workspace, scrubber: Scrubber, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.workspace = workspace
        self.scrubber = scrubber

    def success(self, model: BaseModel) -> CallToolResult:
        data = self.scrubber.data(model.model_dump(mode="json"))
        return CallToolResult(
            content=[TextContent(type="text", text=json.dumps(data, ensure_ascii=False))],
            structured_content=data,
        )

    def failure(self, info: ErrorInfo) -> CallToolResult:
        data = self.scrubber.data(ToolFailure(error=info).model_dump(mode="json"))
        return CallToolResult(
            content=[TextContent(type="text", text=json.dumps(data, ensure_ascii=False))],
            structured_content=data,
            is_error=True,
        )

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            cause = exc.__cause__
            # The SDK names the model of a tool's arguments "<tool>Arguments".
            if isinstance(cause, pydantic.ValidationError) and cause.title.endswith("Arguments"):
                return self.failure(validation_info(name, cause))
            return self.failure(
                ErrorInfo(
                    type="ConfigurationError" if name not in self._tool_names() else "ToolError",
                    message=self.scrubber.text(str(exc)),
                    fix="Call list_tools and use one of the tools it lists."
                    if name not in self._tool_names()
                    else "Check the arguments against the tool's input schema.",
                )
            )

    def _tool_names(self) -> set[str]:
        return {t.name for t in self._tool_manager.list_tools()}


def _typed(
    server: SocialkitMCP, fn: Callable[..., Awaitable[_M]]
) -> Callable[..., Awaitable[CallToolResult]]:
    """Wrap a tool so that its model becomes structured content and its errors typed data.

    The wrapper keeps the tool's signature (``functools.wraps``), so the SDK derives the input
    schema from the parameters and the output schema from the model it returns.
    """

    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> CallToolResult:
        try:
            result = await fn(*args, **kwargs)
        except Exception as exc:  # every failure is a typed result, never a traceback
            if not isinstance(exc, SocialkitError | KeyError):
                # The person reading the log gets the traceback, scrubbed like every result.
                text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
                logger.error(
                    "tool %s failed unexpectedly:\n%s",
                    fn.__name__,
                    server.scrubber.text(redact_text(text)),
                )
            return server.failure(error_info(exc))
        return server.success(result)

    return wrapper


READ = ToolAnnotations(read_only_hint=True, open_world_hint=True)
LOCAL = ToolAnnotations(read_only_hint=True, open_world_hint=False)

Account = Annotated[str, Field(description="An account label (see list_accounts).")]
Accounts = Annotated[
    list[str] | None,
    Field(description="Account labels (see list_accounts); none: every account."),
]
Limit = Annotated[int, Field(ge=1, le=200, description="How many at most.")]
RequestId = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=200,
        description="Your unique name for this request: calling again with the same one "
        "returns the first call's action instead of acting twice (use it when retrying).",
    ),
]


def build_server(workspace: Workspace, *, secrets: Iterable[str] = ()) -> SocialkitMCP:
    """The MCP server of ``workspace``; ``secrets`` are scrubbed too (the HTTP token)."""
    server = SocialkitMCP(
        workspace,
        Scrubber.for_workspace(workspace, secrets),
        name="socialkit",
        title="socialkit",
        version=__version__,
        instructions=INSTRUCTIONS,
        log_level="WARNING",
    )
    ws = workspace

    def tool(
        annotations: ToolAnnotations, title: str
    ) -> Callable[[Callable[..., Awaitable[_M]]], Callable[..., Awaitable[_M]]]:
        def register(fn: Callable[..., Awaitable[_M]]) -> Callable[..., Awaitable[_M]]:
            server.add_tool(
                _typed(server, fn),
                name=fn.__name__,
                title=title,
                description=(fn.__doc__ or "").strip()
                + "\n\nOn failure: isError with {error: {type, message, problems, fix}}.",
                annotations=annotations.model_copy(update={"title": title}),
            )
            # The schema stays published (clients validate against it), but the SDK does not
            # validate again in Python mode: that refuses the JSON form (ISO datetimes) of
            # socialkit's strict models. The content is a dump of a model already validated.
            registered = server._tool_manager.get_tool(fn.__name__)
            assert registered is not None
            assert registered.output_schema is not None
            registered.fn_metadata.output_model = None
            return fn

        return register

    # -- reading ------------------------------------------------------------------------------

    @tool(LOCAL, "Accounts")
    async def list_accounts() -> AccountsResult:
        """The configured accounts: network, capabilities, text limits, and for each acting tool
        whether it may act for the account and whether a person approves first."""
        return ws.accounts()

    @tool(READ, "Posts")
    async def list_posts(account: Account, limit: Limit = 20) -> PostsResult:
        """The account's latest posts with their counts (likes, reposts, replies ...)."""
        return await ws.posts(account, limit)

    @tool(READ, "Metrics")
    async def get_metrics(
        account: Account,
        post_ids: Annotated[
            list[str] | None,
            Field(max_length=200, description="Post ids (200 at most); none: the latest posts."),
        ] = None,
        limit: Limit = 20,
    ) -> MetricsResult:
        """Metrics of the account and of its posts (impressions, likes, reposts ...)."""
        return await ws.metrics(account, post_ids, limit)

    @tool(READ, "Inbox")
    async def read_inbox(
        status: Annotated[
            list[Status] | None, Field(description="Statuses to show; none: every one.")
        ] = ["new", "assigned"],  # noqa: B006 - a schema default, never mutated
        queue: Annotated[str | None, Field(description="Only this routing queue.")] = None,
        network: Annotated[str | None, Field(description="Only this network.")] = None,
        poll: Annotated[bool, Field(description="Fetch new messages first.")] = True,
        limit: Limit = 50,
    ) -> InboxResult:
        """The unified inbox (comments, mentions, direct messages) with routing queues,
        priorities, statuses, per-queue response times, and replies awaiting approval."""
        return await ws.read_inbox(
            status=status, queue=queue, network=network, poll=poll, limit=limit
        )

    @tool(READ, "Listening")
    async def listening(
        watch: Annotated[str | None, Field(description="One watch; none: every one.")] = None,
        hours: Annotated[int, Field(ge=1, le=24 * 90, description="Items of the last hours.")] = 24,
        poll: Annotated[bool, Field(description="Search the networks first.")] = True,
        weight: Literal["mentions", "engagement"] = "mentions",
        limit: Limit = 50,
    ) -> ListeningResult:
        """What the watches (keywords, hashtags, accounts) found, and the share of voice of
        the brand against its competitors."""
        return await ws.listening_results(
            watch=watch, hours=hours, poll=poll, limit=limit, weight=weight
        )

    @tool(READ, "Alerts")
    async def alerts(
        check: Annotated[bool, Field(description="Listen and check for new bursts first.")] = True,
        limit: Limit = 20,
    ) -> AlertsResult:
        """Bad-buzz and volume alerts of the watches: the new ones and the recent ones."""
        return await ws.alerts(check=check, limit=limit)

    @tool(READ, "Best times")
    async def best_times(
        days: Annotated[int, Field(ge=1, le=365, description="Posts of the last days.")] = 30,
        accounts: Accounts = None,
        top: Annotated[int, Field(ge=1, le=24)] = 3,
    ) -> BestTimesResult:
        """When the audience engages most: the best hours and weekday-hours, with advice."""
        return await ws.best_times(days=days, accounts=accounts, top=top)

    @tool(LOCAL, "Calendar")
    async def calendar(
        start: Annotated[datetime | None, Field(description="From (ISO 8601 with zone).")] = None,
        end: Annotated[datetime | None, Field(description="Until (ISO 8601 with zone).")] = None,
        account: Annotated[str | None, Field(description="Only this account.")] = None,
        status: Annotated[
            list[TargetStatus] | None, Field(description="Only these statuses.")
        ] = None,
        day: Annotated[
            date | None, Field(description="One day (YYYY-MM-DD) in the settings' time zone.")
        ] = None,
        week: Annotated[
            date | None, Field(description="The ISO week (Monday to Sunday) holding this date.")
        ] = None,
    ) -> CalendarResult:
        """The content calendar (the planner): planned, published and failed posts by time
        (a day, a week, or start..end; default: yesterday to two weeks ahead), and posts that
        wait for a person's approval."""
        return await ws.calendar(
            start=start, end=end, account=account, status=status, day=day, week=week
        )

    @tool(LOCAL, "Approvals")
    async def list_approvals(
        status: Annotated[
            list[Literal["pending", "running", "done", "rejected", "failed"]] | None,
            Field(description="Only these statuses; none: every one."),
        ] = None,
    ) -> ApprovalsResult:
        """Actions queued through MCP for a person's approval, and what became of them."""
        return ApprovalsResult(actions=await ws.approvals_list(status))

    # -- acting -------------------------------------------------------------------------------

    @tool(LOCAL, "Check a post")
    async def check_post(post: PostIn, accounts: Accounts = None) -> CheckResult:
        """The offline pre-flight: every reason the post cannot be published on each account's
        network (length in that network's unit, threads, languages ...). Nothing is sent."""
        return ws.check_post(post, accounts)

    @tool(ToolAnnotations(read_only_hint=False, destructive_hint=False), "Plan a post")
    async def plan_post(
        post: PostIn,
        accounts: Annotated[list[str], Field(min_length=1, description="Account labels.")],
        at: Annotated[datetime, Field(description="When (ISO 8601 with zone).")],
        campaign: Annotated[str | None, Field(description="A campaign name.")] = None,
        request_id: RequestId = None,
    ) -> PlanResult:
        """Put a post in the calendar for the accounts at a time; the planner publishes it
        then, exactly once. May wait for a person's approval first (the result's pending)."""
        return await ws.plan_post(post, accounts, at, campaign=campaign, request_id=request_id)

    @tool(
        ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=True),
        "Publish",
    )
    async def publish(
        post: PostIn,
        accounts: Annotated[list[str], Field(min_length=1, description="Account labels.")],
        request_id: RequestId = None,
    ) -> PublishResult:
        """Publish a post (or a thread) now on the accounts, or queue it for a person's
        approval (the result's pending). Run check_post first."""
        return await ws.publish(post, accounts, request_id=request_id)

    @tool(
        ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=True),
        "Reply",
    )
    async def reply(
        item: Annotated[str, Field(description="The inbox item key (read_inbox).")],
        text: Annotated[str, Field(min_length=1, description="The answer.")],
        request_id: RequestId = None,
    ) -> ReplyResult:
        """Answer an inbox message through the account it came in, or draft the answer for a
        person's approval (the result's pending)."""
        return await ws.reply(item, text, request_id=request_id)

    @tool(ToolAnnotations(read_only_hint=False, destructive_hint=False), "Route")
    async def route(
        item: Annotated[str, Field(description="The inbox item key (read_inbox).")],
        action: Annotated[
            Literal["assign", "move", "ignore"],
            Field(description="assign (to someone), move (to a queue), ignore (close)."),
        ],
        queue: Annotated[str | None, Field(description="The queue to move it to.")] = None,
        assignee: Annotated[str | None, Field(description="Who handles it.")] = None,
    ) -> RouteResult:
        """Route an inbox message: assign it, move it to another queue, or close it."""
        return await ws.route(item, action, queue=queue, assignee=assignee)

    # -- resources ----------------------------------------------------------------------------

    async def guarded(read: Callable[[], Awaitable[_R]]) -> _R:
        """A resource's failure as the MCP error's message: the typed error, as JSON."""
        try:
            return await read()
        except Exception as exc:
            failure = ToolFailure(error=error_info(exc)).model_dump(mode="json")
            raise ResourceError(json.dumps(server.scrubber.data(failure))) from None

    @server.resource(
        "socialkit://report",
        name="report",
        title="Analytics report",
        description="Metrics of the last 30 days per network, top posts, best hours, advice.",
        mime_type="application/json",
    )
    async def report_resource() -> str:
        report = await guarded(ws.report)
        return json.dumps(server.scrubber.data(report), indent=2)

    @server.resource(
        "socialkit://heatmap.png",
        name="heatmap",
        title="Best-time heatmap",
        description="Engagement by weekday (rows, Monday first) and hour (columns), as a PNG.",
        mime_type="image/png",
    )
    async def heatmap_resource() -> bytes:
        return await guarded(ws.heatmap)

    @server.resource(
        "socialkit://accounts",
        name="accounts",
        title="Accounts",
        description="The accounts, their capabilities and acting switches (as list_accounts).",
        mime_type="application/json",
    )
    async def accounts_resource() -> str:
        return json.dumps(server.scrubber.data(ws.accounts().model_dump(mode="json")), indent=2)

    return server
