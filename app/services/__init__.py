"""Use-case services: what the gateway does for a request, independent of HTTP."""
