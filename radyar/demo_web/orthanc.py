"""A real Orthanc for the demo, when Debian's package is installed: on a free loopback port,
storing in the demo's folder, so "images ready" goes through the product's poller."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import logging
import secrets
import socket
import subprocess
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from datetime import datetime

log = logging.getLogger(__name__)
BINARY = Path("/usr/sbin/Orthanc")
USER = "radyar"
START_SECONDS = 30.0


@dataclass(frozen=True)
class Orthanc:
    """Where the demo's Orthanc answers, and how to log in."""

    url: str
    user: str
    password: str = field(repr=False)

    def auth(self) -> dict[str, str]:
        """Its HTTP basic credentials, as a header."""
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode("ascii")
        return {"Authorization": f"Basic {token}"}


def installed() -> bool:
    """Whether Orthanc can be started here."""
    return BINARY.exists()


def free_port() -> int:
    """A TCP port nobody listens on right now (Orthanc 1.10 binds every interface)."""
    with socket.socket() as probe:
        probe.bind(("0.0.0.0", 0))  # only probing which port is free
        port: int = probe.getsockname()[1]
        return port


def write_config(
    folder: Path, port: int, password: str, *, name: str = "RadyarDemo", stable_age: int = 2
) -> Path:
    """No plugin, no Lua, no DICOM listener, a password, and requests from 127.0.0.1 only
    (1.10 has no bind-address option; RemoteAccessAllowed false refuses everyone else); a
    study is stable ``stable_age`` seconds after its last image. The tests' Orthanc too."""
    storage = folder / "storage"
    storage.mkdir(parents=True, exist_ok=True)
    (folder / "logs").mkdir(exist_ok=True)
    config = {
        "Name": name,
        "StorageDirectory": str(storage),
        "IndexDirectory": str(storage),
        "HttpServerEnabled": True,
        "HttpPort": port,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": True,
        "RegisteredUsers": {USER: password},
        "DicomServerEnabled": False,
        "DicomPort": free_port(),
        "StableAge": stable_age,
        "Plugins": [],
        "LuaScripts": [],
        "OrthancExplorerEnabled": False,
        "WebDavEnabled": False,
        "HttpTimeout": 5,
    }
    path = folder / "orthanc.json"
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    return path


async def _answers(session: aiohttp.ClientSession, server: Orthanc) -> bool:
    try:
        async with session.get(f"{server.url}/system", headers=server.auth()) as response:
            return response.status == 200
    except (aiohttp.ClientError, OSError, TimeoutError):
        return False


async def _started(process: subprocess.Popen[bytes], server: Orthanc) -> None:
    """Until Orthanc answers; RuntimeError if it stops, TimeoutError after START_SECONDS."""
    timeout = aiohttp.ClientTimeout(total=2)
    async with aiohttp.ClientSession(timeout=timeout) as session, asyncio.timeout(START_SECONDS):
        while not await _answers(session, server):
            if process.poll() is not None:
                raise RuntimeError("Orthanc stopped at start; see its log in the demo folder")
            await asyncio.sleep(0.2)


@asynccontextmanager
async def running_orthanc(folder: Path) -> AsyncIterator[Orthanc]:
    """Start Orthanc storing in ``folder``; stop it (and wait for it) on exit. Raises
    RuntimeError when it does not answer within START_SECONDS."""
    port = free_port()
    server = Orthanc(f"http://127.0.0.1:{port}", USER, secrets.token_urlsafe(12))
    config = write_config(folder, port, server.password)
    process = subprocess.Popen(  # noqa: ASYNC220 - starting it does not block; waits are async
        [str(BINARY), f"--logdir={folder / 'logs'}", str(config)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        try:
            await _started(process, server)
        except TimeoutError:
            raise RuntimeError(f"Orthanc did not answer within {START_SECONDS:g} s") from None
        log.info("demo Orthanc answers on %s", server.url)
        yield server
    finally:
        process.terminate()
        try:
            await asyncio.to_thread(process.wait, 30)
        except subprocess.TimeoutExpired:
            process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                await asyncio.to_thread(process.wait, 5)


@dataclass(frozen=True)
class StudyFacts:
    """What the modality writes into the images the poller reads."""

    accession: str
    national_code: str
    modality: str
    taken_at: datetime  # Tehran time


def dicom_instance(facts: StudyFacts) -> bytes:
    """One small valid DICOM image (8×8 secondary capture) of a new study."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.PatientID = facts.national_code
    ds.PatientName = "DEMO^PATIENT"
    ds.AccessionNumber = facts.accession
    ds.Modality = facts.modality
    ds.StudyDate = facts.taken_at.strftime("%Y%m%d")
    ds.StudyTime = facts.taken_at.strftime("%H%M%S")
    ds.SeriesNumber = ds.InstanceNumber = 1
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = ds.Columns = 8
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.PixelData = bytes(64)
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


async def store(session: aiohttp.ClientSession, server: Orthanc, data: bytes) -> str:
    """POST /instances as a modality's images arrive; Orthanc's answer ("Success")."""
    async with session.post(f"{server.url}/instances", data=data, headers=server.auth()) as r:
        r.raise_for_status()
        body = await r.json()
    return str(body.get("Status", ""))
