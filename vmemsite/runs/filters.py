"""The filters of the runs page (``/runs/``): which of one's runs to list."""

from __future__ import annotations

from django import forms

from .models import Run


class RunListFilter(forms.Form):
    """``?status=…&kind=…`` of the runs page; an empty choice means any. A value that is not a
    choice is an error on its field, and that filter is left out."""

    status = forms.ChoiceField(
        required=False, choices=[("", "any status"), *Run.Status.choices], label="Status")
    kind = forms.ChoiceField(
        required=False, choices=[("", "runs and comparisons"), *Run.Kind.choices], label="Kind")

    def chosen(self) -> dict[str, str | None]:
        """The valid filters, None for any (call after ``is_valid()``)."""
        data = getattr(self, "cleaned_data", {})
        return {name: data.get(name) or None for name in ("status", "kind")}
