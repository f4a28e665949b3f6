"""Forms of the chat pages: they shape input; the services check and write."""

from __future__ import annotations

from typing import Any

from django import forms

from simulator.engine.errors import ConfigError
from simulator.memory.memory_presets import PRESETS
from vmemsite.runs.selectors import policy_label

from .models import Chat
from .selectors import CHAT_POLICIES, script_list_shipped


def _preset_choices() -> list[tuple[str, str]]:
    return [(p.name, p.title) for p in PRESETS.values()]


def _pricing_choices() -> list[tuple[str, str]]:
    from simulator.memory.pricing import shipped_profiles

    profiles = sorted(shipped_profiles().values(), key=lambda p: (p.provider, p.name))
    return [("", "none (no cost panel)"),
            *[(p.name, f"{p.title or p.name} — ${p.input:g} in / ${p.output:g} out per MTok")
              for p in profiles]]


def _policy_choices() -> list[tuple[str, str]]:
    return [("", "the preset's own"), *[(p, policy_label(p)) for p in CHAT_POLICIES]]


def _own_pricing_choices(user: Any) -> list[tuple[str, str]]:
    from .selectors import user_pricing_profiles

    if user is None or not getattr(user, "pk", None):
        return []
    return [(p.name, f"{p.name} (yours)") for p in user_pricing_profiles(user)]


class _ConfigErrors:
    def add_own_pricing(self, user: Any) -> None:
        """Offer ``user``'s own pricing profiles after the shipped ones."""
        field = self.fields["pricing"]
        field.choices = [*field.choices, *_own_pricing_choices(user)]

    def add_config_error(self, exc: ConfigError) -> None:
        field = (exc.field or "").split(".")[0]
        if field in self.fields:
            self.add_error(field, exc.message)
        else:
            self.add_error(None, exc.message)


class _OwnPricing(_ConfigErrors):
    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_own_pricing(user)


class ProfileForm(_ConfigErrors, forms.Form):
    """A pricing profile of one's own, as a TOML or JSON text (docs/cost.md)."""

    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 18, "cols": 80}),
                           max_length=20_000, label="Profile (TOML or JSON)")

    def add_config_error(self, exc: ConfigError) -> None:
        """Every problem, each with the profile's own field (``prices.input``…) named in its
        message, on the text."""
        for error in exc.errors:
            where = error.field if error.field and error.field != "text" else ""
            self.add_error("text", f"{where}: {error.message}" if where else error.message)


class ChatForm(_OwnPricing, forms.Form):
    title = forms.CharField(max_length=200, required=False, label="Title",
                            widget=forms.TextInput(attrs={"placeholder": "optional"}))
    provider = forms.ChoiceField(choices=Chat.Provider.choices, initial="embedded",
                                 label="Model", widget=forms.RadioSelect)
    preset = forms.ChoiceField(choices=_preset_choices, initial="vmem", label="Memory preset")
    policy = forms.ChoiceField(choices=_policy_choices, required=False, label="L0 policy",
                               help_text="Overrides the preset's eviction policy.")
    context_window = forms.IntegerField(initial=1024, min_value=256, max_value=131_072,
                                        label="Context window (tokens)",
                                        help_text="L0 budget = window - answer - 160 for the "
                                                  "manifest.")
    page_size = forms.IntegerField(initial=64, min_value=8, max_value=4096,
                                   label="Page size (tokens)")
    max_tokens = forms.IntegerField(initial=64, min_value=8, max_value=2048,
                                    label="Answer tokens (max)")
    pricing = forms.ChoiceField(choices=_pricing_choices, required=False,
                                label="Pricing profile",
                                help_text="Bills every model call with the provider's prompt "
                                          "cache; the cost panel shows it turn by turn.")
    think_time = forms.FloatField(
        required=False, min_value=0, max_value=86_400, label="Think time (s)",
        help_text="Bill as if this many seconds passed between turns (the cache's "
                  "time-to-live); empty: the real time between your messages.")

    def chat_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        kwargs = {key: data.get(key) or "" if key in ("title", "policy", "pricing")
                  else data[key]
                  for key in ("title", "provider", "preset", "policy", "context_window",
                              "page_size", "max_tokens", "pricing")}
        return {**kwargs, "think_time": data.get("think_time")}


def _script_choices() -> list[tuple[str, str]]:
    return [(s["name"], f"{s['title']} — {s['turns']} turns, {s['probes']} probes")
            for s in script_list_shipped()]


class ScriptForm(_OwnPricing, forms.Form):
    script = forms.ChoiceField(choices=_script_choices, required=False,
                               label="Shipped conversation")
    upload = forms.FileField(required=False, label="…or upload one",
                             help_text="A lab script (JSONL), an OpenAI message list or a "
                                       "ShareGPT conversation (JSON), or a Claude Code "
                                       "session (JSONL).")
    provider = forms.ChoiceField(
        choices=[("scripted", "Scripted replies (the file's own; no model)"),
                 ("embedded", "Embedded SmolLM2-135M"),
                 ("http", "OpenAI-compatible HTTP endpoint")],
        initial="scripted", label="Model", widget=forms.RadioSelect)
    preset = forms.ChoiceField(choices=_preset_choices, initial="vmem", label="Memory preset")
    policy = forms.ChoiceField(choices=_policy_choices, required=False, label="L0 policy")
    pricing = forms.ChoiceField(choices=_pricing_choices, required=False,
                                label="Pricing profile")
    think_time = forms.FloatField(
        required=False, min_value=0, max_value=86_400, label="Think time (s)",
        help_text="Seconds between turns where the transcript gives no time (the cache's "
                  "time-to-live); empty: 30 s.")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("upload") and not data.get("script"):
            self.add_error("script", "choose a conversation, or upload one")
        return data

    def script_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        kwargs: dict[str, Any] = {"provider": data["provider"], "preset": data["preset"],
                                  "policy": data.get("policy") or "",
                                  "pricing": data.get("pricing") or "",
                                  "think_time": data.get("think_time")}
        upload = data.get("upload")
        if upload:
            raw = upload.read(1_000_001)
            try:
                kwargs["upload_text"] = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise ConfigError("the file is not UTF-8 text", field="upload") from None
            kwargs["upload_name"] = upload.name
        else:
            kwargs["script_name"] = data["script"]
        return kwargs


class CompareForm(_ConfigErrors, forms.Form):
    """Cost against recall: a session, presets, pricing profiles and context windows."""

    source = forms.ChoiceField(label="Session")
    turns = forms.IntegerField(initial=60, min_value=1, max_value=200, required=False,
                               label="Turns (synthetic session)")
    presets = forms.MultipleChoiceField(
        choices=_preset_choices, widget=forms.CheckboxSelectMultiple, label="Presets",
        initial=["vmem", "batch", "cacheaware", "letta"])
    pricing = forms.MultipleChoiceField(
        choices=lambda: _pricing_choices()[1:], widget=forms.CheckboxSelectMultiple,
        label="Pricing profiles", initial=["claude-sonnet-4.5", "gpt-4.1"])
    context_windows = forms.CharField(
        initial="3072, 4096", required=False, max_length=100, label="Context windows (tokens)",
        help_text="Comma-separated; empty: the session's own.")

    def __init__(self, *args: Any, sources: list[tuple[str, str]], user: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = sources
        self.add_own_pricing(user)

    def clean_context_windows(self) -> list[int | None]:
        text = self.cleaned_data.get("context_windows") or ""
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if not parts:
            return [None]
        try:
            windows = [int(p) for p in parts]
        except ValueError:
            raise forms.ValidationError("whole numbers separated by commas") from None
        if any(not 256 <= w <= 131_072 for w in windows):
            raise forms.ValidationError("each between 256 and 131,072 tokens")
        return list(dict.fromkeys(windows))

    def compare_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"source": data["source"], "turns": data.get("turns") or 60,
                "presets": data["presets"], "pricing": data["pricing"],
                "windows": data["context_windows"]}
