from django.urls import path

from . import views

app_name = "chat"

urlpatterns = [
    path("", views.chat_list, name="list"),
    path("new/", views.chat_new, name="new"),
    path("scripts/", views.script_new, name="script_new"),
    path("compare/", views.chat_compare, name="compare"),
    path("pricing/", views.pricing_profiles, name="pricing"),
    path("pricing/<int:profile_id>/", views.pricing_profile_edit, name="pricing_edit"),
    path("pricing/<int:profile_id>/delete", views.pricing_profile_delete_view,
         name="pricing_delete"),
    path("<int:chat_id>/", views.chat_detail, name="detail"),
    path("<int:chat_id>/state.json", views.chat_state_json, name="state"),
    path("<int:chat_id>/send", views.chat_send, name="send"),
    path("<int:chat_id>/replay", views.chat_replay, name="replay"),
    path("<int:chat_id>/trace.csv", views.chat_trace_csv, name="trace"),
    path("<int:chat_id>/delete", views.chat_delete_view, name="delete"),
]
