"""Every log record leaves redacted: ours and third-party loggers', message, arguments,
traceback and extra fields, with the app's redactor once the app is built."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import cast

import pytest

from bot.logging_setup import configure_logging, use_redactor
from pipeline.redaction import Redactor

SECRET = "S3cretL0gged"


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """`serve`'s logging, its one handler writing here instead of stderr; restored after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("serve")
    stream = io.StringIO()
    cast(logging.StreamHandler[io.StringIO], root.handlers[0]).setStream(stream)
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, str]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_third_party_records_are_redacted_in_message_args_traceback_and_extras(
    logs: io.StringIO,
) -> None:
    logging.getLogger("asyncssh").info("[conn=0, chan=0]   Command: %s", f"mysql -p{SECRET} -e 'select 1'")
    try:
        raise RuntimeError(f"curl -u ops:{SECRET} failed")
    except RuntimeError:
        logging.getLogger("some.library").exception("request to %s failed", f"https://ops:{SECRET}@db/")
    logging.getLogger("opsconductor").warning("step", extra={"command": f"sshpass -p {SECRET} ssh x"})
    records = lines(logs)
    assert [r["logger"] for r in records] == ["asyncssh", "some.library", "opsconductor"]
    assert records[0]["msg"] == "[conn=0, chan=0]   Command: mysql -p[REDACTED] -e 'select 1'"
    assert "ops:[REDACTED]" in records[1]["exc"] and "RuntimeError" in records[1]["exc"]
    assert records[2]["command"] == "sshpass -p [REDACTED] ssh x"
    assert SECRET not in json.dumps(records)


def test_the_apps_redactor_knows_the_configured_secrets(logs: io.StringIO) -> None:
    use_redactor(Redactor(["xoxb-not-a-real-token-but-configured", "pl4in-configured-secret"]))
    logging.getLogger("aiohttp.client").warning("posting with %s", "pl4in-configured-secret")
    assert lines(logs)[0]["msg"] == "posting with [REDACTED]"


def test_a_record_whose_arguments_do_not_fit_is_still_redacted(logs: io.StringIO) -> None:
    logging.getLogger("x").warning("%s and %s", f"--password={SECRET}")
    (record,) = lines(logs)
    assert SECRET not in record["msg"] and "[REDACTED]" in record["msg"]
