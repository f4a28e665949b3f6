"""Forms of the trace library: they check the fields; ``traces.services`` does the work."""

from __future__ import annotations

from django import forms

FORMAT_CHOICES = [
    ("", "Detect from the content"),
    ("plain", "plain — one page id per line"),
    ("csv", "CSV — a header row, then one access per row"),
    ("jsonl", "JSON Lines — one JSON object per line"),
]


class TraceUploadForm(forms.Form):
    file = forms.FileField(
        label="Trace file",
        help_text="Plain, CSV or JSON Lines, optionally gzipped. Errors are reported with "
                  "their line number; nothing is stored unless the whole file is valid.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.trace,.jsonl,.ndjson,"
                                                         ".gz,text/plain,text/csv"}),
    )
    name = forms.CharField(
        max_length=200, required=False,
        help_text="Defaults to the file's name.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    fmt = forms.ChoiceField(label="Format", choices=FORMAT_CHOICES, required=False)
    public = forms.BooleanField(
        label="Public: anyone can see and replay it (only you can change or delete it)",
        required=False,
    )


class TraceVisibilityForm(forms.Form):
    public = forms.BooleanField(required=False)
