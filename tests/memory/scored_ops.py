"""Replaying random operations on the importance-scored policies against the rule itself: a
scan of every resident page (test_importance.py, test_cache_aware.py)."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import strategies as st

KINDS = ["message", "document", "tool", "summary", "system"]


def operations(lowest_level: int = 0) -> st.SearchStrategy:
    """(op, page, kind, level): mostly references; meta changes, anti-thrash spares and
    removals too. ``level`` sets an importance or a kind on "meta", a size when sized."""
    return st.lists(st.tuples(st.sampled_from(["ref", "ref", "ref", "meta", "spare", "remove"]),
                              st.integers(0, 40), st.integers(0, 4),
                              st.integers(lowest_level, 4)),
                    min_size=20, max_size=400)


def scan_victim(policy) -> object:
    """The rule as the docs state it, page by page in Python: the lowest keep score among the
    resident pages not spared at this access (all of them if every one is), ties to the least
    recently used."""
    pool = list(policy.keys())
    if policy._spared and policy._spared_at == policy.now:
        pool = [k for k in pool if k not in policy._spared] or pool
    policy._prepare()
    return min(pool, key=lambda k: (policy.keep_score(k), policy._seq[k]))


def replay_against_scan(policy, ops: list[tuple[str, int, int, int]], room: int, *,
                        sized: bool = False,
                        after_each: Callable[[object], None] | None = None) -> None:
    """Drive ``policy`` through the tier protocol by hand (``room`` tokens; each page one
    token, or ``level`` tokens when ``sized``), asserting at every eviction that its victim
    is :func:`scan_victim`'s."""
    for now, (op, page, kind, level) in enumerate(ops, 1):
        key = f"{KINDS[kind]}:{page}"
        policy.now = now
        size = level if sized else 1
        if op == "meta":
            policy.set_meta(key, importance=level / 4 if level < 4 else None,
                            kind=KINDS[(kind + level) % 5] if level % 2 else None)
        elif op == "remove" and key in policy:
            policy.remove(key)
        elif key in policy:
            policy.touch(key)
        else:
            while policy.used + size > room:
                expected = scan_victim(policy)
                victim_size = policy.size_of(expected)
                assert policy.victim() == expected
                if op == "spare":  # the tier hands a protected victim straight back
                    policy.insert(expected, victim_size)
                    op = "ref"
            policy.insert(key, size)
        if after_each is not None:
            after_each(policy)
