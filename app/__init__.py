"""The application layer: HTTP controllers, use-case services, the DI container and the CLI."""
