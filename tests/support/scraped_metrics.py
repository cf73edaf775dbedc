"""Reading a running gateway's `/metrics` in tests."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families


def metric_sum(base_url: str, sample: str, **labels: str) -> float:
    """The sum of `sample` (e.g. `tiergate_cost_usd_total`) over every series carrying `labels`."""
    text = httpx.get(base_url + "/metrics").text
    return sum(
        series.value
        for family in text_string_to_metric_families(text)
        for series in family.samples
        if series.name == sample and labels.items() <= series.labels.items()
    )
