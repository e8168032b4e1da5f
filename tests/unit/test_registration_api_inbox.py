"""The registration API's inbox routes against moto in-process: the caller only ever reaches their own
partition (another user's item id, cursor or replay changes nothing of theirs), bounded pages, an unread
counter that stays exact under replays, races, mark-all-read and archive, and mark-all-read in constant
work."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from notification_handlers.service import inbox_store
from notification_handlers.service.registration import edge, inbox
from tests.unit.inbox_fakes import NID, create_inbox, deliver, inbox_message, items, set_unread, unread
from tests.unit.registration_api_fakes import SUB, Answer, api_world, call, fixture_event, request
from tests.unit.service_fakes import record_calls

OTHER = "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d"


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with api_world(monkeypatch):
        create_inbox(monkeypatch)
        monkeypatch.setenv("INBOX_DEFAULT_PAGE_SIZE", "20")
        monkeypatch.setenv("INBOX_MAX_PAGE_SIZE", "50")
        yield


def item_id(n: int, notification_id: str | None = None) -> str:
    return f"20261124T10{n // 60:02d}{n % 60:02d}Z.{notification_id or f'n-{n}'}"


def fill(user_id: str, count: int) -> list[str]:
    """``count`` items for the user, created one second apart; their ids newest first."""
    for start in range(0, count, 10):
        deliver(
            *(
                inbox_message(user_id, f"n-{n}", created_at=f"2026-11-24T10:{n // 60:02d}:{n % 60:02d}Z")
                for n in range(start, min(start + 10, count))
            )
        )
    return [item_id(n) for n in reversed(range(count))]


def listing(sub: str = SUB, **query: str) -> Answer:
    return call(request("GET /inbox", query=query or None, sub=sub))


def count(sub: str = SUB) -> int:
    answer = call(request("GET /inbox/unread-count", sub=sub))
    assert answer.status == 200
    return int(answer.body["unread_count"])


def read(item: str, sub: str = SUB) -> Answer:
    return call(request("POST /inbox/{item_id}/read", {"item_id": item}, sub=sub))


def archive(item: str, sub: str = SUB) -> Answer:
    return call(request("POST /inbox/{item_id}/archive", {"item_id": item}, sub=sub))


def read_all(sub: str = SUB) -> Answer:
    return call(request("POST /inbox/read-all", sub=sub))


def cursor(document: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")


# --- the fixtures ------------------------------------------------------------------------------


def test_the_fixture_requests_answer_for_the_callers_item(world: None) -> None:
    deliver(inbox_message(SUB))
    mine = f"20261124T100000Z.{NID}"

    listed = call(fixture_event("get_inbox"))
    assert listed.status == 200 and [i["item_id"] for i in listed.body["items"]] == [mine]
    assert listed.body["items"][0] == {
        "item_id": mine,
        "notification_id": NID,
        "notification_type": "order_shipped",
        "title": "Order 1234 shipped",
        "body": "It is on its way",
        "url": "https://shop.example.com/orders/1234",
        "created_at": "2026-11-24T10:00:00Z",
        "read": False,
        "archived": False,
    }
    assert call(fixture_event("inbox_unread_count")).body == {"unread_count": 1}
    assert call(fixture_event("inbox_mark_read")).body == {"item_id": mine, "read": True}
    assert call(fixture_event("inbox_unread_count")).body == {"unread_count": 0}
    assert call(fixture_event("inbox_archive")).body == {"item_id": mine, "archived": True}
    assert call(fixture_event("inbox_read_all")).body == {"unread_count": 0}
    assert call(fixture_event("get_inbox")).body["items"] == []


# --- whose data ---------------------------------------------------------------------------------


def test_another_users_token_sees_none_of_the_items_and_cannot_read_or_archive_them(world: None) -> None:
    [mine] = fill(SUB, 1)

    assert listing(OTHER).body == {"items": [], "unread_count": 0}
    assert count(OTHER) == 0
    assert read(mine, OTHER).status == 404
    assert archive(mine, OTHER).status == 404
    assert read_all(OTHER).status == 200

    assert count() == 1
    [item] = items(SUB)
    assert "read_at" not in item and item["item_key"] == f"item#{mine}"
    assert listing().body["items"][0]["read"] is False


def test_a_cursor_from_another_users_page_lists_only_the_callers_own_items(world: None) -> None:
    fill(SUB, 3)
    fill(OTHER, 3)
    first = listing(limit="1")
    assert "next_cursor" in first.body

    answer = listing(OTHER, limit="5", cursor=first.body["next_cursor"])

    assert answer.status == 200
    assert all(i["item_id"] in {item_id(n) for n in range(3)} for i in answer.body["items"])
    assert {i["item_id"] for i in answer.body["items"]} <= {str(i["item_id"]) for i in items(OTHER)}


@pytest.mark.parametrize(
    "crafted",
    [
        "not-base64-!!",
        cursor({"k": "counter"}),
        cursor({"k": f"nid#{NID}"}),
        cursor({"k": "archived#20261124T100000Z.n-1"}),  # an archived key on the default list
        cursor({"k": "item#20261124T100000Z.n-1", "user_id": SUB}),  # names a partition
        cursor({"k": "item#../../x"}),
        cursor(["item#20261124T100000Z.n-1"]),
        "A" * 600,
    ],
)
def test_a_crafted_or_malformed_cursor_is_refused(world: None, crafted: str) -> None:
    fill(OTHER, 1)
    answer = listing(cursor=crafted)
    assert answer.status == 400 and answer.error_code == "invalid_query"


@pytest.mark.parametrize("limit", ["0", "51", "100000", "-1", "1e3", "", "5 ", "٣"])
def test_a_limit_outside_1_to_the_maximum_is_refused(world: None, limit: str) -> None:
    answer = listing(limit=limit)
    assert answer.status == 400 and answer.error_code == "invalid_query"


def test_unknown_query_fields_and_bad_archived_values_are_refused(world: None) -> None:
    assert listing(user_id=OTHER).status == 400
    assert listing(archived="yes").status == 400


@pytest.mark.parametrize("bad", ["n-1", "20261124T100000Z", "20261124T100000Z.", "../counter", "x" * 300])
def test_a_malformed_item_id_is_not_found(world: None, bad: str) -> None:
    assert read(bad).status == 404
    assert archive(bad).status == 404


# --- pages --------------------------------------------------------------------------------------


def test_pages_are_newest_first_bounded_and_cursors_walk_every_item_once(world: None) -> None:
    expected = fill(SUB, 25)
    seen: list[str] = []
    answer = listing(limit="10")
    pages = 1
    while True:
        assert answer.status == 200 and len(answer.body["items"]) <= 10
        seen += [i["item_id"] for i in answer.body["items"]]
        if "next_cursor" not in answer.body:
            break
        answer = listing(limit="10", cursor=answer.body["next_cursor"])
        pages += 1
    assert seen == expected and pages == 3
    assert len(listing().body["items"]) == 20  # INBOX_DEFAULT_PAGE_SIZE


def test_a_page_costs_one_query_and_one_counter_read(world: None) -> None:
    fill(SUB, 30)
    dynamodb = record_calls("dynamodb")
    listing(limit="20")
    by_operation = [op for op, _ in dynamodb.attempts]
    # the rate limiter's own counter write is one UpdateItem on the limits table
    assert by_operation.count("Query") == 1 and by_operation.count("GetItem") == 1
    [query] = dynamodb.params("Query")
    assert "FilterExpression" not in query and query["Limit"] == 20


# --- read, read-all, archive and the counter -------------------------------------------------------


def test_mark_read_counts_once_and_a_replay_answers_200_without_counting_again(world: None) -> None:
    ids = fill(SUB, 3)
    assert count() == 3
    assert read(ids[1]).status == 200
    assert count() == 2
    assert read(ids[1]).status == 200  # replayed
    assert read(ids[1]).status == 200
    assert count() == 2
    assert [i["read"] for i in listing().body["items"]] == [False, True, False]


def test_concurrent_mark_reads_of_the_same_item_count_once(world: None, atomic_dynamodb: None) -> None:
    ids = fill(SUB, 2)
    answers: list[int] = []
    barrier = threading.Barrier(8)

    def mark() -> None:
        barrier.wait()
        answers.append(read(ids[0]).status)

    threads = [threading.Thread(target=mark) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * 8
    assert count() == 1


def test_the_counter_never_goes_below_zero(world: None) -> None:
    ids = fill(SUB, 2)
    set_unread(SUB, 0)  # drifted (e.g. an unread item expired by TTL was counted)
    assert read(ids[0]).status == 200
    assert count() == 0 and unread(SUB) == 0
    assert listing().body["items"][0]["read"] is True


def test_read_all_is_one_write_whatever_the_number_of_items(world: None) -> None:
    fill(SUB, 120)
    assert count() == 120
    dynamodb = record_calls("dynamodb")

    assert read_all().body == {"unread_count": 0}

    operations = [op for op, _ in dynamodb.attempts]
    assert operations.count("Query") == 1 and operations.count("GetItem") == 1
    assert sum(1 for p in dynamodb.params("UpdateItem") if p["TableName"] == "inbox") == 1
    assert count() == 0
    page = listing(limit="50").body["items"]
    assert all(i["read"] for i in page)


def test_after_read_all_new_items_count_and_old_ones_do_not_count_twice(world: None) -> None:
    ids = fill(SUB, 3)
    read_all()
    deliver(inbox_message(SUB, "n-new", created_at="2026-11-24T11:00:00Z"))
    assert count() == 1
    assert read(ids[0]).status == 200  # covered by read-all: must not take the new item's count
    assert archive(ids[1]).status == 200
    assert count() == 1
    assert read("20261124T110000Z.n-new").status == 200
    assert count() == 0


def test_read_all_retries_when_an_item_arrives_between_its_reads(
    world: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(SUB, 2)
    real = inbox.read_counter
    calls: list[int] = []

    def racing(user_id: str) -> tuple[int, str | None, int]:
        state = real(user_id)
        calls.append(1)
        if len(calls) == 1:  # a notification lands right after read-all read the counter
            deliver(inbox_message(SUB, "n-race", created_at="2026-11-24T12:00:00Z"))
        return state

    monkeypatch.setattr(inbox, "read_counter", racing)
    assert read_all().status == 200
    assert len(calls) == 2 and count() == 0
    assert all(i["read"] for i in listing().body["items"])


def test_read_all_gives_up_with_409_after_its_attempts(world: None, monkeypatch: pytest.MonkeyPatch) -> None:
    fill(SUB, 1)
    real = inbox.read_counter
    arrivals = iter(range(100))

    def always_racing(user_id: str) -> tuple[int, str | None, int]:
        state = real(user_id)
        n = next(arrivals)
        deliver(inbox_message(SUB, f"n-race-{n}", created_at=f"2026-11-24T12:00:{n:02d}Z"))
        return state

    monkeypatch.setattr(inbox, "read_counter", always_racing)
    answer = read_all()
    assert answer.status == 409 and answer.error_code == "conflict"
    monkeypatch.setattr(inbox, "read_counter", real)
    assert count() == 1 + inbox.READ_ALL_ATTEMPTS


def test_archive_moves_the_item_out_of_the_default_list_and_counts_once(world: None) -> None:
    ids = fill(SUB, 3)
    assert archive(ids[0]).status == 200
    assert archive(ids[0]).status == 200  # replayed
    assert count() == 2
    assert [i["item_id"] for i in listing().body["items"]] == ids[1:]
    archived = listing(archived="true").body["items"]
    assert [i["item_id"] for i in archived] == [ids[0]] and archived[0]["archived"] is True
    assert archived[0]["read"] is True
    assert read(ids[0]).status == 200 and count() == 2  # reading an archived item changes nothing

    assert read(ids[1]).status == 200 and count() == 1
    assert archive(ids[1]).status == 200 and count() == 1  # already read: no second decrement


def test_the_archived_cursor_walks_archived_items_only(world: None) -> None:
    ids = fill(SUB, 4)
    for identifier in ids[:3]:
        archive(identifier)
    first = listing(archived="true", limit="2")
    assert "next_cursor" in first.body
    rest = listing(archived="true", limit="2", cursor=first.body["next_cursor"])
    assert [i["item_id"] for i in first.body["items"] + rest.body["items"]] == ids[:3]
    # an archived cursor is refused on the default list
    assert listing(cursor=first.body["next_cursor"]).status == 400


def test_expired_items_are_not_listed_before_ttl_removes_them(
    world: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INBOX_ITEM_TTL_DAYS", "1")
    fill(SUB, 1)
    later = edge.now() + timedelta(days=2)
    monkeypatch.setattr(edge, "now", lambda: later)
    assert listing().body["items"] == []


def test_the_store_reads_counter_items_defensively() -> None:
    assert inbox_store.counter_state(None) == (0, None, 0)
    assert inbox_store.counter_state({"unread": "x", "read_before": 3}) == (0, None, 0)
