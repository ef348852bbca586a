"""The one error root of TrueVoice, with a ``retriable`` flag (as aiokafka's errors carry).

A batch loop retries only what may succeed later (a broker or ClickHouse that is down, a full
disk); a record that can never succeed (it does not parse, it breaks a model) is permanent and
goes to the dead-letter topic with where it came from, so it never blocks its partition.
"""

from __future__ import annotations


class TrueVoiceError(Exception):
    """Root of every error TrueVoice raises on purpose."""

    retriable: bool = False

    def __init__(self, message: str = "", *, retriable: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        if retriable is not None:
            self.retriable = retriable


class RetriableError(TrueVoiceError):
    """May succeed when tried again later: storage or broker unavailable, disk full, timeouts."""

    retriable = True


class PermanentError(TrueVoiceError):
    """Will fail the same way every time: bad input, a record a stage cannot handle."""

    retriable = False


class StorageUnavailableError(RetriableError):
    """ClickHouse could not take or answer a request now (down, disk full, too many parts)."""


class ConfigurationError(PermanentError):
    """The process was started without something it needs (a URL, a salt, a model)."""


def is_retriable(exc: BaseException) -> bool:
    """Our own errors say so; anything else (a library's, an OSError) is taken as retriable,
    because dropping data on an unknown error is worse than retrying it."""
    if isinstance(exc, TrueVoiceError):
        return exc.retriable
    return True
