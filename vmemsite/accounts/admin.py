from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from .models import ApiToken
from .services import user_delete

User = get_user_model()


class LabUserAdmin(UserAdmin):
    """Django's user admin, whose deletions go through ``user_delete`` (trace files too)."""

    def delete_model(self, request, obj) -> None:
        user_delete(user=obj)

    def delete_queryset(self, request, queryset) -> None:
        for user in queryset:
            user_delete(user=user)


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, LabUserAdmin)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at")
    search_fields = ("name", "user__username", "prefix")
    # Tokens are created on /accounts/tokens/ (shown once); the admin can only revoke them.
    readonly_fields = ("user", "name", "prefix", "digest", "created_at", "last_used_at")

    def has_add_permission(self, request) -> bool:
        return False
