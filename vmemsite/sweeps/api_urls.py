"""URLs of the sweeps JSON API, mounted at /api/sweeps/ (operations in sweeps/api.py)."""

from vmemsite.api.site import api_paths

app_name = "sweeps_api"

urlpatterns = api_paths("sweeps/")
