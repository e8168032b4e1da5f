"""Capped exponential backoff with full jitter, for the rounds a batch API leaves unprocessed.

botocore's standard retry mode retries a failed *call*; a batch call that succeeds but leaves some items
unprocessed (DynamoDB ``UnprocessedKeys``/``UnprocessedItems``, SQS ``Failed`` entries) is ours to retry.
AWS recommends exponential backoff between such rounds; full jitter spreads concurrent retries.
"""

from __future__ import annotations

import random
import time
from typing import Final

BASE_SECONDS: Final = 0.05
CAP_SECONDS: Final = 1.0


def delay(round_number: int, *, base: float = BASE_SECONDS, cap: float = CAP_SECONDS) -> float:
    """Seconds to wait before retry ``round_number`` (1-based): uniform in [0, min(cap, base * 2**(n-1))]."""
    ceiling = min(cap, base * (2 ** max(0, round_number - 1)))
    return random.uniform(0, ceiling)  # noqa: S311 -- jitter, not cryptography


def sleep(seconds: float) -> None:
    """``time.sleep``; a module function so tests can record the waits instead of sleeping."""
    time.sleep(seconds)
