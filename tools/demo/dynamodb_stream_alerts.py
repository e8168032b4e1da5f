"""DynamoDB stream alerts: payments are written, the pipe's filter passes the unauthorised ones only.

The emulator stores the pipe but does not run it, so the demo shows each half of the pipe's work from the
deployment itself: the real stream records of the writes, the deployed filter judged by the emulator's
event-pattern matcher, and the deployed input template rendered with the Pipes substitution rules
(``tools.emulator.pipes``). The rendered alert is then published through the deployed topic.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, cast

from moto.events.models import EventPattern

from tools.emulator.pipes import PipeContext, as_pipes_record, render_input_template
from tools.emulator.server import Emulator
from tools.emulator.topic_reader import reading_topic

EXAMPLE = "dynamodb-stream-alerts"
TITLE = "DynamoDB stream alerts: table stream -> EventBridge Pipe (filter + template) -> SNS (CMK) -> email"
VARIABLES = {"name": "payment-alerts-demo", "email_addresses": ["payments-team@example.com"]}

PAYMENTS = (
    ("pay-2001", "42.00", "Authorised"),
    ("pay-2002", "1250.00", "Not Authorised"),
    ("pay-2003", "9.99", "Authorised"),
    ("pay-2004", "87.40", "Not Authorised"),
)


def _stream_records(emulator: Emulator, stream_arn: str) -> list[dict[str, Any]]:
    streams = emulator.client("dynamodbstreams")
    raw: list[dict[str, Any]] = []
    streams.meta.events.register(
        "after-call.dynamodbstreams.GetRecords",
        lambda http_response, **_: raw.append(json.loads(http_response.content)),
    )
    for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        streams.get_records(ShardIterator=iterator, Limit=100)  # one page holds the demo's few records
    return [as_pipes_record(r, stream_arn) for page in raw for r in page["Records"]]


def show(emulator: Emulator, outputs: dict[str, Any]) -> None:
    pipe = emulator.client("pipes").describe_pipe(Name=outputs["pipe_name"])
    patterns = [f["Pattern"] for f in pipe["SourceParameters"]["FilterCriteria"]["Filters"]]
    print(f"    table  {outputs['table_name']}  stream {outputs['stream_arn']}")
    print(f"    pipe   {pipe['Name']} -> topic {outputs['sns_topic_arn']}  (KMS {outputs['kms_key_arn']})")
    for pattern in patterns:
        print(f"    filter {pattern}")

    print("==> Writing payments to the table", flush=True)
    dynamodb = emulator.client("dynamodb")
    for payment_id, amount, status in PAYMENTS:
        print(f"    put_item {payment_id} amount {amount} status {status!r}")
        dynamodb.put_item(
            TableName=outputs["table_name"],
            Item={
                "paymentId": {"S": payment_id},
                "amount": {"N": amount},
                "currency": {"S": "EUR"},
                "status": {"S": status},
            },
        )

    print("==> The stream records, judged by the deployed filter", flush=True)
    context = PipeContext(
        pipe_arn=pipe["Arn"],
        pipe_name=pipe["Name"],
        source_arn=pipe["Source"],
        target_arn=pipe["Target"],
        ingestion_time=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    sns = emulator.client("sns")
    # The emulator cannot send email: a queue subscribed to the topic receives what inboxes would.
    with reading_topic(emulator, outputs["sns_topic_arn"], "demo-payment-inbox") as inbox:
        for record in _stream_records(emulator, outputs["stream_arn"]):
            status = record["dynamodb"].get("NewImage", {}).get("status", {}).get("S", "-")
            label = f"{record['eventName']} {record['dynamodb']['Keys']['paymentId']['S']} ({status})"
            if not any(EventPattern.load(p).matches_event(cast(Any, record)) for p in patterns):
                print(f"    {label}: filtered out, no alert")
                continue
            alert = render_input_template(pipe["TargetParameters"]["InputTemplate"], record, context)
            sns.publish(TopicArn=outputs["sns_topic_arn"], Message=alert)
            print(f"    {label}: PASSES -> alert published to the topic")
        print("==> Delivered to the topic's subscribers", flush=True)
        for notification in inbox.notifications():
            print("    ---")
            for line in notification["Message"].splitlines():
                print(f"    {line}")
    emails = [
        s["Endpoint"]
        for s in sns.list_subscriptions_by_topic(TopicArn=outputs["sns_topic_arn"])["Subscriptions"]
        if s["Protocol"] == "email"
    ]
    print(f"    (in AWS, the pipe publishes these and SNS emails them to {', '.join(emails)})")
