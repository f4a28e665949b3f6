"""URLs of the sessions JSON API, mounted at /api/sessions/ (operations in chat/api.py)."""

from vmemsite.api.site import api_paths

app_name = "sessions_api"

urlpatterns = api_paths("sessions/")
