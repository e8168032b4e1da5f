"""Quiet hours' pure window logic: properties across DST transitions in three zones (one southern), and the
skipped and repeated hour as explicit examples."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notification_handlers.service import quiet_hours
from notification_handlers.service.quiet_hours import Window, WindowError, parse_window, window_end
from tests.unit.conftest import examples

ROOT = Path(__file__).resolve().parents[2]
ZONES = ("Europe/Vienna", "America/New_York", "Australia/Sydney")
VIENNA = ZoneInfo("Europe/Vienna")
NEW_YORK = ZoneInfo("America/New_York")
SYDNEY = ZoneInfo("Australia/Sydney")
SECOND = timedelta(seconds=1)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def transitions(zone: ZoneInfo, years: range) -> list[datetime]:
    """The UTC instants at which the zone's offset changes (to the second), found by scanning hours."""
    found: list[datetime] = []
    moment = datetime(years.start, 1, 1, tzinfo=UTC)
    stop = datetime(years.stop, 1, 1, tzinfo=UTC)
    while moment < stop:
        following = moment + timedelta(hours=1)
        if moment.astimezone(zone).utcoffset() != following.astimezone(zone).utcoffset():
            low, high = moment, following
            while high - low > SECOND:
                middle = low + (high - low) / 2
                if middle.astimezone(zone).utcoffset() == low.astimezone(zone).utcoffset():
                    low = middle
                else:
                    high = middle
            found.append(high)
        moment = following
    return found


TRANSITIONS = {name: transitions(ZoneInfo(name), range(2026, 2028)) for name in ZONES}


def test_each_zone_has_its_two_transitions_a_year() -> None:
    # A vacuous strategy would prove nothing: the three zones change offset twice a year in 2026 and 2027.
    assert {name: len(found) for name, found in TRANSITIONS.items()} == dict.fromkeys(ZONES, 4)


def wall(moment: datetime, zone: ZoneInfo) -> time:
    return moment.astimezone(zone).time().replace(tzinfo=None)


def skipped_on(day: datetime, clock: time, zone: ZoneInfo) -> bool:
    """Whether no instant of that local date has the wall time ``clock`` (a DST gap swallowed it)."""
    naive = datetime.combine(day.date(), clock)
    return all(
        naive.replace(tzinfo=zone, fold=fold).astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive
        for fold in (0, 1)
    )


# Window ends and starts near the transitions' wall times (01:00-03:59) most of the time, anywhere otherwise.
NEAR_TRANSITION = st.builds(time, st.integers(1, 3), st.sampled_from([0, 15, 30, 45, 59]))
ANY_TIME = st.builds(time, st.integers(0, 23), st.integers(0, 59))
CLOCKS = st.one_of(NEAR_TRANSITION, ANY_TIME)
WINDOWS = st.tuples(CLOCKS, CLOCKS).filter(lambda pair: pair[0] != pair[1]).map(lambda pair: Window(*pair))


@st.composite
def moments(draw: st.DrawFn) -> tuple[str, datetime]:
    name = draw(st.sampled_from(ZONES))
    transition = draw(st.sampled_from(TRANSITIONS[name]))
    offset = draw(st.integers(-36 * 3600, 36 * 3600))
    return name, transition + timedelta(seconds=offset)


@examples(300)
@given(place=moments(), window=WINDOWS)
def test_window_end_is_the_first_instant_outside_the_window(
    place: tuple[str, datetime], window: Window
) -> None:
    name, now = place
    zone = ZoneInfo(name)
    end = window_end(now, window, zone)
    if end is None:
        assert not window.contains(wall(now, zone))
        return
    assert window.contains(wall(now, zone))
    assert end > now
    assert end - now <= timedelta(hours=25)  # a window is shorter than a day (plus a repeated hour)
    # Nothing between now and the end is outside the window (every minute, and the last second before it).
    probe = now
    while probe < end:
        assert window.contains(wall(probe, zone)), (probe, end)
        probe += timedelta(minutes=1)
    assert window.contains(wall(end - SECOND, zone))
    local_end = end.astimezone(zone)
    if local_end.time().replace(tzinfo=None) == window.end:
        assert not window.contains(wall(end, zone))
    else:
        # Otherwise the clock jumped out of the window: the end is a transition, and either `end` was skipped
        # (forward: the first instant after the gap) or the clock went back to before `start`.
        assert (end - SECOND).astimezone(zone).utcoffset() != local_end.utcoffset(), (name, now, window, end)
        forward = local_end.utcoffset() > (end - SECOND).astimezone(zone).utcoffset()  # type: ignore[operator]
        if forward:
            assert skipped_on(local_end, window.end, zone)
            assert wall(end - SECOND, zone) < window.end < wall(end, zone)
        else:
            assert wall(end, zone) < window.start


@examples(200)
@given(place=moments(), window=WINDOWS)
def test_the_window_end_is_stable_while_waiting(place: tuple[str, datetime], window: Window) -> None:
    """Asking again later inside the same window (a redelivery) gives the same end."""
    name, now = place
    zone = ZoneInfo(name)
    end = window_end(now, window, zone)
    if end is None:
        return
    later = now + (end - now) / 2
    assert window_end(later, window, zone) == end


# --- the skipped and the repeated hour ----------------------------------------------------------------


def test_an_end_in_the_skipped_hour_resolves_to_the_first_instant_after_the_gap() -> None:
    # Vienna, 29 March 2026: 02:00 CET becomes 03:00 CEST (01:00 UTC); 02:30 never happens.
    window = Window(time(22, 0), time(2, 30))
    end = window_end(utc("2026-03-28T23:00:00"), window, VIENNA)  # 00:00 CET
    assert end == utc("2026-03-29T01:00:00")
    assert end.astimezone(VIENNA).strftime("%H:%M %Z") == "03:00 CEST"


def test_an_end_in_new_yorks_skipped_hour() -> None:
    # New York, 8 March 2026: 02:00 EST becomes 03:00 EDT (07:00 UTC).
    end = window_end(utc("2026-03-08T05:00:00"), Window(time(23, 0), time(2, 15)), NEW_YORK)
    assert end == utc("2026-03-08T07:00:00")


def test_an_end_in_the_repeated_hour_is_its_first_occurrence() -> None:
    # Vienna, 25 October 2026: 03:00 CEST becomes 02:00 CET (01:00 UTC); 02:00-02:59 happens twice.
    window = Window(time(22, 0), time(2, 30))
    end = window_end(utc("2026-10-24T21:00:00"), window, VIENNA)  # 23:00 CEST
    assert end == utc("2026-10-25T00:30:00")
    assert end.astimezone(VIENNA).strftime("%H:%M %Z") == "02:30 CEST"


def test_inside_the_second_occurrence_of_the_repeated_hour_the_end_is_the_second_occurrence() -> None:
    # 02:10 CET (the second 02:10): wall-clock [22:00, 02:30) holds again; it ends at 02:30 CET.
    end = window_end(utc("2026-10-25T01:10:00"), Window(time(22, 0), time(2, 30)), VIENNA)
    assert end == utc("2026-10-25T01:30:00")


def test_a_clock_set_back_to_before_the_start_ends_a_window_that_crossed_midnight() -> None:
    # [02:15, 01:00): at 03:00 CEST the clock goes back to 02:00 CET, before 02:15: outside the window.
    end = window_end(utc("2026-10-25T00:59:59"), Window(time(2, 15), time(1, 0)), VIENNA)  # 02:59:59 CEST
    assert end == utc("2026-10-25T01:00:00")


def test_a_gap_that_swallows_the_whole_free_stretch_still_ends_the_window_after_the_gap() -> None:
    # [02:15, 02:00) leaves 02:00-02:15 free; on 29 March 2026 Vienna skips 02:00-03:00: it ends at the gap.
    end = window_end(utc("2026-03-28T22:59:59"), Window(time(2, 15), time(2, 0)), VIENNA)
    assert end == utc("2026-03-29T01:00:00")


def test_sydney_southern_dst_both_ways() -> None:
    window = Window(time(22, 0), time(2, 30))
    # 5 April 2026: 03:00 AEDT becomes 02:00 AEST (16:00 UTC on 4 April): the first 02:30 is AEDT.
    assert window_end(utc("2026-04-04T12:00:00"), window, SYDNEY) == utc("2026-04-04T15:30:00")
    # 4 October 2026: 02:00 AEST becomes 03:00 AEDT (16:00 UTC on 3 October): 02:30 is skipped.
    assert window_end(utc("2026-10-03T12:00:00"), window, SYDNEY) == utc("2026-10-03T16:00:00")


def test_outside_the_window_is_none_and_a_daytime_window_does_not_cross_midnight() -> None:
    night = Window(time(22, 0), time(7, 0))
    assert window_end(utc("2026-07-01T10:00:00"), night, VIENNA) is None  # 12:00 CEST
    assert window_end(utc("2026-07-01T20:00:00"), night, VIENNA) == utc("2026-07-02T05:00:00")  # 22:00
    assert window_end(utc("2026-07-01T04:59:59"), night, VIENNA) == utc("2026-07-01T05:00:00")
    assert window_end(utc("2026-07-01T05:00:00"), night, VIENNA) is None  # [start, end): 07:00 is out
    lunch = Window(time(12, 0), time(13, 0))
    assert window_end(utc("2026-07-01T10:30:00"), lunch, VIENNA) == utc("2026-07-01T11:00:00")
    assert window_end(utc("2026-07-01T09:59:00"), lunch, VIENNA) is None


# --- parsing ------------------------------------------------------------------------------------------


def test_parse_window_accepts_two_distinct_hhmm_times() -> None:
    assert parse_window({"start": "22:00", "end": "07:00"}) == Window(time(22, 0), time(7, 0))
    assert parse_window({"start": "00:00", "end": "23:59"}).as_item() == {"start": "00:00", "end": "23:59"}


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ({"start": "22:00", "end": "22:00"}, "must differ"),
        ({"start": "24:00", "end": "07:00"}, "quiet_hours.start must be a time as HH:MM"),
        ({"start": "7:00", "end": "08:00"}, "quiet_hours.start must be a time as HH:MM"),
        ({"start": "22:00", "end": "07:60"}, "quiet_hours.end must be a time as HH:MM"),
        ({"start": "22:00", "end": "07:00:00"}, "quiet_hours.end must be a time as HH:MM"),
        (
            {"start": "22:00", "end": "\u0660\u0667:\u0660\u0660"},
            "quiet_hours.end must be a time as HH:MM",
        ),  # not ASCII digits
        ({"start": "22:00"}, "quiet_hours.end must be a time as HH:MM"),
        ({"start": 2200, "end": "07:00"}, "quiet_hours.start must be a time as HH:MM"),
        ({"start": "22:00", "end": "07:00", "tz": "UTC"}, "unknown field"),
        ("22:00-07:00", "must be an object"),
    ],
)
def test_parse_window_refuses_with_the_reason(value: object, reason: str) -> None:
    with pytest.raises(WindowError, match=reason):
        parse_window(value)


def test_a_broken_stored_window_is_ignored_not_fatal() -> None:
    assert quiet_hours.window_from_preferences({"quiet_hours": {"start": "22:00", "end": "22:00"}}) is None
    assert quiet_hours.window_from_preferences({"quiet_hours": "nope"}) is None
    assert quiet_hours.window_from_preferences({"muted": False}) is None
    assert quiet_hours.window_from_preferences(None) is None


@pytest.mark.parametrize(
    "name", ["Mars/Olympus_Mons", "", "../../etc/passwd", "/etc/localtime", "America", "x" * 300]
)
def test_an_unknown_time_zone_name_is_none(name: str) -> None:
    assert quiet_hours.zone(name) is None


def test_known_zone_names_resolve() -> None:
    assert quiet_hours.zone("Europe/Vienna") == VIENNA
    assert quiet_hours.zone("UTC") is not None


def test_interrupting_channels() -> None:
    assert [
        c
        for c in ("push", "sms", "email", "websocket", "inbox", "chat")
        if quiet_hours.interrupts(c, defer_email=False)
    ] == ["push", "sms"]
    assert quiet_hours.interrupts("email", defer_email=True)
    assert not quiet_hours.interrupts("websocket", defer_email=True)


def _fresh_interpreter(code: str) -> str:
    """What ``code`` prints in a new interpreter that imports the handlers from lambda_src: a cold start."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": f"{ROOT / 'lambda_src'}"},
    )
    return done.stdout


def test_no_handler_imports_the_time_zone_database_at_cold_start() -> None:
    """zoneinfo (and the vendored tzdata) load on the first recipient with quiet hours, never at import."""
    handlers = [
        "notification_handlers.service.router",
        "notification_handlers.service.registration_api",
        "notification_handlers.service.push_worker",
        "notification_handlers.service.sms_worker",
        "notification_handlers.service.email_worker",
    ]
    loaded = "sorted(m for m in sys.modules if m.split('.')[0] in ('zoneinfo', 'tzdata'))"
    code = f"import sys\nfor m in {handlers!r}: __import__(m)\nprint({loaded})"
    assert _fresh_interpreter(code).strip() == "[]"


def test_the_router_executes_its_feature_modules_only_when_used() -> None:
    """Caps, digests, quiet-hours holding and reachability probes load on first use
    (notification_handlers.lazy_import): importing the router executes none of them; using one does."""
    features = ["digests", "frequency_caps", "quiet_hours_deferral", "reachability", "quiet_hours"]
    code = (
        "import sys, types\n"
        "import notification_handlers.service.router\n"
        "def executed():\n"
        "    return sorted(m for m in " + repr(features) + "\n"
        "        if type(sys.modules.get('notification_handlers.service.' + m)) is types.ModuleType)\n"
        "print(executed())\n"
        "from notification_handlers.service import router\n"
        "router.frequency_caps.bucket(0, 60)\n"
        "print(executed())\n"
    )
    assert _fresh_interpreter(code).splitlines() == ["[]", "['frequency_caps']"]
