from django.apps import AppConfig
from django.conf import settings


class SimulatorConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "simulator"
    verbose_name = "VMem Lab simulator"

    def ready(self) -> None:
        from .tokens import ensure_tiktoken_cache

        # tiktoken offline: cheap when the files are already there (DESIGN §2).
        ensure_tiktoken_cache(settings.DATA_DIR)
