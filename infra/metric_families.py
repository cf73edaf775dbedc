"""Metric families kept as plain numbers by label values, read by Prometheus when it scrapes.

prometheus_client's own metric objects take a lock and check themselves on every update, about a
microsecond each, and a chat request makes ten updates. The gateway updates its metrics only from
its event loop thread, so a dict update is all an update needs; a scrape turns the numbers into
prometheus_client's metric families, and prometheus_client still writes the exposition format.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from itertools import accumulate

from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

Labels = tuple[str, ...]  # label values, in the order of the family's label names


class _OneNumberFamily:
    """A family with one number per series: counters and gauges."""

    _kind: type[CounterMetricFamily] | type[GaugeMetricFamily]

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str] = ()) -> None:
        self._describe = (name, documentation, list(labelnames))
        self._values: dict[Labels, float] = {} if labelnames else {(): 0.0}

    def inc(self, labels: Labels = (), amount: float = 1.0) -> None:
        values = self._values
        values[labels] = values.get(labels, 0.0) + amount

    def collect(self) -> Metric:
        name, documentation, labelnames = self._describe
        family = self._kind(name, documentation, labels=labelnames)
        for labels, value in list(self._values.items()):
            family.add_metric(labels, value)
        return family


class CounterFamily(_OneNumberFamily):
    _kind = CounterMetricFamily


class GaugeFamily(_OneNumberFamily):
    _kind = GaugeMetricFamily

    def set(self, labels: Labels, value: float) -> None:
        self._values[labels] = value

    def dec(self, labels: Labels = (), amount: float = 1.0) -> None:
        self.inc(labels, -amount)


class HistogramFamily:
    """Observations counted in the bucket of the first upper bound they do not exceed (Prometheus'
    `le`), plus +Inf; each series is its bucket counts followed by the sum of what it observed."""

    def __init__(
        self, name: str, documentation: str, labelnames: Sequence[str], buckets: Sequence[float]
    ) -> None:
        self._describe = (name, documentation, list(labelnames))
        self._bounds = tuple(buckets)
        self._les = [*map(floatToGoString, buckets), "+Inf"]
        self._series: dict[Labels, list[float]] = {}

    def child(self, labels: Labels) -> None:
        """Export `labels` from the start, at zero."""
        self._series.setdefault(labels, self._empty())

    def observe(self, labels: Labels, value: float) -> None:
        series = self._series.get(labels)
        if series is None:
            series = self._series[labels] = self._empty()
        series[bisect_left(self._bounds, value)] += 1
        series[-1] += value

    def _empty(self) -> list[float]:
        return [0.0] * (len(self._bounds) + 2)  # every bucket, +Inf, then the sum

    def collect(self) -> Metric:
        name, documentation, labelnames = self._describe
        family = HistogramMetricFamily(name, documentation, labels=labelnames)
        for labels, series in list(self._series.items()):
            cumulative = accumulate(series[:-1])
            family.add_metric(labels, list(zip(self._les, cumulative, strict=True)), series[-1])
        return family


Family = CounterFamily | GaugeFamily | HistogramFamily


class Families(Collector):
    """What a registry scrapes: every family's current numbers."""

    def __init__(self, families: Iterable[Family]) -> None:
        self._families = tuple(families)

    def collect(self) -> Iterator[Metric]:
        for family in self._families:
            yield family.collect()
