"""Small traces and helpers shared by the trace library tests."""

from __future__ import annotations

import gzip
import io

import pytest

from vmemsite.traces.models import Trace
from vmemsite.traces.services import TraceRejected, trace_upload

PASSWORD = "a-long-enough-pass-phrase-42"

# Hand-worked (see tests/web/test_traces_services.py): a b a c b a
PLAIN = "a\nb\na\nc\nb\na\n"
# 4 accesses, 3 pages; tokens 10 + 20 + 30 + 25 (page 1 resized); one write
CSV = "time,page_id,tokens,op\n0,1,10,read\n1,2,20,write\n2,3,30,read\n3,1,25,read\n"
JSONL = (
    '{"page_id": "sys", "tokens": 100, "op": "pin", "session": "s1", "turn": 0}\n'
    '{"page_id": "m1", "tokens": 40, "session": "s1", "turn": 1}\n'
    '{"page_id": "sys", "tokens": 100, "session": "s1", "turn": 2}\n'
)


def gz(text: str | bytes) -> bytes:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return gzip.compress(data, mtime=0)


def upload(owner, content: str | bytes, **kwargs) -> Trace:
    """Store a trace for ``owner`` through the real service (name "t" unless given)."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    kwargs.setdefault("name", "t")
    return trace_upload(owner=owner, stream=io.BytesIO(data), **kwargs)


def rejected(owner, content: str | bytes, **kwargs) -> TraceRejected:
    """The error of an upload that must fail."""
    with pytest.raises(TraceRejected) as info:
        upload(owner, content, **kwargs)
    return info.value


def assert_nothing_saved(library_files) -> None:
    """No row, and no file under DATA_DIR/traces (neither a trace nor a temporary one)."""
    assert Trace.objects.count() == 0
    assert library_files() == []
