"""The project's errors: bad input or parameters, reported to the user as one clear line."""

from dataclasses import dataclass


class NewsauditError(Exception):
    """Raised for problems the user can fix (a missing file, a bad parameter, a corrupt download).

    The CLI prints the message and exits with status 2 instead of showing a traceback.
    """


class StepUnavailable(NewsauditError):
    """A per-page step cannot run here (its trained model is missing); the reason goes in the summary."""


@dataclass(frozen=True)
class Rejection(Exception):
    """One input is rejected: ``code`` for counting, ``message`` for people (names file and line)."""

    code: str
    message: str

    def __str__(self) -> str:
        return self.message
