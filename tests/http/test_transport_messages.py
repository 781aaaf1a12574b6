"""A connection failure says its cause: DNS, refused, TLS, reset, which timeout (issue 11).

Through both transports against loopback servers. Name resolution is stubbed
(``socket.getaddrinfo`` raises), so no lookup ever leaves the machine.
"""

from __future__ import annotations

import asyncio
import datetime
import socket
import ssl
import traceback
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from _loopback import Request, head, serving

from socialkit._errors import TimeoutError, TransportError
from socialkit._http import Network, RetryPolicy, Session, make_client, register_secret

pytestmark = pytest.mark.anyio

TRANSPORTS: dict[str, Callable[[], httpx.AsyncBaseTransport | None]] = {
    "default (aiohttp)": lambda: None,
    "httpx": lambda: httpx.AsyncHTTPTransport(),
}


def session_on(url: str, transport: str, timeout: float = 5.0) -> Session:
    client = make_client(timeout=timeout, transport=TRANSPORTS[transport]())
    return Session(Network("local", url), client=client, retry=RetryPolicy(attempts=1))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("transport", list(TRANSPORTS))
async def test_refused(transport: str):
    port = closed_port()
    session = session_on(f"http://127.0.0.1:{port}", transport)
    async with session.client:
        with pytest.raises(TransportError) as info:
            await session.request("GET", "/x")
    assert f"connection to 127.0.0.1:{port} refused" in str(info.value)
    assert "(ConnectError on GET http://127.0.0.1:" in str(info.value)


@pytest.mark.parametrize("transport", list(TRANSPORTS))
async def test_dns(transport: str, monkeypatch: pytest.MonkeyPatch):
    looked_up: list[object] = []

    def no_such_name(host: object, *args: object, **kwargs: object) -> list[object]:
        looked_up.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)
    session = session_on("http://api.name.invalid", transport)
    async with session.client:
        with pytest.raises(TransportError) as info:
            await session.request("GET", "/x")
    assert looked_up  # the stub answered: nothing was resolved for real
    assert "DNS lookup of api.name.invalid failed" in str(info.value)
    assert "Name or service not known" in str(info.value)


@pytest.mark.parametrize("transport", list(TRANSPORTS))
async def test_tls_against_a_plain_http_server(transport: str):
    async def plain(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Answers the ClientHello with plain HTTP, as a server without TLS on that port would.
        writer.write(head(400, {"content-length": "0", "connection": "close"}))
        try:
            await writer.drain()
            await reader.read(1024)
        except ConnectionError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(plain, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        session = session_on(f"https://127.0.0.1:{port}", transport)
        async with session.client:
            with pytest.raises(TransportError) as info:
                await session.request("GET", "/x")
    finally:
        server.close()
    assert f"TLS handshake with 127.0.0.1:{port} failed" in str(info.value)


def self_signed(directory: Path) -> ssl.SSLContext:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context


@pytest.mark.parametrize("transport", list(TRANSPORTS))
async def test_tls_certificate_not_trusted(transport: str, tmp_path: Path):
    context = self_signed(tmp_path)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.read(1024)
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    try:
        session = session_on(f"https://127.0.0.1:{port}", transport)
        async with session.client:
            with pytest.raises(TransportError) as info:
                await session.request("GET", "/x")
    finally:
        server.close()
    message = str(info.value)
    assert f"TLS: the certificate of 127.0.0.1:{port} was not accepted" in message
    assert "self-signed certificate" in message or "self signed certificate" in message


@pytest.mark.parametrize("transport", list(TRANSPORTS))
async def test_read_timeout_and_reset(transport: str):
    async def hang(request: Request, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(2)
        return False

    async with serving(hang) as server:
        session = session_on(server.url, transport, timeout=0.3)
        async with session.client:
            with pytest.raises(TimeoutError) as info:
                await session.request("GET", "/x")
    assert f"127.0.0.1:{server.port} sent no answer within the read timeout" in str(info.value)

    async def cut(request: Request, writer: asyncio.StreamWriter) -> bool:
        writer.transport.abort()  # RST, no answer
        return False

    async with serving(cut) as server:
        session = session_on(server.url, transport)
        async with session.client:
            with pytest.raises(TransportError) as info:
                await session.request("GET", "/x")
    message = str(info.value)
    assert any(
        cause in message
        for cause in ("reset by the peer", "closed the connection without a complete answer")
    ), message


async def test_tracebacks_of_transport_failures_hold_no_secret():
    token = "opaque" + "5f0c2a9e7d3b41c8a6f2" * 2
    register_secret(token)
    port = closed_port()
    session = session_on(f"http://127.0.0.1:{port}", "httpx")
    async with session.client:
        with pytest.raises(TransportError) as info:
            await session.request("GET", f"/callback/{token}", params={"access_token": token})
    text = "".join(traceback.format_exception(info.value))
    assert "refused" in text
    assert token not in text
