"""Live streaming of the dashboard: frame latency while a 1,000,000-access run streams, and 50
concurrent viewers of one run.

    .venv/bin/python bench/stream.py [--accesses 1000000] [--viewers 50] [--write]

A real lab server (Daphne, LocalRunner, in-memory channel layer, a temporary SQLite database)
on a free 127.0.0.1 port; websocket clients from the ``websockets`` package in this process.

1. **Latency**: every frame says when (wall clock) the engine closed the windows it carries
   (``windows_at``: first, last). A client measures receipt - first (the oldest window of the
   frame: aggregation wait + storing + publishing + delivery) and receipt - last. Target: p95 of
   the oldest-window latency under 250 ms.
2. **Fan-out**: ``--viewers`` clients connect to the run before it starts (paced at 1 ms/s),
   then the run is switched to full speed; every viewer must see every frame (no seq gap) and
   the final status with the result, and a fresh viewer after the end gets the whole state.

``--write`` puts the figures into the "Dashboard" section of bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
import websockets  # noqa: E402

from tests.e2e.servers import LabServer  # noqa: E402

README = ROOT / "bench" / "README.md"
SECTION = "## Dashboard"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else float("nan")


async def viewer(url: str, ready: asyncio.Event | None, out: dict) -> None:
    frames = 0
    gaps = 0
    seq = None
    lat_first: list[float] = []
    lat_last: list[float] = []
    async with websockets.connect(url, origin="http://127.0.0.1", max_size=None,
                                  open_timeout=30) as ws:
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), timeout=120))
            now = time.time()
            kind = message["type"]
            if kind == "state":
                seq = message["seq"]
                if ready is not None:
                    ready.set()
            elif kind == "frame":
                if message["seq"] <= seq:
                    continue
                if message["seq"] != seq + 1:
                    gaps += 1
                seq = message["seq"]
                frames += 1
                span = message.get("windows_at")
                if span:
                    lat_first.append(now - span[0])
                    lat_last.append(now - span[1])
            elif kind == "status" and message["status"] in ("finished", "failed", "stopped"):
                out.update(status=message["status"], result=message.get("result"),
                           frames=frames, gaps=gaps, seq=seq, lat_first=lat_first,
                           lat_last=lat_last)
                return


async def final_state(url: str) -> dict:
    """The state a late viewer gets: a "state" message and its "state_part" messages."""
    async with websockets.connect(url, origin="http://127.0.0.1", max_size=None) as ws:
        state = json.loads(await asyncio.wait_for(ws.recv(), timeout=60))
        for _ in range(state.get("parts", 1) - 1):
            part = json.loads(await asyncio.wait_for(ws.recv(), timeout=60))
            for label, rows in part["points"].items():
                state["points"].setdefault(label, []).extend(rows)
        return state


async def scenario(lab: LabServer, token: str, accesses: int, viewers: int) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    body = {
        "config": {
            "tiers": [
                {"name": "L0", "capacity_tokens": 8192, "policy": "lru"},
                {"name": "L1", "capacity_tokens": 1_000_000, "policy": "lru",
                 "latency": {"kind": "uniform", "low_ms": 1, "high_ms": 9}},
                {"name": "L2", "capacity_tokens": None, "policy": "lru",
                 "latency": {"kind": "lognormal", "ms": 40, "sigma": 0.4}},
            ],
            "page_size": 512, "window_accesses": max(1, accesses // 1000),
        },
        "workload": {"kind": "generator", "name": "zipf",
                     "params": {"n_pages": 20_000, "alpha": 0.9, "n": accesses,
                                "tokens": [50, 400], "seed": 1}},
        "speed": 1.0,  # crawl until every viewer is connected
        "public": True,
        "label": f"stream benchmark, {accesses:,} accesses",
    }
    created = requests.post(f"{lab.url}/api/runs/", json=body, headers=headers, timeout=30)
    created.raise_for_status()
    run = created.json()
    ws_url = lab.url.replace("http://", "ws://") + run["urls"]["websocket"]
    control = lab.url + run["urls"]["control"]

    outs = [{} for _ in range(viewers + 1)]
    ready = [asyncio.Event() for _ in outs]
    started = time.perf_counter()
    tasks = [asyncio.create_task(viewer(ws_url, r, o)) for r, o in zip(ready, outs, strict=True)]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in ready)), timeout=60)
    connect_s = time.perf_counter() - started

    t0 = time.perf_counter()
    requests.post(control, json={"action": "speed", "speed": None}, headers=headers,
                  timeout=10).raise_for_status()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=600)
    run_s = time.perf_counter() - t0

    state = await final_state(ws_url)
    points = sum(len(v) for v in state["points"].values())
    main = outs[0]
    return {
        "accesses": accesses,
        "viewers": viewers,
        "connect_s": connect_s,
        "run_s": run_s,
        "frames": main["frames"],
        "lat_first": main["lat_first"],
        "lat_last": main["lat_last"],
        "finished": sum(1 for o in outs if o.get("status") == "finished"),
        "complete": sum(1 for o in outs if o.get("status") == "finished" and o["gaps"] == 0
                        and o["seq"] == state["seq"]),
        "gaps": sum(o.get("gaps", 0) for o in outs),
        "state_points": points,
        "requests": (main.get("result") or {}).get("requests"),
    }


def report(r: dict) -> str:
    lf, ll = r["lat_first"], r["lat_last"]
    lines = [
        f"- Run: {r['accesses']:,} accesses (Zipf 0.9 over 20,000 sized pages, L0 8,192 tokens "
        f"+ 2 tiers), 1,000 windows, as fast as possible: {r['run_s']:.1f} s wall, "
        f"{r['frames']} frames ({r['frames'] / max(r['run_s'], 1e-9):.1f} per second; "
        f"{r['accesses'] / max(r['frames'], 1):,.0f} accesses per frame).",
        f"- Window → browser latency, oldest window of each frame: p50 "
        f"{1000 * statistics.median(lf):.0f} ms, p95 {1000 * pct(lf, 0.95):.0f} ms, "
        f"max {1000 * max(lf):.0f} ms (target: p95 under 250 ms).",
        f"- Newest window of each frame: p50 {1000 * statistics.median(ll):.0f} ms, "
        f"p95 {1000 * pct(ll, 0.95):.0f} ms.",
        f"- {r['viewers']} + 1 concurrent viewers connected (state received) in "
        f"{r['connect_s']:.2f} s; {r['finished']} of {r['viewers'] + 1} saw the final status, "
        f"{r['complete']} of {r['viewers'] + 1} saw every frame up to the last one "
        f"({r['gaps']} gaps in all).",
        f"- A viewer connecting after the end gets the whole run in its first message: "
        f"{r['state_points']:,} windows.",
    ]
    return "\n".join(lines)


def write_readme(text: str) -> None:
    header = (
        f"{SECTION}\n\n"
        "`bench/stream.py`: a real Daphne server (LocalRunner, in-memory channel layer, "
        "SQLite) and websocket clients on 127.0.0.1, on this project's 2-core machine. "
        f"Measured {time.strftime('%Y-%m-%d')}.\n\n"
    )
    section = header + text + "\n"
    current = README.read_text(encoding="utf-8") if README.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(current):
        updated = pattern.sub(section + "\n", current)
    else:
        updated = current.rstrip("\n") + "\n\n" + section
    README.write_text(updated.rstrip("\n") + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accesses", type=int, default=1_000_000)
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--write", action="store_true", help="update bench/README.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, LabServer(Path(tmp)) as lab:
        token = lab.create_user("bench", "bench-pw-123456", token=True)
        result = asyncio.run(scenario(lab, token, args.accesses, args.viewers))
    text = report(result)
    print(text)
    if args.write:
        write_readme(text)
    ok = (pct(result["lat_first"], 0.95) < 0.25
          and result["complete"] == args.viewers + 1
          and result["requests"] == args.accesses)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
