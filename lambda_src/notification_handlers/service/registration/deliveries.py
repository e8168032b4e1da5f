"""``GET /notifications/{notification_id}/deliveries``: the delivery log of one notification, the caller's
rows only (``Query`` with ``begins_with(delivery_key, "<sub>#")``; the id is the namespaced one, 64 hex
digits), paginated with ``limit`` and an opaque ``next_token``; 404 when the caller has no row for that
notification. docs/notification-service.md, section 7.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from notification_handlers.service import env
from notification_handlers.service.dynamodb_batch import deserialize_item, serialize_item
from notification_handlers.service.registration import edge
from notification_handlers.service.registration.http_api import ApiError, Response, known_keys
from notification_handlers.service.registration.request import (
    Request,
    decode_page_token,
    encode_page_token,
    parse_notification_id,
    parse_page_size,
    path_parameter,
)

DELIVERY_FIELDS: Final = ("channel", "target", "status", "reason", "notification_type", "updated_at")


def delivery_view(item: Mapping[str, Any]) -> dict[str, Any]:
    """A delivery-log row as the caller sees it (no key attributes, no TTL)."""
    return {name: item[name] for name in DELIVERY_FIELDS if name in item}


def get_deliveries(request: Request) -> Response:
    notification_id = parse_notification_id(path_parameter(request, "notification_id"))
    known_keys(request.query, frozenset({"limit", "next_token"}), "query string", "invalid_query")
    limit = parse_page_size(request.query)
    token = request.query.get("next_token")
    query: dict[str, Any] = {
        "TableName": env.required("DELIVERY_LOG_TABLE"),
        "KeyConditionExpression": "notification_id = :id AND begins_with(delivery_key, :prefix)",
        "ExpressionAttributeValues": serialize_item(
            {":id": notification_id, ":prefix": f"{request.user_id}#"}
        ),
        "Limit": limit,
    }
    if token is not None:
        start = decode_page_token(token, request.user_id)
        query["ExclusiveStartKey"] = serialize_item(
            {"notification_id": notification_id, "delivery_key": start}
        )
    response = edge.dynamodb().query(**query)
    rows = [delivery_view(deserialize_item(item)) for item in response.get("Items", [])]
    if not rows and token is None:
        raise ApiError(404, "not_found", "no delivery of this notification to you")
    body: dict[str, Any] = {"notification_id": notification_id, "deliveries": rows}
    last_key = response.get("LastEvaluatedKey")
    if last_key:
        body["next_token"] = encode_page_token(last_key)
    return Response(200, body)
