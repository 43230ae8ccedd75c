"""The review page: a small server-rendered web app over the store (wsgiref + Jinja2, no JS build)."""

from wirewatch.web.app import ReviewApp
from wirewatch.web.server import serve_review

__all__ = ["ReviewApp", "serve_review"]
