"""Observability of the request path: span attributes, the chat observer, the HTTP middleware."""
