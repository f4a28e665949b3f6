"""Development settings: `make run` and `manage.py` use these by default."""

from .base import *  # noqa: F403

DEBUG = True
SECRET_KEY = "django-insecure-vmem-lab-dev-only-never-use-in-production"
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]"]

# WhiteNoise serves static files straight from the finders (our static/, django-htmx's app
# files, the plotly wheel), under Daphne as well as under runserver; no collectstatic needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
