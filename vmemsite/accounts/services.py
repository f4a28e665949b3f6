"""Writes of the accounts app (HackSoft style: services write, selectors read)."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .models import ApiToken, token_digest

#: every token starts with this, so a leaked one is easy to recognise (and to grep for)
TOKEN_PREFIX = "vmem_"
#: how many characters of a token are kept in clear, to tell tokens apart in the list
SHOWN_CHARS = 12


def user_delete(*, user: AbstractBaseUser) -> None:
    """Delete a user with everything they own: runs, API tokens, and their traces *with the
    trace files* (a plain ``user.delete()`` would cascade to the rows and leave the files on
    disk, so every deletion goes through here, the admin's included; no signals). The files
    go once the rows are deleted. Runs of other people on this user's public traces keep
    their stored results; those still executing fail with a message that the trace was
    deleted."""
    from vmemsite.traces.services import trace_file_path, trace_files_unlink

    with transaction.atomic():
        paths = [trace_file_path(trace) for trace in user.traces.all()]
        user.delete()
    trace_files_unlink(paths)


def user_signup(*, username: str, password: str) -> AbstractBaseUser:
    """Create an active user with a validated password (raises ValidationError otherwise)."""
    user_model = get_user_model()
    username = user_model.normalize_username(username.strip())
    if not username:
        raise ValidationError({"username": "Choose a user name."})
    if user_model.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": "A user with that user name already exists."})
    user = user_model(username=username)
    validate_password(password, user)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user


@transaction.atomic
def token_create(*, user: AbstractBaseUser, name: str) -> tuple[ApiToken, str]:
    """A new API token for ``user``. Returns the row and the token itself, which is not stored
    (only its sha256 digest and first characters are): show it once, then it is gone."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the token a name (e.g. the script that uses it)."})
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.objects.create(
        user=user, name=name[:100], prefix=token[:SHOWN_CHARS], digest=token_digest(token)
    )
    return row, token


def token_revoke(*, user: AbstractBaseUser, token_id: int) -> bool:
    """Delete one of ``user``'s tokens; False if they have no such token (someone else's
    tokens are never touched). A revoked token stops working at once."""
    deleted, _ = ApiToken.objects.filter(user=user, pk=token_id).delete()
    return deleted > 0


def token_mark_used(*, token: ApiToken) -> None:
    """Remember when a token was last used (shown on the tokens page)."""
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
