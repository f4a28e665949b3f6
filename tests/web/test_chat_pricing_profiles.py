"""A user's own pricing profiles: the form adds, edits and deletes them, validated as the shipped
files are (an error names the profile's field); they bill chats and comparisons of their
owner only."""

from __future__ import annotations

import pytest

from simulator.engine.errors import ConfigError
from vmemsite.chat import services
from vmemsite.chat.models import Chat, UserPricingProfile
from vmemsite.chat.services import (
    chat_create,
    chat_turn_execute,
    chat_turn_send,
    pricing_profile_delete,
    pricing_profile_save,
)

pytestmark = pytest.mark.django_db

def _turn(chat: Chat, user, text: str) -> None:
    message = chat_turn_send(chat=chat, user=user, text=text, submit=False)
    chat_turn_execute(chat_id=chat.pk, message_id=message.pk, publisher=lambda *a: None)
    chat.refresh_from_db()


MINE = """name = "cheap-model"
provider = "example"
model = "cheap-1"

[prices]
input = 0.5
output = 2.0
"""


def test_the_form_adds_a_profile_and_lists_it(alice_client, alice):
    assert alice_client.get("/chat/pricing/").status_code == 200
    response = alice_client.post("/chat/pricing/", {"text": MINE})
    assert response.status_code == 302
    page = alice_client.get("/chat/pricing/").content.decode()
    assert "cheap-model" in page
    assert UserPricingProfile.objects.get(owner=alice).data["prices"]["input"] == 0.5


def test_a_bad_price_is_named_and_nothing_is_saved(alice_client):
    response = alice_client.post("/chat/pricing/",
                                 {"text": MINE.replace("input = 0.5", "input = -1")})
    assert response.status_code == 400
    assert "prices.input" in response.content.decode()
    assert not UserPricingProfile.objects.exists()


def test_every_bad_field_is_named_at_once(alice_client):
    bad = (MINE.replace('model = "cheap-1"\n', "").replace("input = 0.5", "input = -1")
           .replace('name = "cheap-model"', 'name = "Cheap Model"'))
    response = alice_client.post("/chat/pricing/", {"text": bad})
    assert response.status_code == 400
    page = response.content.decode()
    for field in ("model: is required", "prices.input: must be at least 0", "name: use at most"):
        assert field in page, field
    assert not UserPricingProfile.objects.exists()


def test_json_is_accepted_and_a_missing_field_is_named(alice):
    pricing_profile_save(owner=alice, text='{"name": "j", "provider": "p", "model": "m", '
                                           '"prices": {"input": 1, "output": 2}}')
    with pytest.raises(ConfigError) as info:
        pricing_profile_save(owner=alice, text='{"name": "k", "provider": "p", '
                                               '"prices": {"input": 1, "output": 2}}')
    assert info.value.field == "model"
    with pytest.raises(ConfigError) as info:
        pricing_profile_save(owner=alice, text="name = ")
    assert info.value.field == "text"


def test_a_shipped_name_or_a_duplicate_is_refused(alice):
    with pytest.raises(ConfigError) as info:
        pricing_profile_save(owner=alice, text=MINE.replace("cheap-model", "gpt-4.1"))
    assert info.value.field == "name"
    pricing_profile_save(owner=alice, text=MINE)
    with pytest.raises(ConfigError) as info:
        pricing_profile_save(owner=alice, text=MINE)
    assert info.value.field == "name"


def test_edit_and_delete_through_the_pages(alice_client, alice):
    entry = pricing_profile_save(owner=alice, text=MINE)
    page = alice_client.get(f"/chat/pricing/{entry.pk}/")
    assert page.status_code == 200 and b"cheap-1" in page.content
    response = alice_client.post(f"/chat/pricing/{entry.pk}/",
                                 {"text": MINE.replace("output = 2.0", "output = 3.0")})
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.data["prices"]["output"] == 3.0
    assert alice_client.post(f"/chat/pricing/{entry.pk}/delete").status_code == 302
    assert not UserPricingProfile.objects.exists()


def test_another_users_profile_cannot_be_seen_edited_deleted_or_used(alice, bob_client, bob):
    entry = pricing_profile_save(owner=alice, text=MINE)
    assert bob_client.get(f"/chat/pricing/{entry.pk}/").status_code == 404
    assert bob_client.post(f"/chat/pricing/{entry.pk}/", {"text": MINE}).status_code == 404
    bob_client.post(f"/chat/pricing/{entry.pk}/delete")
    assert UserPricingProfile.objects.filter(pk=entry.pk).exists()
    with pytest.raises(ConfigError) as info:
        chat_create(owner=bob, provider="scripted", pricing="cheap-model")
    assert info.value.field == "pricing"


def test_a_chat_is_billed_with_ones_own_profile_which_then_cannot_be_deleted(alice):
    entry = pricing_profile_save(owner=alice, text=MINE)
    chat = chat_create(owner=alice, provider="scripted", context_window=400, page_size=32,
                       max_tokens=32, pricing="cheap-model")
    _turn(chat, alice, "first message about cats")
    services.live_sessions.drop(chat.pk)  # what a restart does: rebuilt with alice's profile
    _turn(chat, alice, "second message about dogs")
    assert chat.snapshot["cost"]["totals"]["calls"] == 2
    assert "cheap-model" in str(chat.snapshot["cost"])
    with pytest.raises(ConfigError):
        pricing_profile_delete(owner=alice, profile_id=entry.pk)
    assert Chat.objects.filter(pk=chat.pk).exists()


def test_the_chat_and_compare_forms_offer_ones_own_profiles(alice_client, alice):
    pricing_profile_save(owner=alice, text=MINE)
    assert b"cheap-model (yours)" in alice_client.get("/chat/").content
    response = alice_client.post("/chat/compare/", {
        "source": "shipped:coding.jsonl", "presets": ["vmem"],
        "pricing": ["cheap-model"], "context_windows": "768"})
    assert response.status_code == 200, response.content[:2000]
    assert "compare-result" in response.content.decode()
