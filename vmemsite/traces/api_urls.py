"""URLs of the trace library's JSON API, mounted at /api/traces/ (see traces/api.py)."""

from django.urls import path

from . import api

app_name = "traces_api"

urlpatterns = [
    path("", api.trace_collection, name="list"),
    path("<int:trace_id>/", api.trace_item, name="detail"),
    path("<int:trace_id>/file", api.trace_file, name="file"),
]
