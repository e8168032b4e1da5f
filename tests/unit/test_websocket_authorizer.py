"""The built-in WebSocket $connect authorizer (finding 5: one identity across channels).

Tokens are signed here with locally generated RSA keys (``cryptography``, an implementation independent of
the ``rsa`` library the authorizer verifies with) and served through a fake JWKS: the fixture's Cognito key
set plus the test key. Claims come from fixtures of a Cognito ID and access token; the event is the REQUEST
authorizer event of a WebSocket ``$connect``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import FakeLambdaContext, capture_logs, load_event
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric import rsa as crypto_rsa
from hypothesis import given
from hypothesis import strategies as st

from notification_handlers.event_fields import ConfigurationError
from notification_handlers.service import websocket_authorizer as authorizer
from notification_handlers.service.identity import USER_ID_PATTERN
from notification_handlers.service.log import logger

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123"
AUDIENCE = "client-1"
KID = "test-key-1"
NOW = 1795514400.0  # the fixtures' connect time; the claims fixtures are valid until 1795517700
POLICY = authorizer.TokenPolicy(ISSUER, frozenset({AUDIENCE}))
REPO_ROOT = Path(__file__).resolve().parents[2]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwk(key: crypto_rsa.RSAPrivateKey, kid: str) -> dict[str, str]:
    numbers = key.public_key().public_numbers()
    return {
        "alg": "RS256",
        "e": b64url(numbers.e.to_bytes(3, "big")),
        "kid": kid,
        "kty": "RSA",
        "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
        "use": "sig",
    }


@pytest.fixture(scope="module")
def signing_key() -> crypto_rsa.RSAPrivateKey:
    return crypto_rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks(signing_key: crypto_rsa.RSAPrivateKey) -> dict[str, Any]:
    document = load_event("jwks_cognito_user_pool")
    document["keys"].append(jwk(signing_key, KID))
    return document


def sign(
    key: crypto_rsa.RSAPrivateKey,
    claims: dict[str, Any],
    header: dict[str, Any] | None = None,
    digest: hashes.HashAlgorithm | None = None,
) -> str:
    head = b64url(json.dumps(header or {"kid": KID, "alg": "RS256"}).encode())
    body = b64url(json.dumps(claims).encode())
    signature = key.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), digest or hashes.SHA256())
    return f"{head}.{body}.{b64url(signature)}"


def id_claims(**changes: Any) -> dict[str, Any]:
    claims = load_event("jwt_claims_cognito_id_token")
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


class FakeJwks:
    """The issuer's JWKS endpoint: counts fetches; a test's clock."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.uris: list[str] = []
        self.now = 1000.0

    def fetch(self, uri: str) -> object:
        self.uris.append(uri)
        return json.loads(json.dumps(self.document))

    def cache(self) -> authorizer.JwksCache:
        return authorizer.JwksCache(
            ISSUER + "/.well-known/jwks.json", fetch=self.fetch, clock=lambda: self.now
        )


@pytest.fixture
def issuer(jwks: dict[str, Any]) -> FakeJwks:
    return FakeJwks(jwks)


def verify(token: str, issuer: FakeJwks, now: float = NOW, policy: authorizer.TokenPolicy = POLICY) -> str:
    return authorizer.verify_token(token, policy, issuer.cache(), now)


# --- the handler: REQUEST event in, IAM policy out ---------------------------------------------------


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch, issuer: FakeJwks) -> Iterator[FakeJwks]:
    """The function's environment as Terraform sets it, its JWKS fetch served by ``issuer``."""
    monkeypatch.setenv("JWT_ISSUER", ISSUER)
    monkeypatch.setenv("JWT_AUDIENCE", json.dumps([AUDIENCE]))
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "notify-websocket-authorizer")
    monkeypatch.delenv("JWKS_URI", raising=False)
    monkeypatch.delenv("JWT_SCOPES", raising=False)
    monkeypatch.setattr(authorizer, "_CACHE", {})
    monkeypatch.setattr(authorizer, "fetch_jwks", issuer.fetch)
    monkeypatch.setattr(authorizer.time, "time", lambda: NOW)
    yield issuer


def request_with(token: str) -> dict[str, Any]:
    event = load_event("notification_service_websocket_authorizer_request")
    offered = event["headers"]["Sec-WebSocket-Protocol"].replace("TOKEN", token)
    event["headers"]["Sec-WebSocket-Protocol"] = offered
    event["multiValueHeaders"]["Sec-WebSocket-Protocol"] = [offered]
    return event


def decide(event: dict[str, Any]) -> tuple[str, str, str]:
    answer = authorizer.handler(event, FakeLambdaContext(function_name="notify-websocket-authorizer"))
    [statement] = answer["policyDocument"]["Statement"]
    assert statement["Action"] == "execute-api:Invoke"
    return statement["Effect"], answer["principalId"], statement["Resource"]


def test_websocket_identity_is_the_jwt_sub_of_a_valid_token(
    deployed: FakeJwks, signing_key: crypto_rsa.RSAPrivateKey
) -> None:
    event = request_with(sign(signing_key, id_claims()))

    assert decide(event) == ("Allow", "0c5b6f3e-7d21-4a0f-9a51-2f8e1d4c6b7a", event["methodArn"])
    assert deployed.uris == [f"{ISSUER}/.well-known/jwks.json"]


def test_a_cognito_access_token_is_accepted_by_its_client_id(
    deployed: FakeJwks, signing_key: crypto_rsa.RSAPrivateKey
) -> None:
    claims = load_event("jwt_claims_cognito_access_token")
    assert "aud" not in claims
    effect, principal, _ = decide(request_with(sign(signing_key, claims)))
    assert (effect, principal) == ("Allow", claims["sub"])


def _forged(key: crypto_rsa.RSAPrivateKey) -> dict[str, str]:
    valid = sign(key, id_claims())
    head, body, signature = valid.split(".")
    victim = b64url(json.dumps(id_claims(sub="victim")).encode())
    none_head = b64url(json.dumps({"kid": KID, "alg": "none"}).encode())
    hs_head = b64url(json.dumps({"kid": KID, "alg": "HS256"}).encode())
    # The classic confusion: HMAC keyed with the public key the verifier holds.
    public_n = key.public_key().public_numbers().n.to_bytes(256, "big")
    hs_signature = b64url(hmac.new(public_n, f"{hs_head}.{body}".encode(), hashlib.sha256).digest())
    other = crypto_rsa.generate_private_key(public_exponent=65537, key_size=2048)
    flipped = "BBBB" if signature.endswith("AAAA") else "AAAA"
    return {
        "expired": sign(key, id_claims(exp=NOW - 31, iat=NOW - 3631)),
        "not yet valid": sign(key, id_claims(nbf=NOW + 31)),
        "issued in the future": sign(key, id_claims(iat=NOW + 31)),
        "wrong issuer": sign(
            key, id_claims(iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Evil")
        ),
        "wrong audience": sign(key, id_claims(aud="someone-elses-client")),
        "wrong kid": sign(key, id_claims(), {"kid": "unknown-kid", "alg": "RS256"}),
        "tampered payload": f"{head}.{victim}.{signature}",
        "tampered signature": f"{head}.{body}.{signature[:-4]}{flipped}",
        "another key": sign(other, id_claims()),
        "alg none": f"{none_head}.{body}.",
        "alg none with signature": f"{none_head}.{body}.{signature}",
        "alg HS256": f"{hs_head}.{body}.{hs_signature}",
        "SHA-1 under RS256": sign(key, id_claims(), digest=hashes.SHA1()),  # noqa: S303 - the attack
        "sub not a user id": sign(key, id_claims(sub="u-1#websocket")),
        "no sub": sign(key, id_claims(sub=None)),
        "no exp": sign(key, id_claims(exp=None)),
        "refresh token use": sign(key, id_claims(token_use="refresh")),
        "no token_use from Cognito": sign(key, id_claims(token_use=None)),
        "crit header": sign(key, id_claims(), {"kid": KID, "alg": "RS256", "crit": ["exp"]}),
        "two parts": f"{head}.{body}",
        "not base64": f"{head}.{body}.***",
        "too long": sign(key, id_claims(padding="x" * authorizer.MAX_TOKEN_CHARS)),
    }


FORGERIES = [
    "expired",
    "not yet valid",
    "issued in the future",
    "wrong issuer",
    "wrong audience",
    "wrong kid",
    "tampered payload",
    "tampered signature",
    "another key",
    "alg none",
    "alg none with signature",
    "alg HS256",
    "SHA-1 under RS256",
    "sub not a user id",
    "no sub",
    "no exp",
    "refresh token use",
    "no token_use from Cognito",
    "crit header",
    "two parts",
    "not base64",
    "too long",
]


@pytest.fixture(scope="module")
def forged(signing_key: crypto_rsa.RSAPrivateKey) -> dict[str, str]:
    return _forged(signing_key)


@pytest.mark.parametrize("kind", FORGERIES)
def test_websocket_identity_refuses_a_token_the_registration_api_would_refuse(
    deployed: FakeJwks, forged: dict[str, str], kind: str
) -> None:
    event = request_with(forged[kind])
    with capture_logs(logger) as logs:
        effect, principal, resource = decide(event)
    assert (effect, principal, resource) == ("Deny", "unauthenticated", event["methodArn"])
    [line] = [line for line in logs() if line.get("decision") == "deny"]
    assert line["reason"], "the reason is logged"
    assert forged[kind] not in str(logs()) and "0c5b6f3e" not in str(logs()), "no token, no sub in logs"


@pytest.mark.parametrize(
    "offered",
    ["notifications", "", "notifications, a.b.c, d.e.f", None],
    ids=["no token", "empty", "two tokens", "no header"],
)
def test_a_connect_without_exactly_one_token_is_denied(deployed: FakeJwks, offered: str | None) -> None:
    event = request_with("x")
    if offered is None:
        del event["headers"]["Sec-WebSocket-Protocol"]
    else:
        event["headers"]["Sec-WebSocket-Protocol"] = offered
    assert decide(event)[0] == "Deny"


def test_the_token_is_read_from_the_protocol_header_in_any_case_and_never_the_query_string(
    deployed: FakeJwks, signing_key: crypto_rsa.RSAPrivateKey
) -> None:
    token = sign(signing_key, id_claims())
    event = request_with(token)
    event["headers"]["sec-websocket-protocol"] = event["headers"].pop("Sec-WebSocket-Protocol")
    assert decide(event)[0] == "Allow"
    del event["headers"]["sec-websocket-protocol"]
    event["queryStringParameters"] = {"token": token}
    assert decide(event)[0] == "Deny"


def test_required_scopes_are_enforced_like_the_registration_api(
    deployed: FakeJwks, signing_key: crypto_rsa.RSAPrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JWT_SCOPES", json.dumps(["notifications/self"]))
    access = load_event("jwt_claims_cognito_access_token")
    assert decide(request_with(sign(signing_key, access)))[0] == "Deny"
    access["scope"] = "openid notifications/self"
    assert decide(request_with(sign(signing_key, access)))[0] == "Allow"


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("JWT_ISSUER", "http://issuer.example.com", "JWT_ISSUER must be an https URL"),
        ("JWT_AUDIENCE", "client-1", "JWT_AUDIENCE is not JSON"),
        ("JWT_AUDIENCE", "[]", "JWT_AUDIENCE must not be empty"),
        ("JWKS_URI", "http://issuer.example.com/jwks.json", "JWKS_URI must be an https URL"),
    ],
)
def test_configuration_errors_name_the_variable(
    deployed: FakeJwks, monkeypatch: pytest.MonkeyPatch, name: str, value: str, problem: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=problem):
        authorizer.handler(request_with("x"), FakeLambdaContext(function_name="notify-websocket-authorizer"))


# --- the key set: cached, bounded refresh, https only --------------------------------------------------


def test_unknown_kids_cannot_make_every_connect_refetch_the_jwks(
    issuer: FakeJwks, signing_key: crypto_rsa.RSAPrivateKey
) -> None:
    cache = issuer.cache()
    for index in range(1000):  # an attacker's flood of tokens with made-up kids
        token = sign(signing_key, id_claims(), {"kid": f"made-up-{index}", "alg": "RS256"})
        with pytest.raises(authorizer.InvalidTokenError, match="unknown kid"):
            authorizer.verify_token(token, POLICY, cache, NOW)
        issuer.now += 0.1  # 100 s in all
    assert len(issuer.uris) == 1, "one fetch for the first token, none for the flood"
    issuer.now += authorizer.UNKNOWN_KID_REFRESH_SECONDS
    with pytest.raises(authorizer.InvalidTokenError, match="unknown kid"):
        authorizer.verify_token(
            sign(signing_key, id_claims(), {"kid": "made-up", "alg": "RS256"}), POLICY, cache, NOW
        )
    assert len(issuer.uris) == 2, "at most one refresh per interval"


def test_a_rotated_key_is_picked_up_and_valid_tokens_need_no_refetch(
    issuer: FakeJwks, signing_key: crypto_rsa.RSAPrivateKey
) -> None:
    cache = issuer.cache()
    for _ in range(50):
        assert authorizer.verify_token(sign(signing_key, id_claims()), POLICY, cache, NOW)
    assert len(issuer.uris) == 1
    rotated = crypto_rsa.generate_private_key(public_exponent=65537, key_size=2048)
    issuer.document = {"keys": [*issuer.document["keys"], jwk(rotated, "rotated")]}
    issuer.now += authorizer.UNKNOWN_KID_REFRESH_SECONDS
    token = sign(rotated, id_claims(), {"kid": "rotated", "alg": "RS256"})
    assert authorizer.verify_token(token, POLICY, cache, NOW) == id_claims()["sub"]
    assert len(issuer.uris) == 2
    issuer.now += authorizer.JWKS_MAX_AGE_SECONDS
    authorizer.verify_token(token, POLICY, cache, NOW)
    assert len(issuer.uris) == 3, "refreshed once its age is reached"


def test_a_failed_refresh_keeps_the_cached_keys_and_retries_later(
    issuer: FakeJwks, signing_key: crypto_rsa.RSAPrivateKey
) -> None:
    cache = issuer.cache()
    token = sign(signing_key, id_claims())
    authorizer.verify_token(token, POLICY, cache, NOW)
    issuer.now += authorizer.JWKS_MAX_AGE_SECONDS

    def unreachable(uri: str) -> object:
        issuer.uris.append(uri)
        raise authorizer.JwksError("fetching the JWKS failed: TimeoutError")

    cache.fetch = unreachable
    assert authorizer.verify_token(token, POLICY, cache, NOW) == id_claims()["sub"]
    assert len(issuer.uris) == 2


def test_no_keys_and_a_failing_issuer_is_retried_at_most_every_ten_seconds(
    signing_key: crypto_rsa.RSAPrivateKey,
) -> None:
    attempts: list[str] = []
    clock = [0.0]

    def unreachable(uri: str) -> object:
        attempts.append(uri)
        raise authorizer.JwksError("fetching the JWKS failed: URLError")

    cache = authorizer.JwksCache("https://issuer.example.com/jwks", fetch=unreachable, clock=lambda: clock[0])
    for _ in range(100):
        with pytest.raises(authorizer.InvalidTokenError, match="unknown kid"):
            authorizer.verify_token(sign(signing_key, id_claims()), POLICY, cache, NOW)
        clock[0] += 0.5
    assert len(attempts) == 5  # 50 s of connects


def test_the_jwks_keeps_only_rs256_signing_keys_of_a_safe_size(signing_key: crypto_rsa.RSAPrivateKey) -> None:
    small = crypto_rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the weak key the JWKS must drop
    document = {
        "keys": [
            jwk(signing_key, "good"),
            {**jwk(signing_key, "encryption"), "use": "enc"},
            {**jwk(signing_key, "rs512"), "alg": "RS512"},
            jwk(small, "small"),
            {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"},
            {**jwk(signing_key, "bad-n"), "n": "!!"},
            "not an object",
        ]
    }
    assert set(authorizer.public_keys(document)) == {"good"}
    assert set(authorizer.public_keys(load_event("jwks_cognito_user_pool"))) == {
        key["kid"] for key in load_event("jwks_cognito_user_pool")["keys"]
    }
    with pytest.raises(authorizer.JwksError):
        authorizer.public_keys({"keys": "nope"})


@pytest.mark.parametrize("uri", ["http://issuer.example.com/jwks.json", "file:///etc/passwd", "ftp://x/y"])
def test_the_jwks_is_fetched_over_https_only(uri: str) -> None:
    with pytest.raises(authorizer.JwksError, match="https"):
        authorizer.fetch_jwks(uri)


def test_a_redirect_from_the_jwks_uri_is_not_followed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The opener's redirect handler refuses every redirect, whatever its target (an http:// one too)."""
    import urllib.request  # noqa: PLC0415

    seen: list[Any] = []
    original = urllib.request.build_opener

    def build_opener(*handlers: Any) -> Any:
        seen.extend(handlers)
        return original(*handlers)

    monkeypatch.setattr(urllib.request, "build_opener", build_opener)
    with pytest.raises(authorizer.JwksError):
        authorizer.fetch_jwks("https://127.0.0.1:9/.well-known/jwks.json")  # nothing listens: refused
    [redirects] = [h for h in seen if isinstance(h, urllib.request.HTTPRedirectHandler)]
    with pytest.raises(authorizer.JwksError, match="redirect"):
        redirects.redirect_request(None, None, 302, "Found", {}, "http://attacker.example/jwks.json")


# --- property tests on the claim checks -----------------------------------------------------------------


_offsets = st.one_of(st.none(), st.integers(min_value=-7200, max_value=7200))


@given(exp=st.integers(min_value=-7200, max_value=7200), nbf=_offsets, iat=_offsets)
def test_time_claims_are_accepted_exactly_within_the_leeway(
    exp: int, nbf: int | None, iat: int | None
) -> None:
    claims = id_claims(
        exp=NOW + exp, nbf=None if nbf is None else NOW + nbf, iat=None if iat is None else NOW + iat
    )
    leeway = authorizer.LEEWAY_SECONDS
    valid = exp + leeway > 0 and (nbf is None or nbf <= leeway) and (iat is None or iat <= leeway)
    try:
        authorizer.check_claims(claims, POLICY, NOW)
        accepted = True
    except authorizer.InvalidTokenError:
        accepted = False
    assert accepted == valid


_names = st.text(alphabet="abc-1", min_size=1, max_size=4)


@given(
    token_audience=st.one_of(_names, st.lists(_names, max_size=3)),
    accepted=st.frozensets(_names, min_size=1, max_size=3),
)
def test_audience_is_accepted_only_when_it_names_an_accepted_client(
    token_audience: str | list[str], accepted: frozenset[str]
) -> None:
    policy = authorizer.TokenPolicy(ISSUER, accepted)
    named = {token_audience} if isinstance(token_audience, str) else set(token_audience)
    try:
        authorizer.check_claims(id_claims(aud=token_audience), policy, NOW)
        ok = True
    except authorizer.InvalidTokenError:
        ok = False
    assert ok == bool(named & accepted)


@given(sub=st.one_of(st.text(max_size=140), st.from_regex(USER_ID_PATTERN, fullmatch=True)))
def test_the_sub_becomes_the_user_id_only_when_it_is_a_valid_user_id(sub: str) -> None:
    try:
        result: str | None = authorizer.check_claims(id_claims(sub=sub), POLICY, NOW)
    except authorizer.InvalidTokenError:
        result = None
    assert result == (sub if USER_ID_PATTERN.fullmatch(sub) else None)


@given(
    claim=st.sampled_from(["iss", "aud", "exp", "token_use", "sub"]),
    value=st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=True),
        st.text(max_size=10),
        st.lists(st.integers(), max_size=2),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    ),
)
def test_a_claim_of_the_wrong_type_is_refused_never_crashes(claim: str, value: Any) -> None:
    claims = id_claims()
    claims[claim] = value
    try:
        authorizer.check_claims(claims, POLICY, NOW)
    except authorizer.InvalidTokenError:
        return
    acceptable = {  # the only values of each claim that may pass
        "exp": isinstance(value, int | float) and not isinstance(value, bool),
        "token_use": value in ("id", "access"),
        "sub": isinstance(value, str) and USER_ID_PATTERN.fullmatch(value) is not None,
        "aud": value == AUDIENCE or (isinstance(value, list) and AUDIENCE in value),
        "iss": value == ISSUER,
    }
    assert acceptable[claim], f"{claim}={value!r} was accepted"


# --- the zip's dependency closure --------------------------------------------------------------------


def test_the_authorizer_verifies_without_pyasn1(
    signing_key: crypto_rsa.RSAPrivateKey, jwks: dict[str, Any], tmp_path: Path
) -> None:
    """rsa declares pyasn1 but imports it only to load PEM/DER keys: the zip leaves it out."""
    (tmp_path / "jwks.json").write_text(json.dumps(jwks), encoding="utf-8")
    script = f"""
import json, sys
sys.modules["pyasn1"] = None  # any import of pyasn1 now fails
from notification_handlers.service import websocket_authorizer as a
cache = a.JwksCache("https://issuer", fetch=lambda uri: json.load(open({str(tmp_path / "jwks.json")!r})))
policy = a.TokenPolicy({ISSUER!r}, frozenset({{{AUDIENCE!r}}}))
print(a.verify_token({sign(signing_key, id_claims())!r}, policy, cache, {NOW}))
"""
    completed = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT / "lambda_src")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == id_claims()["sub"]
