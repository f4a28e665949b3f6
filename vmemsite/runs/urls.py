from django.urls import path

from . import api, views

app_name = "simulator"

urlpatterns = [
    path("", views.home, name="home"),
    path("presets/<slug:key>/start", views.preset_start, name="preset_start"),
    path("runs/new/", views.run_new, name="run_new"),
    path("runs/mine/", views.my_runs, name="my_runs"),
    path("compare/new/", views.compare_new, name="compare_new"),
    path("runs/<int:run_id>/", views.run_page, name="run"),
    path("runs/<int:run_id>/state.json", views.run_state_json, name="run_state"),
    path("runs/<int:run_id>/windows.csv", views.run_windows_csv, name="run_windows_csv"),
    path("runs/<int:run_id>/windows.json", views.run_windows_page_json,
         name="run_windows_page"),
    path("runs/<int:run_id>/export.json", views.run_export_json, name="run_export"),
    path("runs/<int:run_id>/share", views.run_share, name="run_share"),
    path("runs/<int:run_id>/again", views.run_again_view, name="run_again"),
    # JSON API (token or session auth); OpenAPI entries in vmemsite/runs/api.py
    path("api/runs/", api.runs, name="api_runs"),
    path("api/runs/<int:run_id>/", api.run_detail, name="api_run"),
    path("api/runs/<int:run_id>/control", api.run_control_view, name="api_run_control"),
    path("api/runs/<int:run_id>/windows", api.run_windows_view, name="api_run_windows"),
    path("api/runs/<int:run_id>/windows.csv", api.run_windows_csv_view,
         name="api_run_windows_csv"),
]
