"""The layering of docs/architecture.md, enforced on the real import graph (grimp, the graph
library under import-linter): which package may import which, Django apps that use each other
only through services and selectors, and no import cycles among the lab's modules.

Imports inside functions count too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

PACKAGES = ("simulator", "vmemsite")
THIRD_PARTY_WEB = ("django", "channels", "celery", "daphne", "channels_redis", "ninja")

#: package -> what it must never import, even indirectly
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "simulator.engine": ("simulator.memory", "simulator.llm", "simulator.cli", "vmemsite",
                         *THIRD_PARTY_WEB),
    "simulator.memory": ("simulator.llm", "simulator.cli", "vmemsite", *THIRD_PARTY_WEB),
    "simulator.llm": ("simulator.cli", "vmemsite", *THIRD_PARTY_WEB),
    "simulator.cli": ("vmemsite", *THIRD_PARTY_WEB),
}

#: the engine's public interface (docs/architecture.md §8): the only engine modules that code
#: built on the engine — the memory package — may import
ENGINE_PUBLIC = ("simulator.engine", "simulator.engine.events", "simulator.engine.hooks",
                 "simulator.engine.policies", "simulator.engine.validation")
BUILT_ON_ENGINE = ("simulator.memory",)
#: what code built on the engine may use of a live Simulation (docs/architecture.md §8)
SIMULATION_PUBLIC = {"step", "run", "run_until", "pause", "resume", "result", "finished",
                     "locate", "tier_of", "usage", "compact", "forget", "annotate",
                     "residents"}

#: the Django apps; one may use another only through these modules of it
APPS = ("vmemsite.runs", "vmemsite.traces", "vmemsite.chat", "vmemsite.accounts")
APP_INTERFACE = ("services", "selectors")
#: reaches into another app that exist today and are being taken apart (issue 9); may only shrink
KNOWN_REACHES: set[str] = set()

#: cycles that exist today and are being taken apart (issue 9); the list may only shrink
KNOWN_CYCLES: list[set[str]] = []


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, include_external_packages=True)


@pytest.mark.parametrize("source", sorted(FORBIDDEN))
def test_layers_import_only_downwards(graph: grimp.ImportGraph, source: str) -> None:
    broken = []
    for forbidden in FORBIDDEN[source]:
        if forbidden not in graph.modules:
            continue  # an external package nobody imports
        chain = graph.find_shortest_chain(importer=source, imported=forbidden, as_packages=True)
        if chain:
            broken.append(" -> ".join(chain))
    assert not broken, f"{source} must not depend on these:\n" + "\n".join(broken)


@pytest.mark.parametrize("package", BUILT_ON_ENGINE)
def test_memory_uses_only_the_engines_public_modules(graph: grimp.ImportGraph,
                                                     package: str) -> None:
    modules = {package, *graph.find_descendants(package)}
    reaches = sorted(
        f"{importer} -> {imported}"
        for importer in modules
        for imported in graph.find_modules_directly_imported_by(importer)
        if (imported == "simulator.engine" or imported.startswith("simulator.engine."))
        and imported not in ENGINE_PUBLIC)
    assert not reaches, (f"{package} may import only {', '.join(ENGINE_PUBLIC)}:\n"
                         + "\n".join(reaches))


def test_memory_drives_its_simulation_only_through_the_public_methods() -> None:
    """``SessionMemory.sim`` is a Simulation: memory and llm code may call only its public
    methods on it, never reach into its tiers, locations or sizes."""
    root = Path(__file__).resolve().parents[1] / "simulator"
    reaches = []
    for path in sorted([*root.glob("memory/*.py"), *root.glob("llm/*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)
                    and node.value.attr == "sim" and node.attr not in SIMULATION_PUBLIC):
                reaches.append(f"{path.relative_to(root.parent)}:{node.lineno} .sim.{node.attr}")
    assert not reaches, "use the Simulation's public interface:\n" + "\n".join(reaches)


def _app_of(module: str) -> str | None:
    return next((app for app in APPS if module == app or module.startswith(app + ".")), None)


def _reaches(graph: grimp.ImportGraph) -> set[str]:
    allowed = {f"{app}.{part}" for app in APPS for part in APP_INTERFACE}
    reaches = set()
    for importer in sorted(m for m in graph.modules if _app_of(m)):
        for imported in graph.find_modules_directly_imported_by(importer):
            other = _app_of(imported)
            if other and other != _app_of(importer) and imported not in allowed:
                reaches.add(f"{importer} -> {imported}")
    return reaches


def test_apps_use_each_other_only_through_services_and_selectors(
        graph: grimp.ImportGraph) -> None:
    broken = sorted(_reaches(graph) - KNOWN_REACHES)
    assert not broken, "an app reaches into another's internals:\n" + "\n".join(broken)


def test_known_reaches_are_still_there(graph: grimp.ImportGraph) -> None:
    """When a known reach is gone, take it off KNOWN_REACHES (the list only shrinks)."""
    gone = sorted(KNOWN_REACHES - _reaches(graph))
    assert not gone, f"these reaches are gone: remove them from KNOWN_REACHES: {gone}"


def _cycles(graph: grimp.ImportGraph) -> list[set[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    modules = sorted(m for m in graph.modules if m.split(".")[0] in PACKAGES)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for root in modules:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            targets = edges.get(node, [])
            if child < len(targets):
                work.append((node, child + 1))
                target = targets[child]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


def test_no_import_cycles(graph: grimp.ImportGraph) -> None:
    cycles = _cycles(graph)
    new = [sorted(c) for c in cycles if not any(c <= known for known in KNOWN_CYCLES)]
    assert not new, f"import cycles: {new}"


def test_known_cycles_are_still_there(graph: grimp.ImportGraph) -> None:
    """When a known cycle is gone, take it off KNOWN_CYCLES (the list only shrinks)."""
    cycles = _cycles(graph)
    gone = [sorted(k) for k in KNOWN_CYCLES if not any(k <= c for c in cycles)]
    assert not gone, f"these cycles are gone: remove them from KNOWN_CYCLES: {gone}"
