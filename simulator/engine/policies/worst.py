"""The worst policy (OSTEP's UNOPT): evict the page whose next use is nearest."""

from __future__ import annotations

from .opt import OPT


class Worst(OPT):
    """OPT's rule turned round: the victim is the resident page needed soonest, so every
    eviction is the one a later access pays for first. Ties (pages never used again) go to
    the one whose next use was set earliest; like OPT it needs the future (``needs_future``).
    It bounds from above what a replacement rule can do on a string, as OPT bounds it from
    below (docs/policies.md, "Worst")."""

    __slots__ = ()
    name = "worst"
    _sign = 1
