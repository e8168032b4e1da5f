"""Section 3: wall time and peak memory of one invocation, relative to moto's cost of the same API calls.

For each handler and batch size the handler runs warm (clients created, modules imported) against moto
in-process. The API calls it made are recorded (``api_calls.CallCounter``) and replayed with a plain boto3
client against the same mock: the replay is the least any implementation pays in this setup. The ratio
handler / replay cancels most machine noise; the difference per notification is the handler's own work
(parsing, rendering, logging) on top of the SDK and the emulator.
"""

from __future__ import annotations

import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import boto3
from botocore import xform_name
from botocore.exceptions import ClientError

from notification_handlers import aws_clients
from tools.bench.all_workloads import WORKLOADS
from tools.bench.api_calls import CallCounter
from tools.bench.environment import REGION
from tools.bench.report import Section, ms, ratio
from tools.bench.workloads import Workload, deployed

SIZES = (1, 10, 100)
REPEATS = 7
COMMAND = "make bench  (tools/bench/invocation.py)"


def _timed(action: Callable[[], Any], repeats: int, after: Callable[[], None]) -> float:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
        after()
    return statistics.median(samples)


def _peak_bytes(action: Callable[[], Any], after: Callable[[], None]) -> int:
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        after()


EXPECTED_REFUSALS = frozenset({"ConditionalCheckFailedException", "ConflictException"})


def measure_one(workload: Workload, n: int, repeats: int = REPEATS) -> dict[str, float]:
    with deployed(workload):
        counter = CallCounter()
        counter.attach_handler_clients(workload.services, workload.endpoint_clients)
        workload.run(1)  # warm: clients, connection pool, first-call caches
        workload.reset()
        events = workload.events(n)
        mark = len(counter.params)
        workload.invoke(events, n)
        workload.reset()
        counter.detach()
        calls = counter.params[mark:]

        session = boto3.session.Session(region_name=REGION)
        endpoints = {service: endpoint for service, endpoint, _ in workload.endpoint_clients}
        raw = {
            service: session.client(
                service, config=aws_clients._CLIENT_CONFIG, endpoint_url=endpoints.get(service)
            )
            for service, _, _ in calls
        }

        def replay() -> None:
            for service, operation, params in calls:
                try:
                    getattr(raw[service], xform_name(operation))(**params)
                except ClientError as error:
                    # A refused conditional write (a digest's first append) or an existing schedule is an
                    # answer the handler got too: part of the work replayed, not a failure of the replay.
                    if error.response.get("Error", {}).get("Code") not in EXPECTED_REFUSALS:
                        raise

        # A replay writes what the handler wrote (idempotency claims are conditional writes): reset after
        # each one as after each handler run, outside the timed region.
        replay()  # warm the raw clients too
        workload.reset()

        handler_s = _timed(lambda: workload.invoke(events, n), repeats, workload.reset)
        replay_s = _timed(replay, repeats, workload.reset)
        handler_peak = _peak_bytes(lambda: workload.invoke(events, n), workload.reset)
        replay_peak = _peak_bytes(replay, workload.reset)
    return {
        "calls": len(calls),
        "handler_s": handler_s,
        "replay_s": replay_s,
        "handler_peak_bytes": handler_peak,
        "replay_peak_bytes": replay_peak,
    }


def _own_work(seconds: float) -> str:
    """The handler's time beyond its API calls; below zero it is lost in the run-to-run noise."""
    return ms(seconds) if seconds >= 0 else "below noise"


def _kib(size: float) -> str:
    return f"{size / 1024:,.0f} KiB"


def measure(
    sizes: tuple[int, ...] = SIZES, repeats: int = REPEATS, workloads: tuple[Workload, ...] = WORKLOADS
) -> Section:
    rows: list[tuple[str, ...]] = []
    data: dict[str, Any] = {}
    for workload in workloads:
        for n in workload.sizes(sizes):
            figures = measure_one(workload, n, repeats)
            data[f"{workload.key}/{n}"] = figures
            rows.append(
                (
                    workload.label,
                    f"{n:,} {workload.unit}{'s' if n != 1 else ''}",
                    str(int(figures["calls"])),
                    ms(figures["handler_s"]),
                    ms(figures["replay_s"]),
                    ratio(figures["handler_s"], figures["replay_s"]),
                    _own_work((figures["handler_s"] - figures["replay_s"]) / n),
                    _kib(figures["handler_peak_bytes"]),
                    _kib(figures["replay_peak_bytes"]),
                    ratio(figures["handler_peak_bytes"], figures["replay_peak_bytes"]),
                )
            )
    return Section(
        key="invocation",
        title="Per-invocation work (time and memory, relative to the API calls alone)",
        command=COMMAND,
        description=(
            "Warm invocations against moto in-process (root-activity: n invocations of one event; S3"
            f" notifier: one invocation of n records). Median of {repeats} runs. *Replay* is the same API"
            " calls, with the same parameters, made by a plain boto3 client against the same mock: the floor"
            " any implementation pays here. Peak memory is Python allocations traced by `tracemalloc`"
            " during one run (not the process RSS)."
        ),
        headers=(
            "Handler",
            "Input",
            "API calls",
            "Handler time",
            "Replay time",
            "Time ratio",
            "Handler's own time per notification",
            "Handler peak",
            "Replay peak",
            "Memory ratio",
        ),
        rows=tuple(rows),
        notes=(
            "The moto mock is much faster than real AWS (no network, no TLS), so against real AWS the ratio"
            " moves toward 1: the API round trips dominate.",
        ),
        data=data,
        headline=_headline(sizes, data, workloads),
    )


def _headline(sizes: tuple[int, ...], data: dict[str, Any], workloads: tuple[Workload, ...]) -> str:
    parts = []
    for workload in workloads:
        n = max(workload.sizes(sizes))
        figures = data[f"{workload.key}/{n}"]
        own = (figures["handler_s"] - figures["replay_s"]) / n
        own_text = (
            f"{_own_work(own)} of its own work per notification"
            if own >= 0
            else "its own work per notification below the noise"
        )
        parts.append(
            f"{workload.label} {ratio(figures['handler_s'], figures['replay_s'])} the time of its API calls"
            f" alone ({own_text}), peak memory"
            f" {ratio(figures['handler_peak_bytes'], figures['replay_peak_bytes'])}"
        )
    return f"at {n:,} notifications against moto: " + "; ".join(parts)
