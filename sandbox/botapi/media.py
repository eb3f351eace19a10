"""File methods: sendPhoto and sendDocument (upload or file_id) and getFile."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import errors
from .calls import Call, spec
from .chats import reply_markup, store_bot_message, target_chat
from .errors import bad_request
from .files import StoredFile, image_size
from .formatting import check_length
from .messages import parsed_text, with_entities
from .params import Upload

if TYPE_CHECKING:
    from .world import JSON

_MAX_DOWNLOAD = 20 * 1024 * 1024


def _caption(call: Call) -> JSON:
    caption, entities = parsed_text(call, "caption", "caption_entities")
    if not caption:
        return {}
    check_length(caption, call.world.caps.max_caption_length, bad_request(errors.CAPTION_TOO_LONG))
    return with_entities("caption", caption, entities)


def _input_file(call: Call, name: str) -> Upload | StoredFile:
    value = call.params.get_file(name)
    if value is None:
        raise bad_request(f"there is no {name} in the request")
    if isinstance(value, Upload):
        if not value.data:
            raise bad_request(errors.FILE_EMPTY)
        return value
    stored = call.world.files.by_id(value)
    if stored is None:
        # URLs would make Telegram fetch from the internet; the sandbox stays on loopback.
        raise bad_request(errors.WRONG_FILE)
    return stored


async def send_photo(call: Call) -> JSON:
    """sendPhoto: the image must be a PNG, JPEG or GIF whose size can be read."""
    chat = target_chat(call)
    source = _input_file(call, "photo")
    caption = _caption(call)
    markup = reply_markup(call)
    if isinstance(source, Upload):
        data, mime_type = source.data, source.content_type or "image/jpeg"
    else:
        data, mime_type = source.data, source.mime_type
    size = image_size(data)
    if size is None:
        raise bad_request(errors.IMAGE_FAILED)
    photo = call.world.files.photo_sizes(data, mime_type, *size)
    content = {"photo": photo, **caption}
    return store_bot_message(
        call, chat, content, source=call.params.get_str("caption"), markup=markup
    ).data


def document_json(stored: StoredFile) -> JSON:
    """The Document object of a stored file."""
    document: JSON = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
        "mime_type": stored.mime_type,
    }
    if stored.file_name is not None:
        document["file_name"] = stored.file_name
    return document


async def send_document(call: Call) -> JSON:
    """sendDocument: stores uploaded bytes under a new file_id the recipient can download."""
    chat = target_chat(call)
    source = _input_file(call, "document")
    caption = _caption(call)
    markup = reply_markup(call)
    if isinstance(source, Upload):
        mime_type = source.content_type or "application/octet-stream"
        source = call.world.files.add(
            source.data, mime_type, folder="documents", file_name=source.filename
        )
    content = {"document": document_json(source), **caption}
    return store_bot_message(
        call, chat, content, source=call.params.get_str("caption"), markup=markup
    ).data


async def get_file(call: Call) -> JSON:
    """getFile: file_path is relative; PTB prefixes it with base_file_url."""
    stored = call.world.files.by_id(call.params.require_str("file_id"))
    if stored is None:
        raise bad_request(errors.INVALID_FILE_ID)
    if len(stored.data) > _MAX_DOWNLOAD:
        raise bad_request("file is too big")
    return stored.file_json()


_SEND = (
    "chat_id reply_markup reply_parameters disable_notification protect_content "
    "message_thread_id allow_paid_broadcast message_effect_id business_connection_id "
    "caption parse_mode caption_entities"
)

METHODS = [
    spec(
        "sendPhoto",
        f"{_SEND} photo show_caption_above_media has_spoiler",
        send_photo,
        sends=True,
    ),
    spec(
        "sendDocument",
        f"{_SEND} document thumbnail disable_content_type_detection",
        send_document,
        sends=True,
    ),
    spec("getFile", "file_id", get_file),
]
