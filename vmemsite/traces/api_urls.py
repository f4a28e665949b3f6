"""URLs of the trace library's JSON API, mounted at /api/traces/ (operations in traces/api.py,
named list, detail and file)."""

from vmemsite.api.site import api_paths

app_name = "traces_api"

urlpatterns = api_paths("traces/")
