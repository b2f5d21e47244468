"""Compile every locale/*/LC_MESSAGES/*.po to .mo without GNU gettext (pure Python, polib).

`make messages` runs makemessages (which needs xgettext) and then this; installing and
running the product needs neither, because the compiled .mo files are committed.
"""

from __future__ import annotations

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Compile .po catalogues under LOCALE_PATHS to .mo with polib (no gettext needed)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="fail if a .mo is missing or older than its .po"
        )

    def handle(self, *args, **options):
        catalogues = sorted(
            po for base in settings.LOCALE_PATHS for po in Path(base).glob("*/LC_MESSAGES/*.po")
        )
        if not catalogues:
            raise CommandError("no .po files under LOCALE_PATHS")
        stale = []
        for po_path in catalogues:
            mo_path = po_path.with_suffix(".mo")
            if options["check"]:
                if not mo_path.exists() or _compiled(po_path) != mo_path.read_bytes():
                    stale.append(str(mo_path))
                continue
            catalogue = polib.pofile(str(po_path))
            catalogue.save_as_mofile(str(mo_path))
            translated = len(catalogue.translated_entries())
            total = len([e for e in catalogue if not e.obsolete])
            self.stdout.write(f"{mo_path}: {translated}/{total} translated")
        if stale:
            raise CommandError("stale .mo files (run `make messages`): " + ", ".join(stale))


def _compiled(po_path: Path) -> bytes:
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".mo") as tmp:
        polib.pofile(str(po_path)).save_as_mofile(tmp.name)
        return Path(tmp.name).read_bytes()
