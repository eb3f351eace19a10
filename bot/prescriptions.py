"""Fetching a prescription photo or PDF from the chat platform and storing it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from clinic.errors import InvalidInput
from clinic.i18n import N_
from clinic.referrals import PrescriptionFile, check_file

if TYPE_CHECKING:
    from telegram import Message

    from bot.context import BotContext
    from bot.drafts import StoredFileRef

NOT_A_PRESCRIPTION = N_("Please send a photo (JPEG or PNG) or a PDF of the prescription.")


async def fetch_prescription(message: Message, context: BotContext) -> StoredFileRef:
    """Download the photo or document (checking type and size first) and store it.

    Returns the stored file's reference as plain data (it goes into the persisted draft).
    Raises InvalidInput for a wrong type or a file that is too large.
    """
    if message.photo:
        largest = max(message.photo, key=lambda p: p.file_size or p.width * p.height)
        file_id, content_type, size = largest.file_id, "image/jpeg", largest.file_size or 0
    elif message.document is not None:
        doc = message.document
        file_id, content_type, size = doc.file_id, doc.mime_type or "", doc.file_size or 0
    else:
        raise InvalidInput(NOT_A_PRESCRIPTION)
    # Refuse before downloading when the platform already tells us the size or type is wrong.
    check_file(PrescriptionFile("pending", content_type, size or 1))
    telegram_file = await context.bot.get_file(file_id)
    data = bytes(await telegram_file.download_as_bytearray())
    check_file(PrescriptionFile("pending", content_type, len(data)))
    ref = await context.services.files.save(data, content_type, context.services.clock.now())
    return {"ref": ref, "content_type": content_type, "size": len(data)}


def stored_file(stored: StoredFileRef | None) -> PrescriptionFile | None:
    """The draft's stored file as the clinic core's value, or None."""
    if not stored:
        return None
    return PrescriptionFile(stored["ref"], stored["content_type"], stored["size"])
