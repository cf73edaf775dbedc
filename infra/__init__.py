"""Infrastructure: configuration, logging and telemetry set-up."""
