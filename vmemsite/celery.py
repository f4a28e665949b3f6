"""The Celery app. Configuration comes from Django settings under the ``CELERY_`` namespace:
the broker is ``REDIS_URL`` when set, else ``memory://`` (see settings/base.py).

Start a worker with ``.venv/bin/celery -A vmemsite worker -l info``.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vmemsite.settings.dev")

app = Celery("vmemsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
