"""A small OAuth 2 token server on 127.0.0.1 with refresh token rotation and reuse detection.

It follows RFC 6749 section 6 (refresh) and section 5.2 (``invalid_grant``), with the rotation
and reuse detection of RFC 9700 section 4.14.2: every refresh spends the refresh token and issues
a new one; presenting a spent refresh token revokes the whole grant (every access and refresh
token of it). ``GET /me`` is the protected resource: 200 for a live access token, 401 otherwise.

Written on asyncio streams rather than with a web framework because the tests need to see a
client vanish: a refresh whose client disconnected before the answer is not carried out (the
server "rolls back"), which is how a lease holder killed mid-refresh leaves the grant intact.
Each request is answered with ``Connection: close``. The token endpoint waits ``delay`` seconds
(``first_delay`` for the first refresh request) before deciding, to model a slow server.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qs


@dataclass
class TokenServer:
    delay: float = 0.0
    first_delay: float | None = None
    revoked: bool = False
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # token -> active | spent
    access_tokens: set[str] = field(default_factory=set)
    refreshes: int = 0  # rotations carried out
    reuses: int = 0  # spent refresh tokens presented (each one revokes the grant)
    abandoned: int = 0  # refresh requests whose client went away before the answer
    token_requests: list[str] = field(default_factory=list)  # X-Worker-Pid of each request
    first_request: asyncio.Event = field(default_factory=asyncio.Event)
    port: int = 0
    _server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def issue(self) -> tuple[str, str]:
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self.access_tokens.add(access)
        self.refresh_tokens[refresh] = "active"
        return access, refresh

    def active_refresh_token(self) -> str | None:
        """The grant's current refresh token (None once the grant is revoked)."""
        active = [t for t, state in self.refresh_tokens.items() if state == "active"]
        return active[-1] if active and not self.revoked else None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            if method == "POST" and target == "/token":
                answer = await self._token(reader, headers, body)
            elif method == "GET" and target == "/me":
                answer = self._me(headers)
            else:
                answer = (404, {"error": "not_found"})
            if answer is None:  # the client went away: nothing was decided, nothing to send
                return
            status, payload = answer
            data = json.dumps(payload).encode()
            extra = 'WWW-Authenticate: Bearer error="invalid_token"\r\n' if status == 401 else ""
            writer.write(
                f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(data)}\r\n{extra}Cache-Control: no-store\r\n"
                "Connection: close\r\n\r\n".encode()
                + data
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _token(
        self, reader: asyncio.StreamReader, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, object]] | None:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        first = not self.token_requests
        self.token_requests.append(headers.get("x-worker-pid", "?"))
        self.first_request.set()
        delay = self.first_delay if first and self.first_delay is not None else self.delay
        # Wait, unless the client disconnects first (reading its end of the socket gives EOF).
        sleep = asyncio.ensure_future(asyncio.sleep(delay))
        gone = asyncio.ensure_future(reader.read(1))
        done, _ = await asyncio.wait({sleep, gone}, return_when=asyncio.FIRST_COMPLETED)
        for task in (sleep, gone):
            task.cancel()
        if gone in done and not sleep.done():
            self.abandoned += 1
            return None
        if form.get("grant_type") != "refresh_token":
            return 400, {"error": "unsupported_grant_type"}
        token = form.get("refresh_token", "")
        state = self.refresh_tokens.get(token)
        if self.revoked or state is None:
            return 400, {"error": "invalid_grant", "error_description": "grant revoked"}
        if state == "spent":
            # RFC 9700 4.14.2: reuse of a rotated refresh token revokes the whole grant.
            self.reuses += 1
            self.revoked = True
            return 400, {"error": "invalid_grant", "error_description": "refresh token reused"}
        self.refresh_tokens[token] = "spent"
        access, refresh = self.issue()
        self.refreshes += 1
        return 200, {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": 3600,
            "refresh_token": refresh,
        }

    def _me(self, headers: dict[str, str]) -> tuple[int, dict[str, object]]:
        sent = headers.get("authorization", "")
        token = sent[len("Bearer ") :] if sent.startswith("Bearer ") else ""
        if self.revoked or token not in self.access_tokens:
            return 401, {"error": "invalid_token"}
        return 200, {"sub": "alice"}
