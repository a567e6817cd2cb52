//===- WeightInit.cpp - Seeded random model weights ------------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Frontend/WeightInit.h"

#include "llvm/ADT/StringRef.h"

#include <cmath>
#include <random>

using namespace mlir::hybrid;
using namespace mlir::hybrid::frontend;
using llvm::StringRef;

static double softplusInverse(double y) { return y + std::log(-std::expm1(-y)); }

std::vector<HostTensor>
mlir::hybrid::frontend::randomWeights(const std::vector<WeightInfo> &weights,
                                      uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<HostTensor> out;
  for (const WeightInfo &w : weights) {
    HostTensor t(w.shape);
    StringRef name = w.name;
    auto uniform = [&](double lo, double hi) {
      std::uniform_real_distribution<double> dist(lo, hi);
      for (float &v : t.data)
        v = dist(rng);
    };
    StringRef leaf = name.rsplit('.').second;
    StringRef parent = name.rsplit('.').first.rsplit('.').second;
    bool isNorm = parent.contains("norm") || parent.starts_with("ln");
    if (name.ends_with(".A_log") && w.shape.size() == 2) {
      // Mamba S4D-real: A = -(1 .. N) per channel.
      for (int64_t c = 0; c < w.shape[0]; ++c)
        for (int64_t n = 0; n < w.shape[1]; ++n)
          t.data[c * w.shape[1] + n] = std::log(double(n + 1));
    } else if (name.ends_with(".A_log")) {
      uniform(1.0, 16.0); // Gated DeltaNet: A ~ U(1, 16), stored as log A.
      for (float &v : t.data)
        v = std::log(v);
    } else if (name.ends_with(".D")) {
      std::fill(t.data.begin(), t.data.end(), 1.0f);
    } else if (name.ends_with(".dt_proj.bias") || name.ends_with(".dt_bias")) {
      // softplus^-1(dt0), dt0 = exp(U(log 1e-3, log 0.1)).
      std::uniform_real_distribution<double> dist(std::log(1e-3),
                                                  std::log(0.1));
      for (float &v : t.data)
        v = softplusInverse(std::max(std::exp(dist(rng)), 1e-4));
    } else if (name.ends_with(".a_param")) {
      // RG-LRU: exp(-softplus(Λ)) = ρ with ρ² ~ U(0.9², 0.999²).
      std::uniform_real_distribution<double> dist(0.81, 0.998001);
      for (float &v : t.data)
        v = softplusInverse(-std::log(std::sqrt(dist(rng))));
    } else if (name.ends_with(".time_decay")) {
      uniform(-6.0, -1.0); // decay exp(-exp(w)) in [0.69, 0.9975]
    } else if (name.ends_with(".time_faaaa")) {
      uniform(-0.5, 0.5);
    } else if (leaf.starts_with("time_maa_")) {
      uniform(0.0, 1.0);
    } else if (isNorm && leaf == "weight") {
      uniform(0.9, 1.1);
    } else if (leaf == "bias") {
      uniform(-0.1, 0.1);
    } else if (w.shape.size() == 3) {
      // Block-diagonal gates [H, blk, blk].
      double s = 1.0 / std::sqrt(double(w.shape[1]));
      uniform(-s, s);
    } else if (w.shape.size() == 2) {
      // Linear [in, out] or conv [K, C]: ±1/sqrt(fan_in).
      double s = 1.0 / std::sqrt(double(w.shape[0]));
      uniform(-s, s);
    } else {
      uniform(-0.1, 0.1);
    }
    out.push_back(std::move(t));
  }
  return out;
}

HostTensor mlir::hybrid::frontend::randomInput(int64_t batch, int64_t seq,
                                               int64_t embed, uint64_t seed) {
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ull);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  HostTensor t({batch, seq, embed});
  for (float &v : t.data)
    v = dist(rng);
  return t;
}
