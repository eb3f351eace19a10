"""A prescription sent in the chat is kept by what its bytes are, not by what the sender's app
says it is (L4): a web page declared as a PDF is refused and nothing of it stays on disk; a
file whose size the platform does not say is read with a cap, never whole."""

from __future__ import annotations

from contextlib import aclosing
from typing import TYPE_CHECKING

import pytest
from aiohttp import web

from bot.aiohttp_request import AiohttpRequest
from bot.conversations import request as req
from bot.keyboards import NEW_REQUEST
from bot.prescriptions import NOT_A_PRESCRIPTION
from bot.views import MODALITY_NAMES
from clinic.clock import SystemClock
from clinic.files import FileStore
from clinic.models import Platform
from clinic.patients import link_chat_account
from clinic.referrals import MAX_FILE_BYTES
from tests.bot.harness import Chat, Harness, assert_calm
from tests.factories import add_patient

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

CT_BRAIN = "سی‌تی‌اسکن مغز بدون تزریق"
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"
PDF = b"%PDF-1.4\n" + b"0" * 100


@pytest.fixture(autouse=True)
def _calm(harness: Harness, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    assert_calm(harness, caplog)


def _stored(harness: Harness) -> list[Path]:
    return [p for p in harness.files.rglob("*") if p.is_file()]


async def _at_the_prescription(harness: Harness, user_id: int, n: int) -> Chat:
    """A registered patient on their own Telegram account, at «send the prescription»."""
    async with harness.env.uow() as uow:
        pid = await add_patient(uow, n)
        await link_chat_account(uow, pid, Platform.TELEGRAM, user_id, user_id)
        await uow.commit()
    chat = harness.user(user_id)
    await chat.tap(NEW_REQUEST)
    await chat.press_msgid(MODALITY_NAMES["CT"])
    await chat.press(CT_BRAIN)
    assert chat.last_text() == chat._(req.ASK_SOURCE)
    return chat


async def test_a_web_page_declared_as_a_pdf_is_refused_and_not_kept(harness: Harness) -> None:
    chat = await _at_the_prescription(harness, 3101, 1)
    await chat.document(HTML, "nosakhe.pdf", "application/pdf")
    assert chat._(NOT_A_PRESCRIPTION) in chat.last_text()
    assert _stored(harness) == []  # what was written of it is gone
    await chat.document(b"", "empty.pdf", "application/pdf")
    assert chat._(NOT_A_PRESCRIPTION) in chat.last_text()
    # A real PDF (and a photo sent as a file, declared as something else) goes on.
    await chat.document(PDF, "nosakhe.pdf", "application/pdf")
    assert chat.last_text() == chat._(req.ASK_INSURER)
    [kept] = _stored(harness)
    assert kept.suffix == ".pdf" and kept.read_bytes() == PDF


async def test_a_photo_sent_as_a_file_is_kept_as_what_it_is(harness: Harness) -> None:
    chat = await _at_the_prescription(harness, 3102, 2)
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 2048
    await chat.document(jpeg, "scan.pdf", "application/pdf")
    assert chat.last_text() == chat._(req.ASK_INSURER)
    [kept] = _stored(harness)
    assert kept.suffix == ".jpg" and kept.read_bytes() == jpeg


async def test_a_file_of_no_stated_size_is_checked_by_what_the_platform_says_later(
    harness: Harness,
) -> None:
    chat = await _at_the_prescription(harness, 3103, 3)
    sandbox = harness.sandbox
    big = b"%PDF-1.4\n" + b"0" * MAX_FILE_BYTES
    stored = sandbox.world.files.add(big, "application/pdf", folder="documents")
    document = {  # no file_size, as some clients send it
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_name": "big.pdf",
        "mime_type": "application/pdf",
    }
    await chat._act(lambda: sandbox._send(chat.user_id, {"document": document}, None))
    assert chat._("The file must be smaller than {mb} MB.").format(mb="۱۰") in chat.last_text()
    assert _stored(harness) == []


async def test_a_download_of_unknown_size_stops_at_the_cap(tmp_path: Path) -> None:
    """Against a server that sends 40 MB with no length: about the cap is read, then the
    download is dropped and nothing is left on disk."""
    piece, pieces = b"%PDF-" + b"0" * (1024 * 1024 - 5), 40
    sent: list[int] = []

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            for _ in range(pieces):
                await response.write(piece)
                sent.append(len(piece))
        except (ConnectionResetError, RuntimeError):
            pass  # the client went away
        return response

    app = web.Application()
    app.router.add_get("/file", endless)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    request = AiohttpRequest()
    await request.initialize()
    files = FileStore(tmp_path / "files")
    try:
        async with aclosing(request.stream(f"http://127.0.0.1:{port}/file")) as chunks:
            upload = await files.save_stream(chunks, SystemClock().now(), limit=MAX_FILE_BYTES)
    finally:
        await request.shutdown()
        await runner.cleanup()
    assert upload.too_large and upload.ref is None
    assert MAX_FILE_BYTES < upload.size <= MAX_FILE_BYTES + 1024 * 1024
    assert sum(sent) < pieces * len(piece) // 2  # the server was not read to the end
    assert [p for p in (tmp_path / "files").rglob("*") if p.is_file()] == []
