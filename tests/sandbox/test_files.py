"""Files both ways: a user's photo downloaded by the bot, uploads the user then sees."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import pytest
from telegram import Bot, InputFile

from .conftest import png

if TYPE_CHECKING:
    from sandbox.botapi import BotApiSandbox


async def test_bot_downloads_a_users_photo(sandbox: BotApiSandbox, bot: Bot) -> None:
    sandbox.create_user(1001)
    image = png(1280, 720)
    sandbox.send_photo(1001, image, mime_type="image/png")
    (update,) = await bot.get_updates()
    assert update.message is not None
    largest = update.message.photo[-1]
    assert (largest.width, largest.height, largest.file_size) == (1280, 720, len(image))
    assert [size.width for size in update.message.photo] == [90, 320, 800, 1280]
    file = await largest.get_file()
    assert file.file_path is not None
    assert file.file_path.startswith(f"{sandbox.base_file_url}{bot.token}/photos/")
    buffer = io.BytesIO()
    await file.download_to_memory(buffer)
    assert buffer.getvalue() == image


async def test_download_to_memory_of_a_document(sandbox: BotApiSandbox, bot: Bot) -> None:
    sandbox.create_user(1001)
    sandbox.send_document(
        1001, b"%PDF-1.4 referral", file_name="ref.pdf", mime_type="application/pdf"
    )
    (update,) = await bot.get_updates()
    assert update.message is not None and update.message.document is not None
    file = await update.message.document.get_file()
    buffer = io.BytesIO()
    await file.download_to_memory(buffer)
    assert buffer.getvalue() == b"%PDF-1.4 referral"


async def test_send_document_upload_is_seen_and_reusable(sandbox: BotApiSandbox, bot: Bot) -> None:
    sandbox.create_user(1001)
    data = "راهنمای آمادگی".encode()
    sent = await bot.send_document(
        1001, InputFile(data, filename="prep.txt"), caption="<b>آمادگی</b>", parse_mode="HTML"
    )
    assert sent.document is not None and sent.document.file_name == "prep.txt"
    assert sent.document.mime_type == "text/plain"
    assert sent.caption == "آمادگی" and sent.caption_entities[0].type == "bold"
    seen = sandbox.last_message(1001)
    assert seen is not None and seen.data["document"]["file_size"] == len(data)
    again = await bot.send_document(1001, sent.document.file_id)
    assert again.document is not None and again.document.file_id == sent.document.file_id
    downloaded = await (await bot.get_file(sent.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == data


async def test_send_photo_needs_a_real_image(sandbox: BotApiSandbox, bot: Bot) -> None:
    from telegram.error import BadRequest

    sandbox.create_user(1001)
    sent = await bot.send_photo(1001, png(64, 32), caption="map")
    assert (sent.photo[-1].width, sent.photo[-1].height) == (64, 32)
    with pytest.raises(BadRequest, match=r"(?i)image_process_failed"):
        await bot.send_photo(1001, b"not an image")
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.send_photo(1001, png(8, 8), caption="x" * 1025)
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_photo(1001, "https://example.com/a.png")
    with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
        await bot.get_file("nope")
