"""The teaching page (/teach/): an exercise from its URL, the engine's numbers in the frame
table, the classic experiments, and bad input as a 400 page naming the field."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from simulator.engine.explain import explain, parse_refs

URL = "/teach/"


def script_data(response) -> dict:
    html = response.content.decode()
    match = re.search(r'<script id="teach-data" type="application/json">(.*?)</script>', html,
                      re.S)
    assert match, "the page carries its steps for the script"
    return json.loads(match.group(1))


def test_the_page_is_open_to_everyone_and_in_the_nav(client, db):
    assert reverse("teach:page") == URL
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="{URL}"' in html  # the site nav
    assert 'src="/static/vendor/plotly.min.js"' in html
    assert "Belady" in html


def test_the_table_is_the_engines(client, db):
    refs = "7,0,1,2,0,3,0,4,2,3,0,3,2,1,2,0,1,7,0,1"
    response = client.get(URL, {"refs": refs, "policies": "fifo,lru,opt,clock", "frames": "3",
                                "step": "5"})
    assert response.status_code == 200
    data = script_data(response)
    assert data["step"] == 5 and data["count"] == 20
    for table in data["tables"]:
        shown = explain(parse_refs(refs), table["policy"], 3)
        assert [s["hit"] for s in table["steps"]] == [s.hit for s in shown.steps]
        assert [s["victim"] for s in table["steps"]] == [s.victim for s in shown.steps]
    misses = {t["policy"]: sum(not s["hit"] for s in t["steps"]) for t in data["tables"]}
    assert (misses["fifo"], misses["lru"], misses["opt"]) == (15, 12, 9)  # Silberschatz
    html = response.content.decode()
    assert html.count('class="frame-table"') == 4
    assert "✗ fault" in html and "✓ hit" in html  # marks that are not colour alone


def test_belady_preset_shows_the_anomaly(client, db):
    response = client.get(URL, {"preset": "belady"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Belady&#x27;s anomaly" in html or "Belady's anomaly" in html
    data = script_data(response)
    assert data["curves"]["faults"]["FIFO"][:5] == [12, 12, 9, 10, 5]
    assert "FIFO: 10 faults with 4 frames, 9 with 3." in html
    assert "LRU: " not in html.split('id="anomaly"')[1].split("</p>")[0]


def test_working_set_size_over_time(client, db):
    html = client.get(URL, {"preset": "working-set"}).content.decode()
    row = html.split('<tr class="resident">')[1].split("</tr>")[0]
    sizes = [int(n) for n in re.findall(r">(\d+)</td>", row)]
    # docs/policies.md: after reference t the tier holds W(t, 4) exactly
    from vmemsite.teach.selectors import PRESETS

    refs = PRESETS["working-set"].refs.split(",")
    assert sizes == [len(set(refs[max(0, t - 3):t + 1])) for t in range(len(refs))]


@pytest.mark.parametrize("preset", ["belady", "stack", "loop", "scan", "lru-opt",
                                    "working-set", "thrashing", "dirty"])
def test_every_preset_opens(client, db, preset):
    response = client.get(URL, {"preset": preset})
    assert response.status_code == 200
    assert 'id="preset-note"' in response.content.decode()


def test_a_drawn_string_is_seeded(client, db):
    first = script_data(client.get(URL, {"gen": "15", "pages": "4", "seed": "9"}))
    again = script_data(client.get(URL, {"gen": "15", "pages": "4", "seed": "9"}))
    assert first == again and first["count"] == 15
    assert "gen=15" in first["query"] and "seed=9" in first["query"]


def test_a_stored_trace_gives_its_first_accesses(client, user, tmp_path):
    from vmemsite.traces.services import trace_import_file

    path = tmp_path / "t.txt"
    path.write_text("\n".join(["a", "b", "a", "c", "d", "a"] * 10) + "\n")
    trace = trace_import_file(owner=user, path=path, public=True)
    data = script_data(client.get(URL, {"trace": str(trace.pk), "n": "6", "policies": "lru"}))
    assert [s["ref"] for s in data["tables"][0]["steps"]] == ["a", "b", "a", "c", "d", "a"]
    private = trace_import_file(owner=user, path=path, public=False)
    response = client.get(URL, {"trace": str(private.pk)})  # signed out: not visible
    assert response.status_code == 400
    assert "no such trace" in response.content.decode()


def test_a_chat_session_gives_its_first_page_accesses(client, user, other):
    from simulator.engine.access import Op
    from vmemsite.chat.selectors import chat_trace
    from vmemsite.chat.services import chat_create, chat_turn_execute, chat_turn_send

    chat = chat_create(owner=user, provider="scripted", context_window=300, page_size=16,
                       max_tokens=16)
    for text in ("my cat is called Miso and she likes tuna a lot", "what does my cat like?"):
        message = chat_turn_send(chat=chat, user=user, text=text, submit=False)
        chat_turn_execute(chat_id=chat.pk, message_id=message.pk, publisher=lambda *a: None)
    chat.refresh_from_db()
    pages = [str(a.page_id) for a in chat_trace(chat) if a.op in (Op.READ, Op.WRITE)][:12]
    numbered: dict[str, str] = {}
    expected = [numbered.setdefault(page, str(len(numbered) + 1)) for page in pages]

    client.force_login(user)
    data = script_data(client.get(URL, {"chat": str(chat.pk), "n": "12", "policies": "lru"}))
    assert [s["ref"] for s in data["tables"][0]["steps"]] == expected
    assert len(set(expected)) > 3  # the session's pages, numbered in order
    client.force_login(other)  # someone else's chat is not there for them
    response = client.get(URL, {"chat": str(chat.pk)})
    assert response.status_code == 400 and "no such chat session" in response.content.decode()
    client.logout()
    assert client.get(URL, {"chat": str(chat.pk)}).status_code == 400


@pytest.mark.parametrize(("query", "field", "words"), [
    ({"refs": ",".join(["1"] * 201)}, "refs", "at most 200 references"),
    ({"refs": "1,2,<script>"}, "refs", "reference 3"),
    ({"frames": "0"}, "frames", "from 1 to 16"),
    ({"frames": "abc"}, "frames", "from 1 to 16"),
    ({"policies": "fifo,bogus"}, "policies", "unknown policy"),
    ({"policies": "fifo,lru,opt,mru,lfu"}, "policies", "at most 4"),
    ({"gen": "9999"}, "gen", "from 1 to 200"),
    ({"preset": "nope"}, "preset", "no such experiment"),
    ({"step": "-1"}, "step", "from 0 to 200"),
])
def test_bad_input_is_a_400_naming_the_field(client, db, query, field, words):
    response = client.get(URL, query)
    assert response.status_code == 400
    html = response.content.decode()
    assert f"<strong>{field}</strong>" in html and words in html
    assert "<script>" not in html.split('id="teach-errors"')[1]  # escaped, never echoed raw
    assert "Traceback" not in html


def test_every_problem_at_once(client, db):
    response = client.get(URL, {"frames": "99", "policies": "x", "refs": ""})
    html = response.content.decode()
    assert response.status_code == 400
    assert "<strong>frames</strong>" in html and "<strong>policies</strong>" in html


def test_the_share_link_reopens_the_exercise_in_predict_mode(client, db):
    response = client.get(URL, {"refs": "1,2,3,1", "policies": "lru", "frames": "2",
                                "step": "3"})
    html = response.content.decode()
    link = re.search(r'id="share"', html) and re.search(r'href="\?([^"]+)" id="share"', html)
    assert link
    query = link.group(1).replace("&amp;", "&")
    assert "step=" not in query and "predict=1" in query
    again = client.get(URL + "?" + query)
    data = script_data(again)
    assert data["predict"] is True and data["step"] == 0
    assert [s["ref"] for s in data["tables"][0]["steps"]] == ["1", "2", "3", "1"]


def test_thrashing_preset_draws_denning_s_curve(client, db):
    response = client.get(URL, {"preset": "thrashing", "step": "24"})
    data = script_data(response)
    throughput = [p["throughput"] for p in data["thrashing"]]
    peak = throughput.index(max(throughput))
    assert 0 < peak < len(throughput) - 1  # rises, then collapses
    assert throughput[-1] < throughput[peak] / 10
    lru = next(t for t in data["tables"] if t["policy"] == "lru")
    assert not any(s["hit"] for s in lru["steps"])  # 6 pages of loops in 5 frames
    assert 'id="thrashing"' in response.content.decode()
    assert script_data(client.get(URL, {"preset": "belady"}))["thrashing"] is None


def test_a_trace_file_gone_since_its_upload_is_a_400(client, user, tmp_path):
    from vmemsite.traces.selectors import trace_path
    from vmemsite.traces.services import trace_import_file

    path = tmp_path / "t.txt"
    path.write_text("a\nb\na\n")
    trace = trace_import_file(owner=user, path=path, public=True)
    trace_path(trace).unlink()
    response = client.get(URL, {"trace": str(trace.pk)})
    assert response.status_code == 400
    html = response.content.decode()
    assert "the trace cannot be read" in html and "/traces/" not in html.split("teach-errors")[1]


def test_a_policy_that_keeps_nothing_at_these_frames_is_explained(client, db):
    """Strict S3-FIFO keeps no new page below 20 frames: its table says why it only faults;
    LRU's does not."""
    html = client.get("/teach/", {"refs": "1 2 1 2 1", "policies": "s3fifo,lru",
                                  "frames": "3"}).content.decode()
    assert html.count("data-refuses") == 1
    assert "S3-FIFO keeps no page on its first miss" in html
    html = client.get("/teach/", {"refs": "1 2 1 2 1", "policies": "s3fifo",
                                  "frames": "20"}).content.decode()
    assert "data-refuses" not in html
