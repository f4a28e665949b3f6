from django.urls import path

from . import views

app_name = "traces"

urlpatterns = [
    path("", views.trace_list, name="list"),
    path("upload/", views.trace_upload, name="upload"),
    path("<int:trace_id>/", views.trace_detail, name="detail"),
    path("<int:trace_id>/visibility/", views.trace_visibility, name="visibility"),
    path("<int:trace_id>/delete/", views.trace_delete_view, name="delete"),
    path("<int:trace_id>/download/", views.trace_download, name="download"),
    path("<int:trace_id>/analysis.json", views.trace_analysis_json, name="analysis_json"),
    path("<int:trace_id>/analysis/", views.trace_analysis_start, name="analysis_start"),
    path("<int:trace_id>/analysis/<slug:chart>.csv", views.trace_analysis_csv,
         name="analysis_csv"),
]
