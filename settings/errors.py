"""The one exception type for mistakes in what the user gave (data, configuration, arguments).

The CLI prints such an error as one `vigia: ...` line and exits 2, without a traceback;
every other exception is a bug and keeps its traceback.
"""


class InputError(ValueError):
    """The user's data, configuration or arguments cannot be used as given."""
