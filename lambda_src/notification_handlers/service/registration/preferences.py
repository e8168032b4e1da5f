"""``GET /preferences`` (the item, or the defaults) and ``PUT /preferences`` (full replace, validated against
the catalog by ``request.parse_preferences``: an unknown type or channel, or an opt-out of a critical type,
is 422 naming it; a bad ``quiet_hours`` window is 400). docs/notification-service.md, section 7.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from notification_handlers.service import catalog, env, quiet_hours
from notification_handlers.service.dynamodb_batch import serialize_item
from notification_handlers.service.log import logger
from notification_handlers.service.registration import edge
from notification_handlers.service.registration.http_api import Response, parse_json_object
from notification_handlers.service.registration.request import Request, parse_preferences


def preferences_view(item: Mapping[str, Any] | None) -> dict[str, Any]:
    """What GET /preferences answers: the stored item, or the defaults when there is none."""
    if not item:
        return {"muted": False, "opt_outs": {}}
    muted = item.get("muted")
    raw = item.get("opt_outs")
    opt_outs: dict[str, list[str]] = {}
    if isinstance(raw, Mapping):
        for name, channels in raw.items():
            if isinstance(channels, list | set | tuple):
                opt_outs[str(name)] = sorted({c for c in channels if isinstance(c, str)})
    view: dict[str, Any] = {"muted": muted is True, "opt_outs": opt_outs}
    window = quiet_hours.window_from_preferences(item)
    if window is not None:  # absent when none is set (or the stored one is broken: the router ignores it too)
        view["quiet_hours"] = window.as_item()
    if isinstance(item.get("updated_at"), str):
        view["updated_at"] = item["updated_at"]
    return view


def get_preferences(request: Request) -> Response:
    item = edge.get_item(env.required("PREFERENCES_TABLE"), {"user_id": request.user_id})
    return Response(200, preferences_view(item))


def put_preferences(request: Request) -> Response:
    document = parse_json_object(request.body)
    preferences = parse_preferences(document, catalog.load())
    item = {"user_id": request.user_id, **preferences, "updated_at": edge.iso(edge.now())}
    edge.dynamodb().put_item(TableName=env.required("PREFERENCES_TABLE"), Item=serialize_item(item))
    logger.info(
        "preferences replaced",
        extra={
            "muted": preferences["muted"],
            "types": len(preferences["opt_outs"]),
            "quiet_hours": "quiet_hours" in preferences,
        },
    )
    return Response(200, preferences_view(item))
