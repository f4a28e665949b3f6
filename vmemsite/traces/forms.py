"""Forms of the trace library: they check the fields; ``traces.services`` does the work."""

from __future__ import annotations

from django import forms

from simulator.engine.traces import MAX_TOKENS

FORMAT_CHOICES = [
    ("", "Detect from the content"),
    ("plain", "plain — one page id per line"),
    ("csv", "CSV — a header row, then one access per row"),
    ("jsonl", "JSON Lines (NDJSON) — one JSON object per line"),
]

SIZE_UNIT_CHOICES = [
    ("tokens", "tokens — each access's size is its number of tokens"),
    ("bytes", "bytes — converted to tokens with the ratio below"),
    ("ignore", "ignore it — every access is 1 token"),
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
    # Checked by the service, which also knows the format's other names (ndjson, txt).
    fmt = forms.CharField(label="Format", required=False, max_length=20,
                          widget=forms.Select(choices=FORMAT_CHOICES))
    size_unit = forms.ChoiceField(
        label="The size column (tokens, or size) holds", choices=SIZE_UNIT_CHOICES,
        initial="tokens", required=False,
        help_text="Block and CDN traces give sizes in bytes: say so, and how many bytes make "
                  "a token (4 is typical of text; a block's size makes every block one "
                  "token). Replays read the sizes the same way.",
    )
    bytes_per_token = forms.IntegerField(
        label="Bytes per token", required=False, min_value=1, max_value=MAX_TOKENS,
        help_text="Only for sizes in bytes: an access of b bytes is ⌈b ÷ this⌉ tokens.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "placeholder": "e.g. 4"}),
    )
    public = forms.BooleanField(
        label="Public: anyone can see and replay it (only you can change or delete it)",
        required=False,
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("size_unit") != "bytes":
            data["bytes_per_token"] = None  # a number left in a hidden field means nothing
        return data


class TraceVisibilityForm(forms.Form):
    public = forms.BooleanField(required=False)
