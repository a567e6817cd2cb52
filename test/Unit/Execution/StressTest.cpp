//===- StressTest.cpp - Whole models at extreme gates, 64K tokens -*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// Numerical stress through whole models (every backbone with an attention
// layer after it): 65,536-token sequences, and weights pushed to the ends
// of every gate: decays -> 0 (A_log, time_decay, a_param large) and -> 1
// (tiny dt, decay logs near 0), huge dt, beta saturated at 0 and 1,
// attention logits in the hundreds (q/k projections x 30), GRU gates
// saturated. The compiled model must stay finite, and agree with the
// reference (double per op) within kStressTol of max|ref|.
//
// Tolerance 1e-3: f32 states that keep (decay ~ 1) 64K accumulated inputs
// round at ~T·eps = 4e-3 in the worst case and ~sqrt(T)·eps = 1.5e-5
// typically; softmax at logits ~300 subtracts the row maximum in f32.
// Measured errors are listed in docs/Numerics.md ("Stress").
//
//===----------------------------------------------------------------------===//

#include "hybrid/Execution/CompiledModel.h"
#include "hybrid/Reference/SpecBridge.h"
#include "hybrid/Frontend/WeightInit.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>

using namespace mlir::hybrid;
using namespace mlir::hybrid::frontend;

namespace {

constexpr double kStressTol = 1e-3;
constexpr int64_t kLongSeq = 65536;

/// A weight edit: every weight whose name ends with `suffix` gets f(x).
struct Edit {
  const char *suffix;
  std::function<float(float)> f;
};

struct StressCase {
  const char *name;
  const char *backbone;
  std::vector<Edit> edits;
  int64_t seq = kLongSeq;
};

std::ostream &operator<<(std::ostream &os, const StressCase &c) {
  return os << c.name;
}

class StressTest : public ::testing::TestWithParam<StressCase> {};

TEST_P(StressTest, FiniteAndCloseToTheReference) {
  const StressCase &c = GetParam();
  SpecSources sources;
  sources.overrides = {"embed_dim=8",
                       "hidden_size=16",
                       "num_heads=2",
                       "head_dim=8",
                       "window_size=16",
                       "state_size=4",
                       "output=sequence",
                       std::string("schedule=[\"") + c.backbone +
                           "\",\"attn\"]"};
  llvm::Expected<ModelSpec> spec = parseModelSpec(sources);
  ASSERT_TRUE(static_cast<bool>(spec)) << llvm::toString(spec.takeError());
  CPUPipelineOptions options;
  auto model = CompiledModel::compile(*spec, options);
  ASSERT_TRUE(static_cast<bool>(model)) << llvm::toString(model.takeError());
  std::vector<HostTensor> weights = randomWeights((*model)->weights(), 3);
  int edited = 0;
  for (auto [i, w] : llvm::enumerate((*model)->weights()))
    for (const Edit &e : c.edits)
      if (llvm::StringRef(w.name).ends_with(e.suffix)) {
        for (float &x : weights[i].data)
          x = e.f(x);
        ++edited;
      }
  ASSERT_GT(edited, 0) << "no weight matched the case's edits";
  HostTensor input = randomInput(1, c.seq, spec->embedDim, 5);
  HostTensor out;
  llvm::Error err = (*model)->run(input, weights, out);
  ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
  HostTensor ref = reference::forward(
      referenceConfig(*spec), namedWeights((*model)->weights(), weights),
      input);
  ASSERT_EQ(out.shape, ref.shape);
  double diff = 0.0, scale = 1.0;
  for (size_t i = 0; i < ref.data.size(); ++i) {
    ASSERT_TRUE(std::isfinite(out.data[i])) << "non-finite output at " << i;
    ASSERT_TRUE(std::isfinite(ref.data[i])) << "non-finite reference at " << i;
    diff = std::max(diff, std::abs(double(out.data[i]) - ref.data[i]));
    scale = std::max(scale, std::abs(double(ref.data[i])));
  }
  EXPECT_LT(diff / scale, kStressTol);
  std::printf("[ stress   ] %s: T=%lld, max |out - ref| / max(|ref|, 1) = "
              "%.2e\n",
              c.name, static_cast<long long>(c.seq), diff / scale);
}

std::function<float(float)> constant(float v) {
  return [v](float) { return v; };
}
std::function<float(float)> times(float k) {
  return [k](float x) { return k * x; };
}

/// Attention logits in the hundreds: q and k projections scaled.
const Edit kHotLogits{"qkv_proj.weight", times(30.0f)};

INSTANTIATE_TEST_SUITE_P(
    Extremes, StressTest,
    ::testing::Values(
        // Mamba: decay -> 0 with huge dt; decay -> 1 with tiny dt.
        StressCase{"mamba_decay0_huge_dt", "mamba",
                   {{"A_log", constant(6.0f)},
                    {"dt_proj.bias", constant(20.0f)},
                    kHotLogits}},
        StressCase{"mamba_decay1_tiny_dt", "mamba",
                   {{"A_log", constant(-12.0f)},
                    {"dt_proj.bias", constant(-20.0f)}}},
        // Gated DeltaNet: decay -> 0 and -> 1; beta saturated (0 or 1 by
        // the sign of the projection).
        StressCase{"gated_delta_decay0_beta_saturated", "gated_delta_net",
                   {{"A_log", constant(8.0f)},
                    {"dt_bias", constant(20.0f)},
                    {"b_proj.weight", times(1000.0f)},
                    kHotLogits}},
        StressCase{"gated_delta_decay1", "gated_delta_net",
                   {{"A_log", constant(-20.0f)},
                    {"dt_bias", constant(-20.0f)}}},
        StressCase{"delta_beta_saturated", "delta_net",
                   {{"b_proj.weight", times(1000.0f)}}},
        // RWKV-6: time_decay large (decay exp(-e^w) -> 0) and very
        // negative (-> 1).
        StressCase{"rwkv_decay0", "rwkv", {{"time_decay", constant(5.0f)}}},
        StressCase{"rwkv_decay1", "rwkv",
                   {{"time_decay", constant(-20.0f)}, kHotLogits}},
        // Griffin: a_param large (a -> 0) and very negative (a -> 1, the
        // input scale sqrt(1 - a^2) -> 0).
        StressCase{"griffin_a0", "griffin_lru",
                   {{"rg_lru.a_param", constant(20.0f)}}},
        StressCase{"griffin_a1", "griffin_lru",
                   {{"rg_lru.a_param", constant(-20.0f)}}},
        // GRU: every gate saturated by its bias: z -> 1 (the state is
        // kept: decay -> 1), and z, r -> 0 (the state is replaced). (Large
        // weights instead make the saturated recurrence chaotic: a gate
        // near its switching point amplifies an ulp by ~25 per step, so
        // no f32 evaluation follows a double one; measured 1.7e-2 at
        // weights x100.)
        StressCase{"gru_keep", "gru",
                   {{"input_proj.bias", constant(15.0f)}, kHotLogits}},
        StressCase{"gru_replace", "gru",
                   {{"input_proj.bias", constant(-15.0f)}}}),
    [](const ::testing::TestParamInfo<StressCase> &info) {
      return std::string(info.param.name);
    });

} // namespace
