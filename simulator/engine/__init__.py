"""VMem Lab's simulation engine: pure Python (SimPy), no Django, no I/O of its own.

    from simulator.engine import SimConfig, Simulation, Recorder
    from simulator.engine.workloads import zipf

    result = Simulation(SimConfig.classic("arc", 1000), zipf(10_000, 1.0, 100_000)).run()
"""

from .access import Access, Op, PageReads, reads
from .compare import Comparison, Variant, simulate
from .config import LatencyModel, SimConfig, TierConfig
from .errors import ConfigError, TraceError, VMemError
from .events import Event, RunResult, WindowSnapshot
from .observers import Observer, Recorder
from .simulation import Placement, Simulation, TierUsage
from .sources import SessionSource, TraceSource, WorkloadSource
from .workloads import Workload

__all__ = [
    "Access", "Comparison", "ConfigError", "Event", "LatencyModel", "Observer", "Op",
    "PageReads", "Placement", "Recorder", "RunResult", "SessionSource", "SimConfig", "Simulation",
    "TierConfig", "TierUsage", "TraceError", "TraceSource", "VMemError", "Variant",
    "WindowSnapshot", "Workload", "WorkloadSource", "reads", "simulate",
]
