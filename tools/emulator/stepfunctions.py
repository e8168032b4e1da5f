"""Step Functions gaps of moto, patched.

* ``ValidateStateMachineDefinition`` (called at plan time) and ``ListStateMachineVersions`` are not routed
  by the default responses (HTTP 500).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from moto.stepfunctions.responses import StepFunctionResponse


def _patch_stepfunctions() -> None:

    def validate_state_machine_definition(self: Any) -> str:
        definition = self._get_param("definition")
        try:
            json.loads(definition)
        except (TypeError, ValueError) as exc:
            return json.dumps(
                {
                    "result": "FAIL",
                    "diagnostics": [
                        {"severity": "ERROR", "code": "INVALID_JSON_DESCRIPTION", "message": str(exc)}
                    ],
                }
            )
        return json.dumps({"result": "OK", "diagnostics": [], "truncated": False})

    def list_state_machine_versions(self: Any) -> str:
        return json.dumps({"stateMachineVersions": []})

    StepFunctionResponse.validate_state_machine_definition = validate_state_machine_definition
    StepFunctionResponse.list_state_machine_versions = list_state_machine_versions


# Applied by ``tools.emulator.server.apply_patches``, in this order.
PATCHES: tuple[Callable[[], None], ...] = (_patch_stepfunctions,)
