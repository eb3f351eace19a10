"""Images ready: read Orthanc's /changes feed and turn each StableStudy into a clinic event.

One Orthanc serves one site: ``site`` names it as the site's HIS facility name; empty is the
only site. With several sites and no (or an unknown) name the poller reads nothing and says
so, leaving the changes in Orthanc for when it is set: studies are never given to a guessed
hospital.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import aiohttp

from clinic.errors import InvalidInput
from clinic.hospital import PatientHint, hospital_report_event
from clinic.hospital_inbox import keep_rejected
from clinic.intake_state import cursor_marker, read_cursor, write_cursor
from clinic.reports import Outcome, ReportEvent, parse_accession
from clinic.sites import his_site

if TYPE_CHECKING:
    from collections.abc import Callable

    from clinic.uow import UnitOfWork

log = logging.getLogger(__name__)

SOURCE = "pacs"
STABLE_STUDY = "StableStudy"
MAX_PAGES = 20  # per poll_once, so one call stays bounded when Orthanc has a long backlog


class OrthancError(Exception):
    """Orthanc did not answer usefully (unreachable, refused, 5xx, not JSON); says no more."""


class StudyGone(Exception):
    """The study of a change was deleted from Orthanc before we read it."""


@dataclass(frozen=True)
class Study:
    """What the poller needs of an Orthanc study; the patient id stays out of ``repr``."""

    orthanc_id: str
    accession: str | None
    study_date: str | None
    modality: str | None
    patient_id: str | None = field(repr=False)


@dataclass
class OrthancPoller:
    """Polls Orthanc's change log; the cursor is committed with the event it follows."""

    uow_factory: Callable[[], UnitOfWork]
    session: aiohttp.ClientSession
    base_url: str
    user: str = ""
    password: str = field(default="", repr=False)
    limit: int = 100
    cursor_name: str = "orthanc"
    timeout: float = 10.0
    site: str = ""  # the HIS facility name of the site this Orthanc serves; "": the only one
    backlog: bool = field(default=False, init=False)  # the last poll stopped at MAX_PAGES
    _handled: int = field(default=0, init=False, repr=False)

    async def poll_once(self) -> int:
        """Read the changes after the stored cursor; returns how many StableStudy were handled.

        Orthanc failures are logged (status or exception type only) and leave the cursor where
        it was; nothing but cancellation escapes.
        """
        self._handled, self.backlog = 0, False
        try:
            await self._poll()
        except OrthancError as exc:
            log.warning("orthanc poll failed: %s", exc)
        except Exception as exc:  # a database failure: its text may carry patient data
            log.error("orthanc poll failed: %s", type(exc).__name__)
        return self._handled

    async def run(self, stop: asyncio.Event, every: float) -> None:
        """Poll until ``stop`` is set, waiting ``every`` seconds unless a backlog is left."""
        while not stop.is_set():
            await self.poll_once()
            if not self.backlog:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), every)

    async def _poll(self) -> None:
        async with self.uow_factory() as uow:
            site = await his_site(uow, self.site)
            since = await read_cursor(uow, self.cursor_name) or 0
            marker = await cursor_marker(uow, self.cursor_name)
        if site is None:
            log.warning(
                "orthanc poll skipped: several sites are served and the poller's site (%s) "
                "names none of them; set the PACS's site",
                "unset" if not self.site.strip() else "unknown",
            )
            return
        if since and marker and await self._replaced(since, marker):
            log.warning(
                "orthanc change %d is not the one we read there: its database was replaced; "
                "reading it again from the start",
                since,
            )
            await self._store_cursor(0)
            since = 0
        for _ in range(MAX_PAGES):
            page = await self._get("/changes", since=since, limit=self.limit)
            changes, last, done = _page(page)
            if last < since:
                # Orthanc's sequence numbers only grow; a log behind us is a new database.
                log.warning(
                    "orthanc change log ends at %d, before our cursor %d: "
                    "its database was reset; reading it again from the start",
                    last,
                    since,
                )
                await self._store_cursor(0)
                since = 0
                continue
            for change in changes:
                seq = int(change["Seq"])
                if change.get("ChangeType") == STABLE_STUDY:
                    await self._stable_study(site, str(change["ID"]), seq, change.get("Date"))
                    self._handled += 1
                    since = seq
            if last > since:
                at_last = [c for c in changes if int(c["Seq"]) == last]
                await self._store_cursor(last, _marker(at_last[0]) if at_last else None)
                since = last
            if done:
                return
        self.backlog = True

    async def _stable_study(self, site: int, orthanc_id: str, seq: int, when: Any) -> None:
        try:
            study = await self._study(orthanc_id)
        except StudyGone:
            log.info("orthanc change %d: study %s is gone, skipped", seq, orthanc_id)
            await self._store_cursor(seq)
            return
        async with self.uow_factory() as uow:
            occurred_at = _parse_date(when) or uow.clock.now()
            outcome = await self._record(uow, site, study, seq, occurred_at)
            marker = _marker({"ChangeType": STABLE_STUDY, "ID": orthanc_id, "Date": when})
            await write_cursor(uow, self.cursor_name, seq, marker)
            await uow.commit()
        log.info("orthanc change %d: study %s images ready: %s", seq, orthanc_id, outcome)

    async def _record(
        self, uow: UnitOfWork, site: int, study: Study, seq: int, occurred_at: datetime
    ) -> Outcome | str:
        summary = {"orthanc_study": study.orthanc_id, "seq": seq}
        accession = study.accession or ""
        try:
            parse_accession(accession)
        except InvalidInput:
            reason = (
                "malformed accession number"
                if study.accession
                else "study without accession number"
            )
            # No seq in the kept text: a repeated StableStudy of this study is kept once.
            details = {
                "orthanc_study": study.orthanc_id,
                "study_date": study.study_date,
                "modality": study.modality,
            }
            await keep_rejected(
                uow, SOURCE, reason, json.dumps(details), once=True, site=site or None, kind="json"
            )
            return f"rejected ({reason})"
        when = _parse_study_date(study.study_date)
        return await hospital_report_event(
            uow,
            source=SOURCE,
            accession_number=accession,
            kind=ReportEvent.IMAGES_READY,
            occurred_at=occurred_at,
            hint=PatientHint.of(study.patient_id, study.modality, when),
            payload=summary,
            site=site,
        )

    async def _study(self, orthanc_id: str) -> Study:
        body = _dict(await self._get(f"/studies/{orthanc_id}", gone_ok=True))
        tags = _dict(body.get("MainDicomTags"))
        patient = _dict(body.get("PatientMainDicomTags"))
        modality = _text(tags.get("ModalitiesInStudy"))  # only when Orthanc indexes it
        if modality is None:
            series = await self._get(f"/studies/{orthanc_id}/series", gone_ok=True)
            if not isinstance(series, list):
                raise OrthancError("unexpected series shape")
            found = [_text(_dict(_dict(s).get("MainDicomTags")).get("Modality")) for s in series]
            modality = "\\".join(m for m in found if m) or None
        return Study(
            orthanc_id=orthanc_id,
            accession=_text(tags.get("AccessionNumber")),
            study_date=_text(tags.get("StudyDate")),
            modality=modality,
            patient_id=_text(patient.get("PatientID")),
        )

    async def _get(self, path: str, *, gone_ok: bool = False, **params: int) -> Any:
        url = self.base_url.rstrip("/") + path
        try:
            async with self.session.get(
                url,
                params=params or None,
                headers=self._headers(),
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as response:
                if response.status == 404 and gone_ok:
                    raise StudyGone()
                if response.status != 200:
                    raise OrthancError(f"GET {_route(path)} answered HTTP {response.status}")
                return await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise OrthancError(f"GET {_route(path)}: {type(exc).__name__}") from None

    def _headers(self) -> dict[str, str]:
        if not self.user:
            return {}
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode("ascii")
        return {"Authorization": f"Basic {token}"}

    async def _store_cursor(self, value: int, marker: str | None = None) -> None:
        async with self.uow_factory() as uow:
            await write_cursor(uow, self.cursor_name, value, marker)
            await uow.commit()

    async def _replaced(self, since: int, marker: str) -> bool:
        """Whether Orthanc's change ``since`` is no longer the one we read there: a replaced
        database that has already reached our cursor. A change that is gone (the log was
        cleared) proves nothing and is not a replacement."""
        changes, _last, _done = _page(await self._get("/changes", since=since - 1, limit=1))
        at = [c for c in changes if int(c["Seq"]) == since]
        return bool(at) and _marker(at[0]) != marker


def _marker(change: dict[str, Any]) -> str:
    """What identifies one change: its type, the Orthanc resource and when it was logged (the
    same patient's changes recur at the same numbers in a new database, but not at the same
    second)."""
    return f"{change.get('ChangeType')}:{change.get('ID')}:{change.get('Date')}"[:120]


def _page(body: Any) -> tuple[list[dict[str, Any]], int, bool]:
    """Changes, Last and Done of a /changes answer; OrthancError when it is not one."""
    try:
        changes = [c for c in body["Changes"] if isinstance(c, dict)]
        for change in changes:
            int(change["Seq"])
            str(change["ID"])
        return changes, int(body["Last"]), bool(body["Done"])
    except (KeyError, TypeError, ValueError) as exc:
        raise OrthancError(f"unexpected /changes shape ({type(exc).__name__})") from None


def _route(path: str) -> str:
    """The path without its Orthanc id, for logs."""
    return "/studies/…" if path.startswith("/studies/") else path


def _dict(value: Any) -> dict[str, Any]:
    """A JSON object, or empty when Orthanc left it out."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise OrthancError("unexpected study shape")
    return value


def _text(value: Any) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def _parse_date(raw: Any) -> datetime | None:
    """Orthanc's change ``Date`` (UTC, ``20261125T201750``)."""
    if not isinstance(raw, str):
        return None
    try:
        return datetime.strptime(raw, "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def _parse_study_date(raw: str | None) -> date | None:
    """DICOM StudyDate ``YYYYMMDD`` (the hospital's local day)."""
    if not raw or len(raw) != 8 or not raw.isascii() or not raw.isdigit():
        return None
    try:
        return date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
    except ValueError:
        return None
