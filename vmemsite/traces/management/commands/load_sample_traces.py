"""``manage.py load_sample_traces [PATH ...] [--user NAME] [--private]``

Imports trace files into the library with the same streamed validation as an upload. Without
paths it imports the sample traces shipped in ``fixtures/traces/``. ``--large`` applies the
bounds of a server-side import instead of an upload's (traces too large for a form; settings
``VMEM_IMPORT_*``, docs/traces.md); ``--columns``/``--delimiter``/``--no-header`` read a CSV
of another shape. Idempotent: a file whose
name the user already has in the library is skipped. The user is created (without a usable
password: it cannot sign in) when missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from simulator.engine.traces import FORMAT_ALIASES
from vmemsite.traces.models import SIZE_UNITS
from vmemsite.traces.selectors import trace_list_owned
from vmemsite.traces.services import TraceRejected, clean_csv_layout, trace_import_file

SAMPLES_DIR = Path(settings.BASE_DIR) / "fixtures" / "traces"
TRACE_SUFFIXES = (".csv", ".tsv", ".txt", ".trace", ".jsonl", ".ndjson", ".gz", ".zst",
                  ".oraclegeneral", ".bin")


class Command(BaseCommand):
    help = "Import trace files (default: the samples in fixtures/traces/) into the library."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="*", type=Path,
                            help="trace files or folders (default: fixtures/traces/)")
        parser.add_argument("--user", default="lab",
                            help="owner of the imported traces (default: lab; created if "
                                 "missing, without a usable password)")
        parser.add_argument("--private", action="store_true",
                            help="import as private traces (default: public)")
        parser.add_argument("--format", dest="fmt", choices=sorted(FORMAT_ALIASES),
                            help="format of every file (default: detected per file)")
        parser.add_argument("--size-unit", choices=SIZE_UNITS,
                            help="what the size column holds (default: tokens, or bytes "
                                 "with --bytes-per-token)")
        parser.add_argument("--bytes-per-token", type=int,
                            help="sizes are bytes, this many to a token")
        parser.add_argument("--columns", help="a CSV of another shape: field=column pairs, "
                            "e.g. time=1,obj_id=2,size=3 (numbers from 1, or header names)")
        parser.add_argument("--delimiter", help="with --columns: one character, or comma, "
                            "tab, semicolon, space, pipe")
        parser.add_argument("--no-header", action="store_true",
                            help="with --columns: the first row is an access")
        parser.add_argument("--large", action="store_true",
                            help="the bounds of a server-side import (VMEM_IMPORT_*) instead "
                                 "of an upload's")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            layout = clean_csv_layout(options["columns"], options["delimiter"],
                                      header=not options["no_header"])
        except TraceRejected as exc:
            raise CommandError(f"--{exc.field}: {exc.message}") from None
        files = self._files(options["paths"] or [SAMPLES_DIR])
        if not files:
            raise CommandError("no trace files found")
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(username=options["user"])
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        have = set(trace_list_owned(user).values_list("name", flat=True))
        failures = 0
        for path in files:
            name = path.name
            if name in have:
                self.stdout.write(f"skipped {name}: already in {user}'s library")
                continue
            try:
                trace = trace_import_file(owner=user, path=path, name=name, fmt=options["fmt"],
                                          public=not options["private"],
                                          size_unit=options["size_unit"],
                                          bytes_per_token=options["bytes_per_token"],
                                          csv_layout=layout, large=options["large"])
            except TraceRejected as exc:
                failures += 1
                self.stderr.write(f"rejected {path}: {exc.message}")
                continue
            have.add(name)
            self.stdout.write(f"imported {name}: {trace.requests:,} accesses, "
                              f"{trace.distinct_pages:,} pages (trace {trace.pk})")
        if failures:
            raise CommandError(f"{failures} file(s) rejected")

    @staticmethod
    def _files(paths: list[Path]) -> list[Path]:
        found: list[Path] = []
        for path in paths:
            if path.is_dir():
                found += sorted(p for p in path.iterdir()
                                if p.is_file() and p.name.lower().endswith(TRACE_SUFFIXES))
            elif path.is_file():
                found.append(path)
            else:
                raise CommandError(f"no such file or folder: {path}")
        return found
