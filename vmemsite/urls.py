from django.contrib import admin
from django.urls import include, path

from . import openapi

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("vmemsite.accounts.urls")),
    path("traces/", include("vmemsite.traces.urls")),
    path("sweeps/", include("vmemsite.sweeps.urls")),
    path("chat/", include("vmemsite.chat.urls")),
    path("teach/", include("vmemsite.teach.urls")),
    # JSON API: the readable page, the OpenAPI document, the trace library's endpoints
    # (the runs endpoints, /api/runs/..., are in vmemsite.runs.urls).
    path("api/", openapi.api_docs, name="api-docs"),
    path("api/openapi.json", openapi.openapi_json, name="openapi"),
    path("api/traces/", include("vmemsite.traces.api_urls")),
    path("api/sessions/", include("vmemsite.chat.api_urls")),
    path("api/sweeps/", include("vmemsite.sweeps.api_urls")),
    path("", include("vmemsite.runs.urls")),
]

# under /api/ a path that matches nothing is a JSON 404 like every other API error
handler404 = "vmemsite.api.site.not_found"
