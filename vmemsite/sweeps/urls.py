from django.urls import path

from . import views

app_name = "sweeps"

urlpatterns = [
    path("", views.sweep_list, name="list"),
    path("new/", views.sweep_new, name="new"),
    path("<int:sweep_id>/", views.sweep_detail, name="detail"),
    path("<int:sweep_id>/state.json", views.sweep_json, name="json"),
    path("<int:sweep_id>/cells.csv", views.sweep_csv, name="csv"),
    path("<int:sweep_id>/retry/", views.sweep_retry, name="retry"),
    path("<int:sweep_id>/cancel/", views.sweep_cancel_view, name="cancel"),
]
