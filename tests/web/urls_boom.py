"""The lab's URLs plus one that fails (tests/web/test_error_pages.py)."""

from django.urls import path

from vmemsite.urls import urlpatterns as lab_urlpatterns


def boom(request):
    raise RuntimeError("a secret that must not reach the page")


urlpatterns = [path("boom/", boom), *lab_urlpatterns]
