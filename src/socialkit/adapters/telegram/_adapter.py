"""The Telegram (Bot API) adapter: a bot publishing to a channel or group, and its updates."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import uuid
from collections.abc import Generator, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import httpx
import pydantic
from pydantic import Field, SecretStr, model_validator

from socialkit._capabilities import Capability, Limits
from socialkit._errors import (
    APIError,
    AuthError,
    ConfigurationError,
    InvalidPostError,
    MalformedResponseError,
    NotFoundError,
    OutcomeUnknownError,
    TransportError,
    ValidationError,
)
from socialkit._models import Account, Media, Message, MessageKind, Metric, Post, Problem
from socialkit._paging import Batch, Paged
from socialkit.adapters._base import Adapter, AdapterSettings, HttpURL, as_post, kinds_filter
from socialkit.adapters.telegram import _mapping as mapping
from socialkit.adapters.telegram import _wire as wire
from socialkit.adapters.telegram._network import chat_bucket
from socialkit.adapters.telegram._webhooks import SECRET_PATTERN, verify_secret
from socialkit.text import utf16_length

if TYPE_CHECKING:
    from socialkit._http import Session
    from socialkit._store import Store

__all__ = ["TelegramAdapter", "TelegramSettings", "TextEntity"]

TextEntity = mapping.TextEntity

logger = logging.getLogger("socialkit.adapters.telegram")

_MiB = 1024 * 1024
#: ``123456789:AAH...``: the bot's id, a colon, and the secret part (@BotFather's format).
_TOKEN_PATTERN = r"[0-9]{1,20}:[A-Za-z0-9_-]{20,100}"
#: A chat: its numeric id (channels and supergroups ``-100…``) or a public ``@username``.
_CHAT_PATTERN = r"-?[0-9]{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31}"
_USERNAME_PATTERN = r"[A-Za-z][A-Za-z0-9_]{3,31}"
#: A post id: ``<chat>:<message id>``, or a message id alone for the configured chat.
_POST_ID_PATTERN = rf"(?:(?P<chat>{_CHAT_PATTERN}):)?(?P<message>[0-9]{{1,10}})"
_TEXT_MAX = 4096
_CAPTION_MAX = 1024
#: sendPoll (api.json): a question of 1-300 characters, 1-12 options of 1-100 characters,
#: open_period 5-2628000 seconds.
_POLL_QUESTION_MAX = 300
_POLL_OPTIONS_MAX = 12
_POLL_OPTION_MAX = 100
_POLL_OPEN_MIN = 5
_POLL_OPEN_MAX = 2_628_000
#: The reaction :meth:`TelegramAdapter.like` sets (a standard emoji every chat allows unless
#: its admins restrict reactions).
LIKE_EMOJI = "\N{THUMBS UP SIGN}"
#: Update kinds the adapter asks for (``allowed_updates``): reactions are not sent by default.
_ALLOWED_UPDATES = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "message_reaction",
    "message_reaction_count",
)
_SENDS = {"image": "sendPhoto", "video": "sendVideo", "gif": "sendAnimation", "audio": "sendAudio"}
_FIELDS = {"image": "photo", "video": "video", "gif": "animation", "audio": "audio"}
_INPUT_TYPES = {"image": "photo", "video": "video", "audio": "audio"}

# Store namespaces (keys start with the account label).
_POSTS = "telegram.posts"  # messages this adapter sent, as Telegram returned them
_CHATS = "telegram.chats"  # per chat: its Chat object and the highest message id seen
_INBOX = "telegram.inbox"  # messages received through updates, by update id
_REACTIONS = "telegram.reactions"  # reaction totals per message
_POLLS = "telegram.polls"  # the post key of each poll this adapter sent, by poll id
_STATE = "telegram.state"  # the getUpdates offset


class TelegramSettings(AdapterSettings):
    """Settings of the Telegram adapter.

    ``bot_token`` comes from @BotFather. ``chat`` is where posts go: a channel or group the
    bot is an administrator of (channels) or a member of (groups), as its numeric id
    (``-1001234567890``) or its public ``@username``. The bot reads what arrives through
    ``getUpdates`` (``updates="polling"``) or through a webhook (``updates="webhook"``, with
    ``webhook_secret``); Telegram allows one or the other at a time.
    """

    base_url: HttpURL = Field(default="https://api.telegram.org", description="The Bot API host.")
    bot_token: SecretStr | None = Field(default=None, description="The bot's token (@BotFather).")
    chat: str | None = Field(
        default=None,
        pattern=rf"^(?:{_CHAT_PATTERN})$",
        description="The channel or group posts go to: -100… id or @username.",
    )
    silent: bool = Field(
        default=False, description="Send posts without a notification (disable_notification)."
    )
    updates: Literal["polling", "webhook"] = Field(
        default="polling", description="How updates arrive: getUpdates, or a webhook."
    )
    poll_timeout: int = Field(
        default=0, ge=0, le=50, description="Seconds getUpdates waits for updates (long polling)."
    )
    webhook_secret: SecretStr | None = Field(
        default=None, description="The secret_token given to setWebhook (checked on deliveries)."
    )
    reconcile_window: int = Field(
        default=20,
        ge=1,
        le=200,
        description="Message ids probed after the last known one to find an unanswered send.",
    )

    @model_validator(mode="after")
    def _credentials(self) -> TelegramSettings:
        if self.bot_token is None:
            if not self.require_credentials:
                return self
            raise ValueError(
                "no bot token: give bot_token (from @BotFather, 123456789:AA…), or run "
                "`socialkit auth login telegram` to store it"
            )
        if re.fullmatch(_TOKEN_PATTERN, self.bot_token.get_secret_value()) is None:
            raise ValueError("bot_token is not a Telegram bot token (123456789:AA…)")
        if self.webhook_secret is not None and (
            re.fullmatch(SECRET_PATTERN, self.webhook_secret.get_secret_value()) is None
        ):
            raise ValueError("webhook_secret must be 1-256 characters of A-Z a-z 0-9 _ -")
        if self.updates == "webhook" and self.webhook_secret is None:
            raise ValueError("updates='webhook' needs webhook_secret (checked on every delivery)")
        return self


class _BotToken(httpx.Auth):
    """Puts the bot token into the path (``/bot/<method>`` -> ``/bot<token>/<method>``) when
    the request is sent, so that the token is in no path, bucket or error the pipeline
    builds; the pipeline's redaction hides ``bot<token>`` in logs and transport errors."""

    def __init__(self, token: SecretStr) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "_BotToken()"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raw = request.url.raw_path
        at = raw.rfind(b"/bot/")
        if at >= 0:
            secret = self._token.get_secret_value().encode("ascii")
            request.url = request.url.copy_with(
                raw_path=raw[:at] + b"/bot" + secret + b"/" + raw[at + 5 :]
            )
        yield request


def _kinds_of(post: Post) -> list[str]:
    return [m.kind for m in post.media]


def _chat_arg(chat: str) -> int | str:
    return chat if chat.startswith("@") else int(chat)


class TelegramAdapter(Adapter):
    """Telegram Bot API. See ``docs/networks/telegram.md`` for the token, limits and ``ex_``
    methods.

    Ids: a post is ``<chat>:<message id>`` (``-1001234567890:42``; a bare ``42`` is a message
    of the configured chat). Accounts: a string of digits (with an optional ``-``) is a chat
    or user id, anything else a public username (``@name`` or ``name``).

    The Bot API cannot read a chat's history: ``get_post`` and ``posts`` answer from the
    messages this adapter sent and received (kept in the ``store``), as Telegram returned them.
    """

    name: ClassVar[str] = "telegram"
    #: ``socialkit auth login telegram`` asks for the bot token and checks it with ``getMe``.
    login_settings: ClassVar[tuple[str, ...]] = ("bot_token",)
    unsupported_reasons: ClassVar[Mapping[Capability, str]] = {
        Capability.BLOCK: (
            "a bot cannot block users; it can only ban members of the chats it administers "
            "(banChatMember), which is moderation"
        ),
        Capability.BOOKMARK: "the Bot API has no saved messages or bookmarks",
        Capability.FEEDS: "Telegram has no lists or custom feeds",
        Capability.FOLLOW: "a bot cannot join or subscribe to chats: their admins add it",
        Capability.FOLLOWERS: (
            "the Bot API does not list a chat's members or subscribers, only their number "
            "(account_metrics) and the administrators"
        ),
        Capability.HIDE: "Telegram has no hidden replies",
        Capability.MUTE: (
            "a bot cannot mute users; it can only restrict members of the groups it "
            "administers (restrictChatMember), which is moderation"
        ),
        Capability.NATIVE_SCHEDULING: "the Bot API has no scheduled messages (user accounts only)",
        Capability.QUOTE: (
            "Telegram has no quote posts: a reply may quote part of a message, a forward "
            "copies it whole"
        ),
        Capability.READ_OTHERS: (
            "a bot cannot read other accounts' posts or chats, only what its updates bring"
        ),
        Capability.REPOST: (
            "Telegram has no reposts: a forward copies a message the bot already knows, and a "
            "bot cannot browse chats to find one"
        ),
        Capability.SEARCH: "the Bot API has no search",
        Capability.STREAM: (
            "updates come from getUpdates or a webhook: read them with messages() or the "
            "webhook handler"
        ),
        Capability.TIMELINE: "Telegram has no home feed",
        Capability.UPLOAD: (
            "the Bot API uploads a file only with the message that carries it (its file_id is "
            "then reusable)"
        ),
    }
    Settings: ClassVar[type[AdapterSettings]] = TelegramSettings
    docs_url: ClassVar[str | None] = "https://core.telegram.org/bots/api"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.PUBLISH_TEXT,
            Capability.PUBLISH_IMAGE,
            Capability.PUBLISH_VIDEO,
            Capability.PUBLISH_GIF,
            Capability.PUBLISH_AUDIO,
            Capability.PUBLISH_THREAD,
            Capability.PUBLISH_POLL,
            Capability.DELETE,
            Capability.EDIT,
            Capability.READ_POSTS,
            Capability.POST_METRICS,
            Capability.ACCOUNT_METRICS,
            Capability.COMMENTS,
            Capability.MENTIONS,
            Capability.DIRECT_MESSAGES,
            Capability.REPLY,
            Capability.WEBHOOKS,
            Capability.LIKE,
            Capability.ACCOUNTS,
        }
    )
    limits = Limits(
        max_text=_TEXT_MAX,
        count=utf16_length,
        text_unit="UTF-16 code units",
        max_media=10,
        max_gifs=1,
        image_max_bytes=10 * _MiB,
        gif_max_bytes=50 * _MiB,
        video_max_bytes=50 * _MiB,
        audio_max_bytes=50 * _MiB,
        max_poll_options=_POLL_OPTIONS_MAX,
        max_poll_option_text=_POLL_OPTION_MAX,
    )

    def __init__(self, settings: AdapterSettings, *, http: httpx.AsyncClient | None = None) -> None:
        super().__init__(settings, http=http)
        assert isinstance(settings, TelegramSettings)
        self.settings: TelegramSettings = settings
        self._session: Session | None = None
        self._chosen_store: Store | None = None
        self._bot: wire.User | None = None

    # -- plumbing -------------------------------------------------------------------------

    def _api(self) -> Session:
        if self._session is None:
            from socialkit.adapters.telegram._network import make_network

            token = self.settings.bot_token
            if token is None:
                raise ConfigurationError("telegram: set bot_token (from @BotFather)")
            self._session = self._make_session(
                make_network(self.settings.base_url), auth=_BotToken(token)
            )
        return self._session

    def _store(self) -> Store:
        """The ``store`` setting; by default the SQLite store under the user's data directory
        (encrypted when a key is configured), so that the update offset and the records
        survive a restart."""
        if self._chosen_store is None:
            from socialkit.auth import TokenStore

            store = self.settings.store
            if isinstance(store, TokenStore):
                self._chosen_store = store.store
            elif store is not None:
                self._chosen_store = store
            else:
                self._chosen_store = TokenStore().store
        return self._chosen_store

    async def _call(
        self,
        method: str,
        body: Mapping[str, Any] | None = None,
        *,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        bucket: str | None = None,
        kind: Literal["read", "write", "create"] | None = None,
        timeout: float | None = None,
    ) -> Any:
        """``POST /bot<token>/<method>`` through the pipeline; the ``result`` of the answer.

        Parameters go as JSON, or as multipart form fields (objects JSON-encoded, files
        attached) when ``files`` are sent, as https://core.telegram.org/bots/api#making-requests
        describes."""
        session = self._api()
        kwargs: dict[str, Any] = {}
        if files:
            kwargs["data"] = {
                k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
                for k, v in (body or {}).items()
            }
            kwargs["files"] = files
        elif body is not None:
            kwargs["json"] = dict(body)
        response = await session.request(
            "POST",
            f"/bot/{method}",
            kind=kind or ("read" if method.startswith("get") else "write"),
            bucket=bucket,
            timeout=timeout,
            **kwargs,
        )
        try:
            envelope = wire.Envelope[Any].model_validate_json(response.content)
        except pydantic.ValidationError:
            raise MalformedResponseError(
                self.name, response.status_code, "malformed_response", f"{method}: not JSON"
            ) from None
        if not envelope.ok:
            raise self._api().network.decode_error(response)
        if "result" not in json.loads(response.content):
            raise MalformedResponseError(
                self.name, response.status_code, "malformed_response", f"{method}: no result"
            )
        return envelope.result

    def _model(self, model: type[Any], value: Any, what: str) -> Any:
        try:
            return model.model_validate(value)
        except pydantic.ValidationError as exc:
            where = ", ".join(
                ".".join(str(p) for p in e["loc"]) or "(root)"
                for e in exc.errors(include_input=False, include_url=False)[:5]
            )
            raise MalformedResponseError(
                self.name, 200, "malformed_response", f"{what} does not match ({where})"
            ) from None

    async def aclose(self) -> None:
        await super().aclose()
        self._session = None

    # -- ids ------------------------------------------------------------------------------

    def _default_chat(self) -> str:
        chat = self.settings.chat
        if chat is None:
            raise ConfigurationError(
                "telegram: set the chat setting (the channel or group to post to: its "
                "-100… id or @username)"
            )
        return chat

    def _split_id(self, value: object, what: str = "post id") -> tuple[str, int]:
        """``(chat, message id)`` of a post id, checked before any request."""
        match = re.fullmatch(_POST_ID_PATTERN, value) if isinstance(value, str) else None
        if match is None:
            raise ValidationError(
                f"{value!r} is not a telegram {what} (<chat id or @username>:<message id>)"
            )
        chat = match.group("chat") or self._default_chat()
        return chat, int(match.group("message"))

    async def _chat_id(self, chat: str) -> str:
        """The numeric id of ``chat`` when known (``@username`` resolved from what Telegram
        answered before), else ``chat`` as given."""
        if not chat.startswith("@"):
            return chat
        known = await self._store().get(_CHATS, f"{self._account_key}:{chat.lower()}")
        return known or chat

    # -- records in the store -------------------------------------------------------------

    def _post_key(self, chat_id: int | str, message_id: int) -> str:
        return f"{self._account_key}:{chat_id}:{message_id:012d}"

    async def _remember_chat(self, chat: wire.Chat, message_id: int | None, given: str) -> None:
        store = self._store()
        key = f"{self._account_key}:{chat.id}"
        old = await store.get(_CHATS, key + ":state")
        last = 0
        if old:
            try:
                last = int(json.loads(old).get("last", 0))
            except (ValueError, AttributeError, TypeError):
                last = 0
        state = {"chat": chat.model_dump(mode="json"), "last": max(last, message_id or 0)}
        await store.put(_CHATS, key + ":state", json.dumps(state))
        if chat.username:
            await store.put(_CHATS, f"{self._account_key}:@{chat.username.lower()}", str(chat.id))
        if given.startswith("@"):
            await store.put(_CHATS, f"{self._account_key}:{given.lower()}", str(chat.id))

    async def _chat_state(self, chat: str) -> dict[str, Any] | None:
        chat_id = await self._chat_id(chat)
        return await self._stored_object(_CHATS, f"{self._account_key}:{chat_id}:state")

    async def _save_post(
        self, messages: Sequence[Mapping[str, Any]], alts: Sequence[str | None]
    ) -> None:
        first = messages[0]
        chat_id = first["chat"]["id"]
        value = {"messages": list(messages), "alts": list(alts)}
        key = self._post_key(chat_id, int(first["message_id"]))
        await self._store().put(_POSTS, key, json.dumps(value))
        poll = first.get("poll")
        if isinstance(poll, Mapping) and isinstance(poll.get("id"), str):
            await self._store().put(_POLLS, f"{self._account_key}:{poll['id']}", key)

    async def _load_post(self, chat: str, message_id: int) -> dict[str, Any] | None:
        chat_id = await self._chat_id(chat)
        text = await self._store().get(_POSTS, self._post_key(chat_id, message_id))
        if text is None:
            return None
        value = json.loads(text)
        return value if isinstance(value, dict) else None

    def _post_of(self, record: Mapping[str, Any]) -> Post:
        messages = [self._model(wire.Message, m, "a recorded message") for m in record["messages"]]
        return mapping.post_from(messages, alts=record.get("alts") or ())

    # -- the account ----------------------------------------------------------------------

    async def _me(self) -> wire.User:
        if self._bot is None:
            self._bot = self._model(wire.User, await self._call("getMe"), "getMe")
        return self._bot

    async def me(self) -> Account:
        """The bot (``getMe``)."""
        return mapping.account_from_user(await self._me())

    async def account(self, handle_or_id: str) -> Account:
        """A chat or user by id (digits, ``-100…`` for channels and supergroups) or a public
        chat by username (``@name`` or ``name``), through ``getChat``; channels and groups come
        with their member count (``getChatMemberCount``) as ``followers``.

        Telegram resolves usernames of public channels, supergroups and bots only; a user is
        found by id once they have talked to the bot."""
        if not isinstance(handle_or_id, str) or not handle_or_id:
            raise ValidationError("account needs a telegram id or username")
        if re.fullmatch(r"-?[0-9]{1,20}", handle_or_id):
            chat: int | str = int(handle_or_id)
        else:
            name = handle_or_id[1:] if handle_or_id.startswith("@") else handle_or_id
            if re.fullmatch(_USERNAME_PATTERN, name) is None:
                raise ValidationError(f"{handle_or_id!r} is not a telegram username")
            chat = f"@{name}"
        info = self._model(
            wire.ChatFullInfo, await self._call("getChat", {"chat_id": chat}), "getChat"
        )
        members = None
        if info.type != "private":
            members = int(await self._call("getChatMemberCount", {"chat_id": info.id}))
        return mapping.account_from_chat(info, members)

    async def account_metrics(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[Metric]:
        """The configured chat's member count (``getChatMemberCount``) as ``followers``: the
        Bot API gives its current value only (no history, so ``since``/``until`` are not
        used)."""
        chat = self._default_chat()
        count = await self._call("getChatMemberCount", {"chat_id": _chat_arg(chat)})
        if not isinstance(count, int):
            raise MalformedResponseError(self.name, 200, "malformed_response", "not a count")
        return [
            Metric(
                name="followers",
                value=count,
                network=self.name,
                native_name="getChatMemberCount",
                measured_at=self.now(),
            )
        ]

    # -- pre-flight -----------------------------------------------------------------------

    def _check_extra(self, post: Post) -> list[Problem]:
        problems: list[Problem] = []
        for index, item in enumerate(post.posts()):
            prefix = "" if index == 0 else f"thread[{index - 1}]."
            problems.extend(self._check_one(item, prefix))
        return problems

    def _check_one(self, post: Post, prefix: str) -> list[Problem]:
        problems: list[Problem] = []
        kinds = _kinds_of(post)
        length = utf16_length(post.text)
        if post.poll is not None:
            problems.extend(self._check_poll(post, prefix))
        elif not kinds and not post.text.strip():
            problems.append(
                Problem(
                    code="text_empty",
                    message="a telegram message without media needs text",
                    field=f"{prefix}text",
                )
            )
        if kinds and length > _CAPTION_MAX:
            problems.append(
                Problem(
                    code="caption_too_long",
                    message=(
                        f"a caption is at most {_CAPTION_MAX} UTF-16 code units "
                        f"(this one is {length})"
                    ),
                    field=f"{prefix}text",
                    limit=_CAPTION_MAX,
                    actual=length,
                )
            )
        for i, item in enumerate(post.media):
            # sendPhoto (api.json): "The photo's width and height must not exceed 10000 in
            # total. Width and height ratio must be at most 20."
            w, h = item.width, item.height
            if item.kind == "image" and w and h and (w + h > 10000 or max(w, h) > 20 * min(w, h)):
                problems.append(
                    Problem(
                        code="photo_dimensions",
                        message=(
                            f"a telegram photo's width and height are at most 10000 in total, "
                            f"one at most 20 times the other (this one is {w}x{h})"
                        ),
                        field=f"{prefix}media[{i}]",
                    )
                )
        if len(kinds) > 1:
            if "gif" in kinds:
                problems.append(
                    Problem(
                        code="gif_in_album",
                        message="a GIF (animation) cannot be part of a telegram album",
                        field=f"{prefix}media",
                    )
                )
            if "audio" in kinds and set(kinds) != {"audio"}:
                problems.append(
                    Problem(
                        code="audio_mixed",
                        message="telegram albums of audio hold only audio",
                        field=f"{prefix}media",
                    )
                )
        for target in (post.reply_to,):
            if target is not None and re.fullmatch(_POST_ID_PATTERN, target) is None:
                problems.append(
                    Problem(
                        code="invalid_id",
                        message=f"{target!r} is not a telegram post id",
                        field=f"{prefix}reply_to",
                    )
                )
        return problems

    @staticmethod
    def _check_poll(post: Post, prefix: str) -> list[Problem]:
        """sendPoll's rules (api.json): a question of 1-300 characters (the post's text),
        options of 1-100 characters (their number and length: :attr:`limits`), open for
        5 to 2,628,000 seconds; no media (a poll message carries none)."""
        assert post.poll is not None
        problems: list[Problem] = []
        question = post.text.strip()
        if not question or len(post.text) > _POLL_QUESTION_MAX:
            problems.append(
                Problem(
                    code="poll_question",
                    message=(
                        f"the text of a telegram poll is its question: 1 to "
                        f"{_POLL_QUESTION_MAX} characters (this one is {len(post.text)})"
                    ),
                    field=f"{prefix}text",
                    limit=_POLL_QUESTION_MAX,
                    actual=len(post.text),
                )
            )
        for index, option in enumerate(post.poll.options):
            if not option.strip():
                problems.append(
                    Problem(
                        code="poll_option_empty",
                        message=f"telegram poll option {index + 1} is empty",
                        field=f"{prefix}poll.options[{index}]",
                    )
                )
        seconds = post.poll.duration.total_seconds()
        if not _POLL_OPEN_MIN <= seconds <= _POLL_OPEN_MAX:
            problems.append(
                Problem(
                    code="poll_duration",
                    message=(
                        f"a telegram poll stays open {_POLL_OPEN_MIN} to {_POLL_OPEN_MAX} s "
                        f"(this one {seconds:g} s)"
                    ),
                    field=f"{prefix}poll.duration",
                    limit=_POLL_OPEN_MAX if seconds > _POLL_OPEN_MAX else _POLL_OPEN_MIN,
                    actual=int(seconds),
                )
            )
        if post.media:
            problems.append(
                Problem(
                    code="media_and_poll",
                    message="a telegram poll message cannot carry media",
                    field=f"{prefix}media",
                )
            )
        return problems

    # -- publishing -----------------------------------------------------------------------

    async def _publish(self, post: Post, *, idempotency_key: str | None = None) -> Post:
        # Telegram has no idempotency key: the adapter makes one per publish call and keeps
        # a record under it (in the store) for reconciliation.
        key = idempotency_key if idempotency_key is not None else f"sk-{uuid.uuid4()}"
        return await super()._publish(post, idempotency_key=key)

    async def ex_publish(
        self,
        post: Post | str,
        *,
        chat: str | None = None,
        entities: Iterable[TextEntity] = (),
        silent: bool | None = None,
        idempotency_key: str | None = None,
    ) -> Post:
        """Publish one post with Telegram's options: into ``chat`` (default: the chat
        setting), with formatting ``entities`` (spans in Python string indices, sent as
        UTF-16 offsets), and ``silent`` (no notification; default: the silent setting)."""
        item = as_post(post)
        if item.thread:
            raise ValidationError("ex_publish sends one post; use publish for a thread")
        problems = self.check(item)
        if problems:
            raise InvalidPostError(self.name, problems)
        if chat is not None and re.fullmatch(_CHAT_PATTERN, chat) is None:
            raise ValidationError(f"{chat!r} is not a telegram chat (-100… id or @username)")
        wire_entities = mapping.entities_to_wire(item.text, entities)
        key = idempotency_key if idempotency_key is not None else f"sk-{uuid.uuid4()}"
        return await self._send_post(item, key, chat=chat, entities=wire_entities, silent=silent)

    async def ex_send_document(
        self,
        document: Media | bytes,
        *,
        filename: str = "document",
        mime_type: str = "application/octet-stream",
        caption: str = "",
        chat: str | None = None,
        silent: bool | None = None,
    ) -> Post:
        """Send a file as a document (``sendDocument``: any type, shown as a file to
        download, up to 50 MB), with an optional ``caption`` (at most 1,024 UTF-16 units).
        The post reads back with the caption as its text and no media."""
        # Checked before the file is read: a file's size is known without reading it.
        if utf16_length(caption) > _CAPTION_MAX:
            raise ValidationError(f"a caption is at most {_CAPTION_MAX} UTF-16 code units")
        if chat is not None and re.fullmatch(_CHAT_PATTERN, chat) is None:
            raise ValidationError(f"{chat!r} is not a telegram chat (-100… id or @username)")
        too_big = ValidationError("bots send documents of at most 50 MB")
        if isinstance(document, bytes):
            data, name, mime = document, filename, mime_type
        else:
            if document.size is not None and document.size > 50 * _MiB:
                raise too_big
            data, name, mime = document.read(), document.filename, document.mime_type
        if not data:
            raise ValidationError("the document is empty")
        if len(data) > 50 * _MiB:
            raise too_big
        target = chat or self._default_chat()
        body: dict[str, Any] = {"chat_id": _chat_arg(target), "document": "attach://file0"}
        if caption:
            body["caption"] = caption
        if self.settings.silent if silent is None else silent:
            body["disable_notification"] = True
        bucket = chat_bucket(await self._chat_id(target))
        try:
            result = await self._call(
                "sendDocument",
                body,
                files={"file0": (name, data, mime)},
                bucket=bucket,
                kind="create",
            )
            raw = self._raw_message(result)
        except MalformedResponseError as exc:
            # A 2xx whose body cannot be read: the document may well have been sent.
            raise OutcomeUnknownError(self.name, "POST", "/bot/sendDocument") from exc
        parsed = self._model(wire.Message, raw, "the sent message")
        await self._save_post([raw], [None])
        await self._remember_chat(parsed.chat, parsed.message_id, target)
        return mapping.post_from([parsed])

    async def _publish_one(self, post: Post, *, idempotency_key: str | None = None) -> Post:
        key = idempotency_key if idempotency_key is not None else f"sk-{uuid.uuid4()}"
        return await self._send_post(post, key)

    async def _send_post(
        self,
        post: Post,
        key: str,
        *,
        chat: str | None = None,
        entities: list[dict[str, Any]] | None = None,
        silent: bool | None = None,
    ) -> Post:
        """Send ``post`` at most once per ``key``.

        The key's record (the chat, and the highest message id known in it) is kept in the
        store before the send. Telegram numbers a chat's messages in order, so when a send's
        answer is lost, :meth:`_reconcile` looks at the ids after that one for a message of
        this bot; found, it is the post; definitely absent, the post is sent again; otherwise
        :class:`~socialkit.OutcomeUnknownError` again (never a second copy)."""
        reply: tuple[str, int] | None = None
        if post.reply_to is not None:
            reply = self._split_id(post.reply_to)
        target = chat or (reply[0] if reply is not None else self._default_chat())
        count = len(post.media) if len(post.media) > 1 else 1
        record = await self._load_record(key)
        if record is not None and record.get("post_id"):
            chat_part, message_id = self._split_id(str(record["post_id"]))
            stored = await self._load_post(chat_part, message_id)
            if stored is not None:
                return self._post_of(stored)
        if record is not None:
            ids = await self._reconcile_or_unknown(record, count, key)
            if ids:
                return await self._reconciled(post, record, ids, key)
            baseline = record.get("baseline")
        else:
            state = await self._chat_state(target)
            baseline = None if state is None else int(state.get("last", 0))
        await self._save_record(
            key, {"chat": target, "baseline": baseline, "started": self.now().isoformat()}
        )
        try:
            messages = await self._send(post, target, reply, entities, silent)
        except OutcomeUnknownError as exc:
            raise OutcomeUnknownError(self.name, exc.method, exc.path, idempotency_key=key) from exc
        except MalformedResponseError as exc:
            # A 2xx whose body cannot be read: the message may well exist.
            raise OutcomeUnknownError(self.name, "POST", "/bot/send", idempotency_key=key) from exc
        except (APIError, TransportError):
            # A definite answer (refused, or never sent): a retry under this key is fresh.
            await self._drop_record(key)
            raise
        parsed = [self._model(wire.Message, m, "the sent message") for m in messages]
        alts = [m.alt for m in post.media] if post.media else [None]
        await self._save_post(messages, alts)
        await self._remember_chat(parsed[0].chat, max(m.message_id for m in parsed), target)
        published = mapping.post_from(parsed, alts=alts)
        await self._save_record(key, {"chat": target, "post_id": published.id})
        return published

    async def _send(
        self,
        post: Post,
        chat: str,
        reply: tuple[str, int] | None,
        entities: list[dict[str, Any]] | None,
        silent: bool | None,
    ) -> list[dict[str, Any]]:
        """The Bot API call for ``post``: its messages as Telegram answered (raw JSON)."""
        body: dict[str, Any] = {"chat_id": _chat_arg(chat)}
        quiet = self.settings.silent if silent is None else silent
        if quiet:
            body["disable_notification"] = True
        if reply is not None:
            body["reply_parameters"] = {"message_id": reply[1]}
            if reply[0] != chat:
                body["reply_parameters"]["chat_id"] = _chat_arg(reply[0])
        bucket = chat_bucket(await self._chat_id(chat))
        files: dict[str, tuple[str, bytes, str]] = {}
        if post.poll is not None:
            body["question"] = post.text
            body["options"] = [{"text": option} for option in post.poll.options]
            body["allows_multiple_answers"] = post.poll.multiple
            body["open_period"] = int(post.poll.duration.total_seconds())
            result = await self._call("sendPoll", body, bucket=bucket, kind="create")
            return [self._raw_message(result)]
        if not post.media:
            body["text"] = post.text
            if entities:
                body["entities"] = entities
            result = await self._call("sendMessage", body, bucket=bucket, kind="create")
            return [self._raw_message(result)]
        if len(post.media) == 1:
            item = post.media[0]
            body[_FIELDS[item.kind]] = await self._input_file(item, "file0", files)
            self._describe(body, item)
            if post.text:
                body["caption"] = post.text
                if entities:
                    body["caption_entities"] = entities
            if post.sensitive and item.kind in ("image", "video", "gif"):
                body["has_spoiler"] = True
            result = await self._call(
                _SENDS[item.kind], body, files=files or None, bucket=bucket, kind="create"
            )
            return [self._raw_message(result)]
        media: list[dict[str, Any]] = []
        for index, item in enumerate(post.media):
            entry: dict[str, Any] = {
                "type": _INPUT_TYPES[item.kind],
                "media": await self._input_file(item, f"file{index}", files),
            }
            self._describe(entry, item)
            if index == 0 and post.text:
                entry["caption"] = post.text
                if entities:
                    entry["caption_entities"] = entities
            if post.sensitive and item.kind in ("image", "video"):
                entry["has_spoiler"] = True
            media.append(entry)
        body["media"] = media
        result = await self._call(
            "sendMediaGroup", body, files=files or None, bucket=bucket, kind="create"
        )
        if not isinstance(result, list) or not result:
            raise MalformedResponseError(
                self.name, 200, "malformed_response", "sendMediaGroup: no messages"
            )
        return [self._raw_message(m) for m in result]

    def _raw_message(self, value: Any) -> dict[str, Any]:
        self._model(wire.Message, value, "the sent message")
        assert isinstance(value, dict)
        return value

    @staticmethod
    def _describe(body: dict[str, Any], item: Media) -> None:
        if item.kind in ("video", "gif"):
            if item.width is not None and item.height is not None:
                body["width"], body["height"] = item.width, item.height
            if item.duration is not None:
                body["duration"] = round(item.duration)
            if item.kind == "video":
                body["supports_streaming"] = True
        elif item.kind == "audio" and item.duration is not None:
            body["duration"] = round(item.duration)

    async def _input_file(
        self, item: Media, name: str, files: dict[str, tuple[str, bytes, str]]
    ) -> str:
        """How the Bot API takes a file: a ``file_id`` it has (an upload or a medium read
        back), an HTTP URL it fetches itself, or a multipart part ``attach://<name>``."""
        if item.uploaded is not None:
            return item.uploaded.id
        if item.path is None and item.data is None:
            if item.url is not None and item.url.startswith(("https://", "http://")):
                return item.url
            if item.id is not None:
                return item.id
            raise ValidationError("a telegram medium needs data, a path, a URL or a file id")
        files[name] = (item.filename, item.read(), item.mime_type)
        return f"attach://{name}"

    # -- reconciliation ---------------------------------------------------------------------

    async def _reconcile_or_unknown(
        self, record: Mapping[str, Any], count: int, key: str
    ) -> list[int]:
        try:
            return await self._reconcile(record, count)
        except (APIError, TransportError, OutcomeUnknownError) as exc:
            logger.warning("telegram: reconciling failed (%s); the outcome stays unknown", exc)
            raise OutcomeUnknownError(self.name, "POST", "/bot/send", idempotency_key=key) from exc

    async def _reconcile(self, record: Mapping[str, Any], count: int) -> list[int]:
        """The ids of the messages an unanswered send made, ``[]`` when it made none.

        Telegram numbers a chat's messages in order and a bot cannot read them, but
        ``editMessageReplyMarkup`` without a markup tells, for a message of this bot that has
        none (what this adapter sends), "message is not modified"; for another sender's
        message "message can't be edited"; for no message "message to edit not found". The
        ids after the highest one known before the send are probed (ids that are posts of
        other records are passed over); three missing in a row end the search. Without a
        known id in the chat nothing can be told: OutcomeUnknownError."""
        chat = str(record.get("chat") or self._default_chat())
        baseline = record.get("baseline")
        if not isinstance(baseline, int):
            raise OutcomeUnknownError(self.name, "POST", "/bot/send")
        chat_id = await self._chat_id(chat)
        claimed = {
            int(k.rsplit(":", 1)[1])
            for k, _ in await self._store().items(_POSTS, f"{self._account_key}:{chat_id}:")
        }
        found: list[int] = []
        missing = 0
        for message_id in range(baseline + 1, baseline + 1 + self.settings.reconcile_window):
            if message_id in claimed:
                continue
            verdict = await self._probe(chat, message_id)
            if verdict == "mine":
                missing = 0
                found.append(message_id)
                if len(found) == count:
                    return found
            elif verdict == "missing":
                if found:
                    break
                missing += 1
                if missing >= 3:
                    break
            else:
                missing = 0
        if found or missing >= 3:
            return found
        # The window ended among other senders' messages: the send may lie beyond it.
        raise OutcomeUnknownError(self.name, "POST", "/bot/send")

    async def _probe(self, chat: str, message_id: int) -> Literal["mine", "other", "missing"]:
        try:
            await self._call(
                "editMessageReplyMarkup",
                {"chat_id": _chat_arg(chat), "message_id": message_id},
                kind="write",
            )
        except APIError as exc:
            text = (exc.message or "").lower()
            if "not modified" in text:
                return "mine"
            if "not found" in text:
                return "missing"
            if "can't be edited" in text or "cannot be edited" in text:
                return "other"
            raise
        return "mine"

    async def _reconciled(
        self, post: Post, record: Mapping[str, Any], ids: list[int], key: str
    ) -> Post:
        """The post an unanswered send made, rebuilt from what was sent (Telegram's answer,
        and so the media's file ids, was lost)."""
        chat = str(record.get("chat"))
        state = await self._chat_state(chat)
        chat_obj = (state or {}).get("chat") or {
            "id": int(chat) if not chat.startswith("@") else 0,
            "type": "channel",
            **({"username": chat[1:]} if chat.startswith("@") else {}),
        }
        started = record.get("started")
        moment = self.now()
        if isinstance(started, str):
            with contextlib.suppress(ValueError):
                moment = datetime.fromisoformat(started)
        date = int(moment.timestamp())
        messages: list[dict[str, Any]] = []
        for index, message_id in enumerate(ids):
            message: dict[str, Any] = {"message_id": message_id, "date": date, "chat": chat_obj}
            if index == 0 and post.text:
                message["text" if not post.media else "caption"] = post.text
            messages.append(message)
        alts = [m.alt for m in post.media] if post.media else [None]
        await self._save_post(messages, alts)
        parsed = [self._model(wire.Message, m, "a reconciled message") for m in messages]
        await self._remember_chat(parsed[0].chat, max(ids), chat)
        found = mapping.post_from(parsed, alts=alts)
        logger.info("telegram: the unanswered post was published as %s", found.id)
        await self._save_record(key, {"chat": chat, "post_id": found.id})
        return found.model_copy(update={"media": post.media, "reply_to": post.reply_to})

    # -- edit and delete --------------------------------------------------------------------

    async def edit(self, post_id: str, post: Post) -> Post:
        """Replace the text of a message (``editMessageText``) or the caption of a medium
        (``editMessageCaption``); the media stay."""
        chat, message_id = self._split_id(post_id)
        stored = await self._load_post(chat, message_id)
        has_media = bool(stored and self._post_of(stored).media)
        if post.media:
            raise ValidationError("telegram edit replaces the text or caption; media stay")
        if stored is not None and stored["messages"][0].get("poll") is not None:
            raise ValidationError("a telegram poll cannot be edited (the Bot API can only stop it)")
        limit = _CAPTION_MAX if has_media else _TEXT_MAX
        length = utf16_length(post.text)
        if length > limit or (not has_media and not post.text.strip()):
            raise InvalidPostError(
                self.name,
                [
                    Problem(
                        code="text_too_long" if length > limit else "text_empty",
                        message=f"the new text must be 1-{limit} UTF-16 code units",
                        field="text",
                        limit=limit,
                        actual=length,
                    )
                ],
            )
        body: dict[str, Any] = {"chat_id": _chat_arg(chat), "message_id": message_id}
        if has_media:
            body["caption"] = post.text
            result = await self._call("editMessageCaption", body)
        else:
            body["text"] = post.text
            result = await self._call("editMessageText", body)
        if not isinstance(result, dict):
            raise MalformedResponseError(self.name, 200, "malformed_response", "not a message")
        message = self._model(wire.Message, result, "the edited message")
        if stored is not None:
            messages = list(stored["messages"])
            messages[0] = result
            await self._save_post(messages, stored.get("alts") or [])
            return self._post_of({"messages": messages, "alts": stored.get("alts") or []})
        return mapping.post_from([message])

    async def delete(self, post_id: str) -> None:
        """Delete a post (``deleteMessage``; every message of an album: ``deleteMessages``).
        Bots delete their own messages, and others' where they are an administrator."""
        chat, message_id = self._split_id(post_id)
        stored = await self._load_post(chat, message_id)
        ids = [message_id]
        if stored is not None:
            ids = [int(m["message_id"]) for m in stored["messages"]]
        if len(ids) > 1:
            await self._call("deleteMessages", {"chat_id": _chat_arg(chat), "message_ids": ids})
        else:
            await self._call("deleteMessage", {"chat_id": _chat_arg(chat), "message_id": ids[0]})
        chat_id = await self._chat_id(chat)
        await self._store().delete(_POSTS, self._post_key(chat_id, message_id))

    # -- reading ------------------------------------------------------------------------------

    async def get_post(self, post_id: str) -> Post:
        """A post this adapter published (or received), as Telegram returned it: the Bot API
        has no method to read a message, so posts it never saw raise NotFoundError."""
        chat, message_id = self._split_id(post_id)
        stored = await self._load_post(chat, message_id)
        if stored is None:
            raise NotFoundError(
                self.name,
                None,
                "unknown_message",
                f"{post_id}: the Bot API cannot read messages; this adapter knows only the "
                "messages it sent or received",
            )
        return self._post_of(stored)

    def posts(
        self,
        *,
        account: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Post]:
        """The posts this adapter published into the configured chat (or ``account``, a
        chat), newest first, from its record (the Bot API cannot read a chat's history)."""
        chat = account if account is not None else self._default_chat()
        if re.fullmatch(_CHAT_PATTERN, chat) is None:
            raise ValidationError(f"{chat!r} is not a telegram chat")

        async def fetch(network_cursor: str | None, want: int | None) -> Batch[Post]:
            chat_id = await self._chat_id(chat)
            items = await self._store().items(_POSTS, f"{self._account_key}:{chat_id}:")
            keys = sorted((k for k, _ in items), reverse=True)
            values = dict(items)
            if network_cursor is not None:
                keys = [k for k in keys if k < network_cursor]
            size = 50 if want is None else max(1, min(50, want))
            page = keys[:size]
            posts = [self._post_of(json.loads(values[k])) for k in page]
            return Batch(posts, page[-1] if len(keys) > size else None, item_cursors=page)

        return Paged(
            fetch,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
            time_of=lambda p: p.created_at,
        )

    # -- updates and messages -------------------------------------------------------------------

    async def _store_update(self, update: Mapping[str, Any]) -> list[Message]:
        """Keep one update (idempotent: keyed by its ``update_id``); the new messages in it."""
        parsed = self._model(wire.Update, update, "an update")
        store = self._store()
        key = f"{self._account_key}:{parsed.update_id:015d}"
        counted = parsed.message_reaction_count
        if counted is not None:
            totals = {
                (r.type.emoji or r.type.custom_emoji_id or r.type.type): r.total_count
                for r in counted.reactions
            }
            await store.put(
                _REACTIONS,
                f"{self._account_key}:{counted.chat.id}:{counted.message_id}",
                json.dumps(totals),
            )
            return []
        if parsed.poll is not None:
            await self._update_poll(update["poll"])
            return []
        message = parsed.message or parsed.channel_post
        if message is None:
            return []
        raw = update.get("message") or update.get("channel_post")
        if await store.get(_INBOX, key) is not None:
            return []
        bot = self._bot
        if message.from_ is not None and bot is not None and message.from_.id == bot.id:
            return []
        await store.put(_INBOX, key, json.dumps(raw))
        await self._remember_chat(message.chat, message.message_id, str(message.chat.id))
        return [self._message_of(message)]

    async def _update_poll(self, poll: Mapping[str, Any]) -> None:
        """A new state of a poll this adapter sent (its votes, closed): kept into the sent
        message, so the post reads back with it."""
        store = self._store()
        key = await store.get(_POLLS, f"{self._account_key}:{poll['id']}")
        text = None if key is None else await store.get(_POSTS, key)
        if key is None or text is None:
            return
        record = json.loads(text)
        record["messages"][0]["poll"] = dict(poll)
        await store.put(_POSTS, key, json.dumps(record))

    def _message_of(self, message: wire.Message) -> Message:
        bot = self._bot
        return mapping.message_from(message, bot.id if bot else None, bot.username if bot else None)

    async def ex_poll(self, *, timeout: int | None = None) -> list[Message]:
        """One round of ``getUpdates`` long polling (``timeout`` seconds, default the
        poll_timeout setting): the new messages, oldest first.

        Nothing is lost or repeated across restarts: every update is kept in the store under
        its ``update_id`` before the offset moves past it (Telegram confirms updates only when
        a later ``getUpdates`` asks from a higher offset), and the offset is kept there too."""
        if self.settings.updates == "webhook":
            raise ConfigurationError(
                "telegram: updates arrive through the webhook (updates='webhook'); Telegram "
                "refuses getUpdates while a webhook is set"
            )
        await self._me()
        wait = self.settings.poll_timeout if timeout is None else timeout
        if not 0 <= wait <= 50:
            raise ValidationError("timeout is 0-50 seconds")
        store = self._store()
        state_key = f"{self._account_key}:offset"
        arrived: list[Message] = []
        while True:
            offset = await store.get(_STATE, state_key)
            body: dict[str, Any] = {
                "limit": 100,
                "timeout": wait,
                "allowed_updates": list(_ALLOWED_UPDATES),
            }
            if offset is not None:
                body["offset"] = int(offset)
            result = await self._call(
                "getUpdates", body, kind="read", timeout=self.settings.timeout + wait
            )
            if not isinstance(result, list):
                raise MalformedResponseError(self.name, 200, "malformed_response", "not a list")
            last = None
            for update in result:
                if not isinstance(update, dict):
                    raise MalformedResponseError(
                        self.name, 200, "malformed_response", "not an update"
                    )
                arrived.extend(await self._store_update(update))
                last = int(update["update_id"])
            if last is not None:
                await store.put(_STATE, state_key, str(last + 1))
            if len(result) < 100:
                return arrived
            wait = 0

    async def ex_handle_webhook(
        self, headers: Mapping[str, str], body: bytes | str
    ) -> list[Message]:
        """Check a webhook delivery's secret token (constant time) and keep its update; the
        new messages in it (a delivery Telegram repeats gives none the second time).

        Raises :class:`~socialkit.AuthError` when the secret header is missing or wrong:
        answer the request 401 and ignore it."""
        secret = self.settings.webhook_secret
        if secret is None:
            raise ConfigurationError("telegram: set webhook_secret to receive webhook deliveries")
        if not verify_secret(headers, secret):
            raise AuthError(
                self.name, 401, "bad_secret", "the webhook delivery's secret token is wrong"
            )
        try:
            update = json.loads(body)
        except ValueError:
            raise ValidationError("the webhook delivery is not JSON") from None
        if not isinstance(update, dict):
            raise ValidationError("the webhook delivery is not an Update")
        try:
            return await self._store_update(update)
        except MalformedResponseError as exc:
            raise ValidationError(f"the webhook delivery is not an Update: {exc}") from None

    async def ex_set_webhook(self, url: str, *, drop_pending_updates: bool = False) -> None:
        """``setWebhook`` with the webhook_secret setting as ``secret_token`` (needs
        ``updates="webhook"``)."""
        secret = self.settings.webhook_secret
        if secret is None or self.settings.updates != "webhook":
            raise ConfigurationError("telegram: set updates='webhook' and webhook_secret first")
        if not url.startswith("https://"):
            raise ValidationError("Telegram delivers webhooks to https:// URLs only")
        await self._call(
            "setWebhook",
            {
                "url": url,
                "secret_token": secret.get_secret_value(),
                "allowed_updates": list(_ALLOWED_UPDATES),
                "drop_pending_updates": drop_pending_updates,
            },
        )

    async def ex_delete_webhook(self, *, drop_pending_updates: bool = False) -> None:
        """``deleteWebhook`` (to go back to getUpdates)."""
        await self._call("deleteWebhook", {"drop_pending_updates": drop_pending_updates})

    def messages(
        self,
        *,
        kinds: Iterable[MessageKind] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Message]:
        """Messages to the bot, newest first: replies to its posts, mentions, other messages
        in its groups (``comment``) and private chats (``direct``).

        A new walk (no ``cursor``) first polls ``getUpdates`` once (updates='polling'; with a
        webhook, deliveries are kept as they arrive), then reads the kept messages."""
        wanted = kinds_filter(kinds)

        async def fetch(network_cursor: str | None, want: int | None) -> Batch[Message]:
            if network_cursor is None and self.settings.updates == "polling":
                await self.ex_poll()
            else:
                await self._me()
            items = await self._store().items(_INBOX, f"{self._account_key}:")
            found: list[tuple[str, Message]] = []
            for k, value in sorted(items, reverse=True):
                if network_cursor is not None and k >= network_cursor:
                    continue
                raw = json.loads(value)
                message = self._message_of(self._model(wire.Message, raw, "a kept message"))
                if message.kind in wanted:
                    found.append((k, message))
            size = 50 if want is None else max(1, min(50, want))
            page = found[:size]
            return Batch(
                [m for _, m in page],
                page[-1][0] if len(found) > size else None,
                item_cursors=[k for k, _ in page],
            )

        return Paged(
            fetch,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
            time_of=lambda m: m.created_at,
        )

    async def reply(self, to: Message | str, post: Post | str) -> Post:
        """Answer a message (or a post id) in its chat, as a reply to it."""
        target = to.id if isinstance(to, Message) else to
        self._split_id(target, "message id")
        item = as_post(post)
        return await self.publish(item.model_copy(update={"reply_to": target}))

    # -- engagement and metrics ---------------------------------------------------------------

    async def like(self, post_id: str) -> None:
        """React with a thumbs-up (``setMessageReaction``); liking twice changes nothing."""
        chat, message_id = self._split_id(post_id)
        await self._call(
            "setMessageReaction",
            {
                "chat_id": _chat_arg(chat),
                "message_id": message_id,
                "reaction": [{"type": "emoji", "emoji": LIKE_EMOJI}],
            },
        )

    async def unlike(self, post_id: str) -> None:
        """Remove the bot's reaction (``setMessageReaction`` with none)."""
        chat, message_id = self._split_id(post_id)
        await self._call(
            "setMessageReaction",
            {"chat_id": _chat_arg(chat), "message_id": message_id, "reaction": []},
        )

    async def metrics(self, post_ids: Iterable[str]) -> dict[str, list[Metric]]:
        """Each post's reactions in total (``likes``) and the replies the bot received
        (``replies``).

        The Bot API reports reactions only as updates (``message_reaction_count`` for
        channels, when the bot is an administrator): this polls once, then answers from what
        it kept. A poll's voters (``poll_votes``) come the same way (``Update.poll``, for the
        polls the bot sent). Views and forwards are not available to bots."""
        ids = [(p, *self._split_id(p)) for p in post_ids]
        if self.settings.updates == "polling":
            await self.ex_poll()
        store = self._store()
        answered: dict[str, int] = {}
        for _, value in await store.items(_INBOX, f"{self._account_key}:"):
            kept = self._model(wire.Message, json.loads(value), "a kept message")
            about = self._message_of(kept).post_id
            if about is not None:
                answered[about] = answered.get(about, 0) + 1
        result: dict[str, list[Metric]] = {}
        moment = self.now()
        for given, chat, message_id in ids:
            chat_id = await self._chat_id(chat)
            text = await store.get(_REACTIONS, f"{self._account_key}:{chat_id}:{message_id}")
            totals: dict[str, int] = json.loads(text) if text else {}
            replies = answered.get(mapping.post_id(chat_id, message_id), 0)
            result[given] = [
                Metric(
                    name="likes",
                    value=sum(totals.values()),
                    network=self.name,
                    post_id=given,
                    native_name="message_reaction_count.reactions",
                    measured_at=moment,
                ),
                Metric(
                    name="replies",
                    value=replies,
                    network=self.name,
                    post_id=given,
                    native_name="reply_to_message",
                    measured_at=moment,
                ),
            ]
            stored = await self._load_post(chat, message_id)
            poll = stored["messages"][0].get("poll") if stored else None
            if isinstance(poll, dict):
                result[given].append(
                    Metric(
                        name="poll_votes",
                        value=int(poll.get("total_voter_count", 0)),
                        network=self.name,
                        post_id=given,
                        native_name="poll.total_voter_count",
                        measured_at=moment,
                    )
                )
        return result
