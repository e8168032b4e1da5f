"""Section 1: AWS API calls per notification, per step, next to the lower bound AWS's limits allow.

Calls are counted with botocore event hooks on the very clients the handlers use (the cached clients of
``notification_handlers.aws_clients``), against moto in-process: ``before-call`` counts each API call
once (retries of the same call are not new calls), ``provide-client-params`` records what was sent so
``invocation`` can replay exactly those calls.
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from notification_handlers import aws_clients
from tools.bench.all_workloads import WORKLOADS
from tools.bench.environment import handler_module_names
from tools.bench.report import Section
from tools.bench.workloads import Step, Workload, deployed

SIZES = (1, 10, 1000)
COMMAND = "make bench  (tools/bench/api_calls.py)"

# Handlers that deliver no notification, so a cost per notification does not apply to them: each runs
# once per some other event, named here. A handler missing from both this and WORKLOADS is flagged.
OFF_THE_DELIVERY_PATH = {
    "notification_handlers.service.email_feedback": (
        "off the delivery path: runs per SES bounce/complaint batch (suppressions, 25 per BatchWriteItem)"
    ),
    "notification_handlers.service.push_platforms": (
        "off the delivery path: runs when Terraform creates, updates or deletes a platform application"
    ),
    "notification_handlers.service.registration_api": (
        "off the delivery path: runs per registration API request (one conditional UpdateItem of the"
        " caller's request counter, then the route's own calls: devices, subscriptions, preferences)"
    ),
    "notification_handlers.service.websocket_authorizer": (
        "off the delivery path: runs per WebSocket $connect (no AWS API call; one HTTPS JWKS fetch per"
        " execution environment and hour, at most one more per 5 minutes on an unknown key id)"
    ),
    "notification_handlers.service.websocket_connections": (
        "off the delivery path: runs per WebSocket $connect/$disconnect"
        " (one PutItem or DeleteItem; $default: none)"
    ),
}


@dataclass
class CallCounter:
    """Counts the API calls made through the clients it is attached to, in order, with their params."""

    calls: list[str] = field(default_factory=list)
    params: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    _clients: list[Any] = field(default_factory=list)

    def attach(self, client: Any) -> None:
        events = client.meta.events
        events.register("before-call", self._before_call, unique_id=f"bench-count-{id(self)}")
        events.register("provide-client-params", self._provide_params, unique_id=f"bench-params-{id(self)}")
        self._clients.append(client)

    def detach(self) -> None:
        """Stop counting (the hooks' own cost must not be timed)."""
        for client in self._clients:
            client.meta.events.unregister("before-call", unique_id=f"bench-count-{id(self)}")
            client.meta.events.unregister("provide-client-params", unique_id=f"bench-params-{id(self)}")

    def attach_handler_clients(
        self, services: tuple[str, ...], endpoint_clients: tuple[tuple[str, str, int], ...] = ()
    ) -> None:
        """Create (and so cache) the handlers' clients for ``services`` and count their calls."""
        for service in services:
            self.attach(aws_clients.client(service))
        for service, endpoint, pool in endpoint_clients:
            self.attach(aws_clients.client_with_endpoint(service, endpoint, max_pool_connections=pool))

    def check_nothing_unobserved(self) -> None:
        """Fail if a handler created a client this counter is not attached to (its calls would be missed)."""
        cached = (
            aws_clients.client.cache_info().currsize + aws_clients.client_with_endpoint.cache_info().currsize
        )
        if cached != len(self._clients):
            raise RuntimeError(
                f"the handler created {cached} client(s) but {len(self._clients)} are counted: declare every"
                " service it calls in its Workload.services (or endpoint_clients)"
            )

    def _before_call(self, model: Any, **_: Any) -> None:
        self.calls.append(f"{model.service_model.service_name}.{model.name}")

    def _provide_params(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.params.append((model.service_model.service_name, model.name, copy.deepcopy(params)))

    def tally(self, steps: tuple[Step, ...]) -> dict[str, int]:
        """Calls per step, plus any call no step claims under ``"(unclaimed)"``."""
        counts = Counter(self.calls)
        tally = {step.name: sum(counts[op] for op in step.operations) for step in steps}
        claimed = {op for step in steps for op in step.operations}
        unclaimed = sum(count for op, count in counts.items() if op not in claimed)
        if unclaimed:
            tally["(unclaimed)"] = unclaimed
        return tally


def count_calls(workload: Workload, n: int) -> CallCounter:
    """Run ``workload`` with ``n`` notifications against moto; the counter of every API call it made."""
    with deployed(workload):
        counter = CallCounter()
        counter.attach_handler_clients(workload.services, workload.endpoint_clients)
        workload.run(n)
        counter.check_nothing_unobserved()
    return counter


def measure(sizes: tuple[int, ...] = SIZES, workloads: tuple[Workload, ...] = WORKLOADS) -> Section:
    rows: list[tuple[str, ...]] = []
    data: dict[str, Any] = {}
    notes: list[str] = []
    for workload in workloads:
        for n in workload.sizes(sizes):
            tally = count_calls(workload, n).tally(workload.steps)
            for step in workload.steps:
                counted, bound = tally[step.name], step.lower_bound(n)
                rows.append(
                    (
                        workload.label,
                        f"{n:,} {workload.unit}{'s' if n != 1 else ''}",
                        step.name,
                        ", ".join(sorted(step.operations)),
                        f"{counted:,}",
                        f"{counted / n:.2f}",
                        f"{bound:,} ({step.bound_text})",
                        f"{counted / bound:.2f}" if bound else "n/a",
                    )
                )
                data[f"{workload.key}/{n}/{step.name}"] = {"calls": counted, "lower_bound": bound}
            if "(unclaimed)" in tally:
                rows.append(
                    (workload.label, f"{n:,}", "(unclaimed)", "?", str(tally["(unclaimed)"]), "", "", "")
                )
                data[f"{workload.key}/{n}/(unclaimed)"] = {"calls": tally["(unclaimed)"]}
        notes += [f"{workload.label}, {step.name}: {step.why}" for step in workload.steps]
    measured = {w.handler_module for w in workloads}
    for module in handler_module_names():
        if module not in measured:
            why = OFF_THE_DELIVERY_PATH.get(module, "no workload: add one to tools/bench/all_workloads.py")
            rows.append((module, "-", "-", "-", "-", "-", why, "-"))
    notes.append(
        "Counted with botocore `before-call` hooks on the handlers' own clients (`aws_clients.client`),"
        " against moto in-process; a retried call counts once. Ratio 1.00: no call beyond the minimum."
    )
    return Section(
        key="api_calls",
        title="AWS API calls per notification",
        command=COMMAND,
        description=(
            "Each handler is fed events carrying 1, 10 and 1,000 notifications (root-activity: that many"
            " asynchronous invocations of one event each; S3 notifier: one event of that many records) and"
            " every AWS API call it makes is counted per step, next to the fewest calls AWS's API limits"
            " allow for the same work."
        ),
        headers=(
            "Handler",
            "Input",
            "Step",
            "Operations",
            "Calls",
            "Per notification",
            "Lower bound",
            "Ratio",
        ),
        rows=tuple(rows),
        notes=tuple(notes),
        data=data,
        headline=_headline(sizes, data, workloads),
    )


def _headline(sizes: tuple[int, ...], data: dict[str, Any], workloads: tuple[Workload, ...]) -> str:
    """The worst step (highest calls / bound) at each workload's largest run."""
    ratios = []
    for workload in workloads:
        n = max(workload.sizes(sizes))
        for step in workload.steps:
            figures = data[f"{workload.key}/{n}/{step.name}"]
            if figures["lower_bound"]:
                ratios.append((figures["calls"] / figures["lower_bound"], f"{workload.label}: {step.name}"))
    worst, where = max(ratios)
    return (
        f"{len(ratios)} steps of {len(workloads)} workloads at their largest run: every step within"
        f" {worst:.2f}x of the lower bound AWS's batch limits allow (worst: {where})"
    )
