import os
import pathlib

import numpy as np
import pytest

import hybrid


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """Every test session compiles into its own cache (the cache test checks
    hits within it)."""
    path = tmp_path_factory.mktemp("hybrid-cache")
    os.environ["HYBRID_CACHE_DIR"] = str(path)
    return path


# A small Jamba-style model: Mamba then sliding-window attention (window 4,
# shorter than the sequences the tests use), grouped-query attention.
SMALL = dict(embed_dim=12, hidden_size=16, num_layers=2, attention_every=2,
             num_heads=2, num_kv_heads=1, head_dim=8, state_size=4,
             window_size=4)


@pytest.fixture(scope="session")
def small_model():
    return hybrid.compile(dict(hybrid.preset("jamba"), **SMALL),
                          stateful=True)


def random_weights(model, seed=0):
    rng = np.random.default_rng(seed)
    weights = {}
    for name, shape in model.weight_info:
        scale = 0.3 if len(shape) > 1 else 0.1
        w = rng.standard_normal(shape) * scale
        if name.endswith("norm.weight"):
            w = 1.0 + w
        if name.endswith("A_log"):
            w = np.log(rng.uniform(1.0, 8.0, shape))
        weights[name] = w.astype(np.float32)
    return weights
