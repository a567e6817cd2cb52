"""ctypes bindings of the Hybrid runtime's C API (hybrid_runtime.h)."""

import ctypes
import functools

from . import _tools, errors

c_int64_p = ctypes.POINTER(ctypes.c_int64)
c_float_p = ctypes.POINTER(ctypes.c_float)

# The runtime ABI these bindings are written for (HYBRID_ABI_VERSION).
ABI_VERSION = 1
MODEL_MAGIC = 0x52425948


class WeightInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("rank", ctypes.c_int32),
                ("shape", c_int64_p)]


class ModelDesc(ctypes.Structure):
    """hybrid_model_desc."""
    _fields_ = [("magic", ctypes.c_uint32), ("abi_version", ctypes.c_int32),
                ("name", ctypes.c_char_p), ("embed_dim", ctypes.c_int64),
                ("hidden_size", ctypes.c_int64), ("seq_len", ctypes.c_int64),
                ("sequence_output", ctypes.c_int32),
                ("num_weights", ctypes.c_int32),
                ("weights", ctypes.POINTER(WeightInfo)),
                ("forward", ctypes.c_void_p), ("num_states", ctypes.c_int32),
                ("states", ctypes.POINTER(WeightInfo)),
                ("prefill", ctypes.c_void_p), ("step", ctypes.c_void_p)]


_SIGNATURES = {
    "hybrid_last_error": (ctypes.c_char_p, []),
    "hybrid_runtime_version": (ctypes.c_char_p, []),
    "hybrid_runtime_abi_version": (ctypes.c_int32, []),
    "hybrid_model_create_from_file": (
        ctypes.c_int, [ctypes.POINTER(ModelDesc), ctypes.c_char_p,
                       ctypes.POINTER(ctypes.c_void_p)]),
    "hybrid_model_create_from_buffers": (
        ctypes.c_int, [ctypes.POINTER(ModelDesc),
                       ctypes.POINTER(c_float_p), ctypes.c_size_t,
                       ctypes.POINTER(ctypes.c_void_p)]),
    "hybrid_model_forward": (
        ctypes.c_int, [ctypes.c_void_p, c_float_p, ctypes.c_int64,
                       ctypes.c_int64, c_float_p, ctypes.c_size_t]),
    "hybrid_model_destroy": (None, [ctypes.c_void_p]),
    "hybrid_state_size": (
        ctypes.c_int, [ctypes.c_void_p, ctypes.c_int64,
                       ctypes.POINTER(ctypes.c_size_t)]),
    "hybrid_state_create": (
        ctypes.c_int, [ctypes.c_void_p, ctypes.c_int64,
                       ctypes.POINTER(ctypes.c_void_p)]),
    "hybrid_state_reset": (ctypes.c_int, [ctypes.c_void_p]),
    "hybrid_state_copy": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_void_p]),
    "hybrid_state_positions": (
        ctypes.c_int, [ctypes.c_void_p, c_int64_p, ctypes.c_size_t]),
    "hybrid_state_destroy": (None, [ctypes.c_void_p]),
    "hybrid_prefill": (
        ctypes.c_int, [ctypes.c_void_p, ctypes.c_void_p, c_float_p,
                       ctypes.c_int64, ctypes.c_int64, c_int64_p, c_float_p,
                       ctypes.c_size_t]),
    "hybrid_step": (
        ctypes.c_int, [ctypes.c_void_p, ctypes.c_void_p, c_float_p,
                       ctypes.c_int64, c_int64_p, c_float_p,
                       ctypes.c_size_t]),
}


@functools.lru_cache(maxsize=None)
def lib():
    """The runtime, loaded once and globally: compiled models' allocation
    functions bind to its definitions."""
    path = _tools.runtime_library()
    runtime = ctypes.CDLL(str(path), mode=ctypes.RTLD_GLOBAL)
    for name, (restype, argtypes) in _SIGNATURES.items():
        fn = getattr(runtime, name)
        fn.restype = restype
        fn.argtypes = argtypes
    if runtime.hybrid_runtime_abi_version() != ABI_VERSION:
        raise errors.VersionMismatchError(
            f"{path} implements runtime ABI "
            f"{runtime.hybrid_runtime_abi_version()}, this package "
            f"{ABI_VERSION}: reinstall the package")
    return runtime


def check(status):
    """Raises the exception of a failed call."""
    if status != 0:
        message = lib().hybrid_last_error().decode("utf-8", "replace")
        raise errors.from_status(status, message)


def version():
    return lib().hybrid_runtime_version().decode()
