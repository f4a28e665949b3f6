"""The teaching page (docs/teaching.md): thin, as every view of the lab; selectors do the
work and an exercise lives entirely in its URL, so a link opens it for anyone, signed in or
not, and nothing about a student is stored."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from simulator.engine.explain import MAX_FRAMES, MAX_PAGES, MAX_REFS
from vmemsite.errors import Invalid

from . import selectors


def _form_values(request: HttpRequest) -> dict[str, str]:
    """What the visitor typed, given back to the form (cut short: never echo a huge value)."""
    names = ("refs", "policies", "frames", "tau", "gen", "pages", "seed", "trace", "chat", "n")
    return {name: request.GET.get(name, "")[:2000] for name in names}


@require_GET
def teach_page(request: HttpRequest) -> HttpResponse:
    context = {
        "presets": selectors.PRESETS.values(), "policy_choices": selectors.POLICY_LABELS,
        "max_refs": MAX_REFS, "max_frames": MAX_FRAMES, "max_pages": MAX_PAGES,
        "max_policies": selectors.MAX_POLICIES, "form": _form_values(request),
        "exercise": None, "tables": None,
    }
    try:
        exercise = selectors.exercise_from_query(request.GET, request.user)
    except Invalid as exc:
        context["errors"] = exc.errors
        return render(request, "teach/page.html", context, status=400)
    tables = [selectors.frame_table(e) for e in selectors.explanations(exercise)]
    curves = selectors.fault_curves(exercise)
    thrashing = selectors.thrashing(exercise)
    context.update(
        exercise=exercise, tables=tables, curves=curves,
        anomalies=selectors.anomalies(curves), thrashing=thrashing,
        script={"step": exercise.step, "count": len(exercise.refs),
                "predict": exercise.predict, "query": exercise.query(step=None),
                "tables": [t["script"] for t in tables], "curves": curves,
                "thrashing": thrashing},
        share_query=exercise.query(step=None, predict=1),
    )
    if not context["form"]["refs"]:
        context["form"]["refs"] = ",".join(str(r) for r in exercise.refs)
    context["form"]["policies"] = ",".join(exercise.policies)
    context["form"]["frames"] = str(exercise.frames)
    return render(request, "teach/page.html", context)
