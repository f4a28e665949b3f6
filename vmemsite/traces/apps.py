from django.apps import AppConfig


class TracesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "vmemsite.traces"
    label = "traces"
    verbose_name = "Trace library"
