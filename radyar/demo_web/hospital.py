"""The visitor acting as the hospital: the RIS's report as HL7 v2 over MLLP, the HIS's signed
webhook, and a modality's images stored in Orthanc, each to the product's own listener."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from clinic import sites
from clinic.jalali import format_time, to_tehran
from clinic.worklist import WorklistEntry, worklist
from notifier.his_webhook import PATH, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from notifier.mllp import send_mllp
from radyar.demo_web.orthanc import StudyFacts, dicom_instance, store

if TYPE_CHECKING:
    import aiohttp

    from radyar.app import App
    from radyar.demo_web.orthanc import Orthanc

ORU = (
    "MSH|^~\\&|RIS|{facility}|RADYAR|HOSPITAL|{now}||ORU^R01^ORU_R01|{control}|P|2.5.1\r"
    "PID|1||{national_code}^^^IRN^NNIRN\r"
    "OBR|1|||{exam}|||{now}|||||||||||{accession}||||{now}||{modality}|{status}\r"
    "OBX|1|TX|18782-3^Radiology Study observation^LN||(the radiologist's report)||||||{status}\r"
)


@dataclass(frozen=True)
class Admitted:
    """An admitted booking of today the visitor can send the hospital's news of."""

    accession: str
    booking_code: str
    patient: str
    exam: str
    time: str  # Tehran, Persian digits

    def to_json(self) -> dict[str, str]:
        """For the page."""
        return {
            "accession": self.accession,
            "booking_code": self.booking_code,
            "patient": self.patient,
            "exam": self.exam,
            "time": self.time,
        }


@dataclass
class Hospital:
    """The hospital's systems, talking to the demo's listeners on loopback."""

    app: App
    session: aiohttp.ClientSession
    orthanc: Orthanc | None = None
    # Every admitted booking seen so far: once its images are in, the worklist drops it, and
    # the report still comes after.
    seen: dict[str, WorklistEntry] = field(default_factory=dict)

    def _today(self) -> date:
        return to_tehran(self.app.clock.now()).date()

    async def admitted(self) -> list[Admitted]:
        """The admitted bookings of yesterday and today (as the modality worklist lists them),
        and those seen before that are done since: what the RIS reports on."""
        entries = await self._entries()
        return [
            Admitted(
                e.accession, e.booking_code, f"{e.first_name} {e.last_name}", e.exam_name,
                format_time(e.starts_at, "fa"),
            )
            for e in entries
        ]  # fmt: skip

    async def _entries(self) -> list[WorklistEntry]:
        async with self.app.uow().reading() as uow:
            listed = await worklist(uow, self._today() - timedelta(days=1), days=2)
        self.seen.update((e.accession, e) for e in listed)
        return sorted(self.seen.values(), key=lambda e: (e.starts_at, e.booking_code))

    async def _entry(self, accession: str) -> WorklistEntry | None:
        await self._entries()
        return self.seen.get(accession)

    async def _facility(self) -> str:
        async with self.app.uow().reading() as uow:
            found = await sites.all_sites(uow)
        return found[0].his_facility if found else ""

    async def send_report(self, accession: str, *, corrected: bool = False) -> str:
        """The RIS's ORU^R01 (final, or corrected) over MLLP; the MSA segment of the answer."""
        entry = await self._entry(accession)
        now = to_tehran(self.app.clock.now()).strftime("%Y%m%d%H%M%S%z")
        message = ORU.format(
            facility=await self._facility(),
            now=now,
            control=f"DEMO{secrets.randbelow(10**9):09d}",
            national_code=entry.national_code if entry else "",
            exam=f"{entry.exam_code}^{entry.exam_name}" if entry else "",
            accession=accession,
            modality=entry.modality if entry else "",
            status="C" if corrected else "F",
        )
        hospital = self.app.settings.hospital
        ack = await send_mllp(hospital.mllp_host, hospital.mllp_port, message.encode())
        text = ack.decode("utf-8", "replace")
        return next((s for s in text.split("\r") if s.startswith("MSA")), text)

    async def post_webhook(self, accession: str, *, corrected: bool = False) -> tuple[int, str]:
        """The HIS's report event, signed with the shared secret; the HTTP status and body."""
        settings = self.app.settings
        body = json.dumps(
            {
                "accession_number": accession,
                "status": "corrected" if corrected else "final",
                "time": to_tehran(self.app.clock.now()).isoformat(),
                "site": await self._facility(),
            }
        ).encode()
        stamp = int(self.app.clock.now().timestamp())  # the product checks it by its clock
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(stamp),
            SIGNATURE_HEADER: sign(
                settings.hospital.webhook_secret.reveal().encode(), stamp, body
            ),
        }
        url = f"http://{settings.http_host}:{settings.http_port}{PATH}"
        async with self.session.post(url, data=body, headers=headers) as response:
            return response.status, await response.text()

    async def images_ready(self, accession: str) -> str:
        """The modality stores the exam's images in Orthanc; the product's poller sees the
        study become stable. Raises LookupError (no such admitted booking), RuntimeError (no
        Orthanc in this demo)."""
        if self.orthanc is None:
            raise RuntimeError("Orthanc is not installed")
        entry = await self._entry(accession)
        if entry is None:
            raise LookupError(accession)
        facts = StudyFacts(
            accession, entry.national_code, entry.modality, to_tehran(self.app.clock.now())
        )
        return await store(self.session, self.orthanc, dicom_instance(facts))
