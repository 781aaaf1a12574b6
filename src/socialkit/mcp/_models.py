"""The typed inputs and outputs of the MCP tools (their JSON schemas are these models').

Outputs carry what an assistant needs and nothing of the credentials: accounts are named by
their labels, posts by id, url and text; no model here has a field for a setting, a token or
a header.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from socialkit._models import Post, Problem
from socialkit.workflows.alerts import Alert
from socialkit.workflows.analytics import Slot
from socialkit.workflows.inbox import InboxItem, QueueReport
from socialkit.workflows.listening import ListenedItem

__all__ = [
    "AccountInfo",
    "AccountsResult",
    "ActingSwitch",
    "AlertsResult",
    "ApprovalsResult",
    "BestTimesResult",
    "CalendarEntry",
    "CalendarResult",
    "CheckResult",
    "ErrorInfo",
    "InboxResult",
    "ListeningResult",
    "MetricsResult",
    "NetworkCheck",
    "Pending",
    "PlanResult",
    "PostIn",
    "PostOut",
    "PostsResult",
    "PublishResult",
    "ReplyResult",
    "RouteResult",
    "ToolFailure",
]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ErrorInfo(_Out):
    """A socialkit error as data: its class, its sentence, each problem, and what to do."""

    type: str = Field(description="The socialkit error class, e.g. InvalidPostError.")
    message: str
    problems: list[Problem] = Field(default_factory=list)
    fix: str = Field(description="What to change or do so that the call succeeds.")
    retry_after: float | None = Field(
        default=None, description="Seconds to wait before trying again (rate limits)."
    )


class ToolFailure(_Out):
    """What a failed call returns (with ``isError``) as its structured content."""

    error: ErrorInfo


class PostIn(BaseModel):
    """A post to check, plan or publish: text, an optional thread and the usual options.

    Media are not taken through MCP: a tool that reads files named by an assistant would let
    it send any file of this machine to a network.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str = Field(description="The text of the (first) post.")
    thread: list[str] = Field(default_factory=list, description="Texts of the following posts.")
    link: str | None = None
    language: str | None = Field(default=None, description="BCP 47 tag, e.g. 'en' or 'fr'.")
    content_warning: str | None = None
    sensitive: bool = False
    visibility: Literal["public", "unlisted", "followers", "direct"] = "public"

    def to_post(self) -> Post:
        """The socialkit :class:`~socialkit.Post` (a bad value raises ``ValidationError``)."""
        return Post(
            text=self.text,
            thread=[Post(text=t) for t in self.thread],
            link=self.link,
            language=self.language,
            content_warning=self.content_warning,
            sensitive=self.sensitive,
            visibility=self.visibility,
        )


class PostOut(_Out):
    """A post as published or read: where it is, what it says, its counts."""

    account: str
    network: str | None = None
    id: str | None = None
    url: str | None = None
    text: str = ""
    created_at: datetime | None = None
    metrics: dict[str, int] = Field(default_factory=dict)
    thread: list[str] = Field(default_factory=list, description="Ids of the thread's posts.")

    @classmethod
    def of(cls, account: str, post: Post) -> PostOut:
        return cls(
            account=account,
            network=post.network,
            id=post.id,
            url=post.url,
            text=post.text,
            created_at=post.created_at,
            metrics=dict(post.metrics),
            thread=[p.id for p in post.thread if p.id],
        )


class ActingSwitch(_Out):
    enabled: bool
    approval: bool


class AccountInfo(_Out):
    label: str
    network: str
    capabilities: list[str]
    max_text: int | None = Field(description="Longest text, in text_unit.")
    text_unit: str
    max_media: int
    max_thread: int | None
    acting: dict[str, ActingSwitch] = Field(
        description="Each acting tool: whether it may act for this account, and whether a "
        "person approves first."
    )


class AccountsResult(_Out):
    accounts: list[AccountInfo]


class PostsResult(_Out):
    posts: list[PostOut]


class MetricsResult(_Out):
    account: str
    account_metrics: dict[str, float] = Field(default_factory=dict)
    posts: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="Per post id: metric name to value."
    )


class InboxResult(_Out):
    new: int = Field(description="Messages that arrived with this call's poll.")
    items: list[InboxItem]
    queues: list[QueueReport]
    errors: dict[str, ErrorInfo] = Field(
        default_factory=dict, description="Accounts whose poll failed."
    )
    awaiting_approval: list[Pending] = Field(
        default_factory=list, description="Replies drafted through MCP that wait for a person."
    )


class ListeningResult(_Out):
    items: list[ListenedItem]
    share_of_voice: dict[str, float]
    errors: dict[str, ErrorInfo] = Field(default_factory=dict)


class AlertsResult(_Out):
    new: list[Alert] = Field(description="Alerts found by this call's check.")
    recent: list[Alert] = Field(description="Alerts recorded by this server, newest first.")


class BestTimesResult(_Out):
    tz: str
    posts: int = Field(description="Posts the figures come from.")
    best_hours: list[Slot]
    best_times: list[Slot] = Field(description="Best weekday and hour cells.")
    recommendations: list[str]
    errors: dict[str, ErrorInfo] = Field(default_factory=dict)


class NetworkCheck(_Out):
    account: str
    network: str
    ok: bool
    problems: list[Problem]


class CheckResult(_Out):
    ok: bool
    results: list[NetworkCheck]


class Pending(_Out):
    """An action that waits for a person's approval (``socialkit mcp approve ID``)."""

    id: str
    kind: Literal["publish", "plan", "reply"]
    status: Literal["pending", "running", "done", "rejected", "failed"]
    accounts: list[str]
    text: str
    at: datetime | None = None
    item: str | None = Field(default=None, description="The inbox item a reply answers.")
    created_at: datetime
    decided_at: datetime | None = None
    detail: str | None = None
    post: dict[str, Any] | None = Field(default=None, description="The post, as socialkit data.")


class CalendarEntry(_Out):
    """A target of the plan: one post for one account at one time."""

    id: str
    post_id: str
    account: str
    network: str
    due_at: datetime
    status: str
    text: str
    url: str | None = None
    error: str | None = None
    paused: bool = False
    campaign: str | None = None


class CalendarResult(_Out):
    entries: list[CalendarEntry]
    awaiting_approval: list[Pending]


class PlanResult(_Out):
    planned: list[CalendarEntry] = Field(default_factory=list)
    pending: Pending | None = Field(default=None, description="Set when a person must approve.")


class PublishResult(_Out):
    published: list[PostOut] = Field(default_factory=list)
    failures: dict[str, ErrorInfo] = Field(default_factory=dict)
    pending: Pending | None = None


class ReplyResult(_Out):
    reply: PostOut | None = None
    pending: Pending | None = None


class RouteResult(_Out):
    item: InboxItem


class ApprovalsResult(_Out):
    actions: list[Pending]


InboxResult.model_rebuild()
