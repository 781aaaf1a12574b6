"""Fetching URL-sourced media safely: no internal addresses, no DNS rebinding, bounded size.

A :class:`~socialkit.Media` built with ``Media.from_url`` is fetched by the adapter and its
bytes are uploaded to the network, so a URL chosen by someone else must not reach the
application's own infrastructure (a cloud metadata endpoint, an admin port on loopback, an
intranet host). :class:`MediaFetcher` is the one place where that is decided:

- the URL must be ``http``/``https`` without credentials in it;
- the host name is resolved here (through an injectable resolver) and every address it
  resolves to must be public: loopback, link-local, private, CGNAT (100.64.0.0/10), unique-local
  IPv6, unspecified, multicast and reserved addresses are refused, also when they hide in an
  IPv4-mapped, NAT64, 6to4 or Teredo IPv6 address or in an odd IPv4 spelling (``2130706433``,
  ``0177.0.0.1``, ``0x7f.1``, ``127.1``);
- the connection goes to the address that was checked (the URL is rewritten to the IP, the
  ``Host`` header and the TLS server name / certificate check stay on the host name, through
  httpx's documented ``sni_hostname`` request extension), so a second DNS answer cannot switch
  it (DNS rebinding), and connections are never reused across hosts;
- redirects are followed here, hop by hop, each hop checked like the first, at most
  ``max_redirects`` of them;
- the body is streamed with a size cap per media kind, and its ``Content-Type`` must be an
  image, GIF or video type that matches the :class:`~socialkit.Media`.

``allow`` lists networks (``"10.0.0.0/8"``) and host names (``"intranet.example"``, or
``".corp.example"`` for a domain and its subdomains) that may be fetched although they are
internal: the ``media_fetch_allow`` setting of every adapter.

Written here rather than taken from a library: the SSRF filters on PyPI either check the URL
text only (and miss DNS answers and rebinding) or patch the socket layer process-wide; this
module keeps httpx, its TLS checks and its streaming, and adds the address policy in front.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import anyio
import httpx

from socialkit._errors import ConfigurationError, MediaError

if TYPE_CHECKING:
    from socialkit._models import Media

__all__ = [
    "DEFAULT_MEDIA_MAX_BYTES",
    "MediaFetchError",
    "MediaFetcher",
    "Resolver",
    "check_media_url",
    "internal_reason",
    "parse_allow",
    "system_resolver",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""``async (host, port) -> addresses``: how a host name becomes IP addresses (text form)."""

#: The default size cap of a fetched medium per kind, in bytes (above the largest file any
#: supported network accepts: X takes videos up to 512 MB, images up to 5 MB, GIFs up to 15 MB).
DEFAULT_MEDIA_MAX_BYTES: Mapping[str, int] = {
    "image": 16 * 1024 * 1024,
    "gif": 16 * 1024 * 1024,
    "video": 512 * 1024 * 1024,
}

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NUMERIC_HOST = re.compile(r"^[0-9a-fx.]+$", re.IGNORECASE)
_NUMERIC_PART = re.compile(r"^(0x[0-9a-f]*|0[0-7]*|[1-9][0-9]*)$", re.IGNORECASE)


class MediaFetchError(MediaError):
    """A media URL was refused or could not be fetched; nothing was published.

    ``reason`` is a stable code: ``scheme``, ``credentials``, ``host``, ``address``
    (an internal address), ``resolve``, ``redirects``, ``status``, ``content_type``,
    ``too_large``, ``transport``, ``timeout``. ``url`` is the URL without its query string.
    A :class:`~socialkit.MediaError` (so a ``ValidationError`` and a ``ValueError``), as the
    other bad-input errors of ``Media``'s constructors are.
    """

    def __init__(self, url: str, reason: str, message: str) -> None:
        self.url = _shown(url) if url else ""
        self.reason = reason
        super().__init__(f"media url {self.url}: {message}" if self.url else f"media url {message}")

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (self.url, self.reason, str(self)))


def _rebuild(url: str, reason: str, text: str) -> MediaFetchError:
    error = MediaFetchError.__new__(MediaFetchError)
    error.url, error.reason = url, reason
    Exception.__init__(error, text)
    return error


def _shown(url: str) -> str:
    """The URL for messages: no credentials, no query (it may carry a signature or token)."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return "<invalid url>"
    return str(parsed.copy_with(userinfo=b"", query=None, fragment=None))


def check_media_url(url: str) -> httpx.URL:
    """Parse ``url`` and refuse, before any request, what can never be fetched.

    Only ``http``/``https`` with a host and without credentials pass. Raises
    :class:`MediaFetchError` otherwise.
    """
    if not isinstance(url, str):
        raise MediaFetchError("", "scheme", "must be an http(s) URL string")
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme not in ("http", "https"):
        raise MediaFetchError("", "scheme", f"must be http(s), got the scheme {scheme or 'none'!r}")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise MediaFetchError("", "host", f"is not a valid URL ({exc})") from None
    if parsed.userinfo:
        raise MediaFetchError(url, "credentials", "must not carry a user name or password")
    if not parsed.host:
        raise MediaFetchError(url, "host", "has no host")
    return parsed


def _numeric_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """An IPv4 address in the spellings ``inet_aton`` accepts (``2130706433``, ``0x7f.1``,
    ``0177.0.0.1``, ``127.1``), or None when ``host`` is not numeric.

    Parsed here, not with ``socket.inet_aton``, so that the answer does not depend on the C
    library; a numeric-looking host that is none of these raises (it is refused).
    """
    if not _NUMERIC_HOST.match(host) or not any(c.isdigit() for c in host):
        return None
    if all(c in "0123456789abcdef" for c in host.lower()) and not host.isdigit():
        return None  # a name made of hex letters and digits ("cafe", "deadbeef1")
    parts = host.rstrip(".").split(".")
    if not 1 <= len(parts) <= 4 or not all(_NUMERIC_PART.match(p) for p in parts):
        raise ValueError(f"{host!r} is not a valid address")
    values = []
    for part in parts:
        if part.lower().startswith("0x"):
            values.append(int(part[2:] or "0", 16))
        elif len(part) > 1 and part.startswith("0"):
            values.append(int(part, 8))
        else:
            values.append(int(part))
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (5 - len(values)):
        raise ValueError(f"{host!r} is not a valid address")
    number = 0
    for v in head:
        number = number * 256 + v
    number = (number << (8 * (5 - len(values)))) | last
    return ipaddress.IPv4Address(number)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def internal_reason(address: IPAddress) -> str | None:
    """Why ``address`` is not a public one (``"loopback"``, ``"private"`` …), or None."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            reason = internal_reason(inner)
            return f"{reason} (inside {address})" if reason else None
        if address.is_site_local:
            return "site-local"
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("carrier-grade NAT", isinstance(address, ipaddress.IPv4Address) and address in _CGNAT),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        ("not global", not address.is_global),
    )
    for name, hit in checks:
        if hit:
            return name
    return None


async def system_resolver(host: str, port: int) -> Sequence[str]:
    """The operating system's resolver (``getaddrinfo``), without blocking the event loop."""
    import socket

    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


_HOST_NAME = re.compile(
    r"^\.?(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*\.?$", re.IGNORECASE
)


def parse_allow(entries: Iterable[str]) -> tuple[tuple[IPNetwork, ...], tuple[str, ...]]:
    """Split an allow-list into networks and host names; raises ``ValueError`` naming an entry
    that is neither (``10.0.0.0/33``, ``http://intranet``, ``*.corp``)."""
    networks: list[IPNetwork] = []
    names: list[str] = []
    for entry in entries:
        text = entry.strip()
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
            continue
        except ValueError:
            pass
        parts = text.strip(".").split(".")
        looks_numeric = "/" in text or ":" in text or all(_NUMERIC_PART.match(p) for p in parts)
        if looks_numeric or not _HOST_NAME.match(text):
            raise ValueError(
                f"{entry!r} is neither a network (10.0.0.0/8, fd00::/8) nor a host name "
                "(intranet.example, or .corp.example for a domain)"
            )
        names.append(text.lower().rstrip("."))
    return tuple(networks), tuple(names)


_KIND_TYPES = {"image": "image/", "gif": "image/gif", "video": "video/"}


class MediaFetcher:
    """Fetch URL-sourced media under the address, redirect, size and type rules above.

    ``allow``: networks and host names that may be internal. ``max_bytes``: the cap per media
    kind (``image``, ``gif``, ``video``; defaults: :data:`DEFAULT_MEDIA_MAX_BYTES`).
    ``timeout``: seconds per connect and read; ``deadline``: seconds for the whole fetch.
    ``resolver``: ``async (host, port) -> addresses`` (default: the system's). ``transport``:
    the httpx transport to send through (default: a fresh ``httpx.AsyncHTTPTransport`` per
    fetch, so that a connection made for one host name is never reused for another).
    """

    def __init__(
        self,
        *,
        allow: Iterable[str] = (),
        max_bytes: Mapping[str, int] | None = None,
        max_redirects: int = 5,
        timeout: float = 30.0,
        deadline: float = 300.0,
        resolver: Resolver | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        user_agent: str | None = None,
    ) -> None:
        self.allow_networks, self.allow_names = parse_allow(allow)
        self.max_bytes = {**DEFAULT_MEDIA_MAX_BYTES, **(max_bytes or {})}
        if any(v <= 0 for v in self.max_bytes.values()):
            raise ValueError("media size caps must be positive")
        if max_redirects < 0:
            raise ValueError("max_redirects must be >= 0")
        if timeout <= 0 or deadline <= 0:
            raise ValueError("timeout and deadline must be positive")
        self.max_redirects = max_redirects
        self.timeout = timeout
        self.deadline = deadline
        self._resolver = resolver or system_resolver
        self._transport = transport
        self._user_agent = user_agent

    @classmethod
    def for_settings(cls, settings: Any) -> MediaFetcher:
        """The fetcher an adapter uses: ``settings.media_fetcher`` when set, else one built
        from ``media_fetch_allow``, ``media_fetch_max_bytes`` and ``timeout``."""
        given = getattr(settings, "media_fetcher", None)
        if given is not None:
            if not isinstance(given, MediaFetcher):
                raise ConfigurationError(
                    "the media_fetcher setting must be a socialkit._http.MediaFetcher, "
                    f"not {type(given).__name__}"
                )
            return given
        from socialkit._http._client import default_user_agent

        return cls(
            allow=getattr(settings, "media_fetch_allow", ()),
            max_bytes=getattr(settings, "media_fetch_max_bytes", None),
            timeout=float(getattr(settings, "timeout", 30.0)),
            user_agent=default_user_agent(),
        )

    def __repr__(self) -> str:
        allowed = [str(n) for n in self.allow_networks] + list(self.allow_names)
        return f"MediaFetcher(allow={allowed!r}, max_redirects={self.max_redirects})"

    # -- policy ---------------------------------------------------------------------------------

    def _name_allowed(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        for name in self.allow_names:
            if name.startswith("."):
                if host.endswith(name) or host == name[1:]:
                    return True
            elif host == name:
                return True
        return False

    def _address_allowed(self, address: IPAddress) -> bool:
        return any(address in network for network in self.allow_networks)

    async def pin(self, url: httpx.URL) -> list[IPAddress]:
        """The checked addresses to connect to for ``url``, in the resolver's order (raises
        :class:`MediaFetchError` when one of them is refused)."""
        # The ASCII (IDNA) form: what DNS is asked, and what the allow-list is matched with.
        host = url.raw_host.decode("ascii")
        port = url.port or (443 if url.scheme == "https" else 80)
        literal: IPAddress | None
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            try:
                literal = _numeric_ipv4(host)
            except ValueError:
                raise MediaFetchError(
                    str(url), "host", f"the host {host!r} is an invalid address spelling"
                ) from None
        if literal is not None:
            addresses: list[IPAddress] = [literal]
        else:
            try:
                answers = await self._resolver(host, port)
            except (OSError, UnicodeError) as exc:
                raise MediaFetchError(
                    str(url), "resolve", f"the host {host!r} did not resolve ({exc})"
                ) from None
            addresses = []
            for answer in answers:
                try:
                    addresses.append(ipaddress.ip_address(str(answer).split("%", 1)[0]))
                except ValueError:
                    continue
            if not addresses:
                raise MediaFetchError(str(url), "resolve", f"the host {host!r} has no address")
        if literal is None and self._name_allowed(host):
            return addresses
        # Every answer is checked, not only the one used: a name that resolves to a public
        # and an internal address is refused as a whole.
        for address in addresses:
            reason = internal_reason(address)
            if reason is not None and not self._address_allowed(address):
                raise MediaFetchError(
                    str(url),
                    "address",
                    f"the host {host!r} is a {reason} address ({address}); internal "
                    "addresses are refused (allow one with the media_fetch_allow setting)",
                )
        return addresses

    # -- fetching ---------------------------------------------------------------------------------

    async def fetch(self, media: Media) -> bytes:
        """The bytes of ``media`` (a URL-sourced medium), checked as described above."""
        if media.url is None:
            raise ValueError("fetch() takes media built with Media.from_url")
        return await self.fetch_url(media.url, kind=media.kind)

    async def fetch_url(self, url: str, *, kind: str) -> bytes:
        """The bytes at ``url``, for a medium of ``kind`` (``image``, ``gif``, ``video``)."""
        if kind not in _KIND_TYPES:
            raise ValueError(f"unknown media kind {kind!r}")
        current = check_media_url(url)
        # Per-read timeouts do not bound a server that sends a byte now and then: the whole
        # fetch, redirects included, has a deadline too.
        try:
            with anyio.fail_after(self.deadline):
                return await self._fetch(current, kind)
        except TimeoutError:
            raise MediaFetchError(
                url, "timeout", f"took longer than {self.deadline:g} s to fetch"
            ) from None

    async def _fetch(self, current: httpx.URL, kind: str) -> bytes:
        url = str(current)
        transport = self._transport or httpx.AsyncHTTPTransport(
            retries=0, limits=httpx.Limits(max_keepalive_connections=0)
        )
        try:
            async with httpx.AsyncClient(
                transport=transport,
                follow_redirects=False,
                trust_env=False,  # a proxy would resolve the name again, past this check
                timeout=self.timeout,
            ) as client:
                for _hop in range(self.max_redirects + 1):
                    response = await self._connect(client, current, await self.pin(current))
                    try:
                        if response.is_redirect:
                            current = self._next_hop(current, response)
                            continue
                        return await self._body(current, response, kind)
                    finally:
                        await response.aclose()
                raise MediaFetchError(url, "redirects", f"more than {self.max_redirects} redirects")
        finally:
            if self._transport is None:
                await transport.aclose()

    async def _connect(
        self, client: httpx.AsyncClient, url: httpx.URL, addresses: list[IPAddress]
    ) -> httpx.Response:
        """Send to the checked addresses in turn, moving on only when one cannot be reached
        (a name with an IPv6 answer on a host without IPv6)."""
        for index, address in enumerate(addresses):
            request = self._request(client, url, address)
            try:
                return await client.send(request, stream=True)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if index + 1 < len(addresses):
                    continue
                failure: httpx.HTTPError = exc
            except httpx.HTTPError as exc:
                failure = exc
            raise MediaFetchError(
                str(url), "transport", f"could not be fetched ({type(failure).__name__})"
            ) from None
        raise AssertionError("pin() returns at least one address")  # pragma: no cover

    def _request(
        self, client: httpx.AsyncClient, url: httpx.URL, address: IPAddress
    ) -> httpx.Request:
        headers = {
            # Pinned: connect to the checked address, keep the name for Host, SNI and the
            # certificate check (httpcore uses ``sni_hostname`` for both).
            "Host": url.netloc.decode("ascii"),
            "Accept": "image/*, video/*",
            "Accept-Encoding": "identity",
        }
        if self._user_agent:
            headers["User-Agent"] = self._user_agent
        extensions = {"sni_hostname": url.raw_host.decode("ascii")} if url.scheme == "https" else {}
        target = url.copy_with(host=str(address))
        return client.build_request("GET", target, headers=headers, extensions=extensions)

    def _next_hop(self, current: httpx.URL, response: httpx.Response) -> httpx.URL:
        location = response.headers.get("Location")
        if not location:
            raise MediaFetchError(str(current), "redirects", "a redirect without a Location")
        try:
            target = current.join(location)
        except httpx.InvalidURL:
            raise MediaFetchError(
                str(current), "redirects", "a redirect to an invalid URL"
            ) from None
        # The next hop is checked like the first (scheme, credentials, then its address).
        return check_media_url(str(target))

    async def _body(self, url: httpx.URL, response: httpx.Response, kind: str) -> bytes:
        if response.status_code != 200:
            raise MediaFetchError(
                str(url), "status", f"the server answered HTTP {response.status_code}"
            )
        cap = self.max_bytes[kind]
        declared = response.headers.get("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > cap:
            raise MediaFetchError(
                str(url), "too_large", f"is {int(declared):,} bytes; the {kind} cap is {cap:,}"
            )
        content_type = response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
        expected = _KIND_TYPES[kind]
        matches = content_type == expected if kind == "gif" else content_type.startswith(expected)
        if not matches or content_type == "image/svg+xml":
            raise MediaFetchError(
                str(url),
                "content_type",
                f"is {content_type or 'untyped'!r}, not the {kind} the Media describes",
            )
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > cap:
                    raise MediaFetchError(
                        str(url), "too_large", f"is over the {kind} cap of {cap:,} bytes"
                    )
                chunks.append(chunk)
        except httpx.HTTPError as exc:
            raise MediaFetchError(
                str(url), "transport", f"broke off while read ({type(exc).__name__})"
            ) from None
        return b"".join(chunks)


# Shown where users meet it: socialkit.MediaFetchError.
MediaFetchError.__module__ = "socialkit"
