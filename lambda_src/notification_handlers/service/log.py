"""The service's one structured logger (``service`` from ``POWERTOOLS_SERVICE_NAME``).

Every module of the service logs through it, so ``logger.append_keys(notification_id=...)`` in a handler
tags the lines the shared modules write about that notification too.
"""

from __future__ import annotations

from notification_handlers.structured_log import service_logger

logger = service_logger("notification-service")
