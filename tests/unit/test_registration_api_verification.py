"""Verification-code brute force and mail bombing: the registration API's limits on
codes and guesses live in the limits table (per user and per address, with TTL), so deleting and
re-adding an address resets none of them; suppressed addresses get no code; the code has 40 bits."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from notification_handlers.service import verification
from notification_handlers.service.dynamodb_batch import batch_write
from tests.unit.registration_api_fakes import (
    SUB,
    World,
    api_world,
    last_code,
    mail,
    subscribe,
    subscription,
    unsubscribe,
    verify,
)
from tests.unit.service_fakes import scan

VICTIM = "victim@example.org"
MIDNIGHT = int(datetime(2026, 11, 25, tzinfo=UTC).timestamp())  # the fake clock starts 2026-11-24 10:00


def verification_counters() -> dict[str, Any]:
    """The limits table's verification items (the same table also counts each user's requests per minute)."""
    return {item["limit_key"]: item for item in scan("limits") if item["limit_key"].startswith("verify-")}


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with api_world(monkeypatch) as created:
        yield created


def mails_to(address: str) -> int:
    return sum(1 for to, _, _ in mail() if to == [address])


def now(world: World) -> int:
    return int(world.clock[0].timestamp())


def wrong(code: str) -> str:
    return "0000-0000" if code != "0000-0000" else "1111-1111"


# --- the attack of the finding: delete, re-add, guess again ------------------------------------------


def test_verification_brute_force_and_mail_bombing_are_capped_across_delete_and_re_add(world: World) -> None:
    # Each cycle: PUT (a code is mailed to the victim), guess until the code's attempts are gone, DELETE.
    answers = []
    for _cycle in range(8):
        answers.append(subscribe(VICTIM))
        for _guess in range(5):
            answers.append(verify(VICTIM, "0000-0000"))
        unsubscribe(VICTIM)
        world.advance(seconds=61)

    assert mails_to(VICTIM) == 5, "5 codes per address per day, whatever the deletes"
    guesses = [a for a in answers if a.status == 422 and a.error_code == "invalid_code"]
    assert len(guesses) == 10, "10 guesses per address per day, whatever the deletes"
    refused = [a for a in answers if a.status == 429]
    assert refused and all(a.error_code == "too_many_requests" for a in refused)
    assert all(0 < int(a.headers["retry-after"]) <= 86400 for a in refused)


def test_resend_cooldown_survives_delete_and_re_add(world: World) -> None:
    subscribe(VICTIM)
    unsubscribe(VICTIM)
    world.advance(seconds=15)

    answer = subscribe(VICTIM)

    assert (answer.status, answer.error_code) == (429, "too_many_requests")
    assert answer.headers["retry-after"] == "45"
    assert mails_to(VICTIM) == 1
    world.advance(seconds=45)
    assert subscribe(VICTIM).status == 200 and mails_to(VICTIM) == 2


def test_codes_per_address_are_capped_per_day_and_reset_the_next_day(world: World) -> None:
    for _ in range(5):
        assert subscribe(VICTIM).status == 200
        world.advance(seconds=60)

    over = subscribe(VICTIM)

    assert (over.status, over.error_code) == (429, "too_many_requests")
    assert over.headers["retry-after"] == str(MIDNIGHT - now(world))
    assert "5 verification codes per address per day" in over.body["error"]["message"]
    assert mails_to(VICTIM) == 5
    world.advance(seconds=MIDNIGHT - now(world))
    assert subscribe(VICTIM).status == 200 and mails_to(VICTIM) == 6


def test_the_address_cap_holds_across_users(world: World) -> None:
    for index in range(5):
        assert subscribe(VICTIM, sub=f"u-{index}").status == 200
        world.advance(seconds=60)

    assert subscribe(VICTIM, sub="u-5").status == 429
    assert mails_to(VICTIM) == 5


def test_one_account_cannot_mail_bomb_many_addresses(world: World) -> None:
    for index in range(10):
        assert subscribe(f"a{index}@example.com").status == 200
    unsubscribe("a0@example.com")  # room for another address, but not for another code today

    over = subscribe("a10@example.com")

    assert (over.status, over.error_code) == (429, "too_many_requests")
    assert "10 verification codes per user per day" in over.body["error"]["message"]
    assert len(mail()) == 10
    assert "a10@example.com" not in subscription()["addresses"]  # type: ignore[index]


def test_waiting_out_a_cooldown_does_not_cost_the_user_a_code(world: World) -> None:
    subscribe(VICTIM)
    for _ in range(20):
        assert subscribe(VICTIM).status == 429
    counts = {key: item["count"] for key, item in verification_counters().items()}
    assert counts[f"verify-send-user#{SUB}#2026-11-24"] == 1


def test_guesses_stay_capped_when_the_right_code_comes_too_late(world: World) -> None:
    subscribe(VICTIM)
    for _ in range(5):
        verify(VICTIM, "0000-0000")
    unsubscribe(VICTIM)
    world.advance(seconds=60)
    subscribe(VICTIM)
    for _ in range(5):
        verify(VICTIM, wrong(last_code(VICTIM)))
    unsubscribe(VICTIM)
    world.advance(seconds=60)
    subscribe(VICTIM)

    answer = verify(VICTIM, last_code(VICTIM))

    assert (answer.status, answer.error_code) == (429, "too_many_requests")
    assert subscription()["addresses"][VICTIM]["status"] == "pending"  # type: ignore[index]


def test_limits_come_from_the_environment(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERIFY_CODES_PER_ADDRESS_PER_DAY", "2")
    monkeypatch.setenv("VERIFY_RESEND_COOLDOWN_SECONDS", "5")
    monkeypatch.setenv("VERIFY_GUESSES_PER_ADDRESS_PER_DAY", "1")
    assert subscribe(VICTIM).status == 200
    world.advance(seconds=5)
    assert subscribe(VICTIM).status == 200
    world.advance(seconds=5)
    assert subscribe(VICTIM).status == 429
    assert verify(VICTIM, wrong(last_code(VICTIM))).status == 422
    assert verify(VICTIM, last_code(VICTIM)).status == 429


def test_counters_are_keyed_per_user_address_and_day_and_expire_on_their_own(world: World) -> None:
    subscribe(VICTIM)
    verify(VICTIM, wrong(last_code(VICTIM)))

    items = verification_counters()

    assert set(items) == {
        f"verify-send-user#{SUB}#2026-11-24",
        f"verify-send#{VICTIM}#2026-11-24",
        f"verify-guess#{VICTIM}#2026-11-24",
    }
    assert all(item["count"] == 1 for item in items.values())
    assert {item["expires_at"] for item in items.values()} == {MIDNIGHT + 86400}
    assert items[f"verify-send#{VICTIM}#2026-11-24"]["next_send_at"] == now(world) + 60


# --- suppressed addresses ------------------------------------------------------------------------------


def test_suppressed_address_gets_no_verification_code(world: World) -> None:
    batch_write("email-suppressions", [{"address": VICTIM, "reason": "complaint"}])

    suppressed = subscribe(VICTIM.upper())
    normal = subscribe("other@example.org")

    assert suppressed.status == normal.status == 200
    assert set(suppressed.body) == set(normal.body) and suppressed.body["status"] == "pending"
    assert mails_to(VICTIM) == 0 and mails_to("other@example.org") == 1
    guess = verify(VICTIM, "7KQ2-M9XD")
    assert (guess.status, guess.error_code) == (422, "invalid_code"), "like any wrong code"
    world.advance(seconds=10)
    again = subscribe(VICTIM)
    assert (again.status, again.headers["retry-after"]) == (429, "50"), "the same limits as any address"


def test_verification_block_after_feedback_lasts_until_it_expires(world: World) -> None:
    expires = now(world) + 3600
    batch_write(
        "limits",
        [
            {
                "limit_key": f"verify-blocked#{VICTIM}",
                "address": VICTIM,
                "reason": "complaint",
                "expires_at": expires,
            }
        ],
    )

    assert subscribe(VICTIM).status == 200
    assert mails_to(VICTIM) == 0
    world.advance(seconds=3600)  # expired (DynamoDB's TTL may delete it later: the API checks expires_at)
    assert subscribe(VICTIM).status == 200
    assert mails_to(VICTIM) == 1


# --- the code ---------------------------------------------------------------------------------------------


def test_code_has_40_bits_from_an_unambiguous_alphabet_and_is_typeable(world: World) -> None:
    codes = {verification.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == 8 and set(c) <= set(verification.CODE_ALPHABET) for c in codes)
    assert not set("ILOU") & set(verification.CODE_ALPHABET)
    assert math.log2(verification.CODE_SPACE) == 40
    assert verification.canonical_code("7kq2-m9xd") == "7KQ2M9XD"
    assert verification.canonical_code("7KQ2 M9XD") == "7KQ2M9XD"
    assert verification.canonical_code("OIL2-M9XD") == "0112M9XD", "look-alikes are read as digits"
    assert verification.canonical_code("7KQ2-M9XU") is None
    assert verification.canonical_code("123456") is None

    subscribe(VICTIM)
    code = last_code(VICTIM)
    assert verify(VICTIM, code.lower().replace("-", "")).status == 200


def test_guess_probability_with_every_allowed_guess_is_negligible() -> None:
    per_day = verification.guess_probability(verification.DEFAULT_GUESSES_PER_ADDRESS_PER_DAY)
    per_year = verification.guess_probability(verification.DEFAULT_GUESSES_PER_ADDRESS_PER_DAY * 365)
    assert per_day < 1e-11  # 10 / 2^40 = 9.1e-12
    assert per_year < 4e-9  # 3650 / 2^40 = 3.3e-9
    assert verification.guess_probability(100 * 365) < 4e-8  # the largest cap the module accepts
