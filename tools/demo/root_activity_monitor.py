"""Root-activity monitor: a root sign-in is notified, an IAM-user sign-in is not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tools.emulator.lambda_service import InProcessLambdaService
from tools.emulator.server import Emulator
from tools.emulator.topic_reader import reading_topic

EXAMPLE = "root-activity-monitor"
TITLE = "Root-activity monitor: CloudTrail root events -> EventBridge -> Lambda -> SNS (CMK) -> email"
VARIABLES = {
    "name": "root-monitor-demo",
    "email_addresses": ["security@example.com"],
    "account_alias": "demo",
}
EVENTS = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "events"


def show(emulator: Emulator, outputs: dict[str, Any]) -> None:
    print(f"    topic    {outputs['sns_topic_arn']}  (KMS {outputs['kms_key_arn']})")
    rules = sorted(outputs["event_rule_names"].values())
    print(f"    function {outputs['lambda_function_name']}, rules {rules}")
    service = InProcessLambdaService(emulator)
    # The emulator cannot send email: a queue subscribed to the topic receives what inboxes would.
    with reading_topic(emulator, outputs["sns_topic_arn"], "demo-inbox") as inbox:
        for fixture, label in (
            ("root_console_sign_in", "a root user console sign-in"),
            ("iam_user_console_sign_in", "an IAM user console sign-in"),
        ):
            print(f"==> CloudTrail reports {label}", flush=True)
            emulator.put_event(
                json.loads((EVENTS / f"{fixture}.json").read_text()), outputs["event_bus_name"]
            )
            results = service.run_pending()
            if not results:
                print("    the rule did not match: no Lambda invocation, no notification")
                continue
            for result in results:
                status = "ok" if result.succeeded else f"FAILED: {result.error}"
                print(f"    Lambda {result.function_name} invoked ({status}) -> {result.result}")
            for notification in inbox.notifications():
                print("    Delivered to the topic's subscribers:")
                print(f"      Subject: {notification['Subject']}")
                for line in notification["Message"].splitlines():
                    print(f"      {line}")
    subscriptions = emulator.client("sns").list_subscriptions_by_topic(TopicArn=outputs["sns_topic_arn"])
    emails = [s["Endpoint"] for s in subscriptions["Subscriptions"] if s["Protocol"] == "email"]
    print(f"    (in AWS, the same message is emailed to {', '.join(emails)})")
