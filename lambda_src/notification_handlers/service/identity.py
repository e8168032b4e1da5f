"""The service's one notion of a user id, shared by every channel's entry point.

A user id is the JWT ``sub`` of the issuer the service trusts: the registration API reads it from the HTTP
API's JWT authorizer, the WebSocket ``$connect`` from the built-in authorizer's ``principalId``, and
producers name it in ``detail.recipients``. ``USER_ID_PATTERN`` is the event contract's recipient pattern
(``schemas/notification-event.schema.json``; a test keeps them equal): a sub outside it could never be
notified, and a ``#`` in it would widen the delivery log's ``begins_with("<sub>#")`` to another user's rows.
"""

from __future__ import annotations

import re
from typing import Final

USER_ID_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@:+-]{0,127}")


def is_user_id(value: object) -> bool:
    """Whether ``value`` is a string the contract accepts as a recipient."""
    return isinstance(value, str) and USER_ID_PATTERN.fullmatch(value) is not None
