"""The API's one router. Each app registers its endpoints here from its AppConfig.ready()
(`<app>/api_routes.py`), so the core's urls include every app's API without importing an app."""

from __future__ import annotations

from django.urls import URLPattern
from rest_framework.routers import DefaultRouter

router = DefaultRouter()
_paths: list[URLPattern] = []


def register(prefix: str, viewset, basename: str) -> None:
    if not any(existing == prefix for existing, *_rest in router.registry):
        router.register(prefix, viewset, basename=basename)


def add_path(pattern: URLPattern) -> None:
    if not any(p.name == pattern.name for p in _paths):
        _paths.append(pattern)


def urlpatterns() -> list:
    return [*_paths, *router.urls]
