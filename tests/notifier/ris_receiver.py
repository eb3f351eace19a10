"""A RIS for the tests: a real MLLP receiver built on the ``hl7`` package's asyncio MLLP
streams (not our listener), which checks each message's structure with hl7apy's v2.5.1
validator and answers as it is told to (AA, AE, AR, late, or by dropping the connection)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import hl7
from hl7.mllp import start_hl7_server
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message
from hl7apy.validation import Validator

from tests.notifier.test_orm import obr_chosen

if TYPE_CHECKING:
    from hl7.mllp import HL7StreamReader, HL7StreamWriter


@dataclass(frozen=True)
class Received:
    """One message the RIS took in, as it read it."""

    control_id: str
    trigger: str  # S12, S14, S15, S26, O01
    placer_id: str  # SCH-1.1 (SIU) or ORC-2.1 (ORM): our booking code
    national_code: str  # PID-3.1
    family_name: str  # PID-5.1
    filler_status: str  # SCH-25 (SIU), ORC-5 (ORM)
    valid: bool  # hl7apy STRICT parse and validate passed


@dataclass
class Ris:
    """The receiver: ``answers`` is a script, one entry per message in the order they come
    ("AA", "AE 207", "AR 101", "late", "drop", "half"); when it runs out every message gets
    AA."""

    answers: list[str] = field(default_factory=list)
    late_seconds: float = 2.0
    received: list[Received] = field(default_factory=list)
    connections: int = 0
    port: int = 0
    _server: asyncio.Server | None = None

    async def start(self, port: int = 0) -> Ris:
        self._server = await start_hl7_server(self._client, "127.0.0.1", port, encoding="utf-8")
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None

    async def _client(self, reader: HL7StreamReader, writer: HL7StreamWriter) -> None:
        self.connections += 1
        try:
            while not reader.at_eof():
                block = await reader.readblock()
                text = block.decode("utf-8")
                message = hl7.parse(text)
                self.received.append(_read(message, text))
                answer = self.answers.pop(0) if self.answers else "AA"
                if answer == "drop":
                    writer.close()
                    return
                if answer == "half":  # half an ACK, then the connection drops
                    ack = _frame(_ack(message, "AA", ""))
                    writer.write(ack[: len(ack) // 2])
                    await writer.drain()
                    writer.close()
                    return
                if answer == "late":
                    await asyncio.sleep(self.late_seconds)
                    answer = "AA"
                code, _, error = answer.partition(" ")
                writer.write(_frame(_ack(message, code, error)))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()

    def triggers(self) -> list[tuple[str, str]]:
        """(trigger, placer id) of each message received, in order."""
        return [(r.trigger, r.placer_id) for r in self.received]


def _frame(payload: bytes) -> bytes:
    return b"\x0b" + payload + b"\x1c\x0d"


def _ack(message: hl7.Message, code: str, error: str) -> bytes:
    control = str(message.segment("MSH")[10])
    segments = [
        f"MSH|^~\\&|RIS|HOSPITAL|RADYAR|RADYAR|20261201090000||ACK|A{control}|P|2.5.1",
        f"MSA|{code}|{control}|{'' if code == 'AA' else 'refused by the test RIS'}",
    ]
    if error:
        segments.append(f"ERR|||{error}^test error^HL70357|E")
    return "\r".join(segments).encode("utf-8")


def _read(message: hl7.Message, text: str) -> Received:
    msh = message.segment("MSH")
    trigger = str(msh[9][0][1])
    pid = message.segment("PID")
    if trigger == "O01":
        orc = message.segment("ORC")
        placer, status = str(orc[2][0][0]), str(orc[5])
    else:
        sch = message.segment("SCH")
        placer, status = str(sch[1][0][0]), str(sch[25])
    try:
        parsed = parse_message(text, validation_level=VALIDATION_LEVEL.STRICT)
        if trigger == "O01":  # hl7apy cannot validate an ORM_O01 with an OBR as it is
            valid = Validator.validate(parsed, reference=obr_chosen(parsed.reference))
        else:
            valid = parsed.validate()
    except Exception:  # any hl7apy complaint: the message is not valid v2.5.1
        valid = False
    return Received(
        control_id=str(msh[10]), trigger=trigger, placer_id=placer,
        national_code=str(pid[3][0][0]), family_name=str(pid[5][0][0]),
        filler_status=status, valid=valid,
    )  # fmt: skip
