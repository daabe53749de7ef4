"""The settings, as `api.settings` has always offered them (application/settings.py)."""

from application.settings import Settings

__all__ = ["Settings"]
