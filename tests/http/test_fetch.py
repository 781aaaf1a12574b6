"""The media fetcher refuses internal addresses, pins what it checked, and bounds what it reads.

Every refusal is checked with a stub resolver and a :class:`GuardTransport`, which fails the
test instead of sending when it is asked to connect anywhere but the loopback server the test
expects, so a wrong fetcher never sends a packet to 169.254.169.254 or a private range. The
happy paths fetch from a server on 127.0.0.1, allowed through ``allow=``.
"""

from __future__ import annotations

import datetime
import ipaddress
import pickle
import ssl
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

import pytest
from tests.http.fetch_support import (
    LOOPBACK,
    GuardTransport,
    MediaServer,
    Reply,
    StubResolver,
    serve,
)

from socialkit import ConfigurationError, Media, SocialkitError
from socialkit._http import MediaFetcher, MediaFetchError
from socialkit._http._fetch import internal_reason
from socialkit.testing.conformance import PNG_1X1

pytestmark = pytest.mark.anyio


@pytest.fixture
async def media_server() -> AsyncIterator[MediaServer]:
    server = MediaServer()
    listener = await serve(server)
    async with listener:
        yield server
        listener.close()


def fetcher(
    resolver: Callable[[str, int], object] | None = None,
    *,
    transport: GuardTransport | None = None,
    allow: Sequence[str] = (),
    **kwargs: object,
) -> tuple[MediaFetcher, GuardTransport]:
    guard = transport or GuardTransport()
    return (
        MediaFetcher(
            allow=allow,
            resolver=resolver or StubResolver({}),  # type: ignore[arg-type]
            transport=guard,
            timeout=5.0,
            **kwargs,  # type: ignore[arg-type]
        ),
        guard,
    )


# -- Media.from_url: what is refused before any request ---------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "FILE:///etc/passwd.png",
        "ftp://example.com/a.png",
        "data:image/png;base64,iVBORw0KGgo=",
        "gopher://example.com/a.png",
        "javascript:alert(1)//a.png",
        "//example.com/a.png",
        "example.com/a.png",
    ],
)
def test_from_url_refuses_other_schemes(url: str) -> None:
    with pytest.raises(MediaFetchError, match="must be http") as info:
        Media.from_url(url, mime_type="image/png")
    assert info.value.reason == "scheme"
    assert isinstance(info.value, SocialkitError)
    assert isinstance(info.value, ValueError)


def test_from_url_refuses_credentials_and_does_not_echo_them() -> None:
    with pytest.raises(MediaFetchError) as info:
        Media.from_url("https://admin:hunter2@cdn.example/a.png")
    assert info.value.reason == "credentials"
    assert "hunter2" not in str(info.value)
    assert "admin" not in str(info.value)


def test_errors_show_no_query_and_pickle() -> None:
    error = MediaFetchError("https://cdn.example/a.png?sig=SECRET", "status", "HTTP 403")
    assert "SECRET" not in str(error)
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.reason, str(copy)) == (MediaFetchError, "status", str(error))


# -- address classes, through names that resolve to them -------------------------------------

INTERNAL = [
    ("127.0.0.1", "loopback"),
    ("127.45.6.7", "loopback"),
    ("::1", "loopback"),
    ("169.254.169.254", "link-local"),
    ("fe80::1", "link-local"),
    ("10.0.0.1", "private"),
    ("10.255.255.254", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.254", "private"),
    ("192.168.1.1", "private"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("100.127.255.254", "carrier-grade NAT"),
    ("fc00::1", "private"),
    ("fd12:3456:789a::1", "private"),
    ("0.0.0.0", "unspecified"),
    ("::", "unspecified"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("ff02::1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("192.0.2.10", "private"),  # TEST-NET-1 (documentation)
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:169.254.169.254", "link-local"),
    ("::ffff:10.1.2.3", "private"),
    ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
    ("2002:7f00:1::1", "loopback"),  # 6to4 of 127.0.0.1
    ("fec0::1", "site-local"),
]


@pytest.mark.parametrize(("address", "reason"), INTERNAL)
def test_internal_reason_names_each_class(address: str, reason: str) -> None:
    found = internal_reason(ipaddress.ip_address(address))
    assert found is not None
    assert found.startswith(reason), found


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
def test_public_addresses_pass(address: str) -> None:
    assert internal_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(("address", "reason"), INTERNAL)
async def test_names_resolving_to_internal_addresses_are_refused(address: str, reason: str) -> None:
    resolver = StubResolver({"cdn.example": [address]})
    fetch, guard = fetcher(resolver)
    with pytest.raises(MediaFetchError, match="internal addresses are refused") as info:
        await fetch.fetch(Media.from_url("https://cdn.example/a.png"))
    assert info.value.reason == "address"
    assert reason in str(info.value)
    assert resolver.calls == ["cdn.example"]
    assert guard.sent == []
    assert guard.refused == []


async def test_one_internal_answer_among_public_ones_refuses_the_name() -> None:
    resolver = StubResolver({"cdn.example": ["93.184.215.14", "10.0.0.5"]})
    fetch, guard = fetcher(resolver)
    with pytest.raises(MediaFetchError, match=r"10\.0\.0\.5"):
        await fetch.fetch(Media.from_url("https://cdn.example/a.png"))
    assert guard.sent == []


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("http://169.254.169.254/latest/meta-data/a.png", "169.254.169.254"),
        ("http://[::1]/a.png", "::1"),
        ("http://[::ffff:7f00:1]/a.png", "::ffff:7f00:1"),
        ("http://[fd00::5]/a.png", "fd00::5"),
        ("http://2130706433/a.png", "127.0.0.1"),  # decimal
        ("http://0x7f000001/a.png", "127.0.0.1"),  # hex
        ("http://017700000001/a.png", "127.0.0.1"),  # octal, one part
        ("http://0x7f.1/a.png", "127.0.0.1"),  # hex, short form
        ("http://127.1/a.png", "127.0.0.1"),  # short form
        ("http://10.1/a.png", "10.0.0.1"),
        ("http://0xa9.0xfe.0xa9.0xfe/a.png", "169.254.169.254"),
        ("http://2852039166/a.png", "169.254.169.254"),
        ("http://3232235777/a.png", "192.168.1.1"),
        ("http://0/a.png", "0.0.0.0"),
        ("http://[fe80::1%25eth0]/a.png", "fe80::1%25eth0"),  # scoped link-local
    ],
)
async def test_literal_and_oddly_spelled_addresses_are_refused(url: str, address: str) -> None:
    resolver = StubResolver({})
    fetch, guard = fetcher(resolver)
    with pytest.raises(MediaFetchError, match="internal addresses are refused") as info:
        await fetch.fetch_url(url, kind="image")
    assert f"({address})" in str(info.value)
    assert resolver.calls == []  # a literal is never sent to DNS
    assert guard.sent == []


@pytest.mark.parametrize(
    "host",
    # 0177.0.0.1 (octal, four parts) is refused by httpx's URL parser already.
    ["1.2.3.4.5", "0x1ffffffff", "256.1.1.1", "09.1.1.1", "1.2.65536", "0177.0.0.1"],
)
async def test_invalid_numeric_hosts_are_refused(host: str) -> None:
    resolver = StubResolver({})
    fetch, guard = fetcher(resolver)
    with pytest.raises(MediaFetchError) as info:
        await fetch.fetch_url(f"http://{host}/a.png", kind="image")
    assert info.value.reason == "host"
    assert resolver.calls == []
    assert guard.sent == []


async def test_unresolvable_name_is_a_typed_error() -> None:
    fetch, guard = fetcher(StubResolver({}))
    with pytest.raises(MediaFetchError) as info:
        await fetch.fetch_url("https://nowhere.example/a.png", kind="image")
    assert info.value.reason == "resolve"
    assert guard.sent == []


# -- the allow-list, the happy path, pinning --------------------------------------------------


async def test_allowed_network_is_fetched_with_the_original_host_header(
    media_server: MediaServer,
) -> None:
    media_server.routes["/a.png"] = Reply()
    resolver = StubResolver({"media.test": [LOOPBACK]})
    fetch, guard = fetcher(resolver, allow=["127.0.0.0/8"])
    data = await fetch.fetch(Media.from_url(media_server.url("media.test", "/a.png")))
    assert data == PNG_1X1
    # Connected to the pinned address, with the name in the Host header.
    assert [r.url.host for r in guard.sent] == [LOOPBACK]
    assert media_server.received == [("/a.png", f"media.test:{media_server.port}")]


async def test_allowed_host_name_is_fetched(media_server: MediaServer) -> None:
    media_server.routes["/a.png"] = Reply()
    resolver = StubResolver({"img.intranet.example": [LOOPBACK]})
    fetch, _guard = fetcher(resolver, allow=[".intranet.example"])
    url = media_server.url("img.intranet.example", "/a.png")
    assert await fetch.fetch_url(url, kind="image") == PNG_1X1
    other, _ = fetcher(StubResolver({"evil.example": [LOOPBACK]}), allow=[".intranet.example"])
    with pytest.raises(MediaFetchError, match="loopback"):
        await other.fetch_url(media_server.url("evil.example", "/a.png"), kind="image")


async def test_dns_rebinding_cannot_switch_the_address(media_server: MediaServer) -> None:
    """The name answers the allowed address first, then an internal one: the connection
    goes to the first (checked) answer, and the name is asked once per hop."""
    media_server.routes["/a.png"] = Reply()
    resolver = StubResolver({"media.test": [[LOOPBACK], ["169.254.169.254"]]})
    fetch, guard = fetcher(resolver, allow=["127.0.0.1/32"])
    assert await fetch.fetch_url(media_server.url("media.test", "/a.png"), kind="image")
    assert resolver.calls == ["media.test"]
    assert [r.url.host for r in guard.sent] == [LOOPBACK]


async def test_rebinding_between_redirect_hops_is_checked_again(media_server: MediaServer) -> None:
    media_server.routes["/a.png"] = Reply(status=302, headers={"Location": "/b.png"})
    media_server.routes["/b.png"] = Reply()
    resolver = StubResolver({"media.test": [[LOOPBACK], ["169.254.169.254"]]})
    fetch, guard = fetcher(resolver, allow=["127.0.0.1/32"])
    with pytest.raises(MediaFetchError, match="link-local"):
        await fetch.fetch_url(media_server.url("media.test", "/a.png"), kind="image")
    assert resolver.calls == ["media.test", "media.test"]
    assert len(guard.sent) == 1
    assert guard.refused == []


# -- redirects ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("location", "table", "reason"),
    [
        ("http://metadata.test/a.png", {"metadata.test": ["169.254.169.254"]}, "address"),
        ("http://intranet.test/a.png", {"intranet.test": ["10.0.0.7"]}, "address"),
        ("http://ula.test/a.png", {"ula.test": ["fd00::7"]}, "address"),
        ("http://[::ffff:a9fe:a9fe]/a.png", {}, "address"),
        ("http://3232235777/a.png", {}, "address"),  # 192.168.1.1, decimal
        ("http://192.168.0.1/a.png", {}, "address"),
        ("file:///etc/passwd", {}, "scheme"),
        ("ftp://cdn.example/a.png", {}, "scheme"),
        ("https://user:pw@cdn.example/a.png", {}, "credentials"),
    ],
)
async def test_redirect_hops_are_checked(
    media_server: MediaServer, location: str, table: dict[str, list[str]], reason: str
) -> None:
    media_server.routes["/a.png"] = Reply(status=302, headers={"Location": location})
    resolver = StubResolver({"media.test": [LOOPBACK], **table})
    fetch, guard = fetcher(resolver, allow=["127.0.0.1/32"])
    with pytest.raises(MediaFetchError) as info:
        await fetch.fetch_url(media_server.url("media.test", "/a.png"), kind="image")
    assert info.value.reason == reason
    assert [r.url.host for r in guard.sent] == [LOOPBACK]  # only the first hop was sent
    assert guard.refused == []


async def test_redirects_are_followed_up_to_the_cap(media_server: MediaServer) -> None:
    for i in range(5):
        media_server.routes[f"/{i}"] = Reply(status=301, headers={"Location": f"/{i + 1}"})
    media_server.routes["/5"] = Reply()
    resolver = StubResolver({"media.test": [LOOPBACK]})
    fetch, _ = fetcher(resolver, allow=["127.0.0.1/32"], max_redirects=5)
    assert await fetch.fetch_url(media_server.url("media.test", "/0"), kind="image") == PNG_1X1
    short, guard = fetcher(resolver, allow=["127.0.0.1/32"], max_redirects=2)
    with pytest.raises(MediaFetchError, match="more than 2 redirects"):
        await short.fetch_url(media_server.url("media.test", "/0"), kind="image")
    assert len(guard.sent) == 3


# -- size and type ---------------------------------------------------------------------------


@pytest.mark.parametrize("chunked", [False, True])
async def test_size_cap_per_kind(media_server: MediaServer, chunked: bool) -> None:
    body = b"\x89PNG" + b"\0" * 300_000
    media_server.routes["/big.png"] = Reply(body=body, chunked=chunked)
    resolver = StubResolver({"media.test": [LOOPBACK]})
    fetch, _ = fetcher(resolver, allow=["127.0.0.1/32"], max_bytes={"image": 100_000})
    with pytest.raises(MediaFetchError, match="100,000") as info:
        await fetch.fetch_url(media_server.url("media.test", "/big.png"), kind="image")
    assert info.value.reason == "too_large"
    # The video cap is separate (default 512 MiB): the same bytes pass as a video.
    media_server.routes["/big.mp4"] = Reply(body=body, headers={"Content-Type": "video/mp4"})
    assert await fetch.fetch_url(media_server.url("media.test", "/big.mp4"), kind="video") == body


@pytest.mark.parametrize(
    ("content_type", "kind", "ok"),
    [
        ("image/png", "image", True),
        ("image/jpeg; charset=binary", "image", True),
        ("image/gif", "gif", True),
        ("video/mp4", "video", True),
        ("image/png", "gif", False),
        ("image/png", "video", False),
        ("video/mp4", "image", False),
        ("text/html", "image", False),
        ("application/json", "image", False),
        ("image/svg+xml", "image", False),
        ("", "image", False),
    ],
)
async def test_content_type_must_match_the_media(
    media_server: MediaServer, content_type: str, kind: str, ok: bool
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    media_server.routes["/m"] = Reply(headers=headers)
    fetch, _ = fetcher(StubResolver({"media.test": [LOOPBACK]}), allow=["127.0.0.1/32"])
    url = media_server.url("media.test", "/m")
    if ok:
        assert await fetch.fetch_url(url, kind=kind) == PNG_1X1
    else:
        with pytest.raises(MediaFetchError) as info:
            await fetch.fetch_url(url, kind=kind)
        assert info.value.reason == "content_type"


async def test_error_status_is_a_typed_error(media_server: MediaServer) -> None:
    fetch, _ = fetcher(StubResolver({"media.test": [LOOPBACK]}), allow=["127.0.0.1/32"])
    with pytest.raises(MediaFetchError, match="HTTP 404") as info:
        await fetch.fetch_url(media_server.url("media.test", "/missing.png"), kind="image")
    assert info.value.reason == "status"


# -- TLS: the certificate is checked against the host name, not the pinned address ------------


def _certificate(tmp_path: Path, name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A self-signed certificate for ``name`` (no IP in it): the server's and a client
    context that trusts only it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return server, client


@pytest.mark.parametrize(("cert_name", "ok"), [("media.test", True), ("other.test", False)])
async def test_https_checks_the_certificate_against_the_name(
    tmp_path: Path, cert_name: str, ok: bool
) -> None:
    server_ctx, client_ctx = _certificate(tmp_path, cert_name)
    server = MediaServer(routes={"/a.png": Reply()})
    listener = await serve(server, server_ctx)
    async with listener:
        guard = GuardTransport(verify=client_ctx)
        fetch, _ = fetcher(
            StubResolver({"media.test": [LOOPBACK]}), transport=guard, allow=["127.0.0.1/32"]
        )
        url = server.url("media.test", "/a.png", scheme="https")
        if ok:
            assert await fetch.fetch_url(url, kind="image") == PNG_1X1
            assert server.received == [("/a.png", f"media.test:{server.port}")]
        else:
            with pytest.raises(MediaFetchError) as info:
                await fetch.fetch_url(url, kind="image")
            assert info.value.reason == "transport"
            assert server.received == []
        listener.close()


# -- settings ---------------------------------------------------------------------------------


def test_for_settings_builds_from_the_adapter_settings() -> None:
    from socialkit.adapters._base import AdapterSettings

    settings = AdapterSettings(
        media_fetch_allow=("10.0.0.0/8", "intranet.example"),
        media_fetch_max_bytes={"image": 1000},
        timeout=7.0,
    )
    built = MediaFetcher.for_settings(settings)
    assert built.allow_networks == (ipaddress.ip_network("10.0.0.0/8"),)
    assert built.allow_names == ("intranet.example",)
    assert built.max_bytes["image"] == 1000
    assert built.max_bytes["video"] == 512 * 1024 * 1024
    assert built.timeout == 7.0
    given = MediaFetcher()
    assert MediaFetcher.for_settings(AdapterSettings(media_fetcher=given)) is given
    with pytest.raises(ConfigurationError, match="not object"):
        MediaFetcher.for_settings(AdapterSettings(media_fetcher=object()))


async def test_unreachable_checked_address_falls_back_to_the_next(
    media_server: MediaServer,
) -> None:
    """Nothing listens on 127.0.0.3 at the server's port: the next checked answer is used."""
    media_server.routes["/a.png"] = Reply()
    guard = GuardTransport(expected={"127.0.0.3", LOOPBACK})
    fetch, _ = fetcher(
        StubResolver({"media.test": ["127.0.0.3", LOOPBACK]}),
        transport=guard,
        allow=["127.0.0.0/8"],
    )
    assert await fetch.fetch_url(media_server.url("media.test", "/a.png"), kind="image") == PNG_1X1
    assert [r.url.host for r in guard.sent] == ["127.0.0.3", LOOPBACK]


@pytest.mark.parametrize(
    "entry", ["10.0.0.0/33", "http://intranet.example", "*.corp.example", "1.2.3", "", "a b"]
)
def test_allow_list_entries_are_checked(entry: str) -> None:
    from pydantic import ValidationError

    from socialkit.adapters._base import AdapterSettings

    with pytest.raises(ValueError, match="neither a network"):
        MediaFetcher(allow=[entry])
    with pytest.raises(ValidationError, match="media_fetch_allow"):
        AdapterSettings(media_fetch_allow=(entry,))


def test_size_caps_are_checked_in_settings() -> None:
    from pydantic import ValidationError

    from socialkit.adapters._base import AdapterSettings

    with pytest.raises(ValidationError, match="media_fetch_max_bytes"):
        AdapterSettings(media_fetch_max_bytes={"images": 5})  # type: ignore[dict-item]
    with pytest.raises(ValidationError, match="greater than 0"):
        AdapterSettings(media_fetch_max_bytes={"image": 0})


async def test_a_dripping_server_meets_the_deadline(media_server: MediaServer) -> None:
    """Each byte comes well within the read timeout; the whole fetch still ends in time."""
    media_server.routes["/slow.png"] = Reply(drip=0.02)  # 67 bytes: about 1.3 s in all
    fetch, _ = fetcher(
        StubResolver({"media.test": [LOOPBACK]}), allow=["127.0.0.1/32"], deadline=0.3
    )
    started = time.monotonic()
    with pytest.raises(MediaFetchError, match=r"longer than 0\.3 s") as info:
        await fetch.fetch_url(media_server.url("media.test", "/slow.png"), kind="image")
    assert info.value.reason == "timeout"
    assert time.monotonic() - started < 1.0


async def test_international_names_are_resolved_and_allowed_in_their_ascii_form(
    media_server: MediaServer,
) -> None:
    media_server.routes["/a.png"] = Reply()
    resolver = StubResolver({"xn--bcher-kva.example": [LOOPBACK]})
    fetch, _ = fetcher(resolver, allow=["xn--bcher-kva.example"])
    url = media_server.url("bücher.example", "/a.png")
    assert await fetch.fetch_url(url, kind="image") == PNG_1X1
    assert resolver.calls == ["xn--bcher-kva.example"]
    assert media_server.received == [("/a.png", f"xn--bcher-kva.example:{media_server.port}")]
