"""What an EventBridge Pipe does with a DynamoDB stream record, for tests that cannot run Pipes.

moto stores pipes but does not run them: nothing polls the stream, filters or transforms. The tests
therefore take the two halves of a pipe's work from their authorities and only glue them here:

* **Filtering** is judged by the emulator's own event-pattern matcher (``moto.events.models.EventPattern``),
  applied to the record exactly as Pipes receives it (``as_pipes_record``).
* **Transformation**: ``render_input_template`` implements the documented semantics of Pipes input
  templates (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-input-transformation.html):

  - ``<$.a.b[0].c>`` is replaced by the value at that JSON path of the record. Supported path syntax is
    what the page lists as supported: dot notation, names with letters, digits, dashes, underscores and
    forward slashes, and array indices (wildcards are not implemented here and raise).
  - A string value is inserted as-is, without quotes (the template author writes the quotes when the
    template is JSON); numbers, booleans and null are inserted as their JSON text; objects and arrays as
    compact JSON.
  - Reserved variables: ``<aws.pipes.pipe-arn>``, ``<aws.pipes.pipe-name>``, ``<aws.pipes.source-arn>``,
    ``<aws.pipes.enrichment-arn>``, ``<aws.pipes.target-arn>``, ``<aws.pipes.event.ingestion-time>``,
    ``<aws.pipes.event>`` (the event as JSON) and ``<aws.pipes.event.json>`` (the event as an escaped JSON
    string), taken from a ``PipeContext``.
  - Anything between ``<`` and ``>`` that is neither (e.g. ``a < b > c`` in prose) is left untouched.

  A path that is absent from the record raises ``TemplateError`` naming it: a test must notice a template
  that refers to an attribute the item does not have, rather than compare against a guess of what the
  service would print.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

_PLACEHOLDER = re.compile(r"<(\$(?:\.[A-Za-z0-9_/-]+|\[\d+\])*|aws\.pipes\.[a-z.-]+)>")
_SEGMENT = re.compile(r"\.([A-Za-z0-9_/-]+)|\[(\d+)\]")


class TemplateError(ValueError):
    """A placeholder the renderer cannot resolve (the message names it)."""


@dataclass(frozen=True)
class PipeContext:
    """Values of the reserved ``aws.pipes.*`` variables for one delivery."""

    pipe_arn: str
    pipe_name: str
    source_arn: str
    target_arn: str
    ingestion_time: str  # ISO 8601, as Pipes gives it
    enrichment_arn: str = ""


def as_pipes_record(stream_record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A DynamoDB Streams ``GetRecords`` record in the shape a pipe receives (and filters) it.

    The pipe's poller passes the record through as the Streams API returns it (DynamoDB JSON attribute
    values such as ``{"S": "..."}``, ``ApproximateCreationDateTime`` in epoch seconds) and adds
    ``eventSourceARN``, the stream ARN, as Lambda's event source mapping does. Epoch seconds are whole
    numbers in the delivered record.
    """
    record = json.loads(json.dumps(stream_record, default=_json_default))
    dynamodb = record.get("dynamodb", {})
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, int | float):
        dynamodb["ApproximateCreationDateTime"] = int(created)
    record["eventSourceARN"] = stream_arn
    return record  # type: ignore[no-any-return]


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"not JSON serialisable: {value!r}")


def _lookup(event: Any, path: str) -> Any:
    if "*" in path:
        raise TemplateError(f"wildcard paths are not implemented by this renderer: {path}")
    value = event
    position = 1  # after "$"
    for match in _SEGMENT.finditer(path, 1):
        if match.start() != position:
            raise TemplateError(f"unsupported JSON path syntax: {path}")
        position = match.end()
        name, index = match.groups()
        try:
            value = value[name] if name is not None else value[int(index)]
        except (KeyError, IndexError, TypeError):
            raise TemplateError(f"{path} is not in the record") from None
    if position != len(path):
        raise TemplateError(f"unsupported JSON path syntax: {path}")
    return value


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def _reserved(name: str, event: dict[str, Any], context: PipeContext) -> str:
    values = {
        "aws.pipes.pipe-arn": context.pipe_arn,
        "aws.pipes.pipe-name": context.pipe_name,
        "aws.pipes.source-arn": context.source_arn,
        "aws.pipes.enrichment-arn": context.enrichment_arn,
        "aws.pipes.target-arn": context.target_arn,
        "aws.pipes.event.ingestion-time": context.ingestion_time,
    }
    if name in values:
        return values[name]
    if name == "aws.pipes.event":
        return json.dumps(event, separators=(",", ":"))
    if name == "aws.pipes.event.json":
        return json.dumps(json.dumps(event, separators=(",", ":")))[1:-1]
    raise TemplateError(f"unknown reserved variable <{name}>")


def render_input_template(template: str, event: dict[str, Any], context: PipeContext) -> str:
    """The payload a pipe sends to its target for ``event`` (see the module docstring for the rules)."""

    def substitute(match: re.Match[str]) -> str:
        placeholder = match.group(1)
        if placeholder.startswith("$"):
            return _as_text(_lookup(event, placeholder))
        return _reserved(placeholder, event, context)

    return _PLACEHOLDER.sub(substitute, template)
