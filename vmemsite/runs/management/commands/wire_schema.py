"""``python manage.py wire_schema``: write ``static/js/run/schema.js``, the run page's copy of
the wire vocabulary described in ``vmemsite/runs/frames.py`` (tests/web/test_frames.py fails
while it is out of date)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from vmemsite.runs.frames import schema_module


class Command(BaseCommand):
    help = "Write static/js/run/schema.js from the wire vocabulary (vmemsite/runs/frames.py)."

    def handle(self, *args, **options) -> None:
        path = Path(settings.BASE_DIR) / "static" / "js" / "run" / "schema.js"
        path.write_text(schema_module())
        self.stdout.write(f"wrote {path}")
