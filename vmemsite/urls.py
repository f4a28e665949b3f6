from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("traces/", include("traces.urls")),
    path("", include("simulator.urls")),
]
