"""Text message methods: send, edit, delete, chat actions and callback query answers."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from . import errors
from .calls import Call, spec
from .chats import bot_message, reply_markup, store_bot_message, target_chat
from .errors import bad_request
from .formatting import apply_parse_mode, check_length
from .markup import is_inline

if TYPE_CHECKING:
    from .world import JSON, StoredMessage

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_MAX_ANSWER_TEXT = 200


def parsed_text(call: Call, name: str, entities_name: str) -> tuple[str, list[JSON]]:
    """A text or caption parameter after parse_mode, as Telegram stores it."""
    source = call.params.get_str(name) or ""
    return apply_parse_mode(
        source,
        call.params.get_str("parse_mode"),
        call.params.get_json(entities_name),
        call.world.caps.parse_modes,
    )


def _message_text(call: Call) -> tuple[str, list[JSON]]:
    text, entities = parsed_text(call, "text", "entities")
    if not text.strip():
        raise bad_request(errors.TEXT_EMPTY)
    check_length(text, call.world.caps.max_text_length, bad_request(errors.TEXT_TOO_LONG))
    return text, entities


def with_entities(key: str, text: str, entities: list[JSON]) -> JSON:
    """A text field with its entities field, omitting empty entity lists."""
    content: JSON = {key: text}
    if entities:
        content["entities" if key == "text" else "caption_entities"] = entities
    return content


async def send_message(call: Call) -> JSON:
    """``sendMessage``: a text message from the bot, stored in the chat."""
    chat = target_chat(call)
    text, entities = _message_text(call)
    markup = reply_markup(call)
    content = with_entities("text", text, entities)
    return store_bot_message(
        call, chat, content, source=call.params.get_str("text"), markup=markup
    ).data


def _apply_edit(stored: StoredMessage, changes: JSON, markup: JSON | None, now: int) -> None:
    stored.history.append(copy.deepcopy(stored.data))
    if "text" in changes:
        stored.data.pop("entities", None)
    stored.data.pop("reply_markup", None)
    stored.data.update(changes)
    if markup is not None:
        stored.data["reply_markup"] = markup
    stored.data["edit_date"] = now
    stored.markup = markup


def _inline_markup(call: Call) -> JSON | None:
    markup = reply_markup(call)
    if markup is not None and not is_inline(markup):
        raise bad_request(errors.INLINE_EXPECTED)
    return markup


def _current_inline(stored: StoredMessage) -> JSON | None:
    return stored.markup if is_inline(stored.markup) else None


async def edit_message_text(call: Call) -> JSON:
    """editMessageText; omitting reply_markup removes the inline keyboard, as on Telegram."""
    chat = target_chat(call)
    stored = bot_message(call, chat, missing=errors.EDIT_NOT_FOUND)
    if "text" not in stored.data:
        raise bad_request(errors.NO_TEXT_TO_EDIT)
    text, entities = _message_text(call)
    markup = _inline_markup(call)
    unchanged = text == stored.data["text"] and entities == stored.entities
    if unchanged and markup == _current_inline(stored):
        raise bad_request(errors.NOT_MODIFIED)
    _apply_edit(stored, with_entities("text", text, entities), markup, call.world.now())
    stored.source = call.params.get_str("text")
    chat.changed.fire()
    return stored.data


async def edit_message_reply_markup(call: Call) -> JSON:
    """editMessageReplyMarkup; no reply_markup removes the inline keyboard."""
    chat = target_chat(call)
    stored = bot_message(call, chat, missing=errors.EDIT_NOT_FOUND)
    markup = _inline_markup(call)
    if markup == _current_inline(stored):
        raise bad_request(errors.NOT_MODIFIED)
    _apply_edit(stored, {}, markup, call.world.now())
    chat.changed.fire()
    return stored.data


async def delete_message(call: Call) -> bool:
    """deleteMessage: the bot's own messages and, in private chats, the user's."""
    chat = target_chat(call)
    stored = chat.messages.get(call.params.require_int("message_id"))
    if stored is None or stored.deleted:
        raise bad_request(errors.DELETE_NOT_FOUND)
    stored.deleted = True
    chat.changed.fire()
    return True


async def send_chat_action(call: Call) -> bool:
    """``sendChatAction`` (not counted by flood control: it creates no message)."""
    target_chat(call)
    if call.params.get_str("action") not in _CHAT_ACTIONS:
        raise bad_request(errors.BAD_ACTION)
    return True


async def answer_callback_query(call: Call) -> bool:
    """answerCallbackQuery: once per query, within the sandbox's callback_ttl."""
    record = call.bot.callbacks.get(call.params.require_str("callback_query_id"))
    if record is None or record.answered:
        raise bad_request(errors.QUERY_TOO_OLD)
    if call.world.clock() - record.created > call.world.callback_ttl:
        raise bad_request(errors.QUERY_TOO_OLD)
    text = call.params.get_str("text")
    if text is not None and len(text) > _MAX_ANSWER_TEXT:
        raise bad_request("MESSAGE_TOO_LONG")
    record.answered = True
    answer: dict[str, Any] = {"text": text, "show_alert": call.params.get_bool("show_alert")}
    answer["url"] = call.params.get_str("url")
    answer["cache_time"] = call.params.get_int("cache_time")
    record.answer = answer
    chat = call.bot.chats.get(record.chat_id)
    if chat is not None:
        chat.changed.fire()
    return True


_SEND = (
    "chat_id reply_markup reply_parameters disable_notification protect_content "
    "message_thread_id allow_paid_broadcast message_effect_id business_connection_id"
)

METHODS = [
    spec(
        "sendMessage",
        f"{_SEND} text parse_mode entities link_preview_options",
        send_message,
        sends=True,
    ),
    spec(
        "editMessageText",
        "chat_id message_id text parse_mode entities reply_markup link_preview_options",
        edit_message_text,
        sends=True,
    ),
    spec(
        "editMessageReplyMarkup",
        "chat_id message_id reply_markup",
        edit_message_reply_markup,
        sends=True,
    ),
    spec("deleteMessage", "chat_id message_id", delete_message),
    spec(
        "sendChatAction",
        "chat_id action message_thread_id business_connection_id",
        send_chat_action,
    ),
    spec(
        "answerCallbackQuery",
        "callback_query_id text show_alert url cache_time",
        answer_callback_query,
    ),
]
