"""Exceptions raised by the engine. Each names what was wrong, so callers can show it."""


class InvalidSpec(ValueError):
    """A specification (or user-supplied array) is invalid; ``field`` names the offending field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
