"""Acting as a user: messages, media, contacts, commands, button presses and blocking."""

from __future__ import annotations

import copy
import re

from .files import image_size
from .formatting import utf16_len
from .world import JSON, BotState, Chat, SimUser, StoredMessage, World

_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?")
_DEFAULT_PHOTO = (1280, 960)


class UserActions:
    """User-side actions; each queues the update Telegram would send and returns its payload."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._callback_counter = 0

    def _bot(self, token: str | None) -> BotState:
        if token is None:
            if not self.world.bots:
                raise LookupError("no bot registered; call add_bot(token) first")
            return next(iter(self.world.bots.values()))
        try:
            return self.world.bots[token]
        except KeyError:
            raise LookupError("unknown bot token") from None

    def _user(self, user_id: int) -> SimUser:
        try:
            return self.world.users[user_id]
        except KeyError:
            raise LookupError(f"unknown user {user_id}; call create_user first") from None

    def _chat(self, bot: BotState, chat_id: int) -> Chat:
        chat = self.world.chat(bot, chat_id)
        if chat is None:
            raise LookupError(f"unknown chat {chat_id}")
        return chat

    def _send(
        self, user_id: int, content: JSON, token: str | None, group_id: int | None = None
    ) -> JSON:
        bot, user = self._bot(token), self._user(user_id)
        chat = self._chat(bot, user_id if group_id is None else group_id)
        if chat.blocked:
            raise RuntimeError(f"user {user_id} blocked the bot; unblock first")
        chat.started = True
        data: JSON = {
            "message_id": chat.new_message_id(),
            "from": user.to_json(),
            "chat": chat.to_json(),
            "date": self.world.now(),
            **content,
        }
        chat.messages[data["message_id"]] = StoredMessage(data=data, from_bot=False)
        bot.enqueue("message", data)
        return data

    def send_text(
        self,
        user_id: int,
        text: str,
        *,
        token: str | None = None,
        group_id: int | None = None,
        forward_from: int | None = None,
        forward_sender_name: str | None = None,
        reply_to: int | None = None,
    ) -> JSON:
        """Send text; a leading /command gets its bot_command entity, as Telegram adds it."""
        content: JSON = {"text": text}
        match = _COMMAND.match(text)
        if match:
            length = utf16_len(match.group(0))
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        if forward_from is not None:
            origin = {"type": "user", "sender_user": self._user(forward_from).to_json()}
            content["forward_origin"] = {**origin, "date": self.world.now() - 60}
        elif forward_sender_name is not None:
            origin = {"type": "hidden_user", "sender_user_name": forward_sender_name}
            content["forward_origin"] = {**origin, "date": self.world.now() - 60}
        if reply_to is not None:
            chat = self._chat(self._bot(token), user_id if group_id is None else group_id)
            content["reply_to_message"] = chat.messages[reply_to].data
        return self._send(user_id, content, token, group_id)

    def send_command(
        self,
        user_id: int,
        command: str,
        payload: str | None = None,
        *,
        token: str | None = None,
        group_id: int | None = None,
    ) -> JSON:
        """Send ``/command payload`` (``send_command(uid, "start", "abc")`` is a deep link)."""
        text = "/" + command.lstrip("/") + (f" {payload}" if payload else "")
        return self.send_text(user_id, text, token=token, group_id=group_id)

    def edit_text(
        self, user_id: int, message_id: int, text: str, *, token: str | None = None
    ) -> JSON:
        """Edit one of the user's own text messages: an edited_message update."""
        bot = self._bot(token)
        stored = self._chat(bot, user_id).messages.get(message_id)
        if stored is None or stored.from_bot or "text" not in stored.data:
            raise LookupError(f"user {user_id} has no text message {message_id}")
        stored.history.append(copy.deepcopy(stored.data))
        stored.data.update(text=text, edit_date=self.world.now())
        bot.enqueue("edited_message", stored.data)
        return stored.data

    def send_contact(
        self,
        user_id: int,
        phone_number: str | None = None,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        contact_user_id: int | None = None,
        token: str | None = None,
    ) -> JSON:
        """Share a contact; without phone_number the user's own, with user_id as Telegram sets."""
        user = self._user(user_id)
        if phone_number is None:
            if user.phone_number is None:
                raise ValueError(f"user {user_id} has no phone_number to share")
            phone_number, first_name, contact_user_id = (
                user.phone_number,
                user.first_name,
                user.id,
            )
            last_name = user.last_name
        contact: JSON = {"phone_number": phone_number, "first_name": first_name or "Contact"}
        if last_name is not None:
            contact["last_name"] = last_name
        if contact_user_id is not None:
            contact["user_id"] = contact_user_id
        return self._send(user_id, {"contact": contact}, token)

    def send_photo(
        self,
        user_id: int,
        data: bytes,
        *,
        caption: str | None = None,
        mime_type: str = "image/jpeg",
        width: int | None = None,
        height: int | None = None,
        token: str | None = None,
    ) -> JSON:
        """Send a photo; its sizes can be fetched with getFile and downloaded."""
        size = (width, height) if width and height else image_size(data) or _DEFAULT_PHOTO
        content: JSON = {"photo": self.world.files.photo_sizes(data, mime_type, *size)}
        if caption:
            content["caption"] = caption
        return self._send(user_id, content, token)

    def send_document(
        self,
        user_id: int,
        data: bytes,
        *,
        file_name: str,
        mime_type: str,
        caption: str | None = None,
        token: str | None = None,
    ) -> JSON:
        """Send a document (a PDF referral, say)."""
        stored = self.world.files.add(data, mime_type, folder="documents", file_name=file_name)
        document = {
            "file_name": file_name,
            "mime_type": mime_type,
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(data),
        }
        content: JSON = {"document": document}
        if caption:
            content["caption"] = caption
        return self._send(user_id, content, token)

    def send_sticker(self, user_id: int, *, emoji: str = "👍", token: str | None = None) -> JSON:
        """Send a (static, regular) sticker."""
        stored = self.world.files.add(b"RIFF\x00\x00\x00\x00WEBP", "image/webp", folder="stickers")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": len(stored.data),
        }
        return self._send(user_id, {"sticker": sticker}, token)

    def send_voice(
        self,
        user_id: int,
        data: bytes = b"OggS\x00voice",
        *,
        duration: int = 2,
        token: str | None = None,
    ) -> JSON:
        """Send a voice note (audio/ogg)."""
        stored = self.world.files.add(data, "audio/ogg", folder="voice")
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(data),
        }
        return self._send(user_id, {"voice": voice}, token)

    def send_location(
        self, user_id: int, latitude: float, longitude: float, *, token: str | None = None
    ) -> JSON:
        """Send a location pin."""
        location = {"latitude": latitude, "longitude": longitude}
        return self._send(user_id, {"location": location}, token)
