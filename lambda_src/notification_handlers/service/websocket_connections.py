"""WebSocket API routes ``$connect``, ``$disconnect`` and ``$default`` (Lambda proxy integration).

* ``$connect``: the user id comes only from what API Gateway's authorisation put in the request context
  (``user_id_from_context``). ``USER_ID_SOURCE=authorizer`` (the default: the built-in JWT authorizer or a
  caller's Lambda authorizer): ``requestContext.authorizer.principalId``, the JWT ``sub``, the user id of
  every channel. ``USER_ID_SOURCE=iam`` (an explicit opt-in): ``requestContext.identity.cognitoIdentityId``,
  an identity-pool id that is not the JWT ``sub``; an IAM ARN is never used (its session name is the
  caller's choice). The query string, headers and body are never read for it, so a client cannot connect
  as someone else by asking. No user id, or one that is not a valid user id (the event contract's recipient
  pattern, ``identity.USER_ID_PATTERN``) -> 403 and nothing stored. Otherwise one ``PutItem`` in the
  connections table: ``connection_id``, ``user_id``, ``connected_at`` (ISO 8601 UTC, from
  ``requestContext.connectedAt``), ``expires_at`` = connect time + ``CONNECTION_TTL_SECONDS`` (default
  7200: API Gateway closes every connection after two hours, so the TTL removes records a lost
  ``$disconnect`` left behind). A client that offered the ``notifications`` subprotocol (next to its token,
  see ``websocket_authorizer``) gets it back in ``Sec-WebSocket-Protocol``, as browsers require.
* ``$disconnect``: one ``DeleteItem`` of the connection id of the event (the connection that closed).
* ``$default``: this API only pushes notifications: answers 400 with a JSON error, stores nothing.

A DynamoDB failure is re-raised: API Gateway then refuses the connection (500) and the client reconnects;
a failed ``$disconnect`` delete is cleaned up by the TTL. Logs carry the connection id, route and the
user id's source, never the event, headers or the user id itself.

Environment: ``CONNECTIONS_TABLE`` (required), ``CONNECTION_TTL_SECONDS`` (optional, default 7200),
``USER_ID_SOURCE`` (``authorizer``, the default, or ``iam``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from botocore.exceptions import BotoCoreError, ClientError

from notification_handlers import aws_clients
from notification_handlers.event_fields import (
    ConfigurationError,
    MalformedEventError,
    read_object,
    read_required_text,
    type_name,
)
from notification_handlers.service import dynamodb_batch, env
from notification_handlers.service.identity import is_user_id
from notification_handlers.service.log import logger

if TYPE_CHECKING:
    from notification_handlers.lambda_context import LambdaContext

DEFAULT_TTL_SECONDS: Final = 7200  # API Gateway's maximum WebSocket connection duration
FROM_AUTHORIZER: Final = "authorizer"
FROM_IAM: Final = "iam"
USER_ID_SOURCES: Final = (FROM_AUTHORIZER, FROM_IAM)
SUBPROTOCOL: Final = "notifications"  # offered by clients next to their token (websocket_authorizer)
CONNECT: Final = "$connect"
DISCONNECT: Final = "$disconnect"
DEFAULT: Final = "$default"
DEFAULT_ROUTE_MESSAGE: Final = "this API only pushes notifications; it does not accept messages"


class Caller(NamedTuple):
    user_id: str
    source: (
        str  # which context field it came from: "authorizer.principalId", "identity.cognitoIdentityId", ...
    )


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def user_id_from_context(request_context: Mapping[str, Any], source: str = FROM_AUTHORIZER) -> Caller | None:
    """The authenticated user of a ``$connect`` request, or None; only API Gateway's authorisation results
    are read: ``authorizer.principalId`` (``source`` ``authorizer``), or ``identity.cognitoIdentityId``
    (``source`` ``iam``, an explicit opt-in). Never a fallback from one to the other."""
    if source == FROM_IAM:
        identity = request_context.get("identity")
        value = _text(identity.get("cognitoIdentityId")) if isinstance(identity, Mapping) else None
        return None if value is None else Caller(value, "identity.cognitoIdentityId")
    authorizer = request_context.get("authorizer")
    principal = _text(authorizer.get("principalId")) if isinstance(authorizer, Mapping) else None
    return None if principal is None else Caller(principal, "authorizer.principalId")


def offers_subprotocol(event: Mapping[str, Any]) -> bool:
    """Whether the client offered the ``notifications`` subprotocol (then the answer must name it)."""
    headers = event.get("headers")
    if not isinstance(headers, Mapping):
        return False
    for name, value in headers.items():
        if isinstance(name, str) and name.lower() == "sec-websocket-protocol" and isinstance(value, str):
            return SUBPROTOCOL in (p.strip() for p in value.split(","))
    return False


def connected_at(request_context: Mapping[str, Any], now: datetime) -> datetime:
    """``requestContext.connectedAt`` (epoch milliseconds) as UTC; ``now`` when absent or invalid."""
    value = request_context.get("connectedAt")
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        try:
            return datetime.fromtimestamp(value / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            pass
    return now


def connection_item(connection_id: str, user_id: str, moment: datetime, ttl_seconds: int) -> dict[str, Any]:
    """The connections-table item of a new connection."""
    return {
        "connection_id": connection_id,
        "user_id": user_id,
        "connected_at": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z",
        "expires_at": int((moment + timedelta(seconds=ttl_seconds)).timestamp()),
    }


def response(status: int, code: str | None = None, message: str | None = None) -> dict[str, Any]:
    """A Lambda proxy response; errors carry ``{"error": {"code", "message"}}``."""
    if code is None:
        return {"statusCode": status}
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"error": {"code": code, "message": message or code}}),
    }


def _route(event: object) -> tuple[Mapping[str, Any], str, str]:
    if not isinstance(event, Mapping):
        raise MalformedEventError(f"event must be an object, got {type_name(event)}")
    request_context = read_object(event, "requestContext", "requestContext", required=True)
    route = read_required_text(request_context, "routeKey", "requestContext.routeKey")
    connection_id = read_required_text(request_context, "connectionId", "requestContext.connectionId")
    return request_context, route, connection_id


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request_context, route, connection_id = _route(event)
    logger.append_keys(connection_id=connection_id, route=route)
    try:
        table = env.required("CONNECTIONS_TABLE")
        ttl_seconds = env.positive_int("CONNECTION_TTL_SECONDS", DEFAULT_TTL_SECONDS)
        source = env.optional("USER_ID_SOURCE") or FROM_AUTHORIZER
        if source not in USER_ID_SOURCES:
            raise ConfigurationError(f"USER_ID_SOURCE must be one of {', '.join(USER_ID_SOURCES)}")
    except ConfigurationError as error:
        logger.error("Invalid configuration", extra={"problem": str(error)})
        raise
    client = aws_clients.client("dynamodb")
    if route == CONNECT:
        caller = user_id_from_context(request_context, source)
        if caller is None:
            logger.warning(
                "Refused a connection without an authenticated user", extra={"decision": "refused"}
            )
            return response(403, "forbidden", "no authenticated user")
        if not is_user_id(caller.user_id):
            logger.warning(
                "Refused a connection: not a valid user id",
                extra={"decision": "refused", "user_id_source": caller.source},
            )
            return response(403, "forbidden", "the authenticated identity is not a valid user id")
        item = connection_item(
            connection_id, caller.user_id, connected_at(request_context, datetime.now(UTC)), ttl_seconds
        )
        try:
            client.put_item(TableName=table, Item=dynamodb_batch.serialize_item(item))
        except (ClientError, BotoCoreError) as error:
            logger.error(
                "Storing the connection failed; refusing it",
                extra={"error_code": aws_clients.error_code(error)},
            )
            raise
        logger.info("Connected", extra={"decision": "connected", "user_id_source": caller.source})
        if offers_subprotocol(event):
            return {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": SUBPROTOCOL}}
        return response(200)
    if route == DISCONNECT:
        try:
            client.delete_item(TableName=table, Key={"connection_id": {"S": connection_id}})
        except (ClientError, BotoCoreError) as error:
            logger.error(
                "Deleting the connection failed; its TTL removes it",
                extra={"error_code": aws_clients.error_code(error)},
            )
            raise
        logger.info("Disconnected", extra={"decision": "disconnected"})
        return response(200)
    logger.info("Refused a client message: this API only pushes", extra={"decision": "unsupported"})
    return response(400, "unsupported_route", DEFAULT_ROUTE_MESSAGE)
