"""AT Protocol OAuth of the Bluesky adapter, against a respx fake of a PDS and its entryway.

The fake follows the atproto OAuth profile (https://atproto.com/specs/oauth) and the RFCs it
builds on, and checks what the adapter sends the way a real server would:

- protected resource metadata (RFC 9728, ``/.well-known/oauth-protected-resource`` on the PDS,
  exactly one ``authorization_servers`` entry as the atproto profile requires);
- authorization server metadata (RFC 8414, ``/.well-known/oauth-authorization-server``, with
  the fields the atproto profile requires: PAR required, ES256 DPoP, S256 PKCE, ``iss`` in the
  authorization response (RFC 9207), ``token_endpoint_auth_methods_supported`` ``none``);
- pushed authorization requests (RFC 9126: 201 ``{request_uri, expires_in}``);
- the token endpoint (RFC 6749 section 5.1, plus the atproto ``sub`` field), refresh tokens that
  rotate (a used one is ``invalid_grant``);
- DPoP (RFC 9449): every proof's ES256 signature is verified with the ``jwk`` of its header
  (joserfc), its ``typ``, ``htm``, ``htu`` (no query), ``iat``, unique ``jti``, the server's
  ``nonce`` (400 ``use_dpop_nonce`` from the authorization server, section 8; 401 with
  ``WWW-Authenticate: DPoP error="use_dpop_nonce"`` from the PDS, section 9) and, on resource
  requests, ``ath``; tokens are bound to the key's thumbprint (``cnf.jkt``, RFC 7638);
- DID documents from the PLC directory (did:plc spec: ``alsoKnownAs``, ``#atproto_pds``).

Every XRPC request and answer here is validated against ../shared/specs/bluesky/lexicons by
the ``router`` fixture (``LexiconChecker``); the OAuth, well-known and PLC endpoints are not
XRPC and are exempted by name in ``NOT_XRPC`` (the fake validates them instead).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import secrets
import time
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import httpx
import pytest
import respx
from bluesky_support import (
    DID,
    HANDLE,
    SERVICE,
    BlueskyFixtures,
    created,
    post_uri,
    profile_detailed,
    xrpc,
)
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import ECKey
from pydantic import SecretStr

from socialkit import AuthError, ConfigurationError, MemoryStore, Post
from socialkit.adapters.bluesky import BlueskyAdapter, BlueskySettings
from socialkit.adapters.bluesky._oauth import (
    PENDING_NAMESPACE,
    TOKEN_NETWORK,
    DPoPKey,
    loopback_client_id,
)
from socialkit.auth import RefreshError, StateMismatchError, Token
from socialkit.testing.conformance import json_response

pytestmark = pytest.mark.spec

ISSUER = "https://auth.example.com"  # the entryway: another origin than the PDS
PLC = "https://plc.example.com"
CLIENT_ID = "https://app.example.com/oauth/client-metadata.json"
REDIRECT = "https://app.example.com/oauth/callback"
SCOPE = "atproto transition:generic"
OTHER_DID = "did:plc:mallory444444444444444444"

#: Endpoints without a lexicon (not XRPC), and why they are exempt from the lexicon check.
NOT_XRPC = {
    (SERVICE, "/.well-known/oauth-protected-resource"): "RFC 9728 metadata, checked by the fake",
    (ISSUER, "/.well-known/oauth-authorization-server"): "RFC 8414 metadata, checked by the fake",
    (ISSUER, "/oauth/par"): "RFC 9126 pushed authorization request, checked by the fake",
    (ISSUER, "/oauth/token"): "RFC 6749/9449 token endpoint, checked by the fake",
}
NOT_XRPC_HOSTS = {PLC: "did:plc directory (DID documents), not XRPC"}
#: Error names of the DPoP layer a PDS answers XRPC calls with (see check_exchange).
DPOP_LAYER_ERRORS = ("error 'use_dpop_nonce' is neither", "error 'invalid_token' is neither")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jkt(jwk: dict[str, Any]) -> str:
    """RFC 7638 thumbprint of an EC public key."""
    members = {k: jwk[k] for k in ("crv", "kty", "x", "y")}
    return b64url(hashlib.sha256(json.dumps(members, separators=(",", ":")).encode()).digest())


def jws_header(proof: str) -> dict[str, Any]:
    part = proof.split(".")[0]
    value: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return value


def form(request: httpx.Request) -> dict[str, str]:
    assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
    return dict(parse_qsl(request.content.decode(), keep_blank_values=True))


def did_document(did: str = DID, handle: str = HANDLE, pds: str = SERVICE) -> dict[str, Any]:
    """A did:plc DID document as the PLC directory serves it (https://web.plc.directory/spec)."""
    return {
        "@context": [
            "https://www.w3.org/ns/did/v1",
            "https://w3id.org/security/multikey/v1",
        ],
        "id": did,
        "alsoKnownAs": [f"at://{handle}"],
        "verificationMethod": [
            {
                "id": f"{did}#atproto",
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": "zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF",
            }
        ],
        "service": [
            {"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": pds}
        ],
    }


def protected_resource() -> dict[str, Any]:
    """RFC 9728 protected resource metadata of a PDS (atproto: one authorization server)."""
    return {
        "resource": SERVICE,
        "authorization_servers": [ISSUER],
        "scopes_supported": [],
        "bearer_methods_supported": ["header"],
        "resource_documentation": "https://atproto.com",
    }


def server_metadata() -> dict[str, Any]:
    """RFC 8414 authorization server metadata with the fields the atproto profile requires."""
    return {
        "issuer": ISSUER,
        "authorization_endpoint": f"{ISSUER}/oauth/authorize",
        "token_endpoint": f"{ISSUER}/oauth/token",
        "pushed_authorization_request_endpoint": f"{ISSUER}/oauth/par",
        "require_pushed_authorization_requests": True,
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none", "private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["ES256"],
        "scopes_supported": ["atproto", "transition:generic", "transition:chat.bsky"],
        "authorization_response_iss_parameter_supported": True,
        "dpop_signing_alg_values_supported": ["ES256"],
        "client_id_metadata_document_supported": True,
    }


def oauth_error(status: int, error: str, description: str, **headers: str) -> httpx.Response:
    """An OAuth error body (RFC 6749 section 5.2)."""
    return json_response(status, {"error": error, "error_description": description}, headers)


class FakeAtproto:
    """A PDS (resource server) + entryway (authorization server) + PLC directory."""

    def __init__(self, router: respx.MockRouter) -> None:
        self.router = router
        self.as_nonce = "as-nonce-1"
        self.pds_nonce = "pds-nonce-1"
        self.sub = DID  # whom the token endpoint issues tokens for
        self.expires_in = 900
        self.jtis: set[str] = set()
        self.pars: dict[str, dict[str, Any]] = {}  # request_uri -> PAR form + jkt
        self.codes: dict[str, dict[str, Any]] = {}
        self.access: dict[str, dict[str, Any]] = {}  # access token -> jkt, exp
        self.refresh: dict[str, dict[str, Any]] = {}  # refresh token -> jkt, used
        self.proofs: list[dict[str, Any]] = []  # (url, claims, jwk) of every proof, in order
        self.token_forms: list[dict[str, str]] = []
        self.resource_auth: list[str] = []  # the Authorization header of each resource send
        self.invalidate_next = False

        router.get(xrpc("com.atproto.identity.resolveHandle"), params={"handle": HANDLE}).mock(
            return_value=json_response(200, {"did": DID})
        )
        router.get(f"{PLC}/{DID}").mock(return_value=json_response(200, did_document()))
        router.get(f"{SERVICE}/.well-known/oauth-protected-resource").mock(
            return_value=json_response(200, protected_resource())
        )
        router.get(f"{ISSUER}/.well-known/oauth-authorization-server").mock(
            return_value=json_response(200, server_metadata())
        )
        self.par_route = router.post(f"{ISSUER}/oauth/par").mock(side_effect=self.par)
        self.token_route = router.post(f"{ISSUER}/oauth/token").mock(side_effect=self.token)
        self.profile_route = router.get(xrpc("app.bsky.actor.getProfile")).mock(
            side_effect=self.resource(lambda request: json_response(200, profile_detailed()))
        )
        self.create_route = router.post(xrpc("com.atproto.repo.createRecord")).mock(
            side_effect=self.resource(
                lambda request: json_response(
                    200, created(post_uri(json.loads(request.content)["rkey"]))
                )
            )
        )

    # -- DPoP (RFC 9449 section 4.3: checking a proof) -----------------------------------------

    def verify(self, request: httpx.Request, *, access: str | None) -> tuple[dict[str, Any], str]:
        proof = request.headers["DPoP"]
        header = jws_header(proof)
        assert header["typ"] == "dpop+jwt"
        assert header["alg"] == "ES256"
        assert set(header["jwk"]) == {"kty", "crv", "x", "y"}, "the public key only"
        key = ECKey.import_key(header["jwk"])
        claims = dict(jwt.decode(proof, key, algorithms=["ES256"]).claims)  # the signature
        assert claims["htm"] == request.method
        assert claims["htu"] == str(request.url.copy_with(query=None, fragment=None))
        assert "?" not in claims["htu"]
        assert abs(claims["iat"] - time.time()) < 60
        assert claims["jti"] not in self.jtis, "a proof is never reused"
        self.jtis.add(claims["jti"])
        if access is None:
            assert "ath" not in claims
        else:
            assert claims["ath"] == b64url(hashlib.sha256(access.encode()).digest())
        self.proofs.append({"url": str(request.url), "claims": claims, "jwk": header["jwk"]})
        return claims, jkt(header["jwk"])

    # -- authorization server --------------------------------------------------------------

    def par(self, request: httpx.Request) -> httpx.Response:
        claims, thumb = self.verify(request, access=None)
        if claims.get("nonce") != self.as_nonce:
            return oauth_error(
                400,
                "use_dpop_nonce",
                "Authorization server requires nonce in DPoP proof",
                **{"DPoP-Nonce": self.as_nonce},
            )
        sent = form(request)
        request_uri = f"urn:ietf:params:oauth:request_uri:req-{secrets.token_hex(8)}"
        self.pars[request_uri] = {**sent, "jkt": thumb}
        return json_response(
            201, {"request_uri": request_uri, "expires_in": 299}, {"DPoP-Nonce": self.as_nonce}
        )

    def authorize(self, authorization_url: str) -> tuple[str, str]:
        """The user signs in and approves: ``(code, state)`` for the redirect."""
        parts = urlsplit(authorization_url)
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{ISSUER}/oauth/authorize"
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        assert set(query) == {"client_id", "request_uri"}
        par = self.pars[query["request_uri"]]
        assert query["client_id"] == par["client_id"]
        code = f"cod-{secrets.token_hex(12)}"
        self.codes[code] = par
        return code, par["state"]

    def _issue(self, thumb: str, scope: str) -> dict[str, Any]:
        access = f"at-{secrets.token_hex(16)}"
        refresh = f"rt-{secrets.token_hex(16)}"
        self.access[access] = {"jkt": thumb, "exp": time.time() + self.expires_in}
        self.refresh[refresh] = {"jkt": thumb, "used": False}
        return {
            "access_token": access,
            "token_type": "DPoP",
            "refresh_token": refresh,
            "scope": scope,
            "expires_in": self.expires_in,
            "sub": self.sub,
        }

    def token(self, request: httpx.Request) -> httpx.Response:
        claims, thumb = self.verify(request, access=None)
        if claims.get("nonce") != self.as_nonce:
            return oauth_error(
                400,
                "use_dpop_nonce",
                "Authorization server requires nonce in DPoP proof",
                **{"DPoP-Nonce": self.as_nonce},
            )
        sent = form(request)
        self.token_forms.append(sent)
        nonce = {"DPoP-Nonce": self.as_nonce}
        if sent["grant_type"] == "authorization_code":
            par = self.codes.pop(sent["code"], None)
            if par is None:
                return oauth_error(400, "invalid_grant", "Invalid code", **nonce)
            challenge = b64url(hashlib.sha256(sent["code_verifier"].encode()).digest())
            assert challenge == par["code_challenge"], "PKCE S256"
            assert sent["redirect_uri"] == par["redirect_uri"]
            assert sent["client_id"] == par["client_id"]
            assert thumb == par["jkt"], "the code is exchanged with the PAR's DPoP key"
            return json_response(200, self._issue(thumb, par["scope"]), nonce)
        assert sent["grant_type"] == "refresh_token"
        assert set(sent) == {"grant_type", "refresh_token", "client_id"}
        known = self.refresh.get(sent["refresh_token"])
        if known is None or known["used"] or known["jkt"] != thumb:
            return oauth_error(400, "invalid_grant", "Invalid refresh token", **nonce)
        known["used"] = True  # rotation: a refresh token is good once
        return json_response(200, self._issue(thumb, SCOPE), nonce)

    # -- resource server (the PDS) ---------------------------------------------------------

    def resource(self, answer: Any) -> Any:
        def handle(request: httpx.Request) -> httpx.Response:
            header = request.headers.get("Authorization", "")
            self.resource_auth.append(header)
            scheme, _, access = header.partition(" ")
            assert scheme == "DPoP", "OAuth tokens are sent with the DPoP scheme"
            claims, thumb = self.verify(request, access=access)
            nonce = {"DPoP-Nonce": self.pds_nonce}
            if claims.get("nonce") != self.pds_nonce:
                return json_response(
                    401,
                    {"error": "use_dpop_nonce", "message": "Resource server requires nonce"},
                    {
                        **nonce,
                        "WWW-Authenticate": (
                            'DPoP algs="ES256", error="use_dpop_nonce", '
                            'error_description="Resource server requires nonce in DPoP proof"'
                        ),
                    },
                )
            token = self.access.get(access)
            expired = token is None or token["exp"] < time.time() or self.invalidate_next
            if expired or token is None or token["jkt"] != thumb:
                self.invalidate_next = False
                return json_response(
                    401,
                    {"error": "invalid_token", "message": '"exp" claim timestamp check failed'},
                    {
                        **nonce,
                        "WWW-Authenticate": (
                            'DPoP algs="ES256", error="invalid_token", '
                            'error_description="\\"exp\\" claim timestamp check failed"'
                        ),
                    },
                )
            response: httpx.Response = answer(request)
            response.headers["DPoP-Nonce"] = self.pds_nonce
            return response

        return handle


class OAuthFixtures(BlueskyFixtures):
    def make_adapter(self, http: httpx.AsyncClient, **settings: Any) -> BlueskyAdapter:
        values: dict[str, Any] = {
            "password": None,
            "oauth_client_id": CLIENT_ID,
            "oauth_redirect_uri": REDIRECT,
            "plc_directory": PLC,
        }
        values.update(settings)
        return super().make_adapter(http, **values)

    def check_exchange(self, request: httpx.Request, response: httpx.Response | None) -> None:
        url = request.url
        origin = f"{url.scheme}://{url.netloc.decode()}"
        if (origin, url.path) in NOT_XRPC or origin in NOT_XRPC_HOSTS:
            return  # not XRPC (see NOT_XRPC): the fake checks these against their RFCs
        checker = self.checker()
        problems = checker.request_violations(request)
        if response is not None:
            response.read()
            found = checker.response_violations(request, response)
            if response.status_code == 401 and "DPoP" in response.headers.get(
                "WWW-Authenticate", ""
            ):
                # DPOP_LAYER_ERRORS: RFC 9449 section 9 / RFC 6750 section 3.1 errors of the
                # authentication layer: the PDS puts them in the XRPC error body (its
                # auth-verifier) and no lexicon declares them. The shape is still checked.
                found = [p for p in found if not p.startswith(DPOP_LAYER_ERRORS)]
            problems.extend(found)
        if problems:
            raise AssertionError("; ".join(problems))

    @pytest.fixture
    def fake(self, router: respx.MockRouter) -> FakeAtproto:
        return FakeAtproto(router)


async def login(adapter: BlueskyAdapter, fake: FakeAtproto, **params: str) -> str:
    """ex_oauth_begin, the user's approval at the server, then ex_oauth_complete."""
    url, state = await adapter.ex_oauth_begin(HANDLE)
    code, sent_state = fake.authorize(url)
    assert sent_state == state
    query = {"code": code, "state": state, "iss": ISSUER, **params}
    await adapter.ex_oauth_complete(f"{REDIRECT}?{httpx.QueryParams(query)}")
    return state


async def stored(adapter: BlueskyAdapter) -> Token:
    token = await adapter._tokens().get(TOKEN_NETWORK, HANDLE)
    assert token is not None
    return token


def test_proof_verification_can_fail() -> None:
    """The check the fake relies on rejects a proof signed by another key."""
    proof = DPoPKey.generate().proof("GET", f"{SERVICE}/xrpc/x.y?z=1", nonce="n")
    other = DPoPKey.generate().public_jwk
    with pytest.raises(BadSignatureError):
        jwt.decode(proof, ECKey.import_key(other), algorithms=["ES256"])
    header, claims = (
        jws_header(proof),
        jwt.decode(proof, ECKey.import_key(jws_header(proof)["jwk"])).claims,
    )
    assert header["typ"] == "dpop+jwt"
    assert claims["htu"] == f"{SERVICE}/xrpc/x.y"
    assert claims["nonce"] == "n"


def test_loopback_client_id_form() -> None:
    """atproto OAuth spec, "Localhost Client Development"."""
    made = loopback_client_id("http://127.0.0.1:8123/callback")
    assert made == (
        "http://localhost?redirect_uri=http%3A%2F%2F127.0.0.1%3A8123%2Fcallback"
        "&scope=atproto%20transition%3Ageneric"
    )
    parts = urlsplit(made)
    assert (parts.scheme, parts.netloc, parts.path) == ("http", "localhost", "")
    with pytest.raises(ConfigurationError):
        loopback_client_id("http://localhost:8123/callback")  # must be an IP literal


class TestSettings(OAuthFixtures):
    def test_password_and_oauth_together_are_refused(self) -> None:
        settings = BlueskySettings(
            identifier=HANDLE,
            password=SecretStr("app-pass-word"),
            oauth_client_id=CLIENT_ID,
            store=MemoryStore(),
        )
        with pytest.raises(ConfigurationError, match="either an app password or OAuth"):
            BlueskyAdapter(settings)

    def test_client_id_must_be_https_or_loopback(self) -> None:
        for bad in ("http://app.example.com/meta.json", "http://localhost:8080", "ftp://x"):
            with pytest.raises(ValueError):
                BlueskySettings(identifier=HANDLE, oauth_client_id=bad)
        assert BlueskySettings(identifier=HANDLE, oauth_client_id=loopback_client_id())

    @pytest.mark.anyio
    async def test_nothing_stored_asks_to_log_in_before_any_request(
        self, adapter: BlueskyAdapter, router: respx.MockRouter
    ) -> None:
        with pytest.raises(AuthError, match="log in") as caught:
            await adapter.me()
        assert caught.value.code == "not_logged_in"
        assert not router.calls

    @pytest.mark.anyio
    async def test_app_password_adapter_has_no_oauth_login(self, router: respx.MockRouter) -> None:
        client = httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler))
        adapter = BlueskyFixtures().make_adapter(client)
        with pytest.raises(ConfigurationError, match="app password"):
            await adapter.ex_oauth_begin(HANDLE)
        assert not router.calls
        await adapter.aclose()
        await client.aclose()


class TestLogin(OAuthFixtures):
    @pytest.mark.anyio
    async def test_discovery_par_nonce_and_token_exchange(
        self, adapter: BlueskyAdapter, router: respx.MockRouter, fake: FakeAtproto
    ) -> None:
        url, state = await adapter.ex_oauth_begin(HANDLE)
        order = [(c.request.method, str(c.request.url).split("?")[0]) for c in router.calls]
        assert order == [
            ("GET", xrpc("com.atproto.identity.resolveHandle")),
            ("GET", f"{PLC}/{DID}"),
            ("GET", f"{SERVICE}/.well-known/oauth-protected-resource"),
            ("GET", f"{ISSUER}/.well-known/oauth-authorization-server"),
            ("POST", f"{ISSUER}/oauth/par"),  # 400 use_dpop_nonce
            ("POST", f"{ISSUER}/oauth/par"),  # again, with the nonce
        ]
        # The nonce dance: the first proof had no nonce, the second the server's, new jti.
        first, second = fake.proofs
        assert "nonce" not in first["claims"]
        assert second["claims"]["nonce"] == fake.as_nonce
        assert first["claims"]["jti"] != second["claims"]["jti"]
        assert first["jwk"] == second["jwk"]
        (par,) = fake.pars.values()
        assert par == {
            "client_id": CLIENT_ID,
            "response_type": "code",
            "code_challenge": par["code_challenge"],
            "code_challenge_method": "S256",
            "state": state,
            "redirect_uri": REDIRECT,
            "scope": SCOPE,
            "login_hint": HANDLE,
            "jkt": par["jkt"],
        }
        assert len(par["code_challenge"]) == 43  # base64url of a SHA-256 digest
        assert url.startswith(f"{ISSUER}/oauth/authorize?")

        code, _ = fake.authorize(url)
        data = await adapter.ex_oauth_complete({"code": code, "state": state, "iss": ISSUER})
        assert (data.did, data.handle, data.endpoint) == (DID, HANDLE, SERVICE)
        (exchange,) = fake.token_forms
        assert set(exchange) == {"grant_type", "code", "redirect_uri", "client_id", "code_verifier"}
        assert exchange["grant_type"] == "authorization_code"
        assert fake.proofs[-1]["claims"]["nonce"] == fake.as_nonce  # known: no second dance
        token = await stored(adapter)
        assert token.token_type == "DPoP"
        assert token.scope == SCOPE
        assert token.access_token.get_secret_value() in fake.access
        assert token.extra["did"] == DID
        assert token.extra["issuer"] == ISSUER
        assert token.extra["pds"] == SERVICE
        assert token.extra["client_id"] == CLIENT_ID
        assert jkt(DPoPKey.from_jwk(token.extra["dpop_jwk"]).public_jwk) == par["jkt"]
        # the pending request is gone: a second redirect with this state is refused
        assert await adapter._tokens().store.get(PENDING_NAMESPACE, state) is None

    @pytest.mark.anyio
    async def test_sub_of_another_account_is_refused(
        self, adapter: BlueskyAdapter, fake: FakeAtproto
    ) -> None:
        fake.sub = OTHER_DID
        with pytest.raises(AuthError, match="another account") as caught:
            await login(adapter, fake)
        assert caught.value.code == "sub_mismatch"
        assert await adapter._tokens().get(TOKEN_NETWORK, HANDLE) is None

    @pytest.mark.anyio
    async def test_iss_of_another_server_is_refused_before_the_exchange(
        self, adapter: BlueskyAdapter, fake: FakeAtproto
    ) -> None:
        with pytest.raises(AuthError) as caught:
            await login(adapter, fake, iss="https://evil.example.com")
        assert caught.value.code == "iss_mismatch"
        assert fake.token_route.call_count == 0
        assert await adapter._tokens().get(TOKEN_NETWORK, HANDLE) is None

    @pytest.mark.anyio
    async def test_missing_iss_is_refused_when_the_server_sends_it(
        self, adapter: BlueskyAdapter, fake: FakeAtproto
    ) -> None:
        url, state = await adapter.ex_oauth_begin(HANDLE)
        code, _ = fake.authorize(url)
        with pytest.raises(AuthError) as caught:
            await adapter.ex_oauth_complete({"code": code, "state": state})
        assert caught.value.code == "iss_missing"
        assert fake.token_route.call_count == 0

    @pytest.mark.anyio
    async def test_wrong_state_fails_before_any_request(
        self, adapter: BlueskyAdapter, router: respx.MockRouter, fake: FakeAtproto
    ) -> None:
        url, state = await adapter.ex_oauth_begin(HANDLE)
        code, _ = fake.authorize(url)
        sent = len(router.calls)
        for params in (
            {"code": code, "state": "forged", "iss": ISSUER},
            {"code": code, "iss": ISSUER},
            f"{REDIRECT}?code={code}&state=other&iss={ISSUER}",
        ):
            with pytest.raises(StateMismatchError):
                await adapter.ex_oauth_complete(params)
        assert len(router.calls) == sent
        # the real state still works once, then never again
        await adapter.ex_oauth_complete({"code": code, "state": state, "iss": ISSUER})
        with pytest.raises(StateMismatchError):
            await adapter.ex_oauth_complete({"code": code, "state": state, "iss": ISSUER})

    @pytest.mark.anyio
    async def test_denied_authorization_is_an_auth_error(
        self, adapter: BlueskyAdapter, fake: FakeAtproto
    ) -> None:
        _, state = await adapter.ex_oauth_begin(HANDLE)
        with pytest.raises(AuthError) as caught:
            await adapter.ex_oauth_complete(
                {"error": "access_denied", "state": state, "iss": ISSUER}
            )
        assert caught.value.code == "access_denied"
        assert fake.token_route.call_count == 0

    @pytest.mark.anyio
    async def test_loopback_client_without_client_id(
        self, router: respx.MockRouter, fake: FakeAtproto
    ) -> None:
        client = httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler))
        adapter = self.make_adapter(client, oauth_client_id=None, oauth_redirect_uri=None)
        redirect = "http://127.0.0.1:54321/callback"
        url, state = await adapter.ex_oauth_begin(None, redirect_uri=redirect)
        (par,) = fake.pars.values()
        assert par["client_id"] == loopback_client_id(redirect, SCOPE)
        assert par["redirect_uri"] == redirect
        code, _ = fake.authorize(url)
        await adapter.ex_oauth_complete({"code": code, "state": state, "iss": ISSUER})
        assert fake.token_forms[0]["client_id"] == par["client_id"]
        with pytest.raises(ConfigurationError):
            await adapter.ex_oauth_begin(None, redirect_uri="https://app.example.com/cb")
        await adapter.aclose()
        await client.aclose()


class TestRequests(OAuthFixtures):
    @pytest.mark.anyio
    async def test_resource_requests_carry_a_verifiable_bound_proof(
        self, adapter: BlueskyAdapter, fake: FakeAtproto
    ) -> None:
        await login(adapter, fake)
        token = await stored(adapter)
        access = token.access_token.get_secret_value()
        before = len(fake.proofs)
        account = await adapter.me()
        assert account.id == DID
        # first send: no PDS nonce yet -> 401 use_dpop_nonce; second with it
        assert fake.resource_auth == [f"DPoP {access}", f"DPoP {access}"]
        proofs = fake.proofs[before:]
        assert [p["claims"].get("nonce") for p in proofs] == [None, fake.pds_nonce]
        public = DPoPKey.from_jwk(token.extra["dpop_jwk"]).public_jwk
        for proof in proofs:
            assert proof["jwk"] == public  # the session's key signed it (verified by the fake)
            assert proof["claims"]["htm"] == "GET"
            assert proof["claims"]["htu"] == xrpc("app.bsky.actor.getProfile")
            assert proof["claims"]["ath"] == b64url(hashlib.sha256(access.encode()).digest())
        # later requests know the nonce: one send each; a publish too
        posted = await adapter.publish(Post(text="hello over OAuth"))
        assert posted.author is None or posted.author.id == DID
        assert fake.create_route.call_count == 1
        assert fake.proofs[-1]["claims"]["htm"] == "POST"

    @pytest.mark.anyio
    async def test_new_pds_nonce_is_learned_and_retried_once(
        self, adapter: BlueskyAdapter, fake: FakeAtproto
    ) -> None:
        await login(adapter, fake)
        await adapter.me()
        fake.pds_nonce = "pds-nonce-2"
        calls = fake.profile_route.call_count
        await adapter.me()
        assert fake.profile_route.call_count == calls + 2
        assert [p["claims"]["nonce"] for p in fake.proofs[-2:]] == ["pds-nonce-1", "pds-nonce-2"]

    @pytest.mark.anyio
    async def test_a_server_that_keeps_asking_is_not_retried_forever(
        self, adapter: BlueskyAdapter, router: respx.MockRouter, fake: FakeAtproto
    ) -> None:
        await login(adapter, fake)
        await adapter.me()
        before = fake.profile_route.call_count
        stubborn = router.get(xrpc("app.bsky.actor.getProfile")).mock(
            return_value=json_response(
                401,
                {"error": "use_dpop_nonce", "message": "Resource server requires nonce"},
                {
                    "DPoP-Nonce": "always-new",
                    "WWW-Authenticate": 'DPoP error="use_dpop_nonce"',
                },
            )
        )
        with pytest.raises(AuthError):
            await adapter.me()
        # respx keeps one route per pattern: the count includes the earlier calls
        assert stubborn.call_count == before + 2  # the first send and the one nonce re-send

    @pytest.mark.anyio
    async def test_expired_session_is_refreshed_with_rotation_persisted_before_use(
        self, adapter: BlueskyAdapter, fake: FakeAtproto
    ) -> None:
        await login(adapter, fake)
        await adapter.me()
        old = await stored(adapter)
        assert old.refresh_token is not None
        old_refresh = old.refresh_token.get_secret_value()
        # the access token expires (client clock): refreshed before the request is sent
        await adapter._tokens().put(
            TOKEN_NETWORK,
            HANDLE,
            old.model_copy(update={"expires_at": old.expires_at.replace(year=2020)}),  # type: ignore[union-attr]
        )
        adapter.auth._cached = None  # type: ignore[union-attr]
        fake.as_nonce = "as-nonce-2"  # the authorization server rotated its nonce meanwhile
        sends = len(fake.resource_auth)
        await adapter.me()
        refresh_forms = [f for f in fake.token_forms if f["grant_type"] == "refresh_token"]
        assert refresh_forms == [
            {"grant_type": "refresh_token", "refresh_token": old_refresh, "client_id": CLIENT_ID}
        ]
        # refresh proofs: no ath, same key; the nonce dance happened once (new AS nonce)
        token_proofs = [p for p in fake.proofs if p["url"] == f"{ISSUER}/oauth/token"][-2:]
        assert [p["claims"].get("nonce") for p in token_proofs] == ["as-nonce-1", "as-nonce-2"]
        new = await stored(adapter)
        assert new.refresh_token is not None
        assert new.refresh_token.get_secret_value() != old_refresh
        assert fake.refresh[new.refresh_token.get_secret_value()]["used"] is False
        assert fake.refresh[old_refresh]["used"] is True
        # the request after the refresh used the new token, which was in the store by then
        assert fake.resource_auth[sends:] == [f"DPoP {new.access_token.get_secret_value()}"]
        assert adapter.auth.refreshes == 1  # type: ignore[union-attr]

    @pytest.mark.anyio
    async def test_new_tokens_are_stored_before_they_are_sent(
        self, adapter: BlueskyAdapter, fake: FakeAtproto
    ) -> None:
        await login(adapter, fake)
        await adapter.me()
        seen: list[str | None] = []

        original = fake.profile_route.side_effect

        async def check_store_then_answer(request: httpx.Request) -> httpx.Response:
            token = await adapter._tokens().get(TOKEN_NETWORK, HANDLE)
            assert token is not None
            seen.append(token.access_token.get_secret_value())
            return original(request)  # type: ignore[no-any-return,misc,operator]

        fake.profile_route.side_effect = check_store_then_answer
        fake.invalidate_next = True  # the PDS says invalid_token once: refresh, send again
        await adapter.me()
        sent = [h.removeprefix("DPoP ") for h in fake.resource_auth[-2:]]
        assert sent[0] != sent[1]
        assert seen[-1] == sent[1], "the rotated session was persisted before its first use"
        assert adapter.auth.refreshes == 1  # type: ignore[union-attr]

    @pytest.mark.anyio
    async def test_fifty_concurrent_requests_with_an_expired_token_refresh_once(
        self, adapter: BlueskyAdapter, fake: FakeAtproto
    ) -> None:
        await login(adapter, fake)
        await adapter.me()
        old = await stored(adapter)
        await adapter._tokens().put(
            TOKEN_NETWORK,
            HANDLE,
            old.model_copy(update={"expires_at": old.expires_at.replace(year=2020)}),  # type: ignore[union-attr]
        )
        adapter.auth._cached = None  # type: ignore[union-attr]

        async def slow_token(request: httpx.Request) -> httpx.Response:
            await asyncio.sleep(0.05)  # the refresh is on the wire while the others arrive
            return fake.token(request)

        fake.token_route.side_effect = slow_token
        results = await asyncio.gather(*(adapter.me() for _ in range(50)))
        assert all(account.id == DID for account in results)
        assert [f["grant_type"] for f in fake.token_forms].count("refresh_token") == 1
        assert adapter.auth.refreshes == 1  # type: ignore[union-attr]
        new = (await stored(adapter)).access_token.get_secret_value()
        assert fake.resource_auth[-50:] == [f"DPoP {new}"] * 50

    @pytest.mark.anyio
    async def test_refused_refresh_token_says_to_log_in_again(
        self, adapter: BlueskyAdapter, fake: FakeAtproto
    ) -> None:
        await login(adapter, fake)
        await adapter.me()
        old = await stored(adapter)
        assert old.refresh_token is not None
        fake.refresh[old.refresh_token.get_secret_value()]["used"] = True  # revoked
        fake.invalidate_next = True
        with pytest.raises(RefreshError, match="log in again"):
            await adapter.me()
        assert (await stored(adapter)) == old  # left untouched

    @pytest.mark.anyio
    async def test_session_is_reused_across_adapter_instances(
        self, adapter: BlueskyAdapter, router: respx.MockRouter, fake: FakeAtproto
    ) -> None:
        await login(adapter, fake)
        await adapter.me()
        client = httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler))
        # a later run: no client id or redirect needed, the stored session has them
        second = self.make_adapter(
            client, store=adapter._tokens(), oauth_client_id=None, oauth_redirect_uri=None
        )
        tokens_before = len(fake.token_forms)
        assert (await second.me()).id == DID
        assert len(fake.token_forms) == tokens_before  # no login, no refresh
        await second.aclose()
        await client.aclose()

    @pytest.mark.anyio
    async def test_no_secret_in_logs_reprs_or_errors(
        self,
        adapter: BlueskyAdapter,
        fake: FakeAtproto,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        caplog.set_level(logging.DEBUG)
        errors: list[str] = []
        await login(adapter, fake)
        await adapter.me()
        fake.invalidate_next = True
        await adapter.me()  # a refresh
        first = await stored(adapter)
        fake.sub = OTHER_DID
        try:
            await login(adapter, fake)
        except AuthError as exc:
            errors.append(str(exc) + repr(exc))
        fake.sub = DID
        token = await stored(adapter)
        assert token.refresh_token is not None
        fake.refresh[token.refresh_token.get_secret_value()]["used"] = True
        fake.invalidate_next = True
        try:
            await adapter.me()
        except AuthError as exc:
            errors.append(str(exc) + repr(exc))
        assert len(errors) == 2
        jwk = token.extra["dpop_jwk"]
        secrets_ = [jwk["d"], *fake.access, *fake.refresh]
        for sent in fake.token_forms:
            secrets_.extend(v for k, v in sent.items() if k in ("code", "code_verifier"))
        text = "\n".join(
            [
                caplog.text,
                repr(adapter),
                repr(adapter.auth),
                repr(adapter.settings),
                repr(first),
                repr(token),
                str(token),
                repr(DPoPKey.from_jwk(jwk)),
                *errors,
            ]
        )
        assert "refreshed the OAuth session" in caplog.text  # the logs were captured
        leaked = [s for s in secrets_ if s in text]
        assert not leaked


# -- a real OAuth login against the local @atproto/pds ------------------------------------------


class _Browser:
    """The user's browser on the PDS's sign-in UI, driven through the JSON API the UI itself
    calls (@atproto/oauth-provider: ``/@atproto/oauth-provider/~api/sign-in`` and ``/consent``,
    same-origin fetches with the CSRF cookie echoed in ``x-csrf-token``). Cookies are kept by
    hand: the provider marks them ``Secure``, which http.cookiejar never sends over http."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.cookies: dict[str, str] = {}

    async def send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        from http.cookies import SimpleCookie

        headers = dict(kwargs.pop("headers", {}))
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = await self.http.request(method, url, headers=headers, **kwargs)
        for raw in response.headers.get_list("set-cookie"):
            jar: SimpleCookie = SimpleCookie()
            jar.load(raw)
            self.cookies.update({name: morsel.value for name, morsel in jar.items()})
        return response

    async def approve(self, authorization_url: str, username: str, password: str, did: str) -> str:
        """Sign in and consent; the URL the browser is finally sent to (the redirect_uri)."""
        parts = urlsplit(authorization_url)
        issuer = f"{parts.scheme}://{parts.netloc}"
        navigate = {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}
        page = await self.send(
            "GET", authorization_url, headers={**navigate, "Sec-Fetch-Site": "none"}
        )
        assert page.status_code == 200, page.text[:300]
        api = f"{issuer}/@atproto/oauth-provider/~api"

        def same_origin() -> dict[str, str]:
            return {
                "Origin": issuer,
                "Referer": authorization_url,
                "Sec-Fetch-Mode": "same-origin",
                "Sec-Fetch-Site": "same-origin",
                "Sec-Fetch-Dest": "empty",
                "x-csrf-token": self.cookies.get("csrf-token", ""),
            }

        signed = await self.send(
            "POST",
            f"{api}/sign-in",
            headers=same_origin(),
            json={"locale": "en", "username": username, "password": password, "remember": True},
        )
        assert signed.status_code == 200, signed.text[:300]
        consent = await self.send(
            "POST", f"{api}/consent", headers=same_origin(), json={"did": did}
        )
        assert consent.status_code == 200, consent.text[:300]
        final = await self.send(
            "GET",
            consent.json()["url"],
            headers={**navigate, "Sec-Fetch-Site": "same-origin", "Referer": authorization_url},
        )
        assert final.status_code in (302, 303), final.status_code
        return final.headers["location"]


@pytest.mark.integration
@pytest.mark.anyio
async def test_real_login_against_the_local_pds(pds_server: Any) -> None:
    """The whole flow against @atproto/pds (tests/servers/pds): a loopback client, discovery,
    PAR with the real nonce exchange, the sign-in UI's API, the token exchange, DPoP-bound
    requests (publish, read back, delete), a rotating refresh, and reuse by a second adapter.
    Every XRPC exchange is validated against the lexicons; the OAuth, well-known and PLC
    endpoints are not XRPC (exempt, see NOT_XRPC) and the DPoP-layer 401s are checked for
    shape only (see OAuthFixtures.check_exchange)."""
    from tests._validation.lexicon import LexiconChecker

    checker = LexiconChecker()
    problems: list[str] = []
    exempt_prefixes = ("/.well-known/", "/oauth/", "/@atproto/")

    async def check(response: httpx.Response) -> None:
        await response.aread()
        request = response.request
        if request.url.path.startswith(exempt_prefixes) or request.url.port == int(
            urlsplit(pds_server.plc_url).port or 0
        ):
            return
        found = [
            *checker.request_violations(request),
            *checker.response_violations(request, response),
        ]
        if response.status_code == 401 and "DPoP" in response.headers.get("WWW-Authenticate", ""):
            found = [p for p in found if not p.startswith(DPOP_LAYER_ERRORS)]
        problems.extend(f"{request.method} {request.url.path}: {p}" for p in found)

    handle = f"oauth{secrets.token_hex(3)}.test"
    password = secrets.token_urlsafe(16)
    made = pds_server.create_account(handle, password)
    store = MemoryStore()
    async with (
        httpx.AsyncClient(timeout=30, event_hooks={"response": [check]}) as http,
        httpx.AsyncClient(timeout=30) as browser_http,
    ):

        def build() -> BlueskyAdapter:
            return BlueskyAdapter(
                BlueskySettings(
                    service=pds_server.url,
                    identifier=handle,
                    plc_directory=pds_server.plc_url,
                    store=store,
                    retry_wait=False,
                ),
                http=http,
            )

        adapter = build()
        redirect = "http://127.0.0.1:4567/callback"  # never served: the location is read
        url, state = await adapter.ex_oauth_begin(None, redirect_uri=redirect)
        location = await _Browser(browser_http).approve(url, handle, password, made["did"])
        assert location.startswith(redirect + "?")
        params = dict(parse_qsl(urlsplit(location).query))
        assert params["state"] == state
        data = await adapter.ex_oauth_complete(location)
        assert (data.did, data.handle) == (made["did"], handle)

        assert (await adapter.me()).id == made["did"]
        posted = await adapter.publish(Post(text="hello over OAuth and DPoP"))
        assert posted.id is not None
        first = await adapter._tokens().get(TOKEN_NETWORK, handle)
        await adapter.auth.refresh()
        second_token = await adapter._tokens().get(TOKEN_NETWORK, handle)
        assert first is not None
        assert second_token is not None
        assert first.refresh_token != second_token.refresh_token  # rotated, stored
        assert (await adapter.get_post(posted.id)).text == "hello over OAuth and DPoP"

        later = build()  # a later run: the stored session, no login
        assert (await later.me()).id == made["did"]
        await later.delete(posted.id)
        await adapter.aclose()
        await later.aclose()
    assert not problems, "\n".join(problems)


class TestAccountMismatch(OAuthFixtures):
    @pytest.mark.anyio
    async def test_begin_for_another_account_is_refused(
        self, adapter: BlueskyAdapter, router: respx.MockRouter, fake: FakeAtproto
    ) -> None:
        """The session is stored under the identifier setting: another account is refused
        before the authorization request is pushed."""
        router.get(f"{PLC}/{OTHER_DID}").mock(
            return_value=json_response(200, did_document(OTHER_DID, "mallory.example.com"))
        )
        with pytest.raises(ConfigurationError, match="another account"):
            await adapter.ex_oauth_begin(OTHER_DID)
        assert fake.par_route.call_count == 0
        # the account's own DID is the same account
        url, _ = await adapter.ex_oauth_begin(DID)
        assert url.startswith(f"{ISSUER}/oauth/authorize?")
