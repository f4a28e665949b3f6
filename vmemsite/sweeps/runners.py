"""The server's housekeeping of local sweeps: on its first connection, the server process
makes its sweep pool, so that its housekeeping heartbeats the sweeps it computes and fails the
cells of the sweeps a dead server left behind (services.SweepKeeper), whether or not this
process ever computes a sweep itself."""

from __future__ import annotations

from vmemsite.live import workers

from .services import sweep_pool

workers.keep_from_first_connection(sweep_pool)
