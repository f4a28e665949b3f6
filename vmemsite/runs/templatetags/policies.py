"""``{{ name|policy_label }}``: a policy's name as people read it (``s3fifo`` → ``S3-FIFO``),
from the one table of labels in :mod:`vmemsite.runs.specs`."""

from __future__ import annotations

from django import template

from vmemsite.runs.specs import policy_label as _policy_label

register = template.Library()


@register.filter
def policy_label(name: str) -> str:
    return _policy_label(name)
