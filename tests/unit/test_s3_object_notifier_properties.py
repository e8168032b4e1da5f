"""Property-based tests of the S3 object notifier (S3 -> Lambda, async; one email per record).

Whatever the records hold, every valid one is mailed exactly once, every malformed one is reported in the
raised ``MalformedEventError`` by index and field, and the counts reconcile: records in = mailed now +
mailed by an earlier attempt + reported. Nothing vanishes, nothing leaks a ``KeyError``/``TypeError``/
``OverflowError``/``RecursionError``, and configuration errors name the variable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus

import pytest
from conftest import JSON_VALUES, TEXT, FakeAws, FakeLambdaContext, examples, load_event, mutated
from hypothesis import example, given
from hypothesis import strategies as st

from notification_handlers import s3_object_notifier
from notification_handlers.s3_object_notifier import ConfigurationError, MalformedEventError, handler

SENDER = "s3-alerts@example.com"
RECIPIENTS = "ops@example.com,data-team@example.org"
TEMPLATES = tuple(load_event("s3_batch_put_and_delete")["Records"])
# Every field of a record the handler reads, as its errors name them.
RECORD_FIELDS = (
    "record",
    "eventName",
    "eventTime",
    "awsRegion",
    "s3",
    "s3.bucket",
    "s3.bucket.name",
    "s3.object",
    "s3.object.key",
    "s3.object.size",
    "s3.object.eTag",
    "s3.object.versionId",
    "s3.configurationId",
    "userIdentity",
    "userIdentity.principalId",
    "requestParameters",
    "requestParameters.sourceIPAddress",
    "responseElements",
    "responseElements.x-amz-request-id",
)
SUMMARY = re.compile(
    r"^(?P<bad>\d+) of (?P<total>\d+) S3 record\(s\) malformed: (?P<problems>.*) "
    r"\((?P<valid>\d+) valid record\(s\) mailed(?:, (?P<earlier>\d+) of them by an earlier attempt)?\)$",
    re.DOTALL,
)
PROBLEM = re.compile(r"Records\[(\d+)\]: (.*?)(?=; Records\[\d+\]: |; and \d+ more$|$)", re.DOTALL)


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENDER", SENDER)
    monkeypatch.setenv("RECIPIENTS", RECIPIENTS)
    for name in ("CONFIGURATION_SET", "SES_IDENTITY_ARN", "SUBJECT_PREFIX"):
        monkeypatch.delenv(name, raising=False)


@dataclass(frozen=True)
class Outcome:
    """One invocation, reconciled: records = mailed (SES received it now) + earlier (skipped, mailed by an
    earlier attempt or an identical record) + bad (counted in the error, the first ones named)."""

    records: int
    mailed: int
    earlier: int
    bad: int
    problems: dict[int, str]  # index -> reason, for the named ones


def invoke(event: Any, fake: FakeAws, context: FakeLambdaContext) -> Outcome | MalformedEventError:
    """Run the handler from a fresh execution environment and check the books balance."""
    fake.reset()
    s3_object_notifier.forget_sent_records()
    try:
        result = handler(event, context)
    except MalformedEventError as error:
        message = str(error)
        summary = SUMMARY.match(message)
        if summary is None:  # the envelope itself is bad: nothing is sent
            assert fake.attempts == []
            assert message.startswith(("event ", "Records ")), message
            return error
        problems = {int(i): text for i, text in PROBLEM.findall(summary["problems"])}
        for text in problems.values():
            assert text.startswith(tuple(f"{field} " for field in RECORD_FIELDS)), f"names no field: {text!r}"
        bad, total, valid = int(summary["bad"]), int(summary["total"]), int(summary["valid"])
        earlier = int(summary["earlier"] or 0)
        assert total == len(event["Records"]) == bad + valid
        assert len(fake.deliveries) == valid - earlier, "every valid record is mailed before the error"
        assert len(problems) == min(bad, s3_object_notifier.MAX_NAMED_PROBLEMS)
        assert len(message) < 12_000, "the reason must fit the DLQ message's ErrorMessage attribute"
        return Outcome(total, valid - earlier, earlier, bad, problems)
    if result["status"] == "ignored":
        assert fake.attempts == []
        return Outcome(0, 0, 0, 0, {})
    assert result["status"] == "sent"
    assert result["message_ids"] == [d.message_id for d in fake.deliveries]
    assert len(event["Records"]) == len(fake.deliveries) + result["duplicates"]
    return Outcome(len(event["Records"]), len(fake.deliveries), result["duplicates"], 0, {})


def _skip_unvalidated(path: tuple[str, ...]) -> bool:
    # Fields the handler never reads (their content cannot matter) are left alone to keep examples useful.
    return path[-1] in {"eventVersion", "eventSource", "s3SchemaVersion", "ownerIdentity", "arn", "sequencer"}


MUTATED_RECORDS = st.sampled_from(TEMPLATES).flatmap(lambda record: mutated(record, _skip_unvalidated))


@st.composite
def valid_records(draw: st.DrawFn, marker: int) -> tuple[dict[str, Any], str]:
    """A valid record with an arbitrary key (and its decoded form), marked with a unique request id."""
    record: dict[str, Any] = {
        "eventName": draw(
            st.sampled_from(["ObjectCreated:Put", "ObjectCreated:Copy", "ObjectRemoved:Delete"])
        ),
        "eventTime": draw(st.datetimes(min_value=datetime(1971, 1, 1))).isoformat() + "Z",
        "responseElements": {"x-amz-request-id": f"REQ{marker:06d}"},
        "s3": {"bucket": {"name": draw(TEXT.filter(str.strip))}, "object": {}},
    }
    key = draw(TEXT.filter(str.strip))
    record["s3"]["object"]["key"] = quote_plus(key, safe="/")
    if record["eventName"].startswith("ObjectCreated:") or draw(st.booleans()):
        record["s3"]["object"]["size"] = draw(st.integers(min_value=0, max_value=2**63 - 1))
    for field, value in draw(
        st.dictionaries(st.sampled_from(["awsRegion", "userIdentity"]), TEXT, max_size=2)
    ).items():
        record[field] = value if field == "awsRegion" else {"principalId": value}
    return record, key


@examples(150)
@given(
    event=JSON_VALUES | st.fixed_dictionaries({"Records": JSON_VALUES | st.lists(JSON_VALUES, max_size=6)})
)
def test_arbitrary_json_is_mailed_or_rejected_with_every_record_accounted_for(
    event: Any, fake_aws: FakeAws, lambda_context: FakeLambdaContext
) -> None:
    invoke(event, fake_aws, lambda_context)


@examples(120)
@given(
    data=st.data(),
    kinds=st.lists(st.sampled_from(["valid", "mutated", "junk", "copy"]), min_size=1, max_size=12),
)
def test_valid_records_are_mailed_and_each_bad_one_is_reported_by_index_and_field(
    data: st.DataObject, kinds: list[str], fake_aws: FakeAws, lambda_context: FakeLambdaContext
) -> None:
    records: list[Any] = []
    keys: dict[int, str] = {}  # index -> decoded key of records valid by construction
    broken: dict[int, tuple[str, ...]] = {}  # index -> the field a mutation changed
    for index, kind in enumerate(kinds):
        if kind == "valid":
            record, keys[index] = data.draw(valid_records(index))
        elif kind == "mutated":
            record, broken[index] = data.draw(MUTATED_RECORDS)
        elif kind == "copy" and records:  # an exact duplicate of an earlier record (S3 redelivery)
            record = data.draw(st.sampled_from(records))
        else:
            record = data.draw(JSON_VALUES)
        records.append(record)

    outcome = invoke({"Records": records}, fake_aws, lambda_context)

    assert isinstance(outcome, Outcome)
    assert outcome.records == len(records) == outcome.mailed + outcome.earlier + outcome.bad
    bodies = [d.params["Content"]["Simple"]["Body"]["Text"]["Data"] for d in fake_aws.deliveries]
    for index, key in keys.items():
        [body] = [b for b in bodies if f"REQ{index:06d}" in b]  # mailed exactly once
        shown = "".join(ch if ch.isprintable() else "?" for ch in key)
        assert f"Key:        {shown}" in body.splitlines()
        assert index not in outcome.problems
    html_bodies = [d.params["Content"]["Simple"]["Body"]["Html"]["Data"] for d in fake_aws.deliveries]
    assert not any("<script>" in body for body in html_bodies), "keys must be HTML-escaped"
    for index, path in broken.items():
        if index in outcome.problems:
            field = ".".join(path)
            # Renaming an ObjectRemoved event to ObjectCreated makes the (absent) size required.
            allowed = (f"{field} ", f"{field}.") + (("s3.object.size ",) if field == "eventName" else ())
            assert outcome.problems[index].startswith(allowed), f"{field} broken: {outcome.problems[index]}"
    identical = sum(1 for index, record in enumerate(records) if record in records[:index])
    assert outcome.earlier <= identical, "only a record identical to an earlier one is skipped as mailed"


@examples(3, deadline=None)
@given(bad_every=st.sampled_from([2, 5, 50]))
def test_thousands_of_records_are_all_accounted_for(
    bad_every: int, fake_aws: FakeAws, lambda_context: FakeLambdaContext
) -> None:
    count = 2000
    records: list[Any] = []
    for index in range(count):
        record = load_event("s3_object_created_put")["Records"][0]
        record["responseElements"]["x-amz-request-id"] = f"REQ{index:06d}"
        if index % bad_every == 0:
            del record["s3"]["object"]["key"]
        records.append(record)

    outcome = invoke({"Records": records}, fake_aws, lambda_context)

    assert isinstance(outcome, Outcome)
    bad = len(range(0, count, bad_every))
    assert (outcome.mailed, outcome.earlier, outcome.bad) == (count - bad, 0, bad)
    assert (
        sorted(outcome.problems) == list(range(0, count, bad_every))[: s3_object_notifier.MAX_NAMED_PROBLEMS]
    )
    assert set(outcome.problems.values()) == {"s3.object.key is missing"}


@examples(100)
@given(size=st.integers(min_value=-(2**64)) | st.just(10**400) | JSON_VALUES)
def test_any_size_is_rendered_or_rejected_naming_it(
    size: Any, fake_aws: FakeAws, lambda_context: FakeLambdaContext
) -> None:
    event = load_event("s3_object_created_put")
    event["Records"][0]["s3"]["object"]["size"] = size

    outcome = invoke(event, fake_aws, lambda_context)

    assert isinstance(outcome, Outcome)
    if outcome.problems:
        assert outcome.problems[0].startswith("s3.object.size "), outcome.problems
    else:
        assert outcome.mailed == 1


ENV_TEXT = TEXT.filter(lambda text: "\x00" not in text)  # the only character an environment cannot hold


@examples(120)
@given(
    sender=st.sampled_from([SENDER, "", "not-an-address"]) | ENV_TEXT,
    recipients=st.sampled_from([RECIPIENTS, '["a@example.com"]', "[" * 100_000, "[1]", ","]) | ENV_TEXT,
)
@example(sender=SENDER, recipients="[" * 100_000)  # nested past the recursion limit
def test_any_configuration_works_or_is_rejected_naming_the_variable(
    sender: str,
    recipients: str,
    fake_aws: FakeAws,
    lambda_context: FakeLambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SENDER", sender)
    monkeypatch.setenv("RECIPIENTS", recipients)
    fake_aws.reset()
    s3_object_notifier.forget_sent_records()

    try:
        handler(load_event("s3_object_created_put"), lambda_context)
    except ConfigurationError as error:
        assert str(error).startswith(("SENDER", "RECIPIENTS")), str(error)
        assert fake_aws.attempts == []
        return
    [delivery] = fake_aws.deliveries
    assert delivery.params["FromEmailAddress"] == sender.strip()
