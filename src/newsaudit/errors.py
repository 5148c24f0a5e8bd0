"""The project's error type: bad input or parameters, reported to the user as one clear line."""


class NewsauditError(Exception):
    """Raised for problems the user can fix (a missing file, a bad parameter, a corrupt download).

    The CLI prints the message and exits with status 2 instead of showing a traceback.
    """
