"""Every implemented method and accepted parameter exists in the published Bot API spec."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sandbox.botapi import METHODS

# Vendored with the tests (tests/fixtures/botapi/SOURCE.md says where it comes from), so a plain
# clone runs them.
SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "botapi" / "telegram-bot-api.json"


@pytest.fixture(scope="module")
def api() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(SPEC.read_text(encoding="utf-8"))
    return spec


def test_methods_and_parameters_are_real(api: dict[str, Any]) -> None:
    problems: list[str] = []
    for method in METHODS.values():
        entry = api["methods"].get(method.name)
        if entry is None:
            problems.append(f"{method.name}: not a Bot API method")
            continue
        fields = {field["name"] for field in entry.get("fields", [])}
        problems += [f"{method.name}.{name}" for name in sorted(method.params - fields)]
    assert not problems, problems


def test_required_parameters_are_accepted(api: dict[str, Any]) -> None:
    missing = [
        f"{method.name}.{field['name']}"
        for method in METHODS.values()
        for field in api["methods"][method.name].get("fields", [])
        if field["required"] and field["name"] not in method.params
    ]
    assert not missing, missing


def test_the_registry_covers_what_the_product_needs() -> None:
    wanted = {
        "getMe",
        "getUpdates",
        "setWebhook",
        "deleteWebhook",
        "getWebhookInfo",
        "sendMessage",
        "editMessageText",
        "editMessageReplyMarkup",
        "deleteMessage",
        "answerCallbackQuery",
        "sendPhoto",
        "sendDocument",
        "getFile",
        "setMyCommands",
        "getMyCommands",
        "setMyDescription",
        "setMyShortDescription",
        "sendChatAction",
        "close",
        "logOut",
    }
    assert wanted <= {method.name for method in METHODS.values()}
