"""The one error type users see: a one-line message that names the problem and the fix."""


class NNTError(ValueError):
    """Unusable input: the message is one line, names the place (layer, field, shapes) and the fix."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))
