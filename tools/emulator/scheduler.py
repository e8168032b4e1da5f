"""EventBridge Scheduler: moto stores schedules but never fires them; gaps patched, firing played here.

* ``fire_due`` is the scheduler the tests (and ``make demo`` / ``make bench``) advance: every ENABLED
  one-time schedule (``at(...)``) due at ``now`` is delivered to its target, as Scheduler does: an SQS
  target gets ``SendMessage`` of the schedule's ``Input`` (the only target kind this project uses), and a
  schedule with ``ActionAfterCompletion = DELETE`` is deleted once delivered. Nothing fires on its own:
  time is the test's.
* Gap: ``CreateSchedule`` into a group that does not exist answers HTTP 500 (``KeyError`` in moto's backend)
  instead of ``ResourceNotFoundException``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from moto.scheduler.exceptions import ScheduleGroupNotFound
from moto.scheduler.models import EventBridgeSchedulerBackend, scheduler_backends
from moto.sqs.models import sqs_backends
from moto.utilities.arns import parse_arn

from tools.emulator.account import ACCOUNT_ID

_AT = re.compile(r"at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)")


@dataclass(frozen=True)
class Fired:
    """One schedule delivered by ``fire_due``."""

    group: str
    name: str
    target_arn: str
    input: str


def due_time(expression: str) -> datetime | None:
    """The UTC time of a one-time ``at(yyyy-mm-ddThh:mm:ss)`` expression; None for rate/cron."""
    match = _AT.fullmatch(expression.strip())
    return datetime.fromisoformat(match.group(1)).replace(tzinfo=UTC) if match else None


def pending(region: str) -> list[Any]:
    """Every schedule the emulator holds in ``region`` (moto ``Schedule`` objects)."""
    backend = scheduler_backends[ACCOUNT_ID][region]
    return [s for group in backend.schedule_groups.values() for s in group.schedules.values()]


def _deliver(target: dict[str, Any]) -> None:
    arn = parse_arn(target["Arn"])
    if arn.service != "sqs":
        raise NotImplementedError(f"emulator scheduler: target {target['Arn']} is not an SQS queue")
    backend = sqs_backends[ACCOUNT_ID][arn.region]
    backend.send_message(arn.resource_id, target.get("Input") or "{}", delay_seconds=0)


def fire_due(region: str, now: datetime | None = None) -> list[Fired]:
    """Deliver every enabled one-time schedule due at ``now`` (default: the clock) to its target, once."""
    moment = now or datetime.now(UTC)
    backend = scheduler_backends[ACCOUNT_ID][region]
    fired: list[Fired] = []
    for group in list(backend.schedule_groups.values()):
        for schedule in list(group.schedules.values()):
            due = due_time(schedule.schedule_expression)
            if due is None or due > moment or schedule.state != "ENABLED":
                continue
            _deliver(schedule.target)
            fired.append(
                Fired(group.name, schedule.name, schedule.target["Arn"], schedule.target.get("Input", ""))
            )
            if schedule.action_after_completion == "DELETE":
                group.delete_schedule(schedule.name)
            else:  # a completed one-time schedule stays, and never fires again
                schedule.state = "DISABLED"
    return fired


def _patch_scheduler_missing_group() -> None:
    original = EventBridgeSchedulerBackend.create_schedule

    def create_schedule(self: EventBridgeSchedulerBackend, *args: Any, **kwargs: Any) -> Any:
        group_name = kwargs.get("group_name") or "default"
        if group_name not in self.schedule_groups:
            raise ScheduleGroupNotFound(group_name)
        return original(self, *args, **kwargs)

    EventBridgeSchedulerBackend.create_schedule = create_schedule  # type: ignore[method-assign]


PATCHES: tuple[Callable[[], None], ...] = (_patch_scheduler_missing_group,)
