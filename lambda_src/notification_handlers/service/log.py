"""The service's one structured logger (Powertools; ``service`` from ``POWERTOOLS_SERVICE_NAME``).

Every module of the service logs through it, so ``logger.append_keys(notification_id=...)`` in a handler
tags the lines the shared modules write about that notification too.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME") or "notification-service")
