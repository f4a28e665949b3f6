# The run overview cache, and stored chunks renamed to the readable vocabulary of
# vmemsite/runs/frames.py (points and events used terse keys before: "acc", "hr", "v"...).

import django.db.models.deletion
from django.db import migrations, models

POINT_KEYS = {"t": "time_ms", "acc": "accesses", "ev": "evictions", "rf": "refaults",
              "thrash": "thrash_index", "mean": "latency_mean_ms", "p50": "latency_p50_ms",
              "p95": "latency_p95_ms", "p99": "latency_p99_ms", "hr": "tier_hit_ratio",
              "used": "tier_used_tokens", "pages": "tier_pages",
              "chr": "cumulative_hit_ratio", "mr": "miss_ratio"}
EVENT_KEYS = {"v": "variant", "i": "access", "t": "time_ms", "ms": "latency_ms"}


def _rename(row, names):
    return {names.get(key, key): value for key, value in row.items()}


def _convert(apps, point_keys, event_keys):
    RunChunk = apps.get_model("simulator", "RunChunk")
    batch = []
    for chunk in RunChunk.objects.order_by("pk").iterator(chunk_size=200):
        chunk.points = {label: [_rename(p, point_keys) for p in rows]
                        for label, rows in (chunk.points or {}).items()}
        chunk.events = [_rename(e, event_keys) for e in (chunk.events or [])]
        batch.append(chunk)
        if len(batch) >= 200:
            RunChunk.objects.bulk_update(batch, ["points", "events"])
            batch = []
    if batch:
        RunChunk.objects.bulk_update(batch, ["points", "events"])


def forwards(apps, schema_editor):
    _convert(apps, POINT_KEYS, EVENT_KEYS)


def backwards(apps, schema_editor):
    _convert(apps, {new: old for old, new in POINT_KEYS.items()},
             {new: old for old, new in EVENT_KEYS.items()})


class Migration(migrations.Migration):

    dependencies = [
        ("simulator", "0002_run_interrupted_heartbeat"),
    ]

    operations = [
        migrations.CreateModel(
            name="RunOverview",
            fields=[
                ("run", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE,
                                             primary_key=True, related_name="overview",
                                             serialize=False, to="simulator.run")),
                ("seq", models.IntegerField(default=-1)),
                ("data", models.JSONField(default=dict)),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
