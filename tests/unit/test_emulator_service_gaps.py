"""The emulator patches the notification service relies on (SES v2 configuration sets, event destinations,
SendEmail fields, SNS -> Lambda deliveries), against moto in-process."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.ses.models import ses_backends

from tools.emulator.account import ACCOUNT_ID
from tools.emulator.account import DEFAULT_REGION as REGION
from tools.emulator.awslambda import DELIVERIES
from tools.emulator.server import apply_patches

SENDER = "notify@example.com"


@pytest.fixture
def sesv2() -> Iterator[Any]:
    apply_patches()
    with mock_aws():
        client = boto3.client("sesv2", region_name=REGION)
        client.create_email_identity(EmailIdentity=SENDER)
        yield client


def test_configuration_set_reads_back_as_ses_answers(sesv2: Any) -> None:
    sesv2.create_configuration_set(
        ConfigurationSetName="cs",
        DeliveryOptions={"TlsPolicy": "REQUIRE"},
        SendingOptions={"SendingEnabled": True},
    )
    sesv2.create_configuration_set(ConfigurationSetName="paused", SendingOptions={"SendingEnabled": False})

    answer = sesv2.get_configuration_set(ConfigurationSetName="cs")
    assert answer["SendingOptions"] == {"SendingEnabled": True}
    assert answer["DeliveryOptions"] == {"TlsPolicy": "REQUIRE"}
    assert "TrackingOptions" not in answer and "VdmOptions" not in answer
    paused = sesv2.get_configuration_set(ConfigurationSetName="paused")
    assert paused["SendingOptions"] == {"SendingEnabled": False}


def test_event_destinations_are_kept_per_configuration_set(sesv2: Any) -> None:
    sesv2.create_configuration_set(ConfigurationSetName="cs")
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:ses-events"
    destination = {"Enabled": True, "MatchingEventTypes": ["BOUNCE"], "SnsDestination": {"TopicArn": topic}}
    sesv2.create_configuration_set_event_destination(
        ConfigurationSetName="cs", EventDestinationName="feedback", EventDestination=destination
    )
    with pytest.raises(ClientError, match="AlreadyExists"):
        sesv2.create_configuration_set_event_destination(
            ConfigurationSetName="cs", EventDestinationName="feedback", EventDestination=destination
        )

    listed = sesv2.get_configuration_set_event_destinations(ConfigurationSetName="cs")["EventDestinations"]
    assert listed == [{"Name": "feedback", **destination}]

    changed = {**destination, "MatchingEventTypes": ["BOUNCE", "COMPLAINT"]}
    sesv2.update_configuration_set_event_destination(
        ConfigurationSetName="cs", EventDestinationName="feedback", EventDestination=changed
    )
    [updated] = sesv2.get_configuration_set_event_destinations(ConfigurationSetName="cs")["EventDestinations"]
    assert updated["MatchingEventTypes"] == ["BOUNCE", "COMPLAINT"]

    sesv2.delete_configuration_set_event_destination(
        ConfigurationSetName="cs", EventDestinationName="feedback"
    )
    assert (
        sesv2.get_configuration_set_event_destinations(ConfigurationSetName="cs")["EventDestinations"] == []
    )
    with pytest.raises(ClientError, match="NotFoundException"):
        sesv2.delete_configuration_set_event_destination(
            ConfigurationSetName="cs", EventDestinationName="feedback"
        )
    with pytest.raises(ClientError, match="NotFoundException"):
        sesv2.get_configuration_set_event_destinations(ConfigurationSetName="missing")


def test_send_email_keeps_headers_both_parts_configuration_set_and_tags(sesv2: Any) -> None:
    sesv2.create_configuration_set(ConfigurationSetName="cs")
    headers = [
        {"Name": "List-Unsubscribe", "Value": "<https://example.com/u?token=t-1>"},
        {"Name": "List-Unsubscribe-Post", "Value": "List-Unsubscribe=One-Click"},
    ]

    message_id = sesv2.send_email(
        FromEmailAddress=SENDER,
        Destination={"ToAddresses": ["ana@example.org"]},
        ConfigurationSetName="cs",
        EmailTags=[{"Name": "notification_type", "Value": "order_shipped"}],
        Content={
            "Simple": {
                "Subject": {"Data": "Bestellung 42 versandt"},
                "Body": {"Text": {"Data": "Hallo Ana"}, "Html": {"Data": "<p>Hallo Ana</p>"}},
                "Headers": headers,
            }
        },
    )["MessageId"]

    [sent] = [m for m in ses_backends[ACCOUNT_ID][REGION].sent_messages if m.id == message_id]
    assert (sent.subject, sent.text, sent.html) == ("Bestellung 42 versandt", "Hallo Ana", "<p>Hallo Ana</p>")
    assert sent.headers == headers
    assert sent.configuration_set_name == "cs"
    assert sent.email_tags == [{"Name": "notification_type", "Value": "order_shipped"}]
    with pytest.raises(ClientError, match="NotFoundException"):
        sesv2.send_email(
            FromEmailAddress=SENDER,
            Destination={"ToAddresses": ["ana@example.org"]},
            ConfigurationSetName="missing",
            Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}},
        )


def test_sns_to_lambda_is_recorded_in_the_shape_sns_sends() -> None:
    apply_patches()
    DELIVERIES.take_lambda_invocations()
    with mock_aws():
        sns = boto3.client("sns", region_name=REGION)
        topic = sns.create_topic(Name="ses-events")["TopicArn"]
        role = boto3.client("iam", region_name=REGION).create_role(
            RoleName="r", AssumeRolePolicyDocument="{}"
        )["Role"]["Arn"]
        package = io.BytesIO()
        with zipfile.ZipFile(package, "w") as archive:
            archive.writestr("x.py", "")
        function = boto3.client("lambda", region_name=REGION).create_function(
            FunctionName="feedback",
            Runtime="python3.12",
            Role=role,
            Handler="x.h",
            Code={"ZipFile": package.getvalue()},
        )["FunctionArn"]
        subscription = sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=function)["SubscriptionArn"]

        message_id = sns.publish(
            TopicArn=topic,
            Message=json.dumps({"eventType": "Bounce"}),
            MessageAttributes={"kind": {"DataType": "String", "StringValue": "bounce"}},
        )["MessageId"]

    [delivery] = DELIVERIES.take_lambda_invocations()
    assert (delivery.function_arn, delivery.rule_arn, delivery.target_id) == (function, topic, subscription)
    [record] = delivery.payload["Records"]
    assert record["EventSource"] == "aws:sns" and record["EventSubscriptionArn"] == subscription
    sns_part = record["Sns"]
    assert sns_part["TopicArn"] == topic and sns_part["MessageId"] == message_id
    assert json.loads(sns_part["Message"]) == {"eventType": "Bounce"}
    assert sns_part["MessageAttributes"] == {"kind": {"Type": "String", "Value": "bounce"}}
    assert sns_part["Type"] == "Notification" and sns_part["Subject"] is None
    assert sns_part["Timestamp"].endswith("Z")


def test_eventbridge_hands_sqs_the_whole_event() -> None:
    apply_patches()
    with mock_aws():
        events, sqs = boto3.client("events", region_name=REGION), boto3.client("sqs", region_name=REGION)
        events.create_event_bus(Name="service")
        url = sqs.create_queue(QueueName="ingest")["QueueUrl"]
        events.put_rule(
            Name="all", EventBusName="service", EventPattern=json.dumps({"source": [{"prefix": ""}]})
        )
        events.put_targets(
            Rule="all",
            EventBusName="service",
            Targets=[{"Id": "q", "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:ingest"}],
        )
        [entry] = events.put_events(
            Entries=[
                {
                    "EventBusName": "service",
                    "Source": "shop",
                    "DetailType": "order_shipped",
                    "Detail": '{"a": 1}',
                }
            ]
        )["Entries"]

        [message] = sqs.receive_message(QueueUrl=url)["Messages"]

    event = json.loads(message["Body"])
    assert list(event) == [
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
        "detail",
    ]
    assert event["id"] == entry["EventId"] and event["account"] == ACCOUNT_ID and event["region"] == REGION
    assert event["detail"] == {"a": 1} and event["time"].endswith("Z")
