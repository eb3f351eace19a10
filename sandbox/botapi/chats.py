"""Shared steps of the message methods: finding the target chat and storing what the bot sent."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import errors
from .errors import ApiError, bad_request
from .markup import check_markup, is_inline
from .world import JSON, Chat, StoredMessage

if TYPE_CHECKING:
    from .calls import Call
    from .params import Params


def target_chat(call: Call) -> Chat:
    """The chat named by chat_id, refusing unknown chats, silent and blocking users."""
    raw = call.params.require_str("chat_id")
    try:
        chat_id = int(raw)
    except ValueError:
        raise bad_request(errors.CHAT_NOT_FOUND) from None
    chat = call.world.chat(call.bot, chat_id)
    if chat is None:
        raise bad_request(errors.CHAT_NOT_FOUND)
    if not chat.started:
        raise ApiError(403, errors.CANT_INITIATE)
    if chat.blocked:
        raise ApiError(403, errors.BLOCKED)
    return chat


def reply_markup(call: Call) -> JSON | None:
    """The validated reply_markup parameter."""
    return check_markup(call.params.get_json("reply_markup"), call.world.caps)


def replied_message(call: Call, chat: Chat) -> JSON | None:
    """The message named by reply_parameters, as embedded in reply_to_message."""
    parameters: Any = call.params.get_json("reply_parameters")
    if parameters is None:
        return None
    if not isinstance(parameters, dict) or "message_id" not in parameters:
        raise bad_request("can't parse reply parameters JSON object")
    target = chat.messages.get(int(parameters["message_id"]))
    if target is None or target.deleted:
        if parameters.get("allow_sending_without_reply"):
            return None
        raise bad_request(errors.REPLY_NOT_FOUND)
    return {k: v for k, v in target.data.items() if k != "reply_to_message"}


def store_bot_message(
    call: Call, chat: Chat, content: JSON, *, source: str | None, markup: JSON | None
) -> StoredMessage:
    """Record a message the bot sent and return it; Message JSON echoes inline keyboards only."""
    data: JSON = {
        "message_id": chat.new_message_id(),
        "from": call.bot.sender,
        "chat": chat.to_json(),
        "date": call.world.now(),
    }
    reply_to = replied_message(call, chat)
    if reply_to is not None:
        data["reply_to_message"] = reply_to
    data.update(content)
    if is_inline(markup):
        data["reply_markup"] = markup
    stored = StoredMessage(data=data, from_bot=True, source=source, markup=markup)
    chat.messages[stored.message_id] = stored
    note_keyboard(chat, markup)
    chat.changed.fire()
    return stored


def note_keyboard(chat: Chat, markup: JSON | None) -> None:
    """Track the reply keyboard the user currently sees."""
    if markup is None:
        return
    if "keyboard" in markup:
        chat.reply_keyboard = markup
    elif markup.get("remove_keyboard"):
        chat.reply_keyboard = None


def bot_message(call: Call, chat: Chat, *, missing: str) -> StoredMessage:
    """The message named by message_id that this bot may edit, or ``missing`` as a 400."""
    message_id = call.params.get_int("message_id")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    stored = chat.messages.get(message_id)
    if stored is None or stored.deleted:
        raise bad_request(missing)
    if not stored.from_bot:
        raise bad_request(errors.CANT_EDIT)
    return stored


def sender_chat_id(params: Params) -> str | None:
    """The chat_id of a send, as the key of its per-chat flood limit."""
    return params.get_str("chat_id") if "chat_id" in params.allowed else None
