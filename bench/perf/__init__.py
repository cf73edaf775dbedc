"""Overhead benchmark (issue 8): tiergate vs LiteLLM vs a bare pass-through vs the upstream."""
