//===- Model.cpp - Reference forward pass of whole hybrid models -*- C++ -*-=//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// Every block of docs/Frontend.md ("The model"), written out with the
// reference ops and plain loops. Weight names and layouts as documented
// there: linear weights [in, out], conv weights [K, C].
//
//===----------------------------------------------------------------------===//

#include "hybrid/Reference/Model.h"
#include "hybrid/Reference/Reference.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>

using namespace mlir::hybrid;
using namespace mlir::hybrid::reference;

namespace {

using Layer = ModelConfig::Layer;

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double silu(double x) { return x * sigmoid(x); }
double softplus(double x) {
  return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x)));
}
double geluErf(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }
double geluTanh(double x) {
  return 0.5 * x *
         (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}

class Forward {
public:
  Forward(const ModelConfig &c, const Weights &w) : cfg(c), weights(w) {}

  HostTensor run(const HostTensor &input) {
    HostTensor x = input;
    if (cfg.embedDim != cfg.hiddenSize)
      x = linear(x, "input_proj", true);
    for (size_t i = 0; i < cfg.layers.size(); ++i) {
      prefix = "layers." + std::to_string(i) + ".";
      x = layer(cfg.layers[i], x);
    }
    prefix.clear();
    HostTensor y = norm(x, "final_norm");
    if (cfg.sequenceOutput)
      return y;
    int64_t b = y.dim(0), t = y.dim(1), d = y.dim(2);
    HostTensor last({b, d});
    for (int64_t i = 0; i < b; ++i)
      for (int64_t j = 0; j < d; ++j)
        last.data[i * d + j] = y.data[(i * t + t - 1) * d + j];
    return last;
  }

private:
  const HostTensor &w(const std::string &name) {
    auto it = weights.find(prefix + name);
    if (it == weights.end()) {
      std::fprintf(stderr, "reference model: missing weight '%s'\n",
                   (prefix + name).c_str());
      std::abort();
    }
    return it->second;
  }

  /// x [B, T, in] · W [in, out] (+ b).
  HostTensor linear(const HostTensor &x, const std::string &name, bool bias) {
    const HostTensor &W = w(name + ".weight");
    const HostTensor *b = bias ? &w(name + ".bias") : nullptr;
    int64_t in = W.dim(0), out = W.dim(1);
    int64_t rows = x.numElements() / in;
    std::vector<int64_t> shape = x.shape;
    shape.back() = out;
    HostTensor y(shape);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t o = 0; o < out; ++o) {
        double acc = b ? b->data[o] : 0.0;
        for (int64_t i = 0; i < in; ++i)
          acc += double(x.data[r * in + i]) * W.data[i * out + o];
        y.data[r * out + o] = acc;
      }
    return y;
  }

  static HostTensor map(const HostTensor &x,
                        const std::function<double(double)> &f) {
    HostTensor y(x.shape);
    for (size_t i = 0; i < x.data.size(); ++i)
      y.data[i] = f(x.data[i]);
    return y;
  }
  /// Elementwise f(x, y) with y broadcast along the leading dimensions.
  static HostTensor zip(const HostTensor &x, const HostTensor &y,
                        const std::function<double(double, double)> &f) {
    HostTensor z(x.shape);
    size_t n = y.data.size();
    for (size_t i = 0; i < x.data.size(); ++i)
      z.data[i] = f(x.data[i], y.data[i % n]);
    return z;
  }
  static HostTensor add(const HostTensor &x, const HostTensor &y) {
    return zip(x, y, [](double a, double b) { return a + b; });
  }
  static HostTensor mul(const HostTensor &x, const HostTensor &y) {
    return zip(x, y, [](double a, double b) { return a * b; });
  }
  static HostTensor sub(const HostTensor &x, const HostTensor &y) {
    return zip(x, y, [](double a, double b) { return a - b; });
  }

  /// x[..., off : off + n].
  static HostTensor slice(const HostTensor &x, int64_t off, int64_t n) {
    int64_t d = x.shape.back(), rows = x.numElements() / d;
    std::vector<int64_t> shape = x.shape;
    shape.back() = n;
    HostTensor y(shape);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < n; ++i)
        y.data[r * n + i] = x.data[r * d + off + i];
    return y;
  }
  static HostTensor reshape(HostTensor x, std::vector<int64_t> shape) {
    x.shape = std::move(shape);
    return x;
  }
  static HostTensor heads(const HostTensor &x, int64_t h) {
    return reshape(x, {x.dim(0), x.dim(1), h, x.dim(2) / h});
  }
  static HostTensor merge(const HostTensor &x) {
    return reshape(x, {x.dim(0), x.dim(1), x.dim(2) * x.dim(3)});
  }

  HostTensor norm(const HostTensor &x, const std::string &name) {
    HostTensor y;
    if (cfg.rmsNorm)
      rmsNorm(x, &w(name + ".weight"), 1e-5, y);
    else
      layerNorm(x, &w(name + ".weight"), &w(name + ".bias"), 1e-5, y);
    return y;
  }

  HostTensor conv(const HostTensor &x, const std::string &name, bool bias,
                  bool siluAct) {
    HostTensor y, tail;
    causalConv1d(x, w(name + ".weight"), bias ? &w(name + ".bias") : nullptr,
                 nullptr, siluAct, y, tail);
    return y;
  }

  /// x[t-1] (zero at t = 0).
  static HostTensor shift(const HostTensor &x) {
    int64_t b = x.dim(0), t = x.dim(1), d = x.dim(2);
    HostTensor y(x.shape);
    for (int64_t i = 0; i < b; ++i)
      for (int64_t s = 1; s < t; ++s)
        for (int64_t j = 0; j < d; ++j)
          y.data[(i * t + s) * d + j] = x.data[(i * t + s - 1) * d + j];
    return y;
  }

  /// x / sqrt(Σ x² + 1e-6) over the last dimension.
  static HostTensor l2norm(const HostTensor &x) {
    int64_t d = x.shape.back();
    HostTensor y(x.shape);
    for (int64_t r = 0; r < x.numElements() / d; ++r) {
      double s = 0.0;
      for (int64_t i = 0; i < d; ++i)
        s += double(x.data[r * d + i]) * x.data[r * d + i];
      for (int64_t i = 0; i < d; ++i)
        y.data[r * d + i] = x.data[r * d + i] / std::sqrt(s + 1e-6);
    }
    return y;
  }

  HostTensor mamba(const HostTensor &x, const std::string &p) {
    int64_t d = cfg.hiddenSize, di = cfg.expandFactor * d, n = cfg.stateSize;
    int64_t r = (d + 15) / 16;
    HostTensor xz = linear(x, p + ".in_proj", false);
    HostTensor u = conv(slice(xz, 0, di), p + ".conv1d", true, true);
    HostTensor z = slice(xz, di, di);
    HostTensor dbc = linear(u, p + ".x_proj", false);
    HostTensor dt = linear(slice(dbc, 0, r), p + ".dt_proj", false);
    HostTensor bm = reshape(slice(dbc, r, n), {u.dim(0), u.dim(1), 1, n});
    HostTensor cm = reshape(slice(dbc, r + n, n), {u.dim(0), u.dim(1), 1, n});
    HostTensor a = map(w(p + ".A_log"), [](double v) { return -std::exp(v); });
    HostTensor y, hT;
    ssmScan(u, dt, a, bm, cm, &w(p + ".D"), &z, &w(p + ".dt_proj.bias"),
            nullptr, true, y, hT);
    return linear(y, p + ".out_proj", false);
  }

  HostTensor gruMixer(const HostTensor &x, const std::string &p) {
    HostTensor gates = linear(x, p + ".input_proj", true);
    HostTensor h, hT;
    gru(gates, w(p + ".hidden_proj.weight"), &w(p + ".hidden_proj.bias"),
        nullptr, h, hT);
    return h;
  }

  HostTensor deltaNet(const HostTensor &x, const std::string &p, bool gated) {
    int64_t h = cfg.numHeads, dh = cfg.hiddenSize / h;
    HostTensor q = l2norm(heads(
        conv(linear(x, p + ".q_proj", false), p + ".q_conv1d", false, true),
        h));
    HostTensor k = l2norm(heads(
        conv(linear(x, p + ".k_proj", false), p + ".k_conv1d", false, true),
        h));
    HostTensor v = heads(
        conv(linear(x, p + ".v_proj", false), p + ".v_conv1d", false, true), h);
    HostTensor beta = map(linear(x, p + ".b_proj", false), sigmoid);
    HostTensor g;
    if (gated) {
      HostTensor a = linear(x, p + ".a_proj", false);
      const HostTensor &aLog = w(p + ".A_log");
      const HostTensor &dtBias = w(p + ".dt_bias");
      g = HostTensor(a.shape);
      for (size_t i = 0; i < a.data.size(); ++i) {
        size_t hd = i % h;
        g.data[i] = -std::exp(double(aLog.data[hd])) *
                    softplus(double(a.data[i]) + dtBias.data[hd]);
      }
    }
    HostTensor o, sT;
    deltaRule(q, k, v, beta, gated ? &g : nullptr, nullptr,
              1.0 / std::sqrt(double(dh)), o, sT);
    HostTensor on;
    rmsNorm(o, &w(p + ".o_norm.weight"), 1e-5, on);
    HostTensor merged = merge(on);
    if (gated)
      merged = mul(merged, map(linear(x, p + ".g_proj", false), silu));
    return linear(merged, p + ".o_proj", false);
  }

  /// recurrentgemma BlockDiagonalLinear: H blocks [blk, blk] + bias [H, blk].
  HostTensor blockDiagonal(const HostTensor &x, const std::string &name) {
    int64_t h = cfg.numHeads, d = x.dim(2), blk = d / h;
    const HostTensor &W = w(name + ".weight");
    const HostTensor &B = w(name + ".bias");
    HostTensor y(x.shape);
    int64_t rows = x.numElements() / d;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t hd = 0; hd < h; ++hd)
        for (int64_t j = 0; j < blk; ++j) {
          double acc = B.data[hd * blk + j];
          for (int64_t i = 0; i < blk; ++i)
            acc += double(x.data[r * d + hd * blk + i]) *
                   W.data[(hd * blk + i) * blk + j];
          y.data[r * d + hd * blk + j] = acc;
        }
    return y;
  }

  HostTensor griffin(const HostTensor &x, const std::string &p) {
    HostTensor y = map(linear(x, p + ".linear_y", true), geluTanh);
    HostTensor u = conv(linear(x, p + ".linear_x", true), p + ".conv1d", true,
                        false);
    HostTensor gx = blockDiagonal(u, p + ".rg_lru.input_gate");
    HostTensor ga = blockDiagonal(u, p + ".rg_lru.a_gate");
    HostTensor reset({x.dim(0), x.dim(1)});
    for (int64_t b = 0; b < x.dim(0); ++b)
      reset.data[b * x.dim(1)] = 1.0f;
    HostTensor h, hT;
    rgLru(u, gx, ga, w(p + ".rg_lru.a_param"), &reset, nullptr, 8.0, h, hT);
    return linear(mul(h, y), p + ".linear_out", true);
  }

  HostTensor gatedMlp(const HostTensor &x, const std::string &p) {
    HostTensor g = map(linear(x, p + ".gate_proj", true), geluTanh);
    return linear(mul(g, linear(x, p + ".up_proj", true)), p + ".down_proj",
                  true);
  }

  HostTensor rwkvTimeMix(const HostTensor &x, const std::string &p) {
    int64_t h = cfg.numHeads;
    HostTensor xx = sub(shift(x), x);
    HostTensor xxx = add(x, mul(xx, w(p + ".time_maa_x")));
    HostTensor lora = map(linear(xxx, p + ".time_maa_w1", false),
                          [](double v) { return std::tanh(v); });
    const char *parts[] = {"w", "k", "v", "r", "g"};
    HostTensor mixed[5];
    for (int i = 0; i < 5; ++i) {
      HostTensor delta = linear(slice(lora, i * 32, 32),
                                p + ".time_maa_w2." + parts[i], false);
      HostTensor mu = add(delta, w(p + ".time_maa_" + parts[i]));
      mixed[i] = add(x, mul(xx, mu));
    }
    HostTensor r = linear(mixed[3], p + ".receptance", false);
    HostTensor k = linear(mixed[1], p + ".key", false);
    HostTensor v = linear(mixed[2], p + ".value", false);
    HostTensor g = map(linear(mixed[4], p + ".gate", false), silu);
    HostTensor wv = add(
        linear(map(linear(mixed[0], p + ".time_decay_w1", false),
                   [](double v) { return std::tanh(v); }),
               p + ".time_decay_w2", false),
        w(p + ".time_decay"));
    HostTensor logDecay = map(wv, [](double v) { return -std::exp(v); });
    HostTensor o, sT;
    wkv6(heads(r, h), heads(k, h), heads(v, h), heads(logDecay, h),
         w(p + ".time_faaaa"), nullptr, 1.0, o, sT);
    HostTensor on;
    layerNorm(o, nullptr, nullptr, 1e-5, on);
    HostTensor affine =
        add(mul(merge(on), w(p + ".ln_x.weight")), w(p + ".ln_x.bias"));
    return linear(mul(affine, g), p + ".output", false);
  }

  HostTensor rwkvChannelMix(const HostTensor &x, const std::string &p) {
    HostTensor xx = sub(shift(x), x);
    HostTensor xk = add(x, mul(xx, w(p + ".time_maa_k")));
    HostTensor xr = add(x, mul(xx, w(p + ".time_maa_r")));
    HostTensor k = map(linear(xk, p + ".key", false), [](double v) {
      double r = std::max(v, 0.0);
      return r * r;
    });
    HostTensor r = map(linear(xr, p + ".receptance", false), sigmoid);
    return mul(r, linear(k, p + ".value", false));
  }

  HostTensor attention(const HostTensor &x, const std::string &p) {
    int64_t hq = cfg.numHeads, hkv = cfg.numKvHeads, dh = cfg.headDim;
    HostTensor qkv = linear(x, p + ".qkv_proj", true);
    HostTensor q = heads(slice(qkv, 0, hq * dh), hq);
    HostTensor k = heads(slice(qkv, hq * dh, hkv * dh), hkv);
    HostTensor v = heads(slice(qkv, (hq + hkv) * dh, hkv * dh), hkv);
    HostTensor o;
    windowedAttention(q, k, v, cfg.window, 1.0 / std::sqrt(double(dh)),
                      cfg.qkNorm, o);
    return linear(merge(o), p + ".o_proj", true);
  }

  HostTensor ffn(const HostTensor &x, const std::string &p) {
    return linear(map(linear(x, p + ".up", true), geluErf), p + ".down", true);
  }

  HostTensor mixer(Layer kind, const HostTensor &x, const std::string &p) {
    switch (kind) {
    case Layer::Mamba:
      return mamba(x, p);
    case Layer::Gru:
      return gruMixer(x, p);
    case Layer::Rwkv:
      return rwkvTimeMix(x, p);
    case Layer::DeltaNet:
      return deltaNet(x, p, false);
    case Layer::GatedDeltaNet:
      return deltaNet(x, p, true);
    case Layer::GriffinLru:
      return griffin(x, p);
    default:
      std::abort();
    }
  }

  HostTensor residual(const HostTensor &x, const std::string &normName,
                      const std::function<HostTensor(const HostTensor &)> &f) {
    if (cfg.preNorm)
      return add(x, f(norm(x, normName)));
    return norm(add(x, f(x)), normName);
  }

  HostTensor layer(Layer kind, const HostTensor &x) {
    switch (kind) {
    case Layer::Attention: {
      HostTensor m = residual(
          x, "attn_norm", [&](const HostTensor &v) { return attention(v, "attn"); });
      return residual(m, "ffn_norm",
                      [&](const HostTensor &v) { return ffn(v, "ffn"); });
    }
    case Layer::Rwkv: {
      HostTensor m = residual(x, "ln1", [&](const HostTensor &v) {
        return rwkvTimeMix(v, "time_mix");
      });
      return residual(m, "ln2", [&](const HostTensor &v) {
        return rwkvChannelMix(v, "channel_mix");
      });
    }
    case Layer::GriffinLru: {
      HostTensor m = residual(x, "temporal_norm", [&](const HostTensor &v) {
        return griffin(v, "temporal");
      });
      return residual(m, "mlp_norm",
                      [&](const HostTensor &v) { return gatedMlp(v, "mlp"); });
    }
    case Layer::Parallel: {
      HostTensor n = norm(x, "norm");
      HostTensor g = map(linear(n, "gate_proj", true), sigmoid);
      HostTensor s = mixer(cfg.backbone, n, "backbone");
      HostTensor a = attention(n, "attn");
      HostTensor f(g.shape);
      for (size_t i = 0; i < f.data.size(); ++i)
        f.data[i] = double(g.data[i]) * s.data[i] +
                    (1.0 - g.data[i]) * a.data[i];
      HostTensor m = add(x, f);
      return add(m, ffn(norm(m, "ffn_norm"), "ffn"));
    }
    default:
      return residual(x, "norm", [&](const HostTensor &v) {
        return mixer(kind, v, "mixer");
      });
    }
  }

  const ModelConfig &cfg;
  const Weights &weights;
  std::string prefix;
};

} // namespace

HostTensor mlir::hybrid::reference::forward(const ModelConfig &config,
                                            const Weights &weights,
                                            const HostTensor &input) {
  return Forward(config, weights).run(input);
}
