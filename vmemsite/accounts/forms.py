"""Forms of the accounts app: they validate input; services do the writes."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import UserCreationForm


class SignupForm(UserCreationForm):
    """Django's sign-up validation (unique user name, matching passwords, the password
    validators); the user is created by ``accounts.services.user_signup``, not by ``save()``."""

    class Meta(UserCreationForm.Meta):
        fields = ("username",)


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="What the token is for, e.g. “nightly sweep script”.",
        widget=forms.TextInput(attrs={"placeholder": "e.g. my laptop", "autocomplete": "off"}),
    )
