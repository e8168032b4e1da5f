"""The SMS channel's phone number routes of the registration API against moto: a code sent by SMS proves the
caller receives the number; codes, guesses and sends are capped by the email verification's counters
(per user, per number, per day, across delete and re-add and across users); premium-rate and disallowed
countries are refused; a number has one owner, the last who proved it; an opted-out number gets no code."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from moto.sns.models import sns_backends

from notification_handlers.service import phone_numbers
from tests.unit.registration_api_fakes import (
    SUB,
    Answer,
    World,
    api_world,
    call,
    request,
    subscribe,
)
from tests.unit.service_fakes import create_table, scan
from tools.emulator.account import ACCOUNT_ID
from tools.emulator.account import DEFAULT_REGION as REGION

TABLE = "phone-numbers"
NUMBER = "+14155550123"
VICTIM = "+14155550142"
MALLORY = "8d2c41f0-7a3e-4b59-a1c6-0e9f3b5d7c28"
OPTED_OUT = "+14155550199"  # moto: numbers ending in 99 are on the opt-out list


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with api_world(monkeypatch) as created:
        create_table(TABLE, "phone_key")
        monkeypatch.setenv("PHONE_NUMBERS_TABLE", TABLE)
        monkeypatch.setenv("SMS_ALLOWED_COUNTRY_CODES", "1,44")
        monkeypatch.setenv("SMS_MAX_PRICE_USD", "0.05")
        yield created


def put(number: str, sub: str = SUB) -> Answer:
    return call(request("PUT /phone-number/{phone_number}", {"phone_number": number}, sub=sub))


def verify(number: str, code: str, sub: str = SUB) -> Answer:
    return call(
        request(
            "POST /phone-number/{phone_number}/verify", {"phone_number": number}, body={"code": code}, sub=sub
        )
    )


def get(sub: str = SUB) -> Answer:
    return call(request("GET /phone-number", sub=sub))


def delete(sub: str = SUB) -> Answer:
    return call(request("DELETE /phone-number", sub=sub))


def texts_to(number: str) -> list[str]:
    return [text for to, text in sns_backends[ACCOUNT_ID][REGION].sms_messages.values() if to == number]


def last_code(number: str) -> str:
    match = re.search(r"code is ([0-9A-Z]{4}-[0-9A-Z]{4})\.", texts_to(number)[-1])
    assert match
    return match.group(1)


def wrong(code: str) -> str:
    return "0000-0000" if code != "0000-0000" else "1111-1111"


def items() -> dict[str, dict[str, object]]:
    return {str(item["phone_key"]): item for item in scan(TABLE)}


def test_code_by_sms_verifies_the_number_for_the_channel(world: World) -> None:
    answer = put(NUMBER)

    assert answer.status == 200
    assert answer.body["pending"]["phone_number"] == NUMBER and "phone_number" not in answer.body
    [text] = texts_to(NUMBER)
    assert re.fullmatch(r"Your verification code is [0-9A-Z]{4}-[0-9A-Z]{4}\. It expires in 24 hours\.", text)
    assert phone_numbers.verified_phone_numbers([SUB], TABLE) == {}  # pending is not reachable

    verified = verify(NUMBER, last_code(NUMBER).lower())

    assert verified.status == 200 and verified.body["status"] == "verified"
    assert phone_numbers.verified_phone_numbers([SUB], TABLE) == {SUB: NUMBER}
    assert items()[f"number#{NUMBER}"]["user_id"] == SUB
    assert get().body == {"phone_number": NUMBER, "status": "verified", "verified_at": "2026-11-24T10:00:00Z"}
    assert "code_hash" not in items()[f"user#{SUB}"]
    assert put(NUMBER).status == 200 and len(texts_to(NUMBER)) == 1  # already verified: nothing sent


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("4155550123", "invalid_phone_number"),
        ("+1 415 555 0123", "invalid_phone_number"),
        ("+1415555012345678", "invalid_phone_number"),
        ("+19005550123", "unsupported_phone_number"),  # NANP premium rate
        ("+447012345678", "unsupported_phone_number"),  # UK personal numbering (pumping range)
        ("+33612345678", "unsupported_phone_number"),  # France is not in SMS_ALLOWED_COUNTRY_CODES
    ],
)
def test_invalid_premium_and_disallowed_numbers_are_refused_before_any_send(
    world: World, number: str, code: str
) -> None:
    answer = put(number)

    assert (answer.status, answer.error_code) == (422, code)
    assert sns_backends[ACCOUNT_ID][REGION].sms_messages == {}
    assert not [k for k in (i["limit_key"] for i in scan("limits")) if str(k).startswith("verify-send#")]


def test_someone_elses_number_cannot_be_verified_without_the_code(world: World) -> None:
    put(VICTIM, sub=MALLORY)  # the code goes to the victim's phone, not to Mallory
    for attempt in range(5):
        answer = verify(VICTIM, wrong(last_code(VICTIM)), sub=MALLORY)
        assert (answer.status, answer.error_code) == (422, "invalid_code"), attempt
    refused = verify(VICTIM, last_code(VICTIM), sub=MALLORY)  # even the right code, now

    assert (refused.status, refused.error_code) == (409, "too_many_attempts")
    assert phone_numbers.verified_phone_numbers([MALLORY], TABLE) == {}


def test_guesses_per_number_outlive_delete_and_re_add_and_span_users(world: World) -> None:
    # 10 guesses per number per day (the email verification's counter), whoever guesses.
    guesses = 0
    for sub in (MALLORY, "0b7e9d4c-2f1a-4e8b-9c3d-5a6f7e8d9c0b"):
        for _cycle in range(2):
            put(VICTIM, sub=sub)
            for _ in range(5):
                answer = verify(VICTIM, "0000-0000", sub=sub)
                if answer.status == 429:
                    break
                guesses += 1
            delete(sub=sub)
            world.advance(seconds=61)
    assert guesses == 10
    assert answer.status == 429 and "retry-after" in answer.headers


def test_sms_bombing_one_number_is_capped_per_day_across_users(world: World) -> None:
    subs = [f"{i:08d}-0000-4000-8000-000000000000" for i in range(8)]
    statuses = []
    for sub in subs:
        statuses.append(put(VICTIM, sub=sub).status)
        world.advance(seconds=61)  # past the per-number cooldown

    assert statuses == [200] * 5 + [429] * 3
    assert len(texts_to(VICTIM)) == 5


def test_resend_cooldown_per_number(world: World) -> None:
    assert put(NUMBER).status == 200
    again = put(NUMBER)

    assert again.status == 429 and 1 <= int(again.headers["retry-after"]) <= 60
    assert len(texts_to(NUMBER)) == 1


def test_one_account_cannot_pump_sms_to_many_numbers(world: World) -> None:
    # 10 codes per user per day, email and SMS together.
    assert subscribe("ana@example.com").status == 200
    answers = [put(f"+1415555{i:04d}").status for i in range(12)]

    assert answers == [200] * 9 + [429] * 3
    assert len(sns_backends[ACCOUNT_ID][REGION].sms_messages) == 9


def test_opted_out_number_gets_no_code_and_the_same_answer(world: World) -> None:
    answer = put(OPTED_OUT)

    assert answer.status == 200 and answer.body["pending"]["phone_number"] == OPTED_OUT
    assert texts_to(OPTED_OUT) == []
    assert (verify(OPTED_OUT, "0000-0000").status, verify(OPTED_OUT, "1111-1111").error_code) == (
        422,
        "invalid_code",
    )


def test_the_number_moves_to_its_last_verified_holder(world: World) -> None:
    put(NUMBER, sub=MALLORY)
    verify(NUMBER, last_code(NUMBER), sub=MALLORY)  # e.g. the number's previous holder
    world.advance(seconds=61)

    put(NUMBER)
    moved = verify(NUMBER, last_code(NUMBER))

    assert moved.status == 200
    assert phone_numbers.verified_phone_numbers([SUB, MALLORY], TABLE) == {SUB: NUMBER}
    assert items()[f"number#{NUMBER}"]["user_id"] == SUB
    assert get(MALLORY).status == 404
    # Mallory deleting her (now empty) entry does not take the number from its holder
    assert delete(MALLORY).status == 204
    assert items()[f"number#{NUMBER}"]["user_id"] == SUB


def test_a_new_number_replaces_the_old_one_only_once_verified(world: World) -> None:
    put(NUMBER)
    verify(NUMBER, last_code(NUMBER))
    world.advance(seconds=61)
    other = "+447700900123"

    pending = put(other)

    assert pending.body["phone_number"] == NUMBER and pending.body["pending"]["phone_number"] == other
    assert phone_numbers.verified_phone_numbers([SUB], TABLE) == {SUB: NUMBER}  # still reachable
    assert verify(other, last_code(other)).status == 200
    assert phone_numbers.verified_phone_numbers([SUB], TABLE) == {SUB: other}
    assert f"number#{NUMBER}" not in items() and items()[f"number#{other}"]["user_id"] == SUB


def test_delete_removes_the_number_and_its_ownership(world: World) -> None:
    put(NUMBER)
    verify(NUMBER, last_code(NUMBER))

    assert delete().status == 204
    assert items() == {}
    assert delete().status == 204  # absent: still 204
    assert phone_numbers.verified_phone_numbers([SUB], TABLE) == {}


def test_verify_without_put_is_404_and_a_malformed_code_is_400(world: World) -> None:
    assert verify(NUMBER, "1234-5678").status == 404
    put(NUMBER)
    assert verify(NUMBER, "12345").status == 400
