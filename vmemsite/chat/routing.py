"""Websocket URL patterns of the chat app, mounted by vmemsite/asgi.py."""

from django.urls import path

from .consumers import ChatConsumer

websocket_urlpatterns = [
    path("ws/chat/<int:chat_id>/", ChatConsumer.as_asgi()),
]
