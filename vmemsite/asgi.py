"""ASGI entry point: HTTP goes to Django, websockets to the Channels consumers.

Serve with ``.venv/bin/daphne vmemsite.asgi:application`` (``make run`` does).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vmemsite.settings.dev")

# Build the Django app first: it sets Django up before anything imports models.
django_asgi_app = get_asgi_application()

from vmemsite.runs.staticfinders import fail_unless_static_collected  # noqa: E402

fail_unless_static_collected()  # no server whose every page would be a 500 (collectstatic)

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import re_path  # noqa: E402

from vmemsite.chat import runners as chat_runners  # noqa: E402, F401  (hooks housekeeping)
from vmemsite.chat.routing import websocket_urlpatterns as chat_websocket_urlpatterns  # noqa: E402
from vmemsite.live.publish import LoopRecorder  # noqa: E402
from vmemsite.runs import runners as run_runners  # noqa: E402, F401  (hooks housekeeping)
from vmemsite.runs.consumers import UnknownPathConsumer  # noqa: E402
from vmemsite.runs.routing import websocket_urlpatterns  # noqa: E402
from vmemsite.sweeps import runners as sweep_runners  # noqa: E402, F401  (hooks housekeeping)
from vmemsite.traces.disconnect import ClientGoneApp  # noqa: E402

# LoopRecorder remembers the server's event loop so that worker threads can hand their frames
# to it (the in-memory channel layer does not cross event loops; docs/architecture.md §4), and
# starts the housekeeping of runs, chats and sweeps on the first connection (vmemsite.live).
application = LoopRecorder(ProtocolTypeRouter(
    {
        # a request's client_gone event stops long uploads when their client leaves
        "http": ClientGoneApp(django_asgi_app),
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter([
                *websocket_urlpatterns,
                *chat_websocket_urlpatterns,
                re_path(r"", UnknownPathConsumer.as_asgi()),  # last: refuse unknown paths
            ]))
        ),
    }
))
