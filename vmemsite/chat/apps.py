from django.apps import AppConfig


class ChatConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "vmemsite.chat"
    label = "chat"
    verbose_name = "VMem Lab chat sessions"
