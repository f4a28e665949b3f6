from django.contrib import admin

from .models import Trace
from .services import traces_delete


@admin.register(Trace)
class TraceAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "fmt", "requests", "distinct_pages", "total_tokens",
                    "size_unit", "public", "created_at")
    list_filter = ("public", "fmt")
    search_fields = ("name", "owner__username")
    # Uploads go through traces.services.trace_upload (streamed validation); the admin only
    # looks, and may change the name or the visibility.
    # The size column's meaning is read-only too: the statistics were computed with it.
    readonly_fields = ("owner", "fmt", "file", "size_bytes", "requests", "distinct_pages",
                       "total_tokens", "size_unit", "bytes_per_token", "stats", "created_at")

    def has_add_permission(self, request) -> bool:
        return False

    # deleting from the admin removes the files too (traces.services.traces_delete)
    def delete_model(self, request, obj: Trace) -> None:
        traces_delete(traces=Trace.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset) -> None:
        traces_delete(traces=queryset)
