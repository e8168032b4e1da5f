"""An SQS queue subscribed to an SNS topic: what an email subscriber would receive, readable offline.

The emulator cannot send email; a queue subscribed to the same topic receives the same messages.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tools.emulator.server import Emulator


@dataclass(frozen=True)
class TopicReader:
    sqs: Any
    queue_url: str
    subscription_arn: str

    def resources(self) -> dict[str, set[str]]:
        """What the reader created, by inventory kind (a test's own, not the deployment's)."""
        return {"sqs queues": {self.queue_url}, "sns subscriptions": {self.subscription_arn}}

    def drain(self) -> list[dict[str, Any]]:
        """Every message waiting in the queue (SQS envelopes), deleting them as they are read."""
        received: list[dict[str, Any]] = []
        while batch := self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=0
        ).get("Messages", []):
            received += batch
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)],
            )
        return received

    def notifications(self) -> list[dict[str, Any]]:
        """The SNS notifications (Subject, Message, ...) waiting in the queue."""
        return [json.loads(message["Body"]) for message in self.drain()]


@contextlib.contextmanager
def reading_topic(emulator: Emulator, topic_arn: str, queue_name: str) -> Iterator[TopicReader]:
    sqs, sns = emulator.client("sqs"), emulator.client("sns")
    queue_url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    subscription = sns.subscribe(
        TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, ReturnSubscriptionArn=True
    )["SubscriptionArn"]
    try:
        yield TopicReader(sqs=sqs, queue_url=queue_url, subscription_arn=subscription)
    finally:
        sns.unsubscribe(SubscriptionArn=subscription)
        sqs.delete_queue(QueueUrl=queue_url)
