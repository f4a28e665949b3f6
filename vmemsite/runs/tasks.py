"""Celery tasks: just another interface that loads by id and calls a service."""

from __future__ import annotations

from celery import shared_task

from .services import run_execute


@shared_task(name="simulator.execute_run", ignore_result=True, acks_late=False)
def execute_run(run_id: int) -> None:
    run_execute(run_id=run_id)
