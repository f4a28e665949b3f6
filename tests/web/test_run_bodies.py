"""Hostile run bodies against a real server, on SQLite and on PostgreSQL (issue 8.4): odd
numbers and bytes each get a 400 naming the field, and a fuzz suite (Hypothesis, bounded)
over ``POST /api/runs/`` and control bodies finds no 5xx and leaves nothing behind.

Each database gets its own Daphne server (tests/e2e/servers.LabServer): a temporary SQLite
file, or a throwaway PostgreSQL database dropped afterwards (as tests/web/test_celery.py)."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import requests
from hypothesis import HealthCheck, given, settings

from tests.e2e.servers import LabServer, reachable

from .hostile import SEQUENCE_RUN, ZIPF_RUN, control_bodies, run_bodies

pytestmark = pytest.mark.slow

PG = ("127.0.0.1", 5432)
ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
FUZZ = settings(max_examples=120, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))


class Client:
    """A script of one user on a lab server: JSON in, JSON out."""

    def __init__(self, server: LabServer, token: str) -> None:
        self.base = server.url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def post(self, path: str, body: object = None, *, raw: str | bytes | None = None,
             ) -> requests.Response:
        data = raw if raw is not None else json.dumps(body)
        return self.session.post(self.base + path, data=data, timeout=60,
                                 headers={"Content-Type": "application/json"})

    def runs(self) -> int:
        response = self.session.get(self.base + "/api/runs/?limit=1", timeout=60)
        assert response.status_code == 200, response.text
        return response.json()["count"]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def api(request, tmp_path_factory):
    env = {"VMEM_RUNNER": "local", "VMEM_LOCAL_WORKERS": "1"}
    database = None
    if request.param == "postgresql":
        psycopg = pytest.importorskip("psycopg")
        if not reachable(*PG):
            pytest.skip("PostgreSQL is not listening on 127.0.0.1:5432")
        database = f"vmem_bodies_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(ADMIN, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{database}"
    server = LabServer(tmp_path_factory.mktemp(f"bodies-{request.param}"), env=env)
    try:
        with server:
            token = server.create_user("fuzz", "fuzz-pw-123456", token=True)
            yield Client(server, token)
    finally:
        if database:
            with psycopg.connect(ADMIN, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _with(body: dict, *path_and_value) -> dict:
    body = json.loads(json.dumps(body))
    *path, value = path_and_value
    node = body
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return body


NUMBER = "9" * 5000
ODD = [
    # the 2^63 size in a run's n
    (_with(ZIPF_RUN, "workload", "params", "n", 2**63), "workload.n"),
    # a 5,000-digit page id in a sequence: as a JSON number, as text, in the text form
    (json.dumps(SEQUENCE_RUN).replace('"pages": [1,', f'"pages": [{NUMBER},'),
     "workload.pages"),
    (_with(SEQUENCE_RUN, "workload", "pages", [1, NUMBER]), "workload.pages"),
    (_with(SEQUENCE_RUN, "workload", "pages", f"1 2 {NUMBER}"), "workload.pages"),
    # NaN in policy_params (2Q took it for true, then SQLite's JSON_VALID check failed)
    (json.dumps(_with(ZIPF_RUN, "config", "tiers", 0, {
        "name": "L0", "capacity_tokens": 100, "policy": "2q", "policy_params": {"strict": 1}}),
    ).replace('"strict": 1', '"strict": NaN'), "config.tiers[0].policy_params.strict"),
    (json.dumps(ZIPF_RUN).replace('"tau": 50', '"tau": NaN'),
     "config.tiers[0].policy_params.tau"),
    # NUL bytes (PostgreSQL refuses them in text and jsonb)
    (_with(SEQUENCE_RUN, "label", "a\x00b"), "label"),
    (_with(SEQUENCE_RUN, "workload", "pages", [1, "doc\x00"]), "workload.pages"),
    (_with(SEQUENCE_RUN, "config", "tiers", 0, "name", "L\x000"), "config.tiers[0].name"),
    # sizes no column holds, and parameters beyond their sane range (issue 8.2)
    (_with(SEQUENCE_RUN, "workload", "tokens", 2**63), "workload.tokens"),
    (_with(ZIPF_RUN, "config", "prefetch", 10**9), "config.prefetch"),
    (_with(ZIPF_RUN, "config", "window_accesses", 10**9), "config.window_accesses"),
    (_with(ZIPF_RUN, "config", "tiers", 0, "capacity_tokens", 2**63),
     "config.tiers[0].capacity_tokens"),
    (_with(ZIPF_RUN, "speed", 1e308), "speed"),
]


@pytest.mark.parametrize(("body", "field"), ODD, ids=[field for _, field in ODD])
def test_odd_numbers_and_bytes_are_400s_naming_the_field(api, body, field):
    before = api.runs()
    response = (api.post("/api/runs/", raw=body) if isinstance(body, str)
                else api.post("/api/runs/", body))
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field, response.json()
    assert api.runs() == before  # nothing half-written


def test_a_body_over_2_mb_is_the_json_413(api):
    body = _with(SEQUENCE_RUN, "label", "x" * (3 * 1024 * 1024))
    response = api.post("/api/runs/", body)
    assert response.status_code == 413
    assert response.headers["Content-Type"].startswith("application/json")
    assert "too large" in response.json()["error"]


def _stop(api: Client, response: requests.Response) -> None:
    """A fuzzed body that was valid started a run: stop it (the runner has work enough)."""
    run_id = response.json()["id"]
    api.post(f"/api/runs/{run_id}/control", {"action": "stop"})


def test_fuzzed_run_bodies_never_get_a_5xx_nor_leave_anything(api):
    deadline = time.monotonic() + 240
    created = [api.runs()]

    @FUZZ
    @given(body=run_bodies())
    def post(body):
        if time.monotonic() > deadline:
            return  # bounded in time whatever the machine's load
        response = api.post("/api/runs/", body)
        assert response.status_code < 500, (body, response.text)
        assert response.headers["Content-Type"].startswith("application/json")
        if response.status_code == 201:
            created[0] += 1
            _stop(api, response)
        else:
            assert "error" in response.json()
        assert api.runs() == created[0]

    post()


def test_fuzzed_control_bodies_never_get_a_5xx(api):
    response = api.post("/api/runs/", _with(SEQUENCE_RUN, "speed", 1))
    assert response.status_code == 201, response.text
    url = f"/api/runs/{response.json()['id']}/control"
    deadline = time.monotonic() + 120

    @FUZZ
    @given(body=control_bodies())
    def control(body):
        if time.monotonic() > deadline:
            return
        reply = api.post(url, body)
        assert reply.status_code < 500, (body, reply.text)
        assert reply.status_code in (200, 400, 409), (body, reply.text)

    control()
