"""The server's housekeeping of local sweeps: on its first connection, the server process
makes its sweep pool, so that its housekeeping heartbeats the sweeps it computes and fails the
cells of the sweeps a dead server left behind (services.SweepKeeper), whether or not this
process ever computes a sweep itself."""

from __future__ import annotations

from django.conf import settings

from vmemsite.live import workers
from vmemsite.live.publish import on_first_connection

from .services import sweep_pool


def start_housekeeping() -> None:
    if getattr(settings, "VMEM_RECOVER_RUNS", True):
        sweep_pool()
        workers.start_housekeeping()


on_first_connection(start_housekeeping)
