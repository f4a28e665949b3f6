"""``manage.py recover_runs``: mark as interrupted the runs left over by a server or Celery
worker that died, and fail as interrupted the cells of the local sweeps such a server was
computing (the server does both by itself, continuously; docs/architecture.md §10)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from vmemsite.live.workers import stale_s
from vmemsite.runs.services import run_recover_interrupted
from vmemsite.sweeps.services import sweep_recover_interrupted


class Command(BaseCommand):
    help = ("Mark as interrupted the runs still queued/running/paused (local) or running/paused "
            "(Celery), and fail the queued/running cells of the local sweeps, whose heartbeat is "
            "stale: their process died.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--stale-seconds", type=float, default=None,
            help=f"a run is orphaned when its heartbeat is older than this (default "
                 f"VMEM_STALE_S, {stale_s():g}); use 0 when you know no lab server is running",
        )

    def handle(self, *args, stale_seconds: float | None, **options) -> None:
        if stale_seconds is None:
            stale_seconds = stale_s()
        if stale_seconds < 0:
            self.stderr.write("--stale-seconds must be 0 or more")
            raise SystemExit(2)
        marked = run_recover_interrupted(stale_s=stale_seconds, publisher=lambda *_: None)
        self.stdout.write(f"{len(marked)} run(s) marked interrupted"
                          + (f": {', '.join(map(str, marked))}" if marked else ""))
        sweeps = sweep_recover_interrupted(stale_s=stale_seconds)
        self.stdout.write(f"{len(sweeps)} sweep(s) with cells left interrupted"
                          + (f": {', '.join(map(str, sweeps))}" if sweeps else ""))
