from django.urls import path

from vmemsite.api.site import api_paths

from . import views

app_name = "simulator"

urlpatterns = [
    path("", views.home, name="home"),
    path("presets/<slug:key>/start", views.preset_start, name="preset_start"),
    path("runs/", views.run_list, name="run_list"),
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
    # JSON API (token or session auth): the operations of vmemsite/runs/api.py, named
    # api_runs, api_run, api_run_control, api_run_windows, api_run_windows_csv
    *api_paths("runs/", "api/runs/"),
]
