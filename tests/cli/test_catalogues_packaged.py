"""The Persian catalogue travels with the package, and the bot will not start without it."""

from __future__ import annotations

import gettext
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from clinic.errors import InvalidNationalCode
from radyar.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_a_built_wheel_carries_the_compiled_persian_catalogue(tmp_path: Path) -> None:
    # A copy of the source as git sees it (the compiled .mo files are ignored), built as pip
    # would build it.
    tracked = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    source = tmp_path / "src"
    for name in filter(None, tracked):
        path = Path(name.decode())
        if path.parts[0] == "tests" or not (ROOT / path).is_file():
            continue
        (source / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, source / path)
    assert not list(source.glob("locales/**/*.mo"))
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(wheels), str(source)],
        check=True, capture_output=True,
    )  # fmt: skip
    (wheel,) = wheels.glob("radyar-*.whl")
    unpacked = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        archive.extractall(unpacked)
    assert "clinic/locales/fa/LC_MESSAGES/messages.mo" in names
    assert "clinic/locales/en/LC_MESSAGES/messages.mo" in names
    fa = gettext.translation("messages", unpacked / "clinic" / "locales", languages=["fa"])
    persian = InvalidNationalCode().render(fa.gettext)
    assert persian != InvalidNationalCode.message
    assert any("\u0600" <= c <= "\u06ff" for c in persian)


def test_the_bot_refuses_to_start_without_the_persian_catalogue(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RADYAR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("RADYAR_DATABASE_URL", raising=False)
    monkeypatch.setenv("RADYAR_TELEGRAM_TOKEN", "123:TEST")
    monkeypatch.setenv("RADYAR_LOCALE_DIR", str(tmp_path / "no-catalogues"))
    for command in (["run"], ["worker"]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert "will not start" in err
        assert "Persian catalogue" in err
        assert "scripts/i18n.sh compile" in err
