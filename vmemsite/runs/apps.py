from django.apps import AppConfig
from django.conf import settings


class RunsConfig(AppConfig):
    """Simulation runs and comparisons. The label stays ``simulator`` (the app's name before
    the libraries moved out of it), so existing databases and their migrations keep working."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "vmemsite.runs"
    label = "simulator"
    verbose_name = "VMem Lab runs"

    def ready(self) -> None:
        import simulator.memory  # noqa: F401 - registers the importance policy for the forms
        from simulator.llm.tokens import ensure_tiktoken_cache

        from . import staticfinders  # noqa: F401 - registers the check that static files exist

        # tiktoken offline: cheap when the files are already there (docs/architecture.md §2).
        ensure_tiktoken_cache(settings.DATA_DIR)
