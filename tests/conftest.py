"""Test-wide settings."""

from hypothesis import settings

# Hypothesis fails an example that runs past 200 ms: a timing assertion, and on a shared
# two-core machine a first example that pays for lazy imports can take that long. Speed is
# measured in bench/, not asserted in tests.
settings.register_profile("tiergate", deadline=None)
settings.load_profile("tiergate")
