"""The wheel carries the compiled gettext catalogues: ``locales/*/LC_MESSAGES/*.po`` are compiled
into ``clinic/locales/`` of the build, where ``clinic.i18n`` finds them in an installed copy (a
source checkout reads ``locales/`` itself). Everything else is in pyproject.toml."""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithCatalogues(build_py):
    """``build_py`` plus one .mo per .po."""

    def run(self) -> None:
        """Build the package, then compile each locales/*.po into clinic/locales/ in the build."""
        super().run()
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        source = Path(__file__).resolve().parent / "locales"
        for po in sorted(source.glob("*/LC_MESSAGES/*.po")):
            relative = po.relative_to(source)
            target = Path(self.build_lib, "clinic", "locales", relative).with_suffix(".mo")
            target.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as f:
                catalog = read_po(f, locale=relative.parts[0])
            with target.open("wb") as f:
                write_mo(f, catalog)


setup(cmdclass={"build_py": BuildWithCatalogues})
