"""``radyar demo`` (the README's first command): a patient books through the real bot, the RIS's
final report arrives over HL7/MLLP and the patient is told; it runs again on the same data."""

from __future__ import annotations

from typing import TYPE_CHECKING

from clinic.i18n import translator
from radyar.cli import main

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

REPORT_READY = "Your report is ready. Pickup code: {pickup}. Collect it at {where}."


def test_the_demo_runs_end_to_end_and_again_on_the_same_database(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RADYAR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("RADYAR_DATABASE_URL", raising=False)
    monkeypatch.setenv("RADYAR_LANG", "fa")
    ready = translator("fa").gettext(REPORT_READY).split("{")[0]
    codes = []
    for _run in range(2):
        assert main(["demo"]) == 0
        out = capsys.readouterr().out
        assert "MSA|AA|" in out  # the RIS's report was accepted
        assert ready.strip() and ready in out  # and the patient was told where to collect it
        codes.append(out.split("accession number ")[1].split(")")[0])
    assert codes[0] != codes[1]  # a second patient, a second booking
