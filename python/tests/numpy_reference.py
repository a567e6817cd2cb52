"""An independent numpy implementation of Hybrid's Mamba and attention
blocks and of the model around them (docs/Frontend.md, "The model"; SPEC.md
sections 2.3, 3 and 4), written from the documents, sharing no code with the
compiler or its C++ reference. Float64 throughout."""

import math

import numpy as np


def layer_norm(x, w, b, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def silu(x):
    return x / (1.0 + np.exp(-x))


def softplus(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


_erf = np.vectorize(math.erf)


def gelu(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def causal_conv(x, w, b):
    """x [T, C], w [K, C]: y[t] = b + sum_j w[j] x[t - (K-1) + j]."""
    T, _ = x.shape
    K = w.shape[0]
    padded = np.concatenate([np.zeros((K - 1, x.shape[1])), x])
    return b + sum(w[j] * padded[j:j + T] for j in range(K))


def mamba_mixer(h, p):
    """Mamba-1 on one sequence h [T, d]; p: the layer's weights."""
    Di = p["mixer.D"].shape[0]
    xz = h @ p["mixer.in_proj.weight"]
    x, z = xz[:, :Di], xz[:, Di:]
    u = silu(causal_conv(x, p["mixer.conv1d.weight"], p["mixer.conv1d.bias"]))
    N = p["mixer.A_log"].shape[1]
    dbc = u @ p["mixer.x_proj.weight"]
    R = dbc.shape[1] - 2 * N
    dt, B, C = dbc[:, :R], dbc[:, R:R + N], dbc[:, R + N:]
    delta = softplus(dt @ p["mixer.dt_proj.weight"] + p["mixer.dt_proj.bias"])
    A = -np.exp(p["mixer.A_log"])
    state = np.zeros((Di, N))
    y = np.zeros_like(u)
    for t in range(h.shape[0]):
        state = np.exp(delta[t][:, None] * A) * state + \
            (delta[t] * u[t])[:, None] * B[t][None, :]
        y[t] = state @ C[t] + p["mixer.D"] * u[t]
    return (y * silu(z)) @ p["mixer.out_proj.weight"]


def attention(h, p, num_heads, head_dim, window, qk_norm=True):
    """Sliding-window attention on one sequence h [T, d]: each query sees
    the `window` latest keys, itself included (None: all earlier keys)."""
    T = h.shape[0]
    qkv = h @ p["attn.qkv_proj.weight"] + p["attn.qkv_proj.bias"]
    H, dh = num_heads, head_dim
    kv_heads = (qkv.shape[1] // dh - H) // 2
    q = qkv[:, :H * dh].reshape(T, H, dh)
    k = qkv[:, H * dh:(H + kv_heads) * dh].reshape(T, kv_heads, dh)
    v = qkv[:, (H + kv_heads) * dh:].reshape(T, kv_heads, dh)
    if qk_norm:
        def norm(a):
            mu = a.mean(-1, keepdims=True)
            return (a - mu) / np.sqrt(((a - mu) ** 2).mean(-1, keepdims=True)
                                      + 1e-6)
        q, k = norm(q), norm(k)
    o = np.zeros((T, H, dh))
    for head in range(H):
        g = head * kv_heads // H
        for t in range(T):
            first = 0 if window is None else max(0, t - window + 1)
            s = k[first:t + 1, g] @ q[t, head] / math.sqrt(dh)
            a = np.exp(s - s.max())
            o[t, head] = (a / a.sum()) @ v[first:t + 1, g]
    return o.reshape(T, H * dh) @ p["attn.o_proj.weight"] + \
        p["attn.o_proj.bias"]


def forward(x, weights, spec, schedule):
    """The whole model on x [B, T, e] (pre-norm wrappers, final LayerNorm,
    the last position or the whole sequence)."""
    w = {k: np.asarray(v, dtype=np.float64) for k, v in weights.items()}
    window = spec["window_size"] if spec.get("use_sliding_window", True) \
        else None
    outs = []
    for seq in np.asarray(x, dtype=np.float64):
        h = seq
        if "input_proj.weight" in w:
            h = h @ w["input_proj.weight"] + w["input_proj.bias"]
        for i, kind in enumerate(schedule):
            p = {k[len(f"layers.{i}."):]: v for k, v in w.items()
                 if k.startswith(f"layers.{i}.")}
            if kind == "mamba":
                h = h + mamba_mixer(layer_norm(h, p["norm.weight"],
                                               p["norm.bias"]), p)
            elif kind == "attn":
                m = h + attention(layer_norm(h, p["attn_norm.weight"],
                                             p["attn_norm.bias"]), p,
                                  spec["num_heads"], spec["head_dim"], window,
                                  spec.get("qk_layernorm", True))
                f = layer_norm(m, p["ffn_norm.weight"], p["ffn_norm.bias"])
                h = m + gelu(f @ p["ffn.up.weight"] + p["ffn.up.bias"]) @ \
                    p["ffn.down.weight"] + p["ffn.down.bias"]
            else:
                raise NotImplementedError(kind)
        y = layer_norm(h, w["final_norm.weight"], w["final_norm.bias"])
        outs.append(y if spec.get("output") == "sequence" else y[-1])
    return np.stack(outs)
