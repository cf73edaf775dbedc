"""ErrorTranslation: a context manager that re-raises one library's exceptions as another's."""

from __future__ import annotations

from types import TracebackType


class ErrorTranslation:
    """Subclasses say what an exception becomes (`translated`); None lets it through as it is.

    A class rather than a `contextmanager` generator: translations wrap every upstream call,
    and the generator machinery cost more than the translation itself."""

    __slots__ = ()

    def translated(self, exc: BaseException) -> BaseException | None:
        raise NotImplementedError

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is not None and (replacement := self.translated(exc)) is not None:
            raise replacement from exc
