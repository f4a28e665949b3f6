"""manage.py load_sample_traces: the shipped samples, and any trace file."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from vmemsite.traces.models import Trace

pytestmark = pytest.mark.django_db
SAMPLES = Path(settings.BASE_DIR) / "fixtures" / "traces"


def test_samples_are_small_and_valid():
    files = sorted(p for p in SAMPLES.iterdir() if p.suffix in {".csv", ".txt", ".jsonl"})
    assert len(files) >= 2
    assert sum(p.stat().st_size for p in files) < 1_000_000


def test_loads_the_samples_once_as_public_traces_of_lab(data_dir):
    out = StringIO()
    call_command("load_sample_traces", stdout=out)
    traces = {t.name: t for t in Trace.objects.all()}
    assert set(traces) == {"zipf-5k.csv", "scan-hotset-4k.txt"}
    zipf = traces["zipf-5k.csv"]
    assert (zipf.fmt, zipf.requests, zipf.public) == ("csv", 5000, True)
    assert zipf.owner.username == "lab" and not zipf.owner.has_usable_password()
    assert traces["scan-hotset-4k.txt"].requests == 4000
    assert "imported zipf-5k.csv: 5,000 accesses" in out.getvalue()
    again = StringIO()
    call_command("load_sample_traces", stdout=again)
    assert Trace.objects.count() == 2
    assert "skipped zipf-5k.csv" in again.getvalue()


def test_imports_given_files_for_a_user_and_reports_bad_ones(data_dir, tmp_path, alice):
    good = tmp_path / "good.txt"
    good.write_text("1\n2\n1\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("page_id,tokens\n1,zero\n")
    err = StringIO()
    with pytest.raises(CommandError, match="1 file"):
        call_command("load_sample_traces", str(good), str(bad), "--user", "alice", "--private",
                     stdout=StringIO(), stderr=err)
    assert "line 2, field 'tokens'" in err.getvalue()
    trace = Trace.objects.get()
    assert (trace.owner, trace.name, trace.public) == (alice, "good.txt", False)
    assert get_user_model().objects.filter(username="lab").count() == 0
    with pytest.raises(CommandError, match="no such file"):
        call_command("load_sample_traces", str(tmp_path / "missing.csv"))


def test_large_import_of_a_headerless_csv_past_an_upload_bound(data_dir, tmp_path, alice,
                                                                settings):
    """An operator imports a trace too large for the form: --large applies the import's bounds
    (here 5 accesses for an upload, 100 for an import), with the same checks."""
    settings.VMEM_MAX_TRACE_ACCESSES = 5
    settings.VMEM_IMPORT_MAX_ACCESSES = 100
    path = tmp_path / "big.tsv"
    path.write_text("".join(f"{k}\tGET\t{k % 3}\n" for k in range(10)))
    args = (str(path), "--user", "alice", "--columns", "time=1,page_id=3", "--delimiter", "tab",
            "--no-header")
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("load_sample_traces", *args, stdout=StringIO(), stderr=err)
    assert "more than 5 accesses" in err.getvalue()
    call_command("load_sample_traces", *args, "--large", stdout=StringIO())
    trace = Trace.objects.get()
    assert (trace.requests, trace.distinct_pages, trace.csv_layout["delimiter"]) == (10, 3, "\t")
    with pytest.raises(CommandError, match="--columns: say which column holds the page id"):
        call_command("load_sample_traces", str(path), "--columns", "time=1")
