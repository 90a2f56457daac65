"""The `ioc notification` commands an operator uses to check the channels."""

from __future__ import annotations

import os
from typing import Any

import pytest
from click.testing import CliRunner

from ioc.core.runtime import Runtime
from ioc.modules.notification import derive_webhook_key
from ioc.modules.notification.cli import notification_group, send_test_now


def test_webhook_key_prints_the_derived_signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("IOC_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("IOC_SECRET_KEY", "khoa-bi-mat-cua-tinh-80")

    result = CliRunner().invoke(notification_group, ["webhook-key"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == derive_webhook_key("khoa-bi-mat-cua-tinh-80")
    assert "khoa-bi-mat-cua-tinh-80" not in result.output


async def test_test_command_reports_delivery(runtime: Runtime, smtp_sink: Any) -> None:
    status, error = await send_test_now(runtime, "email", "van.hanh@tayninh.example", "vi")

    assert (status, error) == ("delivered", None)
    assert smtp_sink.messages[0]["Subject"] == "[IOC] Tin nhắn thử nghiệm"


async def test_test_command_reports_the_reason_of_a_failure(runtime: Runtime, http_receiver: Any) -> None:
    http_receiver.answer(403)

    status, error = await send_test_now(runtime, "webhook", http_receiver.url("/h"), "en")

    assert status == "dead"
    assert error is not None
    assert "HTTP 403" in error
