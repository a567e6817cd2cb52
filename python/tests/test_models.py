"""Compiled models end to end: an independent numpy implementation of the
Mamba and attention blocks, prefill/step against forward, snapshots, the
cache, safetensors and DLPack inputs, and the presets against the C++
reference (hybrid-run --library --check)."""

import json
import os
import struct
import subprocess
import time

import numpy as np
import pytest

import hybrid
from hybrid import _tools
import numpy_reference
from conftest import SMALL, random_weights

# f32 through ~10 chained blocks against a float64 reference: rounding of
# order 1e-6 relative per block, with outputs of order 1 (after the final
# LayerNorm); 1e-4 leaves a margin of 10x while a wrong convention (window,
# gate order, norm epsilon, a transposed weight) is off by 1e-2 or more.
TOLERANCE = 1e-4


@pytest.mark.parametrize("batch,seq", [(1, 1), (2, 7), (3, 13)])
def test_forward_matches_numpy_reference(small_model, batch, seq):
    m = small_model
    w = random_weights(m, seed=seq)
    rng = np.random.default_rng(100 + seq)
    x = rng.standard_normal((batch, seq, m.embed_dim)).astype(np.float32)
    got = m.forward(x, w)
    spec = hybrid.spec(dict(hybrid.preset("jamba"), **SMALL))
    want = numpy_reference.forward(x, w, spec, ["mamba", "attn"])
    assert got.shape == (batch, m.hidden_size)
    np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)


def test_sequence_output_and_full_attention_match_numpy_reference():
    opts = dict(SMALL, output="sequence", use_sliding_window=False,
                schedule=["attn", "mamba", "mamba"], qk_layernorm=False)
    m = hybrid.compile(opts)
    w = random_weights(m, seed=5)
    x = np.random.default_rng(6).standard_normal((2, 11, m.embed_dim))
    got = m.forward(x.astype(np.float32), w)
    want = numpy_reference.forward(x.astype(np.float32), w, hybrid.spec(opts),
                                   ["attn", "mamba", "mamba"])
    assert got.shape == (2, 11, m.hidden_size)
    np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)


def test_prefill_and_steps_equal_forward(small_model):
    m = small_model
    m.load_weights(random_weights(m, seed=1))
    x = np.random.default_rng(2).standard_normal(
        (3, 10, m.embed_dim)).astype(np.float32)
    whole = m.forward(x)
    s = m.new_state(3)
    m.prefill(s, x[:, :6])
    snapshot = s.copy()
    for t in range(6, 10):
        out = m.step(s, x[:, t])
    # f32 in a different order (chunked scan, one-position steps): 1e-5.
    np.testing.assert_allclose(out, whole, rtol=0, atol=1e-5)
    assert list(s.positions) == [10, 10, 10]
    # Restore the snapshot: the same steps give bit-identical outputs.
    s.copy_from(snapshot)
    assert list(s.positions) == [6, 6, 6]
    for t in range(6, 10):
        again = m.step(s, x[:, t][:, None, :])
    assert np.array_equal(again, out)
    # Variable lengths: a batch with lengths equals each sequence alone.
    s.reset()
    lengths = np.array([10, 4, 0])
    m.prefill(s, x, lengths=lengths)
    assert list(s.positions) == [10, 4, 0]
    assert s.nbytes > 0


def test_weights_from_safetensors(small_model, tmp_path):
    m = small_model
    w = random_weights(m, seed=3)
    # A safetensors file written here from its documented format.
    header, offset, blobs = {}, 0, []
    for name, a in w.items():
        data = np.ascontiguousarray(a, "<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header).encode()
    path = tmp_path / "w.safetensors"
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    x = np.random.default_rng(4).standard_normal(
        (2, 5, m.embed_dim)).astype(np.float32)
    from_file = m.forward(x, str(path))
    from_dict = m.forward(x, w)
    assert np.array_equal(from_file, from_dict)


class DLPackOnly:
    """A producer that is not a numpy array (as a torch tensor is not)."""

    def __init__(self, a):
        self.a = a

    def __dlpack__(self, **kwargs):
        return self.a.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self.a.__dlpack_device__()


def test_dlpack_inputs_are_not_copied(small_model):
    m = small_model
    w = random_weights(m, seed=7)
    x = np.random.default_rng(8).standard_normal(
        (1, 4, m.embed_dim)).astype(np.float32)
    from hybrid._model import _array
    assert np.shares_memory(_array(DLPackOnly(x)), x)
    assert np.array_equal(m.forward(DLPackOnly(x), {k: DLPackOnly(v)
                                                     for k, v in w.items()}),
                          m.forward(x, w))
    torch = pytest.importorskip("torch")
    t = torch.from_numpy(x)
    assert np.array_equal(m.forward(t, w), m.forward(x, w))


def test_second_compile_is_a_cache_hit(private_cache):
    opts = {"embed_dim": 8, "hidden_size": 8, "schedule": ["gru", "gru"]}
    first = hybrid.compile(opts)
    start = time.perf_counter()
    second = hybrid.compile(dict(opts))
    elapsed = time.perf_counter() - start
    assert second.library_path == first.library_path
    assert first.library_path.is_relative_to(private_cache)
    # A hit runs hybrid-compile only to read the spec.
    assert elapsed < 5.0
    other = hybrid.compile(dict(opts, hidden_size=16))
    assert other.library_path != first.library_path


@pytest.mark.parametrize("preset", ["jamba", "nemotron_h", "parallel",
                                    "minimal_attn"])
def test_presets_match_the_cpp_reference(preset):
    opts = {"embed_dim": 16, "hidden_size": 16, "num_heads": 2,
            "head_dim": 8, "num_layers": 3, "window_size": 5}
    if preset in ("nemotron_h", "minimal_attn"):
        opts["ratio"] = (2, 1)
    m = hybrid.compile(dict(hybrid.preset(preset), **opts))
    sets = []
    for key, value in dict(opts).items():
        sets += ["--set", f"{key}={json.dumps(list(value) if isinstance(value, tuple) else value)}"]
    run = _tools.prefix() / "bin" / "hybrid-run"
    proc = subprocess.run(
        [str(run), f"--preset={preset}", *sets, "--library",
         str(m.library_path), "--library-model", "model", "--batch", "2",
         "--seq-len", "9", "--check"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "check     ok" in proc.stdout or "ok" in proc.stdout
