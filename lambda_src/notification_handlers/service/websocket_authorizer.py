"""The WebSocket API's built-in ``$connect`` authorizer (Lambda REQUEST authorizer; docs section 7).

It accepts exactly the JWT the registration API's HTTP API JWT authorizer accepts, and answers an IAM policy
whose ``principalId`` is the token's ``sub``: the user id the connections function stores, the one the
registration API sees and producers send to. One identity across channels.

Where the token travels: browsers cannot set headers on a WebSocket, but they can offer subprotocols, sent
as the ``Sec-WebSocket-Protocol`` header: ``new WebSocket(url, ["notifications", idOrAccessToken])``. The
token is the offered entry that is not ``notifications``; the connections function answers the
``notifications`` subprotocol (never the token). A header, unlike a query string, is not written to the
stage's access log, a proxy's log or the browser history. WebSocket authorizers are not cached by API
Gateway: every ``$connect`` is checked.

What is checked (``verify_token``, pure): size (at most ``MAX_TOKEN_CHARS``), three base64url parts,
header ``alg`` exactly ``RS256`` (``none``, ``HS*`` and every other algorithm refused), no ``crit``, a
``kid`` of the issuer's JWKS, the RS256 signature (``rsa``, pure Python: the zip runs on x86_64 and arm64;
the hash in the signature must be SHA-256), then the claims (``check_claims``): ``iss`` equal to
``JWT_ISSUER``, ``aud`` (or, without ``aud``, ``client_id``: a Cognito access token) among
``JWT_AUDIENCE``, ``exp`` required and ``nbf``/``iat`` when present, each with ``LEEWAY_SECONDS``,
``token_use`` ``id`` or ``access`` (required for a Cognito issuer), at least one of ``JWT_SCOPES`` in
``scope`` when scopes are configured, and ``sub`` a valid user id (``identity.USER_ID_PATTERN``).

The JWKS (``JWKS_URI``, https only) is fetched without following redirects, with a timeout and a size cap,
and cached per execution environment (``JwksCache``): refreshed after ``JWKS_MAX_AGE_SECONDS``, and on an
unknown ``kid`` at most once per ``UNKNOWN_KID_REFRESH_SECONDS``, so a flood of tokens with made-up kids
costs the issuer one request per environment per interval. A failed fetch keeps the keys it had.

Logs carry the decision and the reason only: never the token, its claims or the user id.

Environment: ``JWT_ISSUER``, ``JWT_AUDIENCE`` (JSON list), ``JWKS_URI`` (optional, default
``<issuer>/.well-known/jwks.json``), ``JWT_SCOPES`` (optional JSON list).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, NamedTuple

import rsa  # type: ignore[import-untyped]  # ships no type hints

from notification_handlers.event_fields import ConfigurationError
from notification_handlers.service import env
from notification_handlers.service.identity import is_user_id
from notification_handlers.service.log import logger

if TYPE_CHECKING:
    from notification_handlers.lambda_context import LambdaContext

SUBPROTOCOL: Final = "notifications"  # the subprotocol a client offers next to its token
PROTOCOL_HEADER: Final = "sec-websocket-protocol"
ALGORITHM: Final = "RS256"
MAX_TOKEN_CHARS: Final = (
    8192  # a Cognito ID token with many groups is ~2 KB; API Gateway caps headers at 10 KB
)
LEEWAY_SECONDS: Final = 30  # clock skew tolerated on exp, nbf and iat
TOKEN_USES: Final = frozenset({"id", "access"})
MIN_KEY_BITS: Final = 2048
MAX_KEY_BITS: Final = 8192  # bounds the work of one verification
JWKS_TIMEOUT_SECONDS: Final = 3.0
MAX_JWKS_BYTES: Final = 64 * 1024
JWKS_MAX_AGE_SECONDS: Final = 3600.0
UNKNOWN_KID_REFRESH_SECONDS: Final = 300.0
FAILED_FETCH_RETRY_SECONDS: Final = 10.0  # with no keys at all, how soon a failed fetch is retried


class InvalidTokenError(ValueError):
    """The token is not one the registration API would accept; the message is the reason (logged)."""


class JwksError(RuntimeError):
    """The issuer's key set could not be fetched or read."""


class TokenPolicy(NamedTuple):
    issuer: str
    audiences: frozenset[str]
    scopes: frozenset[str] = frozenset()

    @property
    def is_cognito(self) -> bool:
        return self.issuer.startswith("https://cognito-idp.")


# --- pure parsing and checks ------------------------------------------------------------------------


def _b64url_decode(part: str) -> bytes:
    if not part or any(c not in _B64URL_ALPHABET for c in part):
        raise InvalidTokenError("a token part is not base64url")
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        raise InvalidTokenError("a token part is not base64url") from None


_B64URL_ALPHABET: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        raise InvalidTokenError(f"the {what} is not JSON") from None
    if not isinstance(value, dict):
        raise InvalidTokenError(f"the {what} is not a JSON object")
    return value


def token_from_protocols(header: str | None) -> str | None:
    """The token among the offered subprotocols (``notifications, <jwt>``), or None: exactly one entry
    besides ``notifications`` must be offered."""
    if not header:
        return None
    offered = [p.strip() for p in header.split(",") if p.strip() and p.strip() != SUBPROTOCOL]
    return offered[0] if len(offered) == 1 else None


def header_value(headers: object, name: str) -> str | None:
    """A request header, case-insensitively (browsers and proxies differ)."""
    if not isinstance(headers, Mapping):
        return None
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == name and isinstance(value, str):
            return value
    return None


class ParsedToken(NamedTuple):
    kid: str
    signing_input: bytes
    signature: bytes
    claims: dict[str, Any]


def parse_token(token: str) -> ParsedToken:
    """Split and decode a compact JWS; the header must pin ``RS256`` and name a ``kid``."""
    if len(token) > MAX_TOKEN_CHARS:
        raise InvalidTokenError("token too long")
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidTokenError("not a compact JWS (three parts)")
    header = _json_object(_b64url_decode(parts[0]), "token header")
    if header.get("alg") != ALGORITHM:
        raise InvalidTokenError("algorithm not allowed (only RS256)")
    if "crit" in header:
        raise InvalidTokenError("critical header parameters are not supported")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise InvalidTokenError("no kid in the token header")
    claims = _json_object(_b64url_decode(parts[1]), "token payload")
    return ParsedToken(kid, f"{parts[0]}.{parts[1]}".encode("ascii"), _b64url_decode(parts[2]), claims)


def _number(claims: Mapping[str, Any], name: str, *, required: bool) -> float | None:
    value = claims.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidTokenError(f"claim {name} missing or not a number")
    return float(value)


def _strings(value: object) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


def check_claims(claims: Mapping[str, Any], policy: TokenPolicy, now: float) -> str:
    """The ``sub`` of claims the registration API's JWT authorizer would accept at ``now``."""
    if claims.get("iss") != policy.issuer:
        raise InvalidTokenError("wrong issuer")
    if "aud" in claims:
        audiences = _strings(claims["aud"])
        if not audiences or policy.audiences.isdisjoint(audiences):
            raise InvalidTokenError("wrong audience")
    elif not isinstance(claims.get("client_id"), str) or claims["client_id"] not in policy.audiences:
        raise InvalidTokenError("wrong audience (client_id)")
    expires = _number(claims, "exp", required=True)
    if expires is not None and now >= expires + LEEWAY_SECONDS:
        raise InvalidTokenError("expired")
    not_before = _number(claims, "nbf", required=False)
    if not_before is not None and not_before > now + LEEWAY_SECONDS:
        raise InvalidTokenError("not yet valid (nbf)")
    issued = _number(claims, "iat", required=False)
    if issued is not None and issued > now + LEEWAY_SECONDS:
        raise InvalidTokenError("issued in the future (iat)")
    token_use = claims.get("token_use")
    if (token_use is not None or policy.is_cognito) and (
        not isinstance(token_use, str) or token_use not in TOKEN_USES
    ):
        raise InvalidTokenError("token_use must be id or access")
    if policy.scopes:
        scope = claims.get("scope")
        granted = scope.split() if isinstance(scope, str) else []
        if policy.scopes.isdisjoint(granted):
            raise InvalidTokenError("none of the required scopes")
    subject = claims.get("sub")
    if not is_user_id(subject):
        raise InvalidTokenError("sub is not a valid user id")
    assert isinstance(subject, str)  # noqa: S101 - is_user_id checked it; for the type checker
    return subject


def public_keys(document: object) -> dict[str, rsa.PublicKey]:
    """The RS256 signing keys of a JWKS document by ``kid``; keys of another type, use or algorithm, or
    of a size outside 2048-8192 bits, are left out."""
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
        raise JwksError("the JWKS is not an object with a keys list")
    keys: dict[str, rsa.PublicKey] = {}
    for jwk in document["keys"]:
        if not isinstance(jwk, Mapping) or jwk.get("kty") != "RSA" or not isinstance(jwk.get("kid"), str):
            continue
        if jwk.get("use", "sig") != "sig" or jwk.get("alg", ALGORITHM) != ALGORITHM:
            continue
        try:
            modulus = int.from_bytes(_b64url_decode(str(jwk.get("n", ""))), "big")
            exponent = int.from_bytes(_b64url_decode(str(jwk.get("e", ""))), "big")
        except InvalidTokenError:
            continue
        if not MIN_KEY_BITS <= modulus.bit_length() <= MAX_KEY_BITS or exponent < 3 or exponent % 2 == 0:
            continue
        keys[jwk["kid"]] = rsa.PublicKey(modulus, exponent)
    return keys


def verify_signature(parsed: ParsedToken, key: rsa.PublicKey) -> None:
    try:
        method = rsa.verify(parsed.signing_input, parsed.signature, key)
    except (rsa.VerificationError, OverflowError, ValueError):
        raise InvalidTokenError("bad signature") from None
    if method != "SHA-256":  # RS256 is SHA-256: a signature over another hash is not RS256
        raise InvalidTokenError("bad signature (not SHA-256)")


# --- the key set, cached per execution environment --------------------------------------------------


def fetch_jwks(uri: str) -> object:
    """GET the JWKS over HTTPS: no redirects followed, ``JWKS_TIMEOUT_SECONDS``, ``MAX_JWKS_BYTES``."""
    if not uri.startswith("https://"):
        raise JwksError("the JWKS URI must be https")
    import urllib.error  # noqa: PLC0415 - only on a (rare) fetch: keeps the cold start small
    import urllib.request  # noqa: PLC0415

    class _NoRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            raise JwksError("the JWKS URI redirected; redirects are not followed")

    opener = urllib.request.build_opener(_NoRedirects())
    request = urllib.request.Request(uri, headers={"Accept": "application/json"})  # noqa: S310 - https only
    try:
        with opener.open(request, timeout=JWKS_TIMEOUT_SECONDS) as answer:
            body = answer.read(MAX_JWKS_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise JwksError(f"fetching the JWKS failed: {type(error).__name__}") from None
    if len(body) > MAX_JWKS_BYTES:
        raise JwksError("the JWKS is larger than 64 KiB")
    try:
        return json.loads(body)
    except ValueError:
        raise JwksError("the JWKS is not JSON") from None


@dataclass(eq=False, repr=False)  # mutable state: identity is its equality
class JwksCache:
    """The issuer's keys for one execution environment, refreshed on age or, at most once per
    ``UNKNOWN_KID_REFRESH_SECONDS``, on an unknown ``kid``."""

    uri: str
    fetch: Callable[[str], object] = fetch_jwks
    clock: Callable[[], float] = time.monotonic
    keys: dict[str, rsa.PublicKey] = field(default_factory=dict)
    fetched_at: float | None = None  # last successful fetch
    attempted_at: float | None = None  # last attempt, successful or not
    fetches: int = 0

    def _refresh(self, now: float) -> None:
        self.attempted_at = now
        self.fetches += 1
        try:
            keys = public_keys(self.fetch(self.uri))
        except JwksError as error:
            logger.warning("JWKS refresh failed; keeping the keys cached", extra={"problem": str(error)})
            return
        self.keys, self.fetched_at = keys, now

    def _since(self, moment: float | None, now: float) -> float:
        return math.inf if moment is None else now - moment

    def key(self, kid: str) -> rsa.PublicKey | None:
        now = self.clock()
        if self.fetched_at is None:
            if self._since(self.attempted_at, now) >= FAILED_FETCH_RETRY_SECONDS:
                self._refresh(now)
        elif self._since(self.fetched_at, now) >= JWKS_MAX_AGE_SECONDS or (
            kid not in self.keys and self._since(self.attempted_at, now) >= UNKNOWN_KID_REFRESH_SECONDS
        ):
            self._refresh(now)
        return self.keys.get(kid)


def verify_token(token: str, policy: TokenPolicy, keys: JwksCache, now: float) -> str:
    """The ``sub`` of a token the registration API would accept; ``InvalidTokenError`` otherwise."""
    parsed = parse_token(token)
    key = keys.key(parsed.kid)
    if key is None:
        raise InvalidTokenError("unknown kid")
    verify_signature(parsed, key)
    return check_claims(parsed.claims, policy, now)


def policy_document(principal_id: str, effect: str, resource: str) -> dict[str, Any]:
    """The authorizer's answer: an IAM policy on the ``$connect`` route for ``principal_id``."""
    return {
        "principalId": principal_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
    }


# --- the edge ---------------------------------------------------------------------------------------


def _string_list(name: str, *, required: bool) -> frozenset[str]:
    raw = env.required(name) if required else env.optional(name)
    if raw is None:
        return frozenset()
    try:
        value = json.loads(raw)
    except ValueError:
        raise ConfigurationError(f"{name} is not JSON") from None
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigurationError(f"{name} must be a JSON list of non-empty strings")
    if required and not value:
        raise ConfigurationError(f"{name} must not be empty")
    return frozenset(value)


def load_policy() -> TokenPolicy:
    issuer = env.required("JWT_ISSUER")
    if not issuer.startswith("https://"):
        raise ConfigurationError("JWT_ISSUER must be an https URL")
    return TokenPolicy(
        issuer, _string_list("JWT_AUDIENCE", required=True), _string_list("JWT_SCOPES", required=False)
    )


def jwks_uri(issuer: str) -> str:
    uri = env.optional("JWKS_URI") or f"{issuer.rstrip('/')}/.well-known/jwks.json"
    if not uri.startswith("https://"):
        raise ConfigurationError("JWKS_URI must be an https URL")
    return uri


_CACHE: dict[str, JwksCache] = {}  # by JWKS URI: one per execution environment


def jwks_cache(uri: str) -> JwksCache:
    if uri not in _CACHE:
        _CACHE[uri] = JwksCache(uri, fetch=fetch_jwks)  # looked up here: the one seam tests replace
    return _CACHE[uri]


def _method_arn(event: Mapping[str, Any]) -> str:
    arn = event.get("methodArn")
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        raise InvalidTokenError("the event has no methodArn")
    return arn


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        policy = load_policy()
        keys = jwks_cache(jwks_uri(policy.issuer))
    except ConfigurationError as error:
        logger.error("Invalid configuration", extra={"problem": str(error)})
        raise
    resource = event.get("methodArn") if isinstance(event, Mapping) else None
    try:
        resource = _method_arn(event)
        token = token_from_protocols(header_value(event.get("headers"), PROTOCOL_HEADER))
        if token is None:
            raise InvalidTokenError(f"no token offered next to the {SUBPROTOCOL!r} subprotocol")
        subject = verify_token(token, policy, keys, time.time())
    except InvalidTokenError as error:
        logger.warning("Refused a connection", extra={"decision": "deny", "reason": str(error)})
        return policy_document("unauthenticated", "Deny", resource if isinstance(resource, str) else "*")
    logger.info("Admitted a connection", extra={"decision": "allow"})
    return policy_document(subject, "Allow", resource)
