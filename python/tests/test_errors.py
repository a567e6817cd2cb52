"""Every error class: spec errors carry the key and position, runtime errors
the C message and status, weight errors the tensor's name."""

import numpy as np
import pytest

import hybrid
from conftest import random_weights


def test_spec_errors_name_the_key_and_position(tmp_path):
    with pytest.raises(hybrid.SpecError) as e:
        hybrid.compile({"embed_dim": -3})
    assert e.value.key == "embed_dim"
    assert e.value.position == "--set embed_dim=-3"
    assert "expected an integer >= 1" in str(e.value)
    spec = tmp_path / "bad.json"
    spec.write_text('{"embed_dim": 8,\n "num_layrs": 3}')
    with pytest.raises(hybrid.SpecError) as e:
        hybrid.describe(str(spec))
    assert e.value.key == "num_layrs"
    assert e.value.position == f"{spec}:2:2"
    assert 'did you mean "num_layers"' in str(e.value)
    with pytest.raises(hybrid.SpecError):
        hybrid.compile(tmp_path / "missing.json")
    with pytest.raises(TypeError):
        hybrid.compile(42)


def test_compile_errors():
    with pytest.raises(hybrid.CompileError, match="needs a sliding window"):
        hybrid.compile({"embed_dim": 8, "use_sliding_window": False},
                       stateful=True)
    with pytest.raises(hybrid.CompileError, match="CPU code only"):
        hybrid.compile({"embed_dim": 8}, target="cuda")


def test_weight_errors(small_model, tmp_path):
    m = small_model
    w = random_weights(m)
    name, shape = m.weight_info[3]
    missing = {k: v for k, v in w.items() if k != name}
    with pytest.raises(hybrid.MissingWeightError) as e:
        m.load_weights(missing)
    assert e.value.tensor == name
    wrong = dict(w, **{name: np.zeros(shape[:-1] + (shape[-1] + 1,),
                                      np.float32)})
    with pytest.raises(hybrid.ShapeMismatchError) as e:
        m.load_weights(wrong)
    assert e.value.tensor == name and isinstance(e.value, hybrid.WeightError)
    with pytest.raises(hybrid.WeightsIOError) as e:
        m.load_weights(tmp_path / "none.safetensors")
    assert e.value.status == 4 and "cannot open" in str(e.value)
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}......")
    with pytest.raises(hybrid.WeightsIOError, match="invalid JSON header"):
        m.load_weights(corrupt)


def test_call_errors(small_model):
    m = small_model
    m.load_weights(random_weights(m))
    x = np.zeros((2, 5, m.embed_dim), np.float32)
    with pytest.raises(hybrid.ShapeMismatchError, match=r"expected \[batch, seq, 12\]"):
        m.forward(x[:, :, :3])
    s = m.new_state(2)
    with pytest.raises(hybrid.BadStateError, match="holds 2 sequences") as e:
        m.prefill(s, np.zeros((3, 5, m.embed_dim), np.float32))
    assert e.value.status == 6
    with pytest.raises(hybrid.InvalidArgumentError,
                       match="length 9 of sequence 0 is outside"):
        m.prefill(s, x, lengths=[9, 1])
    # A failed call changed nothing.
    assert list(s.positions) == [0, 0]
    with pytest.raises(hybrid.InvalidArgumentError, match="batch must be >= 1"):
        m.new_state(0)


def test_stateless_model_has_no_state():
    m = hybrid.compile({"embed_dim": 8, "hidden_size": 8,
                        "schedule": ["gru"]})
    m.load_weights(random_weights(m))
    with pytest.raises(hybrid.BadStateError,
                       match="compiled without its stateful form"):
        m.new_state(1)


def test_out_of_memory_and_version_mismatch(small_model):
    m = small_model
    m.load_weights(random_weights(m))
    # 2^40 sequences: representable, but no machine holds the state.
    with pytest.raises(hybrid.OutOfMemoryError, match="out of memory") as e:
        m.new_state(2 ** 40)
    assert e.value.status == 5 and isinstance(e.value, MemoryError)
    # A descriptor of another ABI (a copy of the model's, its version
    # bumped) is refused before anything else is read.
    import ctypes
    from hybrid import _runtime
    other = _runtime.ModelDesc.from_buffer_copy(m._desc)
    other.abi_version = _runtime.ABI_VERSION + 1
    handle = ctypes.c_void_p()
    with pytest.raises(hybrid.VersionMismatchError,
                       match="compiled for runtime ABI version 2") as e:
        _runtime.check(_runtime.lib().hybrid_model_create_from_file(
            ctypes.byref(other), b"/nonexistent", ctypes.byref(handle)))
    assert e.value.status == 7
