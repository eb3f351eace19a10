"""Fetching a prescription photo or PDF from the chat platform and storing it.

What the platform says of a file (its MIME type, its size) is the sender's word: a file is
refused early when that word already rules it out, then streamed to the file store with a cap
(never read whole when its size is not known) and kept only if its first bytes show a kind we
keep (``clinic.files.sniff``), under the kind they show.
"""

from __future__ import annotations

from contextlib import aclosing
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit, urlunsplit

from bot.aiohttp_request import AiohttpRequest
from clinic.errors import InvalidInput
from clinic.i18n import N_
from clinic.referrals import ALLOWED_FILE_TYPES, MAX_FILE_BYTES, PrescriptionFile, check_file

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    from telegram import File, Message

    from bot.context import BotContext
    from bot.drafts import StoredFileRef

NOT_A_PRESCRIPTION = N_("Please send a photo (JPEG or PNG) or a PDF of the prescription.")


def _declared(message: Message) -> tuple[str, str, int]:
    """The file id, the type the platform declares and the size it gives (0: not given)."""
    if message.photo:
        largest = max(message.photo, key=lambda p: p.file_size or p.width * p.height)
        return largest.file_id, "image/jpeg", largest.file_size or 0
    if message.document is not None:
        doc = message.document
        return doc.file_id, doc.mime_type or "", doc.file_size or 0
    raise InvalidInput(NOT_A_PRESCRIPTION)


async def _whole(telegram_file: File) -> AsyncGenerator[bytes, None]:
    """Another transport than ours (the offline handler tests): the file in one piece."""
    yield bytes(await telegram_file.download_as_bytearray())


def _chunks(context: BotContext, telegram_file: File) -> AsyncGenerator[bytes, None]:
    """The file's bytes as they arrive, through the bot's own HTTP client where it is ours."""
    request, path = context.bot.request, telegram_file.file_path or ""
    parts = urlsplit(path)
    if isinstance(request, AiohttpRequest) and parts.scheme in ("http", "https"):
        return request.stream(urlunsplit(parts._replace(path=quote(parts.path))))
    return _whole(telegram_file)


async def fetch_prescription(message: Message, context: BotContext) -> StoredFileRef:
    """Download the photo or document and store it, if it is one we keep.

    Returns the stored file's reference as plain data (it goes into the persisted draft).
    Raises InvalidInput for a file that is not a photo or PDF (by what it says, or by its
    first bytes) or one that is too large (by what it says, or as it arrives).
    """
    file_id, declared, size = _declared(message)
    # Refuse before downloading when the platform already tells us the size or type is wrong.
    check_file(PrescriptionFile("pending", declared, size or 1))
    telegram_file = await context.bot.get_file(file_id)
    check_file(PrescriptionFile("pending", declared, size or telegram_file.file_size or 1))
    files, now = context.services.files, context.services.clock.now()
    async with aclosing(_chunks(context, telegram_file)) as chunks:
        upload = await files.save_stream(chunks, now, limit=MAX_FILE_BYTES)
    if upload.too_large:
        check_file(PrescriptionFile("pending", declared, upload.size))  # says how large
    if upload.ref is not None and upload.content_type not in ALLOWED_FILE_TYPES:
        await files.delete(upload.ref)  # a kind the store knows that referrals do not take
    if upload.ref is None or upload.content_type not in ALLOWED_FILE_TYPES:
        raise InvalidInput(NOT_A_PRESCRIPTION)
    return {"ref": upload.ref, "content_type": upload.content_type, "size": upload.size}


def stored_file(stored: StoredFileRef | None) -> PrescriptionFile | None:
    """The draft's stored file as the clinic core's value, or None."""
    if not stored:
        return None
    return PrescriptionFile(stored["ref"], stored["content_type"], stored["size"])
