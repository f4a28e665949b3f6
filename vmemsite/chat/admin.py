from django.contrib import admin

from .models import Chat, ChatMessage


@admin.register(Chat)
class ChatAdmin(admin.ModelAdmin):
    list_display = ("id", "title", "owner", "kind", "provider", "preset", "status", "updated_at")
    list_filter = ("kind", "provider", "status")
    exclude = ("state", "snapshot")


@admin.register(ChatMessage)
class ChatMessageAdmin(admin.ModelAdmin):
    list_display = ("id", "chat", "turn", "role", "created_at")
