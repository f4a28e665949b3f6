"""Live work, in one place (docs/architecture.md, "The live executor"): what runs and chats
share to execute outside the request, keep their browsers up to date and survive their
process.

* :mod:`.publish` — hand a message to a channel group from any thread or process.
* :mod:`.workers` — daemon worker pools with heartbeats, sweeps for work a dead process left
  behind, and a graceful stop when the process exits (SIGTERM to the server).
* :mod:`.consumers` — the websocket consumer base (join first, then the state; errors are
  replies, never a dropped socket).

Apps register a :class:`~.workers.Keeper` per kind of work (runs, chats) that knows how to
stamp, sweep and abandon its own rows; this package imports no app.
"""
