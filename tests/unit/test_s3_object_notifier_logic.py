"""Pure-function tests of the S3 object notifier: settings, parsing, key decoding, sizes, rendering."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import load_event

from notification_handlers.s3_object_notifier import (
    MAX_SUBJECT_LENGTH,
    ConfigurationError,
    MalformedEventError,
    decode_key,
    fingerprint,
    human_size,
    is_test_event,
    load_settings,
    parse_recipients,
    parse_record,
    parse_records,
    render,
    size_label,
)

ENV = {"SENDER": "s3-alerts@example.com", "RECIPIENTS": "ops@example.com"}


# --- settings ------------------------------------------------------------------------


def test_settings_from_a_comma_separated_list() -> None:
    settings = load_settings({**ENV, "RECIPIENTS": " ops@example.com, dev@example.org ,,ops@example.com"})

    assert settings.sender == "s3-alerts@example.com"
    assert settings.recipients == ("ops@example.com", "dev@example.org")
    assert settings.configuration_set is None
    assert settings.identity_arn is None


def test_settings_from_a_json_list_with_the_optional_values() -> None:
    settings = load_settings(
        {
            **ENV,
            "RECIPIENTS": '["a@example.com", "b@example.com"]',
            "CONFIGURATION_SET": "tracking",
            "SES_IDENTITY_ARN": "arn:aws:ses:us-east-1:123456789012:identity/example.com",
            "SUBJECT_PREFIX": "[prod]",
        }
    )

    assert settings.recipients == ("a@example.com", "b@example.com")
    assert settings.configuration_set == "tracking"
    assert settings.identity_arn == "arn:aws:ses:us-east-1:123456789012:identity/example.com"
    assert settings.subject_prefix == "[prod]"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"RECIPIENTS": "ops@example.com"}, "SENDER is not set"),
        ({"SENDER": "not-an-address", "RECIPIENTS": "ops@example.com"}, "SENDER='not-an-address'"),
        ({"SENDER": "s@example.com"}, "RECIPIENTS is not set"),
        (
            {"SENDER": "s@example.com", "RECIPIENTS": "ops@example.com, nope"},
            "invalid email address(es): 'nope'",
        ),
        ({"SENDER": "s@example.com", "RECIPIENTS": '["ops@example.com", 3]'}, "list of strings"),
        ({"SENDER": "s@example.com", "RECIPIENTS": "[ops@example.com"}, "not a valid JSON list"),
    ],
)
def test_bad_settings_are_clear_errors(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        load_settings(environ)
    assert message in str(raised.value)


def test_more_recipients_than_ses_accepts_is_rejected() -> None:
    with pytest.raises(ConfigurationError, match="SES allows 50"):
        parse_recipients(",".join(f"u{i}@example.com" for i in range(51)))


# --- parse ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [
        ("quarterly+report.pdf", "quarterly report.pdf"),
        ("caf%C3%A9+menu.txt", "café menu.txt"),
        ("a%2Bb%3Dc%26d.txt", "a+b=c&d.txt"),  # a literal "+" in a key arrives as %2B
        ("%E6%97%A5%E6%9C%AC/%F0%9F%93%84.txt", "日本/📄.txt"),
        ("plain/key.txt", "plain/key.txt"),
    ],
)
def test_keys_are_decoded_as_s3_encodes_them(raw: str, decoded: str) -> None:
    assert decode_key(raw) == decoded


def test_put_record_is_parsed() -> None:
    [record] = load_event("s3_object_created_put")["Records"]

    parsed = parse_record(record, 0)

    assert parsed.bucket == "acme-reports"
    assert parsed.key == "reports/2024/quarterly report Q2.pdf"
    assert parsed.action == "created"
    assert parsed.event_name == "ObjectCreated:Put"
    assert parsed.size == 1572864
    assert parsed.event_time == datetime(2024, 5, 14, 9, 12, 38, 123000, tzinfo=UTC)
    assert parsed.principal_id == "AWS:AIDAJDPLRKLG7UEXAMPLE"
    assert parsed.source_ip == "198.51.100.7"
    assert parsed.version_id == "096fKKXTRTtl3on89fVO.nfljtsv6qko"
    assert parsed.request_id == "C3D13FE58DE4C810"


def test_delete_record_has_no_size() -> None:
    [record] = load_event("s3_object_removed_delete")["Records"]

    parsed = parse_record(record, 0)

    assert parsed.action == "deleted"
    assert parsed.key == "menus/café menu — été.txt"
    assert parsed.size is None


def test_delete_marker_record_is_a_deletion_with_its_version() -> None:
    [record] = load_event("s3_object_removed_delete_marker_created")["Records"]

    parsed = parse_record(record, 0)

    assert parsed.action == "deleted"
    assert parsed.event_name == "ObjectRemoved:DeleteMarkerCreated"
    assert parsed.version_id == "1S.Dp0jV5hXtXtQ.ZeUJf2SqaFbyxrBN"


def test_requester_fields_are_optional() -> None:
    [record] = load_event("s3_object_created_put")["Records"]
    del record["userIdentity"], record["requestParameters"], record["responseElements"]

    parsed = parse_record(record, 0)

    assert (parsed.principal_id, parsed.source_ip, parsed.request_id) == (None, None, None)


def _broken(change: Any) -> dict[str, Any]:
    [record] = load_event("s3_object_created_put")["Records"]
    change(record)
    return record


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (_broken(lambda r: r["s3"]["object"].pop("key")), "s3.object.key is missing"),
        (_broken(lambda r: r["s3"]["object"].update(key=7)), "s3.object.key must be a string, got int"),
        (_broken(lambda r: r["s3"]["object"].update(key="%FF%FE")), "s3.object.key is not URL-encoded UTF-8"),
        (_broken(lambda r: r["s3"]["bucket"].pop("name")), "s3.bucket.name is missing"),
        (_broken(lambda r: r.pop("s3")), "s3 is missing: expected an object"),
        (_broken(lambda r: r["s3"].update(object=[])), "s3.object must be an object, got list"),
        (_broken(lambda r: r.pop("eventName")), "eventName is missing"),
        (_broken(lambda r: r.update(eventName="ObjectTagging:Put")), "not an object created/removed event"),
        (_broken(lambda r: r.update(eventTime="yesterday")), "eventTime is not an ISO 8601 timestamp"),
        (_broken(lambda r: r["s3"]["object"].pop("size")), "s3.object.size is missing"),
        (_broken(lambda r: r["s3"]["object"].update(size="12")), "s3.object.size must be a non-negative"),
        (_broken(lambda r: r["s3"]["object"].update(size=-1)), "s3.object.size must be a non-negative"),
        (_broken(lambda r: r.update(userIdentity="me")), "userIdentity must be an object, got str"),
        ("not a record", "record must be an object, got str"),
    ],
)
def test_malformed_records_name_the_field(record: Any, message: str) -> None:
    with pytest.raises(MalformedEventError) as raised:
        parse_record(record, 3)
    assert message in str(raised.value)


def test_parse_records_keeps_the_good_records_and_reports_the_bad_ones() -> None:
    event = load_event("s3_batch_put_and_delete")
    del event["Records"][0]["s3"]["object"]["key"]

    valid, problems = parse_records(event)

    assert [v.key for v in valid] == ["uploads/old price list (1).csv"]
    assert [v.index for v in valid] == [1]
    assert [str(p) for p in problems] == ["Records[0]: s3.object.key is missing"]


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ([], "event must be a JSON object, got list"),
        ({"detail": {}}, "Records is missing"),
        ({"Records": {}}, "Records must be a list, got dict"),
        ({"Records": []}, "Records is empty"),
    ],
)
def test_malformed_envelopes_are_rejected(event: Any, message: str) -> None:
    with pytest.raises(MalformedEventError, match=message):
        parse_records(event)


def test_the_s3_test_event_is_recognised() -> None:
    assert is_test_event(load_event("s3_test_event"))
    assert not is_test_event(load_event("s3_object_created_put"))
    assert not is_test_event({"Event": "s3:ObjectCreated:Put"})


def test_fingerprint_is_stable_and_distinguishes_records() -> None:
    first, second = load_event("s3_batch_put_and_delete")["Records"]

    assert fingerprint(first) == fingerprint(load_event("s3_batch_put_and_delete")["Records"][0])
    assert fingerprint(first) != fingerprint(second)


# --- render --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "label"),
    [
        (0, "0 bytes"),
        (1, "1 byte"),
        (1023, "1023 bytes"),
        (1536, "1.5 KiB"),
        (1572864, "1.5 MiB"),
        (5 * 1024**4, "5.0 TiB"),
    ],
)
def test_human_size(size: int, label: str) -> None:
    assert human_size(size) == label


def test_size_label_gives_the_bytes_too() -> None:
    assert size_label(1572864) == "1.5 MiB (1,572,864 bytes)"
    assert size_label(734) == "734 bytes"
    assert size_label(None) is None


def test_render_put() -> None:
    [record] = load_event("s3_object_created_put")["Records"]

    email = render(parse_record(record, 0))

    assert email.subject == "S3 object created: s3://acme-reports/reports/2024/quarterly report Q2.pdf"
    lines = email.text.splitlines()
    assert lines[0] == "An object was created in the S3 bucket acme-reports."
    for expected in (
        "Bucket:     acme-reports",
        "Key:        reports/2024/quarterly report Q2.pdf",
        "Event:      created (ObjectCreated:Put)",
        "Size:       1.5 MiB (1,572,864 bytes)",
        "Time:       2024-05-14 09:12:38 UTC",
        "Requester:  AWS:AIDAJDPLRKLG7UEXAMPLE",
        "Source IP:  198.51.100.7",
        "Version ID: 096fKKXTRTtl3on89fVO.nfljtsv6qko",
    ):
        assert expected in lines, f"{expected!r} not in:\n{email.text}"
    assert lines[-1] == (
        "S3 console: https://us-east-1.console.aws.amazon.com/s3/object/acme-reports"
        "?region=us-east-1&prefix=reports%2F2024%2Fquarterly%20report%20Q2.pdf"
    )


def test_render_delete_has_no_size_and_links_the_folder() -> None:
    [record] = load_event("s3_object_removed_delete")["Records"]

    email = render(parse_record(record, 0), subject_prefix="[prod]")

    assert email.subject == "[prod] S3 object deleted: s3://acme-reports/menus/café menu — été.txt"
    assert email.text.startswith("An object was deleted from the S3 bucket acme-reports.\n")
    assert "Size:       -" in email.text.splitlines()
    assert "Event:      deleted (ObjectRemoved:Delete)" in email.text.splitlines()
    assert email.text.rstrip().endswith("/s3/buckets/acme-reports?region=us-east-1&prefix=menus%2F")


def test_html_body_escapes_the_key() -> None:
    [record] = load_event("s3_object_created_put")["Records"]
    record["s3"]["object"]["key"] = "%3Cscript%3Ealert%281%29%3C%2Fscript%3E+%26+caf%C3%A9.html"

    email = render(parse_record(record, 0))

    assert "<script>" not in email.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; café.html" in email.html
    assert "<script>alert(1)</script> & café.html" in email.text


def test_subject_is_one_line_and_bounded() -> None:
    [record] = load_event("s3_object_created_put")["Records"]
    record["s3"]["object"]["key"] = "line%0Abreak" + "x" * 400

    email = render(parse_record(record, 0))

    assert "\n" not in email.subject
    assert len(email.subject) == MAX_SUBJECT_LENGTH
    assert email.subject.endswith("...")
