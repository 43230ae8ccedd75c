"""The review page: a small server-rendered web app over the store (wsgiref + Jinja2, no JS build)."""

from wirewatch.web.app import ReviewApp

__all__ = ["ReviewApp"]
