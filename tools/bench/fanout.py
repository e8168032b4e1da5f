"""Measure 4: WebSocket fan-out. A placeholder until the notification service exists (issues 4/5).

When the service's WebSocket channel lands, this module measures, against the emulator, the API calls
(``apigatewaymanagementapi.PostToConnection`` per live connection, plus the connection lookups) and the
wall time of fanning one notification out to 1, 100 and 10,000 connections.
"""

from __future__ import annotations

from tools.bench.report import NOT_YET, Section

PLANNED = (
    ("connections looked up per notification", "1, 100, 10,000 connections"),
    ("PostToConnection calls per notification", "1, 100, 10,000 connections"),
    ("fan-out wall time", "1, 100, 10,000 connections"),
    ("stale connections pruned (GoneException)", "10% stale"),
)


def measure() -> Section:
    return Section(
        key="fanout",
        title="WebSocket fan-out",
        command="make bench  (tools/bench/fanout.py)",
        description="Fan-out of one notification to every live WebSocket connection of its audience.",
        headers=("Figure", "Inputs", "Result"),
        rows=tuple((figure, inputs, NOT_YET) for figure, inputs in PLANNED),
        data={"status": NOT_YET},
        headline=NOT_YET,
    )
