from django.apps import AppConfig


class TeachConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "vmemsite.teach"
    label = "teach"
    verbose_name = "Teaching paging"
