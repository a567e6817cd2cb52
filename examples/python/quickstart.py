"""Hybrid from Python: describe a Jamba, compile it, run it, then prefill a
prompt and decode token by token.

    pip install ./python
    python examples/python/quickstart.py

The first run compiles the model (tens of seconds); later runs load it from
the cache (~/.cache/hybrid, or $HYBRID_CACHE_DIR).
"""

import time

import numpy as np

import hybrid

# The seed library's builder API: options, schedules, counts.
options = dict(hybrid.preset("jamba"), embed_dim=128)
print("schedule  ", hybrid.describe_schedule(**options))
print("parameters", hybrid.param_count(**options))

# Compile (with the stateful form for decoding) and give it weights: random
# here; a dict of arrays by the names in model.weight_info, or a
# .safetensors file (hybrid-compile --emit=weights-manifest lists them).
start = time.perf_counter()
model = hybrid.compile(options, stateful=True)
print(f"compiled   {model} in {time.perf_counter() - start:.1f} s")
rng = np.random.default_rng(0)
weights = {}
for name, shape in model.weight_info:
    w = rng.standard_normal(shape).astype(np.float32) * 0.05
    if name.endswith("norm.weight"):
        w += 1.0
    if name.endswith("A_log"):
        w = np.log(np.arange(1, shape[-1] + 1, dtype=np.float32)) * \
            np.ones(shape, np.float32)
    weights[name] = w
model.load_weights(weights)

# A forward pass over a batch of 2 prompts of 24 positions.
prompt = rng.standard_normal((2, 24, model.embed_dim)).astype(np.float32)
y = model.forward(prompt)
print("forward   ", y.shape, "checksum", float(y.sum()))

# Prefill the first 16 positions, then decode the other 8 one at a time: the
# last step's output is the forward pass's.
state = model.new_state(batch=2)
model.prefill(state, prompt[:, :16])
for t in range(16, 24):
    out = model.step(state, prompt[:, t])
print("decoded    positions", state.positions.tolist(),
      "max |step - forward|", float(np.abs(out - y).max()))
assert np.abs(out - y).max() < 1e-4

# Snapshot and restore (prefix caching, speculative decoding).
snapshot = state.copy()
model.step(state, prompt[:, 0])
state.copy_from(snapshot)
print("restored   positions", state.positions.tolist())
print(f"state      {state.nbytes} bytes for 2 sequences")
