"""`make demo`: deploy the root-activity monitor to a local AWS emulator and show what it delivers.

Starts the emulator (moto, on 127.0.0.1), applies examples/root-activity-monitor with Terraform, puts a
root console sign-in and an ordinary IAM-user sign-in on the bus, runs the deployed Lambda handler for
what the rule delivered, prints the notification the subscribers receive, then destroys everything.
No AWS account and no network are needed.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "lambda_src")]

from tests.support.emulator import Emulator  # noqa: E402
from tests.support.lambda_service import InProcessLambdaService  # noqa: E402
from tests.support.terraform import ExampleWorkspace, use_terraform_env  # noqa: E402

EVENTS = REPO_ROOT / "tests" / "fixtures" / "events"


def step(message: str) -> float:
    print(f"==> {message}", flush=True)
    return time.monotonic()


def done(started: float) -> None:
    print(f"    done in {time.monotonic() - started:.0f} s", flush=True)


def put_event(emulator: Emulator, bus: str, fixture: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"{fixture}.json").read_text())
    emulator.client("events").put_events(
        Entries=[
            {
                "EventBusName": bus,
                "Source": event["source"],
                "DetailType": event["detail-type"],
                "Detail": json.dumps(event["detail"]),
            }
        ]
    )
    return event


def read_inbox(emulator: Emulator, queue_url: str) -> list[dict[str, Any]]:
    messages = emulator.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def main() -> int:
    use_terraform_env()
    started = step("Starting the local AWS emulator (moto) on 127.0.0.1")
    emulator = Emulator().start()
    print(f"    listening on {emulator.endpoint_url}")
    workspace = ExampleWorkspace.create(
        "root-activity-monitor",
        emulator.provider_override(),
        {"name": "root-monitor-demo", "email_addresses": ["security@example.com"], "account_alias": "demo"},
    )
    try:
        done(started)
        started = step("terraform init (offline: provider from the local mirror)")
        workspace.init()
        done(started)
        started = step("terraform apply examples/root-activity-monitor (about a minute: SQS queues are slow)")
        workspace.apply()
        outputs = workspace.outputs()
        done(started)
        print(f"    topic    {outputs['sns_topic_arn']}  (KMS {outputs['kms_key_arn']})")
        rules = sorted(outputs["event_rule_names"].values())
        print(f"    function {outputs['lambda_function_name']}, rules {rules}")

        # The emulator cannot send email: an SQS queue subscribed to the topic receives what inboxes would.
        sqs, sns = emulator.client("sqs"), emulator.client("sns")
        inbox = sqs.create_queue(QueueName="demo-inbox")["QueueUrl"]
        inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        sns.subscribe(TopicArn=outputs["sns_topic_arn"], Protocol="sqs", Endpoint=inbox_arn)
        service = InProcessLambdaService(emulator)

        for fixture, label in (
            ("root_console_sign_in", "a root user console sign-in"),
            ("iam_user_console_sign_in", "an IAM user console sign-in"),
        ):
            step(f"CloudTrail reports {label}")
            put_event(emulator, outputs["event_bus_name"], fixture)
            results = service.run_pending()
            if not results:
                print("    the rule did not match: no Lambda invocation, no notification")
                continue
            for result in results:
                status = "ok" if result.succeeded else f"FAILED: {result.error}"
                print(f"    Lambda {result.function_name} invoked ({status}) -> {result.result}")
            for message in read_inbox(emulator, inbox):
                print("    Delivered to the topic's subscribers:")
                print(f"      Subject: {message['Subject']}")
                for line in message["Message"].splitlines():
                    print(f"      {line}")
        sns_subs = sns.list_subscriptions_by_topic(TopicArn=outputs["sns_topic_arn"])["Subscriptions"]
        emails = [s["Endpoint"] for s in sns_subs if s["Protocol"] == "email"]
        print(f"    (in AWS, the same message is emailed to {', '.join(emails)})")
        sqs.delete_queue(QueueUrl=inbox)
    finally:
        started = step("terraform destroy")
        workspace.destroy()
        done(started)
        emulator.stop()
        workspace.remove()
        print("==> Emulator stopped. Terraform log of this run was removed with its workspace.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
