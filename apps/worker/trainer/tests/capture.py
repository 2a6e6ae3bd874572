"""The event channel of the trainer's children, captured in memory for tests."""
import io
import json

import train


class Capture(train.Events):
    def __init__(self):
        super().__init__(None)
        self._out = io.StringIO()

    @property
    def events(self):
        return [json.loads(line) for line in self._out.getvalue().splitlines()]
