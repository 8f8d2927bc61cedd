"""Chat requests for schedules: the cadence, destination and posting mode are read off the
sentence; what remains is planned like any request (the tool comes from the catalog)."""

from __future__ import annotations

import pytest

from pipeline.schedule_phrasing import mentions, read_schedule, read_schedule_command, schedule_words
from pipeline.schedules import Cadence

CASES = [
    (
        "every 5 minutes ping the prod db servers and tell #ops if one goes down",
        ("ping the prod db servers", Cadence(every_s=300), "#ops", "change"),
    ),
    (
        "check disk on all web servers every morning at 7 and post it here",
        ("check disk on all web servers", Cadence(cron="0 7 * * *"), None, "always"),
    ),
    ("every hour check nginx on web-01", ("check nginx on web-01", Cadence(every_s=3600), None, "change")),
    (
        "scan 22,80 on web-03 daily and post the results to #sec",
        ("scan 22,80 on web-03", Cadence(every_s=86400), "#sec", "always"),
    ),
    (
        "every weekday at 9:30am check disk on db-01",
        ("check disk on db-01", Cadence(cron="30 9 * * 1-5"), None, "change"),
    ),
    (
        "at 6pm every evening check memory on api-01 and let <#C123|ops> know when it changes",
        ("check memory on api-01", Cadence(cron="0 18 * * *"), "C123", "change"),
    ),
    (
        "check nginx on web-02 every two hours",
        ("check nginx on web-02", Cadence(every_s=7200), None, "change"),
    ),
    ("every 30s ping 127.0.0.1, each time", ("ping 127.0.0.1", Cadence(every_s=30), None, "always")),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_a_schedule_is_read_off_the_sentence(text: str, expected: tuple[object, ...]) -> None:
    asked = read_schedule(text)
    assert asked is not None
    assert (asked.text, asked.cadence, asked.channel, asked.notify) == expected


@pytest.mark.parametrize(
    "text",
    ["ping web-01", "ping every web server", "check every service on web-02", "what did I run yesterday?"],
)
def test_requests_without_a_cadence_are_not_schedules(text: str) -> None:
    assert read_schedule(text) is None


MANAGING = [
    ("show me all schedules", ("list", (), None, False)),
    ("what schedules do I have?", ("list", (), None, True)),
    ("suspend schedule #12", ("paused", (), 12, False)),
    (
        "please re-enable the morning disk report schedule",
        ("active", ("morning", "disk", "report"), None, False),
    ),
    ("get rid of my weekly port scan", ("deleted", ("weekly", "port", "scan"), None, True)),
    ("approve schedule 4", ("approved", (), 4, False)),
]
NOT_MANAGING = [
    "stop nginx on web-01",  # a service, not a schedule
    "remove asset old-db",
    "restart apache on the web servers every night",  # asks for a new schedule
    "disable the firewall on web-02",
    "delete /tmp/cache on app-01 every sunday",
]


@pytest.mark.parametrize(("text", "expected"), MANAGING)
def test_managing_a_schedule_is_read_off_the_sentence(
    text: str, expected: tuple[str, tuple[str, ...], int | None, bool]
) -> None:
    command = read_schedule_command(text)
    assert command is not None
    assert (command.act, command.words, command.number, command.mine) == expected


@pytest.mark.parametrize("text", NOT_MANAGING)
def test_a_tool_request_with_a_managing_verb_is_not_about_schedules(text: str) -> None:
    assert read_schedule_command(text) is None


def test_a_schedule_is_known_by_its_request_name_and_cadence_words() -> None:
    words = schedule_words("nightly backup check", "check disk on db-01", Cadence(cron="30 1 * * *"))
    assert mentions(("nightly", "disk"), words) and mentions(("backups", "night"), words)
    assert not mentions(("weekly", "disk"), words)
    hourly = schedule_words("", "ping web-01", Cadence(every_s=3600))
    assert mentions(("hourly", "pings"), hourly) and not mentions(("daily",), hourly)
