"""Hybrid: a compiler for hybrid sequence models.

    import hybrid
    hybrid.describe_schedule(num_layers=10, ratio=(9, 1))
    model = hybrid.compile(dict(hybrid.preset("jamba"), embed_dim=64),
                           stateful=True)
    y = model.forward(x, "weights.safetensors")

The builder functions (preset, resolve_schedule, describe_schedule, ...)
are the seed library's, computed by Hybrid's C++ frontend; compile() runs
hybrid-compile and loads the library through the C runtime (docs/Python.md).
"""

from ._builder import (describe, describe_schedule, layer_pattern,
                       output_size, param_count, preset,
                       recommended_defaults, resolve_schedule, spec)
from ._model import Model, State, build, cache_dir, compile
from .errors import (BadStateError, CompileError, HybridError,
                     InvalidArgumentError, MissingWeightError,
                     OutOfMemoryError, ShapeMismatchError, SpecError,
                     VersionMismatchError, WeightError, WeightsIOError)

__version__ = "0.2.0"


def runtime_version():
    """The version of the runtime the package loaded."""
    from . import _runtime
    return _runtime.version()
