"""Celery tasks of sweeps: a group of cell tasks whose chord callback closes the sweep."""

from __future__ import annotations

from celery import shared_task

from .services import cell_execute, sweep_close


@shared_task(name="sweeps.cell", acks_late=True, reject_on_worker_lost=True)
def sweep_cell(cell_id: int) -> int:
    """Late acknowledgement and rejection on a lost worker: a worker killed mid-cell leaves
    the message to another worker; the result is written once whatever runs it twice."""
    cell_execute(cell_id)
    return cell_id


@shared_task(name="sweeps.close", ignore_result=True)
def sweep_finish(_cells: list[int], sweep_id: int) -> None:
    sweep_close(sweep_id)
