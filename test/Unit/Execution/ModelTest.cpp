//===- ModelTest.cpp - Compiled whole models vs the reference --*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// Every backbone in both modes, every preset and the spec options that change
// the computation: the model compiled with --hybrid-cpu-pipeline (JIT,
// OpenMP) against lib/Reference/Model.cpp on seeded random weights, at batch
// 1 and 3, sequence 1, 17 and the prime 37, hidden 36 (not a multiple of the
// vector width) with an input projection from embed_dim 20.
//
// Tolerance 1e-4 on max|out - ref| / max(max|ref|, 1): the compiled model
// computes in f32 with polynomial exp/tanh/erf (a few ulp), the reference in
// double per op; measured errors are around 1e-7 (docs/Numerics.md).
//
//===----------------------------------------------------------------------===//

#include "hybrid/Execution/CompiledModel.h"
#include "hybrid/Frontend/WeightInit.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace mlir::hybrid;
using namespace mlir::hybrid::frontend;

namespace {

constexpr double kModelTol = 1e-4;

struct ModelCase {
  const char *name;
  std::vector<std::string> keys;
  int64_t batch, seq;
};

std::ostream &operator<<(std::ostream &os, const ModelCase &c) {
  return os << c.name;
}

class ModelTest : public ::testing::TestWithParam<ModelCase> {};

TEST_P(ModelTest, MatchesReference) {
  const ModelCase &c = GetParam();
  SpecSources sources;
  sources.overrides = c.keys;
  llvm::Expected<ModelSpec> spec = parseModelSpec(sources);
  ASSERT_TRUE(static_cast<bool>(spec)) << llvm::toString(spec.takeError());
  auto model = CompiledModel::compile(*spec);
  ASSERT_TRUE(static_cast<bool>(model)) << llvm::toString(model.takeError());
  std::vector<HostTensor> weights = randomWeights((*model)->weights(), 7);
  HostTensor input = randomInput(c.batch, c.seq, spec->embedDim, 11);
  HostTensor out;
  llvm::Error e = (*model)->run(input, weights, out);
  ASSERT_FALSE(static_cast<bool>(e)) << llvm::toString(std::move(e));
  HostTensor ref = reference::forward(
      referenceConfig(*spec), namedWeights((*model)->weights(), weights),
      input);
  ASSERT_EQ(out.shape, ref.shape);
  double err = 0.0, scale = 1.0;
  for (size_t i = 0; i < ref.data.size(); ++i) {
    ASSERT_TRUE(std::isfinite(out.data[i])) << "at " << i;
    err = std::max(err, std::abs(double(out.data[i]) - ref.data[i]));
    scale = std::max(scale, std::abs(double(ref.data[i])));
  }
  EXPECT_LT(err / scale, kModelTol);
}

std::vector<std::string> small(std::vector<std::string> extra) {
  std::vector<std::string> keys{"embed_dim=20", "hidden_size=36",
                                "num_heads=2", "head_dim=16", "window_size=9"};
  keys.insert(keys.end(), extra.begin(), extra.end());
  return keys;
}

INSTANTIATE_TEST_SUITE_P(
    Backbones, ModelTest,
    ::testing::Values(
        ModelCase{"mamba", small({"schedule=[\"mamba\",\"attn\"]"}), 3, 37},
        ModelCase{"gru", small({"schedule=[\"gru\",\"attn\"]"}), 3, 37},
        ModelCase{"rwkv", small({"schedule=[\"rwkv\",\"attn\"]"}), 3, 37},
        ModelCase{"delta_net", small({"schedule=[\"delta_net\",\"attn\"]"}), 3,
                  37},
        ModelCase{"gated_delta_net",
                  small({"schedule=[\"gated_delta_net\",\"attn\"]"}), 3, 37},
        ModelCase{"griffin_lru", small({"schedule=[\"griffin_lru\",\"attn\"]"}),
                  3, 37},
        ModelCase{"mixed_seq1",
                  small({"schedule=[\"mamba\",\"gru\",\"rwkv\",\"attn\","
                         "\"delta_net\",\"gated_delta_net\",\"griffin_lru\"]"}),
                  1, 1}),
    [](const auto &info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    Parallel, ModelTest,
    ::testing::Values(
        ModelCase{"mamba", small({"mode=parallel", "num_layers=1"}), 3, 37},
        ModelCase{"gru", small({"mode=parallel", "num_layers=1",
                                "backbone=gru"}),
                  2, 17},
        ModelCase{"rwkv", small({"mode=parallel", "num_layers=1",
                                 "backbone=rwkv"}),
                  2, 17},
        ModelCase{"delta_net", small({"mode=parallel", "num_layers=1",
                                      "backbone=delta_net"}),
                  2, 17},
        ModelCase{"gated_delta_net",
                  small({"mode=parallel", "num_layers=1",
                         "backbone=gated_delta_net"}),
                  2, 17},
        ModelCase{"griffin_lru", small({"mode=parallel", "num_layers=1",
                                        "backbone=griffin_lru"}),
                  1, 1}),
    [](const auto &info) { return std::string(info.param.name); });

std::vector<std::string> preset(const char *name) {
  return {std::string("preset=") + name, "embed_dim=32", "hidden_size=32",
          "num_heads=2", "head_dim=16"};
}

INSTANTIATE_TEST_SUITE_P(
    Presets, ModelTest,
    ::testing::Values(ModelCase{"jamba", preset("jamba"), 2, 17},
                      ModelCase{"nemotron_h", preset("nemotron_h"), 1, 37},
                      ModelCase{"minimal_attn", preset("minimal_attn"), 1, 9},
                      ModelCase{"parallel", preset("parallel"), 2, 5}),
    [](const auto &info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    Options, ModelTest,
    ::testing::Values(
        ModelCase{"post_norm_rms",
                  small({"schedule=[\"mamba\",\"attn\",\"griffin_lru\"]",
                         "pre_norm=false", "norm=rms_norm"}),
                  2, 17},
        ModelCase{"gqa_full_causal_sequence",
                  small({"schedule=[\"attn\",\"gru\"]", "num_heads=4",
                         "num_kv_heads=2", "use_sliding_window=false",
                         "qk_layernorm=false", "output=sequence"}),
                  3, 37},
        ModelCase{"static_seq_len",
                  small({"schedule=[\"delta_net\",\"attn\"]", "seq_len=13"}),
                  2, 13}),
    [](const auto &info) { return std::string(info.param.name); });

TEST(CompiledModelErrors, BadShapesGetMessages) {
  SpecSources sources;
  sources.overrides = small({"schedule=[\"gru\"]", "seq_len=5"});
  llvm::Expected<ModelSpec> spec = parseModelSpec(sources);
  ASSERT_TRUE(static_cast<bool>(spec));
  auto model = CompiledModel::compile(*spec);
  ASSERT_TRUE(static_cast<bool>(model));
  std::vector<HostTensor> weights = randomWeights((*model)->weights(), 1);
  HostTensor out;
  HostTensor wrongEmbed({1, 5, 21});
  EXPECT_EQ(llvm::toString((*model)->run(wrongEmbed, weights, out)),
            "input must be [batch, seq, 20], got [1, 5, 21]");
  HostTensor wrongSeq({1, 6, 20});
  EXPECT_EQ(llvm::toString((*model)->run(wrongSeq, weights, out)),
            "the model was compiled for seq_len 5, but the input has 6 "
            "positions");
  HostTensor input({1, 5, 20});
  std::vector<HostTensor> fewer(weights.begin(), weights.end() - 1);
  EXPECT_NE(llvm::toString((*model)->run(input, fewer, out))
                .find("weight tensors, got"),
            std::string::npos);
  weights[1] = HostTensor({3, 3});
  EXPECT_NE(llvm::toString((*model)->run(input, weights, out))
                .find("must be [36], got [3, 3]"),
            std::string::npos);
}

} // namespace
