"""The parts of the Lambda context object the handlers read (for type checking only)."""

from __future__ import annotations

from typing import Protocol


class LambdaContext(Protocol):
    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str

    def get_remaining_time_in_millis(self) -> int: ...
