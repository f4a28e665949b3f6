"""Forms of the trace library: they check the fields; ``traces.services`` does the work."""

from __future__ import annotations

from django import forms

from simulator.engine.traces import MAX_TOKENS

FORMAT_CHOICES = [
    ("", "Detect from the content"),
    ("plain", "plain — one page id per line"),
    ("csv", "CSV — a header row, then one access per row"),
    ("jsonl", "JSON Lines (NDJSON) — one JSON object per line"),
    ("oracle", "oracleGeneral — libCacheSim's binary records"),
]

DELIMITER_CHOICES = [
    ("comma", "comma ,"),
    ("tab", "tab"),
    ("semicolon", "semicolon ;"),
    ("space", "spaces"),
    ("pipe", "pipe |"),
]

SIZE_UNIT_CHOICES = [
    ("tokens", "tokens — each access's size is its number of tokens"),
    ("bytes", "bytes — converted to tokens with the ratio below"),
    ("ignore", "ignore it — every access is 1 token"),
]


class TraceUploadForm(forms.Form):
    file = forms.FileField(
        label="Trace file",
        help_text="Plain, CSV, JSON Lines or libCacheSim's oracleGeneral, optionally gzipped "
                  "or Zstandard-compressed (.zst). Errors are reported with their line (or "
                  "record); nothing is stored unless the whole file is valid.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.tsv,.txt,.trace,.jsonl,"
                                                         ".ndjson,.oracleGeneral,.bin,.gz,"
                                                         ".zst,text/plain,text/csv"}),
    )
    name = forms.CharField(
        max_length=200, required=False,
        help_text="Defaults to the file's name.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    # Checked by the service, which also knows the format's other names (ndjson, txt).
    fmt = forms.CharField(label="Format", required=False, max_length=20,
                          widget=forms.Select(choices=FORMAT_CHOICES))
    columns = forms.CharField(
        label="CSV columns", required=False, max_length=500,
        help_text="Only for a CSV without our header (time, page_id or obj_id, tokens or "
                  "size, op, session, turn): which column holds what, by number (from 1) or "
                  "by the header's name, e.g. time=1,obj_id=2,size=3. Other columns are "
                  "ignored.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false",
                                      "placeholder": "e.g. time=1,obj_id=2,size=3"}),
    )
    delimiter = forms.ChoiceField(label="CSV delimiter", choices=DELIMITER_CHOICES,
                                  initial="comma", required=False)
    no_header = forms.BooleanField(
        label="The CSV has no header row (the first row is an access)", required=False)
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
