"""Compiled models: hybrid.compile(...) -> Model, with forward, prefill and
step on numpy arrays (or anything with __dlpack__: torch tensors), through
the Hybrid runtime."""

import ctypes
import hashlib
import json
import os
import pathlib
import tempfile

import numpy as np

from . import _builder, _runtime, _tools, errors

__all__ = ["compile", "build", "Model", "State", "cache_dir"]


def cache_dir():
    """Where compiled models are kept: $HYBRID_CACHE_DIR, else
    $XDG_CACHE_HOME/hybrid, else ~/.cache/hybrid."""
    if os.environ.get("HYBRID_CACHE_DIR"):
        return pathlib.Path(os.environ["HYBRID_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
    return pathlib.Path(base) / "hybrid"


def _array(x, dtype=np.float32, name="input"):
    """A C-contiguous array of `dtype` over x without a copy when x already
    is one (numpy, or a DLPack producer such as a CPU torch tensor)."""
    if not isinstance(x, np.ndarray) and hasattr(x, "__dlpack__"):
        try:
            x = np.from_dlpack(x)
        except (BufferError, TypeError, RuntimeError) as e:
            raise errors.InvalidArgumentError(
                f"{name}: cannot read it through DLPack ({e}); pass a CPU "
                "array") from None
    return np.ascontiguousarray(x, dtype=dtype)


def _ptr(a, ctype=ctypes.c_float):
    return a.ctypes.data_as(ctypes.POINTER(ctype))


def _per_sequence(values, batch, name):
    """None, or `batch` int64 values (lengths, active flags)."""
    if values is None:
        return None
    a = _array(values, np.int64, name)
    if a.shape != (batch,):
        raise errors.ShapeMismatchError(
            f"{name} has shape {list(a.shape)}, expected [{batch}]", 2)
    return a


class Model:
    """A model compiled by hybrid-compile and loaded with the runtime.

    `weights` (a safetensors path, or a dict of arrays by the documented
    names) may be given here, to load_weights, or to each forward call.
    """

    def __init__(self, library, spec, stateful, weights=None):
        self.library_path = pathlib.Path(library)
        self.spec = spec
        self.stateful = stateful
        _runtime.lib()
        self._lib = ctypes.CDLL(str(self.library_path))
        self._desc = _runtime.ModelDesc.in_dll(self._lib, "model_model")
        d = self._desc
        self.name = d.name.decode()
        self.embed_dim = d.embed_dim
        self.hidden_size = d.hidden_size
        self.seq_len = d.seq_len or None
        self.sequence_output = bool(d.sequence_output)
        self.weight_info = [(d.weights[i].name.decode(),
                             tuple(d.weights[i].shape[j]
                                   for j in range(d.weights[i].rank)))
                            for i in range(d.num_weights)]
        self.state_info = [(d.states[i].name.decode(),
                            tuple(d.states[i].shape[j]
                                  for j in range(d.states[i].rank)))
                           for i in range(d.num_states)]
        self._handle = None
        self._keep = None
        if weights is not None:
            self.load_weights(weights)

    # -- weights -----------------------------------------------------------

    def _create(self, weights):
        """A runtime model over `weights`; (handle, arrays to keep alive)."""
        handle = ctypes.c_void_p()
        desc = ctypes.byref(self._desc)
        if isinstance(weights, (str, os.PathLike)):
            _runtime.check(_runtime.lib().hybrid_model_create_from_file(
                desc, os.fsencode(weights), ctypes.byref(handle)))
            return handle, None
        if not hasattr(weights, "__getitem__"):
            raise TypeError("weights are a safetensors path or a dict of "
                            "arrays by name, got " + type(weights).__name__)
        arrays = []
        for name, shape in self.weight_info:
            if name not in weights:
                raise errors.MissingWeightError(
                    f"missing tensor '{name}' {list(shape)}", 3)
            a = _array(weights[name], name=f"tensor '{name}'")
            if a.shape != shape:
                raise errors.from_status(
                    2, f"tensor '{name}' has shape {list(a.shape)}, "
                    f"expected {list(shape)}")
            arrays.append(a)
        pointers = (_runtime.c_float_p * max(len(arrays), 1))(
            *[_ptr(a) for a in arrays])
        _runtime.check(_runtime.lib().hybrid_model_create_from_buffers(
            desc, pointers, len(arrays), ctypes.byref(handle)))
        return handle, arrays

    def load_weights(self, weights):
        """Binds the model to weights (a .safetensors path, or a dict of
        arrays; arrays are used in place when they are contiguous f32)."""
        handle, keep = self._create(weights)
        self._release()
        self._handle, self._keep = handle, keep
        return self

    def _release(self):
        if self._handle:
            _runtime.lib().hybrid_model_destroy(self._handle)
            self._handle = None

    def __del__(self):
        try:
            self._release()
        except Exception:  # interpreter shutdown
            pass

    def _bound(self):
        if not self._handle:
            raise errors.InvalidArgumentError(
                "the model has no weights: pass weights to forward, or call "
                "load_weights first")
        return self._handle

    # -- calls -------------------------------------------------------------

    def output_shape(self, batch, seq_len):
        return ((batch, seq_len, self.hidden_size) if self.sequence_output
                else (batch, self.hidden_size))

    def _input(self, x, rank=3):
        a = _array(x)
        if a.ndim != rank or a.shape[-1] != self.embed_dim:
            want = "[batch, seq, %d]" % self.embed_dim if rank == 3 \
                else "[batch, %d]" % self.embed_dim
            raise errors.ShapeMismatchError(
                f"the input has shape {list(a.shape)}, expected {want}", 2)
        return a

    def forward(self, x, weights=None):
        """The forward pass on x [batch, seq, embed_dim] -> [batch, hidden]
        (or [batch, seq, hidden] for output "sequence")."""
        if weights is not None:
            self.load_weights(weights)
        a = self._input(x)
        batch, seq = a.shape[0], a.shape[1]
        out = np.empty(self.output_shape(batch, seq), dtype=np.float32)
        _runtime.check(_runtime.lib().hybrid_model_forward(
            self._bound(), _ptr(a), batch, seq, _ptr(out), out.size))
        return out

    __call__ = forward

    def new_state(self, batch):
        """A state for `batch` sequences at their start."""
        return State(self, batch)

    def prefill(self, state, x, lengths=None):
        """Continues each sequence of `state` with x [batch, T, embed_dim];
        `lengths` (per sequence, 0..T) limits what each one consumes."""
        self._check_state(state)
        a = self._input(x)
        batch, seq = a.shape[0], a.shape[1]
        lens = _per_sequence(lengths, batch, "lengths")
        out = np.empty(self.output_shape(batch, seq), dtype=np.float32)
        _runtime.check(_runtime.lib().hybrid_prefill(
            self._bound(), state._handle, _ptr(a), batch, seq,
            _ptr(lens, ctypes.c_int64) if lens is not None else None,
            _ptr(out), out.size))
        return out

    def step(self, state, x, active=None):
        """One position per sequence: x [batch, embed_dim] (or [batch, 1,
        embed_dim]) -> [batch, hidden]; `active` (0/1 per sequence) keeps
        the state of the sequences marked 0."""
        self._check_state(state)
        a = _array(x)
        if a.ndim == 3 and a.shape[1] == 1:
            a = a.reshape(a.shape[0], a.shape[2])
        a = self._input(a, rank=2)
        batch = a.shape[0]
        act = _per_sequence(active, batch, "active")
        out = np.empty((batch, self.hidden_size), dtype=np.float32)
        _runtime.check(_runtime.lib().hybrid_step(
            self._bound(), state._handle, _ptr(a), batch,
            _ptr(act, ctypes.c_int64) if act is not None else None,
            _ptr(out), out.size))
        return out

    def _check_state(self, state):
        if not isinstance(state, State):
            raise TypeError("expected a hybrid.State (model.new_state)")
        if state.model is not self:
            raise errors.BadStateError(
                "the state was made for another model", 6)

    def __repr__(self):
        return (f"<hybrid.Model {self.name}: embed {self.embed_dim}, hidden "
                f"{self.hidden_size}, {len(self.weight_info)} weights"
                f"{', stateful' if self.stateful else ''}>")


class State:
    """Every layer's recurrent state, conv tails and K/V windows for a batch
    of sequences. copy() is a snapshot; copy_from(snapshot) restores it."""

    def __init__(self, model, batch):
        self.model = model
        self.batch = batch
        self._handle = ctypes.c_void_p()
        _runtime.check(_runtime.lib().hybrid_state_create(
            model._bound(), batch, ctypes.byref(self._handle)))

    @property
    def nbytes(self):
        size = ctypes.c_size_t()
        _runtime.check(_runtime.lib().hybrid_state_size(
            self.model._bound(), self.batch, ctypes.byref(size)))
        return size.value

    @property
    def positions(self):
        out = np.zeros(self.batch, dtype=np.int64)
        _runtime.check(_runtime.lib().hybrid_state_positions(
            self._handle, _ptr(out, ctypes.c_int64), out.size))
        return out

    def reset(self):
        _runtime.check(_runtime.lib().hybrid_state_reset(self._handle))
        return self

    def copy(self):
        other = State(self.model, self.batch)
        _runtime.check(_runtime.lib().hybrid_state_copy(self._handle,
                                                        other._handle))
        return other

    def copy_from(self, snapshot):
        _runtime.check(_runtime.lib().hybrid_state_copy(snapshot._handle,
                                                        self._handle))
        return self

    def __del__(self):
        try:
            if self._handle:
                _runtime.lib().hybrid_state_destroy(self._handle)
                self._handle = None
        except Exception:
            pass


def compile(spec, target="cpu", stateful=False, cache=None, weights=None):
    """Compiles a model (a dict of options, as build/preset take them, or a
    spec file path) for `target` and loads it. The library is cached by a
    hash of the effective spec, the compiler and the target: compiling the
    same model again is a lookup. `cache` overrides cache_dir()."""
    if target == "cuda":
        raise errors.CompileError(
            "target 'cuda' is not available: hybrid-compile generates CPU "
            "code only (the GPU target is not built yet)")
    if target != "cpu":
        raise ValueError(f"target must be 'cpu' (or 'cuda'), got {target!r}")
    source, args = _tools.spec_args(spec)
    effective = json.loads(_tools.run(args + ["--emit=spec"], source))
    key = hashlib.sha256(json.dumps(
        {"spec": effective, "compiler": _tools.compiler_identity(),
         "target": target, "stateful": bool(stateful)},
        sort_keys=True).encode()).hexdigest()[:32]
    directory = pathlib.Path(cache) if cache else cache_dir()
    library = directory / key / "libmodel.so"
    if not library.exists():
        library.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix=".so", dir=library.parent)
        os.close(fd)
        try:
            _tools.run(args + ["--model-name=model", "--target=cpu",
                               "--emit=shared", "-o", tmp] +
                       (["--stateful"] if stateful else []), source)
            (library.parent / "spec.json").write_text(
                json.dumps(effective, indent=2, sort_keys=True))
            os.replace(tmp, library)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return Model(library, _builder._from_json(effective), stateful, weights)


def build(stateful=False, **options):
    """The seed's HybridBuilder.build(opts): a compiled model (see
    compile)."""
    return compile(options, stateful=stateful)
