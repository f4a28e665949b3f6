"""Websocket URL patterns, mounted by vmemsite/asgi.py. The live-run consumer comes next."""

websocket_urlpatterns: list = []
