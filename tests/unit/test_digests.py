"""Digests: the catalog field, the ``{{#each}}`` template block (injection attempts included), the pure
window, id and request logic, and the router against moto (DynamoDB, SQS, EventBridge Scheduler) with the
emulator's scheduler stand-in firing the flush: N events in one window are one email listing them, once."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from notification_handlers.event_fields import MalformedEventError
from notification_handlers.service import catalog, deferral, digests, templates
from notification_handlers.service.digests import FlushRequest
from notification_handlers.service.type_options import DigestWindow
from tests.unit import test_deferral, test_service_router
from tests.unit.service_fakes import create_table, record_calls, scan
from tests.unit.test_deferral import Scheduling
from tests.unit.test_service_router import ORDER_SHIPPED, event
from tests.unit.test_service_router import nid as key_nid

service = test_service_router.service  # the router's tables and queues in moto (fixtures)
scheduling = test_deferral.scheduling

WEEK = 604_800  # windows aligned to the epoch: a test run does not straddle one
PRICE_DROP = {
    "channels": ["email"],
    "fallback_locale": "en",
    "digest": {"window_seconds": WEEK, "max_items": 3},
    "templates": {
        "en": {
            "email": {
                "subject": "{{ digest.count }} price drop(s) for {{ user.display_name }}",
                "text": "{{#each digest.items}}- {{ item.product }}: {{ item.price }}\n{{/each}}",
                "html": "<ul>{{#each digest.items}}<li>{{ item.product }}</li>{{/each}}</ul>",
            }
        }
    },
}


def nid(name: str, notification_type: str = "price_drop") -> str:
    return key_nid(f"evt-{name}", notification_type)


def drop(name: str, product: str, price: float = 9.5, recipients: list[str] | None = None) -> dict[str, Any]:
    document = event(name, recipients or ["u-2"], product=product, price=price)
    document["detail-type"] = "price_drop"
    return document


# --- the catalog field and the template block -------------------------------------------------------


def test_digest_is_parsed() -> None:
    assert catalog.parse_definition("price_drop", PRICE_DROP).digest == DigestWindow(WEEK, 3)


@pytest.mark.parametrize(
    ("digest", "extra", "reason"),
    [
        ({"window_seconds": 59, "max_items": 3}, {}, "digest.window_seconds must be 60-604800"),
        ({"window_seconds": WEEK + 1, "max_items": 3}, {}, "digest.window_seconds must be 60-604800"),
        ({"window_seconds": 3600, "max_items": 0}, {}, "digest.max_items must be 1-50"),
        ({"window_seconds": 3600, "max_items": 51}, {}, "digest.max_items must be 1-50"),
        ({"window_seconds": 3600}, {}, "max_items must be a whole number"),
        ({"window_seconds": 3600, "max_items": 3, "flush": 1}, {}, "unknown key"),
        (
            {"window_seconds": 3600, "max_items": 3},
            {"critical": True, "allowed_sources": ["s"]},
            "not allowed on a critical type",
        ),
    ],
)
def test_bad_digests_break_the_type_with_a_reason(digest: Any, extra: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        catalog.parse_definition("price_drop", {**PRICE_DROP, **extra, "digest": digest})


VARIABLES = {
    "user": {"display_name": "Ana"},
    "digest": {"count": 5, "items": [{"product": "Lamp <b>"}, {"product": "{{ user.display_name }}"}]},
}


def test_each_renders_its_body_per_item_with_the_outer_variables() -> None:
    template = (
        "{{ digest.count }} for {{user.display_name}}:{{#each digest.items}} [{{ item.product }}]{{/each}}."
    )
    # An item's text holding template syntax stays text: values are substituted, never parsed.
    assert templates.render(template, VARIABLES) == "5 for Ana: [Lamp <b>] [{{ user.display_name }}]."
    html = "<ul>{{#each digest.items}}<li>{{ item.product }}</li>{{/each}}</ul>"
    assert templates.render(html, VARIABLES, escape_html=True) == (
        "<ul><li>Lamp &lt;b&gt;</li><li>{{ user.display_name }}</li></ul>"
    )
    assert templates.render("{{#each digest.items}}x{{/each}}", {"digest": {"items": []}}) == ""
    assert templates.check(template) == ["digest.count", "user.display_name", "digest.items", "item.product"]


def test_a_url_in_an_item_is_checked_like_any_url_value() -> None:
    html = '{{#each digest.items}}<a href="{{ item.url }}">{{ item.name }}</a>{{/each}}'
    good = {"digest": {"items": [{"url": "https://shop.example.com/1", "name": "one"}]}}
    assert templates.render(html, good, escape_html=True) == '<a href="https://shop.example.com/1">one</a>'
    evil = {"digest": {"items": [{"url": "javascript:alert(1)", "name": "x"}]}}
    with pytest.raises(templates.TemplateError, match="scheme javascript:"):
        templates.render(html, evil, escape_html=True)


@pytest.mark.parametrize(
    ("template", "html", "reason"),
    [
        ("{{#each a}}{{#each b}}x{{/each}}{{/each}}", False, "cannot be nested"),
        ("{{#each a}}x", False, "not closed"),
        ("x{{/each}}", False, "closes no"),
        ("{{#if a}}x{{/if}}", False, "the only block is"),
        ("{{#each a.__class__()}}x{{/each}}", False, "malformed block"),
        ("{{#each a}}{{ item.x() }}{{/each}}", False, "malformed placeholder"),
        ('<a href="{{#each a}}{{ item }}{{/each}}">x</a>', True, "inside an HTML tag"),
        ("<p {{#each a}}x{{/each}}>", True, "inside an HTML tag"),
        ("<script>{{#each a}}{{ item }}{{/each}}</script>", True, "could run as code"),
        ('{{#each a}}<a onclick="{{ item }}">x</a>{{/each}}', True, "could run script"),
    ],
)
def test_bad_blocks_are_refused_at_catalog_load(template: str, html: bool, reason: str) -> None:
    with pytest.raises(templates.TemplateError, match=reason):
        templates.check(template, html=html)


def test_each_over_a_non_list_names_the_variable() -> None:
    with pytest.raises(templates.TemplateError, match=r"'digest\.count' of"):
        templates.render("{{#each digest.count}}x{{/each}}", VARIABLES)
    with pytest.raises(templates.TemplateError, match=r"'digest\.items' is missing"):
        templates.render("{{#each digest.items}}x{{/each}}", {})


# --- the pure digest logic -------------------------------------------------------------------------


def test_windows_are_fixed_and_aligned_to_the_epoch() -> None:
    assert digests.window_start(0, 3600) == 0
    assert digests.window_start(7199.9, 3600) == 3600
    assert digests.digest_key("price_drop", 3600) == "price_drop#3600"


def test_flush_id_is_one_per_user_type_and_window() -> None:
    ids = {
        digests.flush_id("u-1", "price_drop", 0),
        digests.flush_id("u-2", "price_drop", 0),
        digests.flush_id("u-1", "price_drop", 3600),
        digests.flush_id("u-1", "other", 0),
    }
    assert len(ids) == 4 and digests.flush_id("u-1", "price_drop", 0) in ids
    request = FlushRequest("u-1", "price_drop", 0)
    assert digests.schedule_name(request) == "d-" + request.flush_id[:60]


def test_an_oversize_item_is_refused_with_its_size() -> None:
    assert digests.digest_item({"product": "x" * 2000}) == {"product": "x" * 2000}
    with pytest.raises(digests.DigestItemTooLargeError, match=r"digest_item_too_large: detail\.data is 2"):
        digests.digest_item({"product": "x" * 2100})


def test_only_a_message_of_the_marker_alone_is_a_flush() -> None:
    body = digests.flush_body(FlushRequest("u-1", "price_drop", 3600))
    assert digests.parse_flush(body) == FlushRequest("u-1", "price_drop", 3600)
    # A producer's event can carry the marker only inside detail: it stays an event.
    document = drop("m", "x")
    document["detail"]["data"]["notification-service-digest"] = json.loads(body)[digests.FLUSH_MARKER]
    assert digests.parse_flush(json.dumps(document)) is None
    assert digests.parse_flush(json.dumps({**json.loads(body), "detail": {}})) is None
    # A flush deferred by the service (deferral.due_body adds DUE_MARKER) is still a flush.
    due = deferral.due_body(body, datetime(2026, 12, 5, tzinfo=UTC))
    assert digests.parse_flush(due) == FlushRequest("u-1", "price_drop", 3600)
    with pytest.raises(MalformedEventError, match="window_start"):
        digests.parse_flush(json.dumps({digests.FLUSH_MARKER: {"user_id": "u", "notification_type": "t"}}))


def test_append_keeps_items_only_while_fewer_than_max_are_stored() -> None:
    params = digests.append_request(
        "d", "u-1", "t", 0, item={"p": 1}, max_items=3, expires_at=90, first=False
    )
    assert params["ConditionExpression"] == (
        "attribute_not_exists(#flushed) AND (attribute_not_exists(#stored) OR #stored < :max)"
        " AND attribute_exists(#scheduled)"
    )
    assert params["UpdateExpression"] == (
        "SET #items = list_append(if_not_exists(#items, :empty), :item), #expires = :expires"
        " ADD #count :one, #stored :one"
    )
    first = digests.append_request("d", "u-1", "t", 0, item={"p": 1}, max_items=3, expires_at=90, first=True)
    assert "#scheduled = :true" in first["UpdateExpression"]
    assert "#scheduled" not in first["ConditionExpression"]


# --- the router --------------------------------------------------------------------------------------


@pytest.fixture
def digesting(scheduling: Scheduling, monkeypatch: pytest.MonkeyPatch) -> Iterator[Scheduling]:
    create_table("digests", "user_id", "digest_key")
    create_table("limits", "limit_key")
    monkeypatch.setenv("DIGESTS_TABLE", "digests")
    monkeypatch.setenv("LIMITS_TABLE", "limits")
    scheduling.service.put_type("price_drop", PRICE_DROP)
    digests._KNOWN_FULL.clear()  # per execution environment: each test is a fresh one
    yield scheduling


def window_end(now: datetime | None = None) -> datetime:
    moment = (now or datetime.now(UTC)).timestamp()
    return datetime.fromtimestamp(digests.window_start(moment, WEEK) + WEEK, UTC)


def test_events_of_one_window_are_one_email_listing_them_sent_once(digesting: Scheduling) -> None:
    calls = record_calls("scheduler")
    products = ["Lamp", "Desk <oak>", "Chair", "Shelf", "Rug"]
    assert digesting.route(*(drop(f"p-{n}", p) for n, p in enumerate(products[:3]))) == {
        "batchItemFailures": []
    }
    assert digesting.route(*(drop(f"p-{n}", p) for n, p in enumerate(products) if n >= 3)) == {
        "batchItemFailures": []
    }
    assert digesting.service.emails() == []
    [schedule] = digesting.schedules()
    request = FlushRequest("u-2", "price_drop", int(window_end().timestamp()) - WEEK)
    assert schedule.name == digests.schedule_name(request)
    assert schedule.action_after_completion == "DELETE"
    assert json.loads(schedule.target["Input"]) == json.loads(digests.flush_body(request))
    assert calls.count("CreateSchedule") == 1
    rows = {(r["notification_id"], r["status"], r["reason"]) for r in scan("delivery-log")}
    assert rows == {(nid(f"p-{n}"), "digested", f"digest {request.flush_id}") for n in range(5)}

    assert digesting.fire(window_end() - timedelta(seconds=1)) == {"batchItemFailures": []}
    assert digesting.service.emails() == []  # the window is still open
    assert digesting.fire(window_end()) == {"batchItemFailures": []}
    [email] = digesting.service.emails()
    assert email["notification_id"] == request.flush_id and email["user_id"] == "u-2"
    assert email["content"]["subject"] == "5 price drop(s) for Bob <b>"
    assert email["content"]["text"] == "- Lamp: 9.5\n- Desk <oak>: 9.5\n- Chair: 9.5\n"  # the first max_items
    assert email["content"]["html"] == "<ul><li>Lamp</li><li>Desk &lt;oak&gt;</li><li>Chair</li></ul>"

    # The flush delivered again (Scheduler's or SQS's at-least-once): still one email.
    assert digesting.route(json.loads(digests.flush_body(request))) == {"batchItemFailures": []}
    assert digesting.service.emails() == []


def test_an_event_after_the_flush_goes_into_the_next_window(digesting: Scheduling) -> None:
    digesting.route(drop("a-1", "Lamp"))
    digesting.fire(window_end())
    assert len(digesting.service.emails()) == 1
    digesting.route(drop("a-2", "Desk"))  # the same window by the clock, but flushed: the next one
    [schedule] = digesting.schedules()
    later = int(window_end().timestamp())
    assert schedule.name == digests.schedule_name(FlushRequest("u-2", "price_drop", later))
    digesting.fire(window_end() + timedelta(seconds=WEEK))
    [email] = digesting.service.emails()
    assert email["content"]["text"] == "- Desk: 9.5\n"


def test_an_oversize_event_is_rejected_and_the_rest_of_the_batch_digested(digesting: Scheduling) -> None:
    response = digesting.route(drop("big", "x" * 3000), drop("ok", "Lamp"))
    assert response == {"batchItemFailures": []}
    [rejected] = digesting.service.rejected()
    assert rejected["MessageAttributes"]["reason"]["StringValue"].startswith("digest_item_too_large")
    assert json.loads(rejected["Body"])["id"] == "evt-big"
    [row] = scan("delivery-log")
    assert row["notification_id"] == nid("ok") and row["status"] == "digested"
    [digest] = scan("digests")
    assert digest["count"] == 1


def test_a_flush_of_a_window_without_events_sends_nothing(digesting: Scheduling) -> None:
    request = FlushRequest("u-2", "price_drop", 0)
    assert digesting.route(json.loads(digests.flush_body(request))) == {"batchItemFailures": []}
    assert digesting.service.emails() == []


def test_with_a_cap_the_first_are_sent_at_once_and_the_rest_digested(digesting: Scheduling) -> None:
    capped = {**PRICE_DROP, "max_per_user": {"count": 2, "period_seconds": 3600, "overflow": "digest"}}
    digesting.service.put_type("price_drop", capped)
    assert digesting.route(*(drop(f"c-{n}", f"P{n}") for n in range(4))) == {"batchItemFailures": []}
    singles = digesting.service.emails()
    # Under the cap: a digest of one each.
    assert sorted(m["content"]["text"] for m in singles) == ["- P0: 9.5\n", "- P1: 9.5\n"]
    statuses = sorted((r["notification_id"], r["status"]) for r in scan("delivery-log"))
    assert statuses == sorted([(nid("c-2"), "digested"), (nid("c-3"), "digested")])
    digesting.fire(window_end())
    [digest] = digesting.service.emails()
    assert digest["content"]["subject"].startswith("2 price drop(s)")
    assert digest["content"]["text"] == "- P2: 9.5\n- P3: 9.5\n"


def test_the_order_type_is_unaffected(digesting: Scheduling) -> None:
    assert ORDER_SHIPPED.get("digest") is None
    assert digesting.route(event("o-1", ["u-2"])) == {"batchItemFailures": []}
    assert len(digesting.service.emails()) == 1
    assert scan("digests") == []


def test_a_digest_template_naming_an_events_own_field_is_refused_at_load() -> None:
    # At the flush only digest, user and notification exist: {{ product }} would fail every digest.
    broken = json.loads(json.dumps(PRICE_DROP))
    broken["templates"]["en"]["email"]["subject"] = "Price drop: {{ product }}"
    with pytest.raises(ValueError, match=r"templates\.en\.email\.subject: .* not product"):
        catalog.parse_definition("price_drop", broken)


def test_concurrent_first_events_of_a_window_make_one_schedule(
    digesting: Scheduling, atomic_dynamodb: None
) -> None:
    window = DigestWindow(WEEK, 3)
    now = datetime.now(UTC)
    barrier = threading.Barrier(8)
    made: list[FlushRequest] = []

    def collect(n: int) -> None:
        barrier.wait()
        made.append(digests.collect("u-2", "price_drop", window, {"product": f"P{n}"}, now))

    threads = [threading.Thread(target=collect, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(made)) == 1 and len(made) == 8
    assert len(digesting.schedules()) == 1
    [digest] = scan("digests")
    assert digest["count"] == 8 and len(digest["items"]) == 3 and digest["scheduled"] is True
