//===- Reference.cpp - Reference implementation of the hybrid ops -*- C++ -*-=//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// Written from SPEC.md section 4 for clarity: every op is a loop over the
// independent indices around a loop over time, in double precision.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Reference/Reference.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

using namespace mlir::hybrid;

namespace {

/// Row-major element access for a tensor of any rank.
struct View {
  const HostTensor *t;
  double operator()(std::initializer_list<int64_t> idx) const {
    int64_t off = 0, i = 0;
    for (int64_t x : idx)
      off = off * t->shape[i++] + x;
    return t->data[off];
  }
};

struct MutView {
  HostTensor *t;
  float &operator()(std::initializer_list<int64_t> idx) const {
    int64_t off = 0, i = 0;
    for (int64_t x : idx)
      off = off * t->shape[i++] + x;
    return t->data[off];
  }
};

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double silu(double x) { return x * sigmoid(x); }
double softplus(double x) {
  return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x)));
}

} // namespace

namespace mlir::hybrid::reference {

void ssmScan(const HostTensor &u, const HostTensor &delta, const HostTensor &A,
             const HostTensor &B, const HostTensor &C, const HostTensor *D,
             const HostTensor *z, const HostTensor *deltaBias,
             const HostTensor *h0, bool deltaSoftplus, HostTensor &y,
             HostTensor &hT) {
  int64_t nb = u.dim(0), nt = u.dim(1), nd = u.dim(2), nn = A.dim(1);
  int64_t groups = B.dim(2), perGroup = nd / groups;
  y = HostTensor({nb, nt, nd});
  hT = HostTensor({nb, nd, nn});
  View U{&u}, Dt{&delta}, AV{&A}, BV{&B}, CV{&C};
  for (int64_t b = 0; b < nb; ++b)
    for (int64_t c = 0; c < nd; ++c) {
      int64_t g = c / perGroup;
      std::vector<double> h(nn, 0.0);
      if (h0)
        for (int64_t n = 0; n < nn; ++n)
          h[n] = View{h0}({b, c, n});
      for (int64_t t = 0; t < nt; ++t) {
        double dt = Dt({b, t, c}) + (deltaBias ? View{deltaBias}({c}) : 0.0);
        if (deltaSoftplus)
          dt = softplus(dt);
        double uu = U({b, t, c}), out = 0.0;
        for (int64_t n = 0; n < nn; ++n) {
          h[n] = std::exp(dt * AV({c, n})) * h[n] + dt * BV({b, t, g, n}) * uu;
          out += h[n] * CV({b, t, g, n});
        }
        if (D)
          out += View{D}({c}) * uu;
        if (z)
          out *= silu(View{z}({b, t, c}));
        MutView{&y}({b, t, c}) = out;
      }
      for (int64_t n = 0; n < nn; ++n)
        MutView{&hT}({b, c, n}) = h[n];
    }
}

/// The shared loop of the RWKV variants: per (batch, head) a V x K state.
static void wkv(const HostTensor &r, const HostTensor &k, const HostTensor &v,
                const HostTensor &logDecay, const HostTensor *bonus,
                const HostTensor *a, const HostTensor *bb,
                const HostTensor *s0, double scale, HostTensor &o,
                HostTensor &sT) {
  int64_t nb = r.dim(0), nt = r.dim(1), nh = r.dim(2), nk = r.dim(3),
          nv = v.dim(3);
  o = HostTensor({nb, nt, nh, nv});
  sT = HostTensor({nb, nh, nv, nk});
  View R{&r}, K{&k}, V{&v}, W{&logDecay};
  for (int64_t b = 0; b < nb; ++b)
    for (int64_t h = 0; h < nh; ++h) {
      std::vector<double> S(nv * nk, 0.0);
      if (s0)
        for (int64_t i = 0; i < nv; ++i)
          for (int64_t j = 0; j < nk; ++j)
            S[i * nk + j] = View{s0}({b, h, i, j});
      for (int64_t t = 0; t < nt; ++t) {
        std::vector<double> rr(nk), kk(nk), w(nk);
        for (int64_t j = 0; j < nk; ++j) {
          rr[j] = scale * R({b, t, h, j});
          kk[j] = K({b, t, h, j});
          w[j] = std::exp(W({b, t, h, j}));
        }
        if (bonus) {
          // RWKV-6: read before the update, plus the bonus term.
          double ukr = 0.0;
          for (int64_t j = 0; j < nk; ++j)
            ukr += View{bonus}({h, j}) * kk[j] * rr[j];
          for (int64_t i = 0; i < nv; ++i) {
            double vi = V({b, t, h, i}), out = vi * ukr;
            for (int64_t j = 0; j < nk; ++j) {
              out += S[i * nk + j] * rr[j];
              S[i * nk + j] = S[i * nk + j] * w[j] + vi * kk[j];
            }
            MutView{&o}({b, t, h, i}) = out;
          }
        } else {
          // RWKV-7: S = S diag(w) + (S a) b^T + v k^T, then read.
          for (int64_t i = 0; i < nv; ++i) {
            double sa = 0.0;
            for (int64_t j = 0; j < nk; ++j)
              sa += S[i * nk + j] * View{a}({b, t, h, j});
            double vi = V({b, t, h, i}), out = 0.0;
            for (int64_t j = 0; j < nk; ++j) {
              S[i * nk + j] = S[i * nk + j] * w[j] +
                              sa * View{bb}({b, t, h, j}) + vi * kk[j];
              out += S[i * nk + j] * rr[j];
            }
            MutView{&o}({b, t, h, i}) = out;
          }
        }
      }
      for (int64_t i = 0; i < nv; ++i)
        for (int64_t j = 0; j < nk; ++j)
          MutView{&sT}({b, h, i, j}) = S[i * nk + j];
    }
}

void wkv6(const HostTensor &r, const HostTensor &k, const HostTensor &v,
          const HostTensor &logDecay, const HostTensor &bonus,
          const HostTensor *s0, double scale, HostTensor &o, HostTensor &sT) {
  wkv(r, k, v, logDecay, &bonus, nullptr, nullptr, s0, scale, o, sT);
}

void wkv7(const HostTensor &r, const HostTensor &k, const HostTensor &v,
          const HostTensor &logDecay, const HostTensor &a, const HostTensor &b,
          const HostTensor *s0, double scale, HostTensor &o, HostTensor &sT) {
  wkv(r, k, v, logDecay, nullptr, &a, &b, s0, scale, o, sT);
}

void deltaRule(const HostTensor &q, const HostTensor &k, const HostTensor &v,
               const HostTensor &beta, const HostTensor *logDecay,
               const HostTensor *s0, double scale, HostTensor &o,
               HostTensor &sT) {
  int64_t nb = q.dim(0), nt = q.dim(1), hk = q.dim(2), nk = q.dim(3);
  int64_t hv = v.dim(2), nv = v.dim(3);
  bool perChannel = beta.shape.size() == 4;
  o = HostTensor({nb, nt, hv, nv});
  sT = HostTensor({nb, hv, nv, nk});
  View Q{&q}, K{&k}, V{&v}, Beta{&beta};
  for (int64_t b = 0; b < nb; ++b)
    for (int64_t h = 0; h < hv; ++h) {
      int64_t hq = h / (hv / hk);
      std::vector<double> S(nv * nk, 0.0);
      if (s0)
        for (int64_t i = 0; i < nv; ++i)
          for (int64_t j = 0; j < nk; ++j)
            S[i * nk + j] = View{s0}({b, h, i, j});
      for (int64_t t = 0; t < nt; ++t) {
        double alpha = logDecay ? std::exp(View{logDecay}({b, t, h})) : 1.0;
        for (double &s : S)
          s *= alpha;
        for (int64_t i = 0; i < nv; ++i) {
          double pred = 0.0;
          for (int64_t j = 0; j < nk; ++j)
            pred += S[i * nk + j] * K({b, t, hq, j});
          double bi = perChannel ? Beta({b, t, h, i}) : Beta({b, t, h});
          double err = bi * (V({b, t, h, i}) - pred);
          double out = 0.0;
          for (int64_t j = 0; j < nk; ++j) {
            S[i * nk + j] += err * K({b, t, hq, j});
            out += S[i * nk + j] * scale * Q({b, t, hq, j});
          }
          MutView{&o}({b, t, h, i}) = out;
        }
      }
      for (int64_t i = 0; i < nv; ++i)
        for (int64_t j = 0; j < nk; ++j)
          MutView{&sT}({b, h, i, j}) = S[i * nk + j];
    }
}

void rgLru(const HostTensor &x, const HostTensor &gateX,
           const HostTensor &gateA, const HostTensor &aParam,
           const HostTensor *reset, const HostTensor *h0, double c,
           HostTensor &h, HostTensor &hT) {
  int64_t nb = x.dim(0), nt = x.dim(1), nl = x.dim(2);
  h = HostTensor({nb, nt, nl});
  hT = HostTensor({nb, nl});
  View X{&x}, GX{&gateX}, GA{&gateA}, Lam{&aParam};
  for (int64_t b = 0; b < nb; ++b)
    for (int64_t l = 0; l < nl; ++l) {
      double state = h0 ? View{h0}({b, l}) : 0.0;
      for (int64_t t = 0; t < nt; ++t) {
        double logA = -c * sigmoid(GA({b, t, l})) * softplus(Lam({l}));
        double a = std::exp(logA);
        double m = std::sqrt(-std::expm1(2.0 * logA));
        if (reset && View{reset}({b, t}) != 0.0) {
          a = 0.0;
          m = 1.0;
        }
        state = a * state + m * sigmoid(GX({b, t, l})) * X({b, t, l});
        MutView{&h}({b, t, l}) = state;
      }
      MutView{&hT}({b, l}) = state;
    }
}

void gru(const HostTensor &inputGates, const HostTensor &hiddenWeight,
         const HostTensor *hiddenBias, const HostTensor *h0, HostTensor &h,
         HostTensor &hT) {
  int64_t nb = inputGates.dim(0), nt = inputGates.dim(1),
          nh = hiddenWeight.dim(0);
  h = HostTensor({nb, nt, nh});
  hT = HostTensor({nb, nh});
  View XG{&inputGates}, WH{&hiddenWeight};
  for (int64_t b = 0; b < nb; ++b) {
    std::vector<double> state(nh, 0.0);
    if (h0)
      for (int64_t j = 0; j < nh; ++j)
        state[j] = View{h0}({b, j});
    for (int64_t t = 0; t < nt; ++t) {
      std::vector<double> hh(3 * nh, 0.0);
      for (int64_t j = 0; j < 3 * nh; ++j) {
        double acc = hiddenBias ? View{hiddenBias}({j}) : 0.0;
        for (int64_t i = 0; i < nh; ++i)
          acc += state[i] * WH({i, j});
        hh[j] = acc;
      }
      std::vector<double> next(nh);
      for (int64_t j = 0; j < nh; ++j) {
        double r = sigmoid(XG({b, t, j}) + hh[j]);
        double zg = sigmoid(XG({b, t, nh + j}) + hh[nh + j]);
        double n = std::tanh(XG({b, t, 2 * nh + j}) + r * hh[2 * nh + j]);
        next[j] = (1.0 - zg) * n + zg * state[j];
        MutView{&h}({b, t, j}) = next[j];
      }
      state = next;
    }
    for (int64_t j = 0; j < nh; ++j)
      MutView{&hT}({b, j}) = state[j];
  }
}

void causalConv1d(const HostTensor &x, const HostTensor &weight,
                  const HostTensor *bias, const HostTensor *state0, bool silu,
                  HostTensor &y, HostTensor &stateT) {
  int64_t nb = x.dim(0), nt = x.dim(1), nc = x.dim(2), nk = weight.dim(0);
  y = HostTensor({nb, nt, nc});
  stateT = HostTensor({nb, nk - 1, nc});
  // Input at position p of the concatenation [state0; x].
  auto input = [&](int64_t b, int64_t p, int64_t c) -> double {
    if (p < nk - 1)
      return state0 ? View{state0}({b, p, c}) : 0.0;
    return View{&x}({b, p - (nk - 1), c});
  };
  for (int64_t b = 0; b < nb; ++b)
    for (int64_t c = 0; c < nc; ++c) {
      for (int64_t t = 0; t < nt; ++t) {
        double acc = bias ? View{bias}({c}) : 0.0;
        for (int64_t j = 0; j < nk; ++j)
          acc += View{&weight}({j, c}) * input(b, t + j, c);
        MutView{&y}({b, t, c}) = silu ? ::silu(acc) : acc;
      }
      for (int64_t p = 0; p < nk - 1; ++p)
        MutView{&stateT}({b, p, c}) = input(b, nt + p, c);
    }
}

void windowedAttention(const HostTensor &q, const HostTensor &k,
                       const HostTensor &v, int64_t window, double scale,
                       bool qkNorm, HostTensor &o, const HostTensor *keyMask) {
  int64_t nb = q.dim(0), nt = q.dim(1), hq = q.dim(2), dk = q.dim(3);
  int64_t ns = k.dim(1), hkv = k.dim(2), dv = v.dim(3);
  o = HostTensor({nb, nt, hq, dv});
  auto row = [&](const HostTensor &t, int64_t b, int64_t i, int64_t h) {
    std::vector<double> r(dk);
    for (int64_t d = 0; d < dk; ++d)
      r[d] = View{&t}({b, i, h, d});
    if (qkNorm) {
      double mean = 0.0, var = 0.0;
      for (double x : r)
        mean += x;
      mean /= dk;
      for (double x : r)
        var += (x - mean) * (x - mean);
      var /= dk;
      for (double &x : r)
        x = (x - mean) / std::sqrt(var + 1e-6);
    }
    return r;
  };
  for (int64_t b = 0; b < nb; ++b)
    for (int64_t h = 0; h < hq; ++h) {
      int64_t g = h / (hq / hkv);
      for (int64_t i = 0; i < nt; ++i) {
        int64_t p = ns - nt + i;
        int64_t lo = window > 0 ? std::max<int64_t>(0, p - window + 1) : 0;
        std::vector<double> qi = row(q, b, i, h);
        std::vector<double> scores;
        std::vector<int64_t> keys;
        double best = -std::numeric_limits<double>::infinity();
        for (int64_t j = lo; j <= p; ++j) {
          if (keyMask && View{keyMask}({b, j}) == 0.0)
            continue;
          keys.push_back(j);
          std::vector<double> kj = row(k, b, j, g);
          double s = 0.0;
          for (int64_t d = 0; d < dk; ++d)
            s += qi[d] * kj[d];
          s *= scale;
          scores.push_back(s);
          best = std::max(best, s);
        }
        double denom = 0.0;
        for (double &s : scores) {
          s = std::exp(s - best);
          denom += s;
        }
        for (int64_t d = 0; d < dv; ++d) {
          double acc = 0.0;
          for (size_t n = 0; n < keys.size(); ++n)
            acc += scores[n] * View{&v}({b, keys[n], g, d});
          MutView{&o}({b, i, h, d}) = keys.empty() ? 0.0 : acc / denom;
        }
      }
    }
}

/// Normalisation over the last dimension, row by row.
static void norm(const HostTensor &x, const HostTensor *weight,
                 const HostTensor *bias, double eps, bool centered,
                 HostTensor &y) {
  int64_t d = x.shape.back();
  int64_t rows = x.numElements() / d;
  y = HostTensor(x.shape);
  for (int64_t r = 0; r < rows; ++r) {
    const float *in = &x.data[r * d];
    double mean = 0.0, var = 0.0;
    if (centered) {
      for (int64_t i = 0; i < d; ++i)
        mean += in[i];
      mean /= d;
    }
    for (int64_t i = 0; i < d; ++i)
      var += (in[i] - mean) * (in[i] - mean);
    var /= d;
    double inv = 1.0 / std::sqrt(var + eps);
    for (int64_t i = 0; i < d; ++i) {
      double v = (in[i] - mean) * inv;
      if (weight)
        v *= weight->data[i];
      if (bias)
        v += bias->data[i];
      y.data[r * d + i] = v;
    }
  }
}

void layerNorm(const HostTensor &x, const HostTensor *weight,
               const HostTensor *bias, double eps, HostTensor &y) {
  norm(x, weight, bias, eps, true, y);
}

void rmsNorm(const HostTensor &x, const HostTensor *weight, double eps,
             HostTensor &y) {
  norm(x, weight, nullptr, eps, false, y);
}

} // namespace mlir::hybrid::reference
