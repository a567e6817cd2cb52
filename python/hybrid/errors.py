"""Exceptions of the hybrid package.

Every error the compiler or the runtime reports becomes a HybridError
subclass carrying the C message (and, from the runtime, its status).
"""

import re

__all__ = [
    "HybridError", "SpecError", "CompileError", "InvalidArgumentError",
    "ShapeMismatchError", "WeightError", "MissingWeightError",
    "WeightsIOError", "OutOfMemoryError", "BadStateError",
    "VersionMismatchError",
]


class HybridError(Exception):
    """Base class: `message` is the compiler's or runtime's text, `status`
    the runtime's hybrid_status (None for compiler errors)."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.message = message
        self.status = status


class SpecError(HybridError, ValueError):
    """A bad model spec. `key` is the spec key the message names, and
    `position` where it was given ("file:line:col" or "--set key=value")."""

    def __init__(self, message, key=None, position=None):
        super().__init__(message)
        self.key = key
        self.position = position


class CompileError(HybridError):
    """hybrid-compile failed for a reason other than the spec."""


class InvalidArgumentError(HybridError, ValueError):
    """HYBRID_INVALID_ARGUMENT: a null, a bad size, a buffer too small."""


class ShapeMismatchError(HybridError, ValueError):
    """HYBRID_SHAPE_MISMATCH: an input or weight of the wrong shape or
    dtype."""


class WeightError(HybridError):
    """A weight problem; `tensor` is the weight's name when the message
    names one."""

    def __init__(self, message, status=None):
        super().__init__(message, status)
        match = re.search(r"tensor '([^']*)'", message)
        self.tensor = match.group(1) if match else None


class MissingWeightError(WeightError, KeyError):
    """HYBRID_MISSING_WEIGHT: a weight the model needs is not given."""

    def __str__(self):  # KeyError would quote the message
        return self.message


class WeightsIOError(WeightError, OSError):
    """HYBRID_IO_ERROR: the weights file cannot be read or is not a valid
    safetensors file."""


class OutOfMemoryError(HybridError, MemoryError):
    """HYBRID_OUT_OF_MEMORY."""


class BadStateError(HybridError):
    """HYBRID_BAD_STATE: a state of another model or batch size, or a model
    compiled without its stateful form."""


class VersionMismatchError(HybridError):
    """HYBRID_VERSION_MISMATCH: the model was compiled for another runtime
    ABI."""


_BY_STATUS = {
    1: InvalidArgumentError,
    2: ShapeMismatchError,
    3: MissingWeightError,
    4: WeightsIOError,
    5: OutOfMemoryError,
    6: BadStateError,
    7: VersionMismatchError,
}


def from_status(status, message):
    """The exception for a runtime status and its message."""
    cls = _BY_STATUS.get(status, HybridError)
    if cls is ShapeMismatchError and "tensor '" in message:
        # A weight of the wrong shape or dtype is both.
        return _WeightShapeError(message, status)
    return cls(message, status)


class _WeightShapeError(ShapeMismatchError, WeightError):
    pass


_SPEC_LOCATION = re.compile(r"^(?P<pos>.*?): error: (?P<msg>.*)$")
_KEY = re.compile(r"(?:unknown )?key '([^']*)'")


def from_compiler(stderr):
    """The exception for hybrid-compile's error output."""
    lines = [l for l in stderr.strip().splitlines() if l.strip()]
    text = "\n".join(lines) if lines else "hybrid-compile failed"
    first = lines[0] if lines else text
    if first.startswith("hybrid-compile: error:"):
        return CompileError(text)
    match = _SPEC_LOCATION.match(first)
    if match:
        key = _KEY.search(match.group("msg"))
        return SpecError(text, key=key.group(1) if key else None,
                         position=match.group("pos"))
    return CompileError(text)
