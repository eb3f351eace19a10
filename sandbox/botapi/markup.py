"""Validation of reply_markup objects the way Telegram rejects them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from .errors import (
    BUTTON_DATA_INVALID,
    BUTTON_URL_INVALID,
    MARKUP_INVALID,
    MARKUP_TOO_LONG,
    ApiError,
    bad_request,
)

if TYPE_CHECKING:
    from .platforms import PlatformCaps

JSON = dict[str, Any]

_INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_MAX_REPLY_ROW = 12
_MAX_REPLY_BUTTONS = 300
_MAX_PLACEHOLDER = 64


def _invalid() -> ApiError:
    return bad_request(MARKUP_INVALID)


def _rows(markup: JSON, key: str) -> list[list[Any]]:
    rows = markup.get(key)
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(f'field "{key}" must be an Array of Array')
    return rows


def _inline_button(button: Any, caps: PlatformCaps) -> JSON:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise _invalid()
    actions = [key for key in _INLINE_ACTIONS if key in button]
    if not button["text"]:
        raise bad_request("BUTTON_TEXT_INVALID")
    if not actions:
        raise bad_request("text buttons are unallowed in the inline keyboard")
    data = button.get("callback_data")
    if "callback_data" in button:
        size = len(str(data).encode("utf-8"))
        if not isinstance(data, str) or not 1 <= size <= caps.max_callback_data_bytes:
            raise bad_request(BUTTON_DATA_INVALID)
    if "url" in button:
        url = urlparse(str(button["url"]))
        if url.scheme not in {"http", "https", "tg"} or not (url.netloc or url.path):
            raise bad_request(BUTTON_URL_INVALID)
    return {key: value for key, value in button.items() if key == "text" or key in _INLINE_ACTIONS}


def _inline(markup: JSON, caps: PlatformCaps) -> JSON:
    rows = _rows(markup, "inline_keyboard")
    total = sum(len(row) for row in rows)
    if total > caps.max_inline_buttons or any(len(row) > caps.max_inline_row for row in rows):
        raise bad_request(MARKUP_TOO_LONG)
    return {"inline_keyboard": [[_inline_button(b, caps) for b in row] for row in rows]}


def _reply_button(button: Any) -> JSON:
    if isinstance(button, str):
        button = {"text": button}
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise _invalid()
    if not button["text"]:
        raise bad_request("BUTTON_TEXT_INVALID")
    return dict(button)


def _placeholder(markup: JSON) -> None:
    placeholder = markup.get("input_field_placeholder")
    if placeholder is not None and not 1 <= len(str(placeholder)) <= _MAX_PLACEHOLDER:
        raise bad_request("input field placeholder is too long")


def _reply(markup: JSON) -> JSON:
    rows = _rows(markup, "keyboard")
    total = sum(len(row) for row in rows)
    if total > _MAX_REPLY_BUTTONS or any(len(row) > _MAX_REPLY_ROW for row in rows):
        raise bad_request(MARKUP_TOO_LONG)
    if any(not row for row in rows):
        raise _invalid()
    _placeholder(markup)
    return {**markup, "keyboard": [[_reply_button(b) for b in row] for row in rows]}


def check_markup(markup: Any, caps: PlatformCaps) -> JSON | None:
    """The validated reply_markup (normalised), or None when none was sent."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _invalid()
    if "inline_keyboard" in markup:
        return _inline(markup, caps)
    if "keyboard" in markup:
        return _reply(markup)
    if markup.get("remove_keyboard") is True:
        return {"remove_keyboard": True, **_selective(markup)}
    if markup.get("force_reply") is True:
        _placeholder(markup)
        return dict(markup)
    raise _invalid()


def _selective(markup: JSON) -> JSON:
    return {"selective": markup["selective"]} if "selective" in markup else {}


def is_inline(markup: JSON | None) -> bool:
    """Whether the markup is an inline keyboard (the only kind echoed in Message objects)."""
    return markup is not None and "inline_keyboard" in markup
