"""Acting as a user on the bot's keyboards: inline button presses, reply keyboards, blocking."""

from __future__ import annotations

import copy

from .actions import UserActions
from .world import JSON, BotState, CallbackRecord, Chat, StoredMessage


def _member(bot: BotState, status: str) -> JSON:
    member: JSON = {"status": status, "user": bot.sender}
    if status == "kicked":
        member["until_date"] = 0
    return member


class ButtonActions(UserActions):
    """Presses, taps and blocking; callback queries get ids the bot must answer."""

    def _keyboard_message(self, chat: Chat, message_id: int | None) -> StoredMessage:
        if message_id is not None:
            stored = chat.messages.get(message_id)
            if stored is None or stored.deleted:
                raise LookupError(f"no message {message_id} in chat {chat.id}")
            return stored
        for stored in reversed(chat.bot_messages()):
            if not stored.deleted and stored.inline_keyboard:
                return stored
        raise LookupError(f"no message with an inline keyboard in chat {chat.id}")

    def press_button(
        self,
        user_id: int,
        *,
        text: str | None = None,
        data: str | None = None,
        message_id: int | None = None,
        token: str | None = None,
    ) -> str:
        """Press the inline button with this text (or callback_data); returns the query id.

        Without ``message_id`` the newest message with an inline keyboard is used.
        """
        bot = self._bot(token)
        stored = self._keyboard_message(self._chat(bot, user_id), message_id)
        for button in stored.buttons:
            if text is not None and button.get("text") != text:
                continue
            if data is not None and button.get("callback_data") != data:
                continue
            if "callback_data" not in button:
                raise ValueError(f"button {button.get('text')!r} sends no callback_data")
            return self.forge_callback(
                user_id, stored.message_id, str(button["callback_data"]), token=token
            )
        labels = [button.get("text") for button in stored.buttons]
        raise LookupError(f"no button text={text!r} data={data!r}; buttons: {labels}")

    def forge_callback(
        self, user_id: int, message_id: int, data: str, *, token: str | None = None
    ) -> str:
        """A callback query with arbitrary data on any message (stale or forged presses)."""
        bot, user = self._bot(token), self._user(user_id)
        chat = self._chat(bot, user_id)
        stored = chat.messages.get(message_id)
        if stored is None:
            raise LookupError(f"no message {message_id} in chat {user_id}")
        self._callback_counter += 1
        query_id = str(4_000_000_000_000_000_000 + bot.id % 10**6 * 10**7 + self._callback_counter)
        bot.callbacks[query_id] = CallbackRecord(
            query_id, user_id, chat.id, message_id, data, created=self.world.clock()
        )
        query = {
            "id": query_id,
            "from": user.to_json(),
            "message": copy.deepcopy(stored.data),
            "chat_instance": bot.chat_instance(chat.id),
            "data": data,
        }
        bot.enqueue("callback_query", query)
        return query_id

    def tap_keyboard(self, user_id: int, text: str, *, token: str | None = None) -> JSON:
        """Tap a reply-keyboard button: sends its text, or the own contact for request_contact."""
        chat = self._chat(self._bot(token), user_id)
        keyboard = chat.reply_keyboard
        if keyboard is None:
            raise LookupError(f"chat {user_id} shows no reply keyboard")
        for row in keyboard["keyboard"]:
            for button in row:
                if button["text"] != text:
                    continue
                if keyboard.get("one_time_keyboard"):
                    chat.reply_keyboard = None
                if button.get("request_contact"):
                    return self.send_contact(user_id, token=token)
                return self.send_text(user_id, text, token=token)
        labels = [button["text"] for row in keyboard["keyboard"] for button in row]
        raise LookupError(f"no keyboard button {text!r}; buttons: {labels}")

    def block(self, user_id: int, *, token: str | None = None) -> None:
        """The user blocks the bot: sends now fail with 403; a my_chat_member update is queued."""
        self._set_blocked(user_id, blocked=True, token=token)

    def unblock(self, user_id: int, *, token: str | None = None) -> None:
        """The user unblocks the bot (a my_chat_member update is queued)."""
        self._set_blocked(user_id, blocked=False, token=token)

    def _set_blocked(self, user_id: int, *, blocked: bool, token: str | None) -> None:
        bot, user = self._bot(token), self._user(user_id)
        chat = self._chat(bot, user_id)
        if chat.blocked == blocked:
            return
        chat.blocked = blocked
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        update = {
            "chat": chat.to_json(),
            "from": user.to_json(),
            "date": self.world.now(),
            "old_chat_member": _member(bot, old),
            "new_chat_member": _member(bot, new),
        }
        bot.enqueue("my_chat_member", update)
