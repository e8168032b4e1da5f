"""Registration API: an API Gateway HTTP API (payload format 2.0) behind a JWT authorizer; the Lambda entry
point (``handler``) and its routing. The work lives in ``service/registration/``.

Users register devices for push, add and verify email addresses, set their preferences and read the
delivery log of a notification sent to them (docs/notification-service.md, section 7).

Who the caller is comes only from the authorizer: ``requestContext.authorizer.jwt.claims.sub``, never a
body, path or query field. A request without it (or with a ``sub`` that is not a user id of the event
contract) is refused with 403 and touches nothing: defence in depth behind the authorizer. Then the
caller's per-minute request counter (``rate_limit``: 429 over it), then the route (``ROUTES``, keyed by the
``routeKey`` the HTTP API sets):

* ``PUT``/``DELETE /devices/{platform}/{token}``: ``registration.devices``.
* ``PUT``/``DELETE /email-subscriptions/{address}``: ``registration.email_subscriptions``.
* ``POST /email-subscriptions/{address}/verify``: ``registration.email_verification``.
* ``GET``/``DELETE /phone-number``, ``PUT /phone-number/{phone_number}`` and
  ``POST /phone-number/{phone_number}/verify``: ``registration.phone_number`` (the SMS channel; the routes
  exist only when it is on).
* ``GET``/``PUT /preferences``: ``registration.preferences``.
* ``GET /notifications/{notification_id}/deliveries``: ``registration.deliveries``.
* ``GET /inbox``, ``GET /inbox/unread-count``, ``POST /inbox/read-all``, ``POST /inbox/{item_id}/read``,
  ``POST /inbox/{item_id}/archive``: ``registration.inbox`` (only with the inbox channel: ``INBOX_TABLE``).

Parsing and validation: ``registration.request``; responses and errors: ``registration.http_api``.

Errors are ``{"error": {"code": ..., "message": ...}}``: 400 the request cannot be parsed (body not
strict JSON, wrong field types, unknown fields, bad query parameters), 403 no user id, 404 unknown route
or nothing found, 409 a state conflict, 422 well-formed but invalid values, 429 a per-user or verification
limit reached (``retry-after`` says when), 503 an AWS throttle/5xx/timeout after the SDK's retries
(``aws_clients.is_transient``; retry later), 500 anything else. No body ever carries a traceback or an AWS
error message (those can quote ARNs and addresses).

Logs: one line per request (route, status, error code); tokens, codes and full addresses are never
logged (addresses masked: ``a***@example.com``).

Environment (docs/notification-service.md, section 7): ``DEVICE_TOKENS_TABLE``, ``DEVICE_OWNERS_TABLE``,
``LIMITS_TABLE``, ``MAX_DEVICES_PER_USER`` (default 10),
``PLATFORM_APPLICATION_ARNS`` (JSON platform -> ARN; absent or ``{}``: push not configured, device PUTs
answer 422), ``EMAIL_SUBSCRIPTIONS_TABLE``, ``PREFERENCES_TABLE``, ``DELIVERY_LOG_TABLE``,
``CATALOG_TABLE`` (+ ``CATALOG_REFRESH_SECONDS``), ``SENDER_ADDRESS``, ``SES_CONFIGURATION_SET``
(optional; the verification configuration set), ``SES_IDENTITY_ARN`` (optional),
``EMAIL_SUPPRESSIONS_TABLE``, ``VERIFY_CODES_PER_ADDRESS_PER_DAY``, ``VERIFY_CODES_PER_USER_PER_DAY``,
``VERIFY_GUESSES_PER_ADDRESS_PER_DAY``, ``VERIFY_RESEND_COOLDOWN_SECONDS`` (``verification``),
``REQUESTS_PER_USER_PER_MINUTE`` (``rate_limit``), ``PHONE_NUMBERS_TABLE`` and the ``SMS_*`` settings
(``service.sms``; with the SMS channel only), ``INBOX_TABLE``, ``INBOX_DEFAULT_PAGE_SIZE``,
``INBOX_MAX_PAGE_SIZE`` (``inbox``; with the inbox only).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from notification_handlers import aws_clients
from notification_handlers.event_fields import ConfigurationError
from notification_handlers.service import rate_limit
from notification_handlers.service.log import logger
from notification_handlers.service.registration import (
    deliveries,
    devices,
    email_subscriptions,
    email_verification,
    inbox,
    phone_number,
    preferences,
)
from notification_handlers.service.registration.http_api import ApiError, Response, error_body, to_http
from notification_handlers.service.registration.request import Request, parse_request

ROUTES: Final[Mapping[str, Callable[[Request], Response]]] = {
    "PUT /devices/{platform}/{token}": devices.put_device,
    "DELETE /devices/{platform}/{token}": devices.delete_device,
    "PUT /email-subscriptions/{address}": email_subscriptions.put_email_subscription,
    "POST /email-subscriptions/{address}/verify": email_verification.verify_email_subscription,
    "DELETE /email-subscriptions/{address}": email_subscriptions.delete_email_subscription,
    "GET /phone-number": phone_number.get_phone_number,
    "PUT /phone-number/{phone_number}": phone_number.put_phone_number,
    "POST /phone-number/{phone_number}/verify": phone_number.verify_phone_number,
    "DELETE /phone-number": phone_number.delete_phone_number,
    "GET /preferences": preferences.get_preferences,
    "PUT /preferences": preferences.put_preferences,
    "GET /notifications/{notification_id}/deliveries": deliveries.get_deliveries,
    "GET /inbox": inbox.list_inbox,
    "GET /inbox/unread-count": inbox.unread_count,
    "POST /inbox/read-all": inbox.read_all,
    "POST /inbox/{item_id}/read": inbox.mark_read,
    "POST /inbox/{item_id}/archive": inbox.archive,
}


def dispatch(event: Any) -> Response:
    """Route one request; every failure becomes a JSON error response (never a traceback)."""
    route = event.get("routeKey") if isinstance(event, Mapping) else None
    try:
        request = parse_request(event, ROUTES)
        logger.append_keys(route=request.route_key, user_id=request.user_id)
        rate_limit.admit(request.user_id, ApiError)  # per-user ceiling: 429 before any route work
        response = ROUTES[request.route_key](request)
    except ApiError as error:
        logger.info(
            "request refused", extra={"route": route, "status": error.status, "error_code": error.code}
        )
        return Response(error.status, error_body(error.code, error.message), error.headers)
    except (ClientError, BotoCoreError) as error:
        transient = aws_clients.is_transient(error)
        logger.error(
            "AWS call failed",
            extra={"route": route, "error_code": aws_clients.error_code(error), "transient": transient},
        )
        if transient:
            return Response(
                503,
                error_body("service_unavailable", "a backing service is busy or unavailable: retry later"),
                {"retry-after": "1"},
            )
        return Response(500, error_body("internal_error", "the request failed: see the function's logs"))
    except ConfigurationError as error:
        logger.error("configuration error", extra={"route": route, "reason": str(error)})
        return Response(500, error_body("internal_error", "the service is misconfigured: see its logs"))
    except Exception:
        logger.exception("unexpected error", extra={"route": route})
        return Response(500, error_body("internal_error", "the request failed: see the function's logs"))
    logger.info("request handled", extra={"status": response.status})
    return response


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Lambda entry point (HTTP API, payload format 2.0)."""
    logger.remove_keys(["route", "user_id"])
    request_id = (event.get("requestContext") or {}).get("requestId") if isinstance(event, Mapping) else None
    logger.append_keys(request_id=request_id if isinstance(request_id, str) else None)
    try:
        return to_http(dispatch(event))
    finally:
        logger.remove_keys(["route", "user_id", "request_id"])
