"""KMS gaps of moto, patched.

* ``RotationPeriodInDays`` is accepted but not echoed back: a perpetual diff on re-plan.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from moto.kms.responses import KmsResponse


def _patch_kms_rotation_period() -> None:

    original_status = KmsResponse.get_key_rotation_status
    original_enable = KmsResponse.enable_key_rotation
    periods: dict[str, int] = {}

    def enable_key_rotation(self: Any) -> str:
        periods[self._get_param("KeyId")] = int(self._get_param("RotationPeriodInDays") or 365)
        return original_enable(self)  # type: ignore[no-any-return]

    def get_key_rotation_status(self: Any) -> str:
        answer = json.loads(original_status(self))
        if answer.get("KeyRotationEnabled"):
            answer["RotationPeriodInDays"] = periods.get(self._get_param("KeyId"), 365)
        return json.dumps(answer)

    KmsResponse.enable_key_rotation = enable_key_rotation
    KmsResponse.get_key_rotation_status = get_key_rotation_status


# Applied by ``tools.emulator.server.apply_patches``, in this order.
PATCHES: tuple[Callable[[], None], ...] = (_patch_kms_rotation_period,)
