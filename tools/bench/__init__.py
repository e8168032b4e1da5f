"""`make bench`: what the toolkit costs, measured the same way on every machine.

One module per measure, each returning a ``report.Section`` (a table, notes, the command that reproduces
it, and the raw figures); ``runner`` runs them in a fixed order, prints the tables and writes
``docs/benchmarks.md`` (and the raw figures to ``docs/benchmarks.json``).

1. ``api_calls``    AWS API calls per notification, per step, next to the lower bound AWS allows.
2. ``cold_start``   import time each handler adds to a cold start beyond ``import boto3``.
3. ``invocation``   wall time and peak memory per invocation, as a ratio to moto's cost of the same calls.
4. ``fanout``       WebSocket fan-out of one notification to 10,000 connections (5% stale).
5. ``package_size`` ``dist/lambda.zip``: size, files, vendored libraries vs the handlers' own code.
6. ``terraform``    plan/apply/destroy wall time of every example against the emulator (opt-in: slow).

Nothing here asserts a timing: the figures are reported, never enforced.
"""
