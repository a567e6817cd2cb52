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
#include "hybrid/Reference/SpecBridge.h"
#include "hybrid/Dialect/Hybrid/Transforms/Passes.h"
#include "hybrid/Frontend/WeightInit.h"
#include "../PipelineVariant.h"

#include "mlir/Pass/PassManager.h"

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
  /// Inline layers or shared layer functions (BuildOptions).
  LayerSharing sharing = LayerSharing::Auto;
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
  std::unique_ptr<CPUPipelineOptions> options = test::pipelineVariant();
  ASSERT_TRUE(options) << "HYBRID_TEST_PIPELINE does not parse";
  auto model = CompiledModel::compile(*spec, *options, {c.sharing});
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


//===----------------------------------------------------------------------===//
// Stateful models: prefill in chunks == the whole sequence at once
//===----------------------------------------------------------------------===//
//
// The stateful function (buildStatefulModel) is called on consecutive chunks
// of one sequence, each call taking the states the previous one returned
// (zeros first); the concatenated chunk outputs must equal the reference's
// whole-sequence forward pass. Chunks of 1 are decode steps; chunks shorter
// and longer than the attention window (9) exercise the K/V cache both ways.
// Same tolerance as above: the chunked and the whole-sequence computations
// differ only in where the recurrences restart (exactly the same f32
// operations, the states being carried in f32).

struct StatefulCase {
  const char *name;
  std::vector<std::string> keys;
  int64_t batch;
  std::vector<int64_t> chunks;
  LayerSharing sharing = LayerSharing::Auto;
};

std::ostream &operator<<(std::ostream &os, const StatefulCase &c) {
  return os << c.name;
}

class StatefulTest : public ::testing::TestWithParam<StatefulCase> {};

/// A preset with window 5, so the attention cache is replaced several times
/// over the test's sequences (their windows are 256-2048 otherwise).
std::vector<std::string> withWindow5(std::vector<std::string> keys) {
  keys.push_back("window_size=5");
  return keys;
}

/// Rows [from, from + len) of dimension 1 of a [B, S, C] tensor.
HostTensor sliceSeq(const HostTensor &t, int64_t from, int64_t len) {
  int64_t b = t.shape[0], s = t.shape[1], c = t.shape[2];
  HostTensor out({b, len, c});
  for (int64_t i = 0; i < b; ++i)
    for (int64_t j = 0; j < len; ++j)
      for (int64_t k = 0; k < c; ++k)
        out.data[(i * len + j) * c + k] = t.data[(i * s + from + j) * c + k];
  return out;
}

/// Element (b, p) of a [B, S, H] tensor vs a [B, n, H] chunk's row j.
double maxRowDiff(const HostTensor &got, int64_t b, int64_t j,
                  const HostTensor &want, int64_t wb, int64_t p,
                  double &scale) {
  int64_t h = want.shape[2];
  int64_t n = got.shape.size() == 3 ? got.shape[1] : 1;
  double err = 0.0;
  for (int64_t k = 0; k < h; ++k) {
    float o = got.data[(b * n + j) * h + k];
    double r = want.data[(wb * want.shape[1] + p) * h + k];
    if (!std::isfinite(o))
      return INFINITY;
    err = std::max(err, std::abs(double(o) - r));
    scale = std::max(scale, std::abs(r));
  }
  return err;
}

/// One compiled model per case (compiling dominates), two checks:
///  - chunked: chunks of several positions go through prefill, chunks of one
///    through the step function, each continuing from the state the
///    previous call left; together they give the whole-sequence outputs;
///  - variable length: a batch of sequences of different lengths (one of
///    them empty) in one prefill, then one step for all: every sequence gets
///    what it gets run alone, and its positions past its length are zero.
TEST_P(StatefulTest, MatchesWholeSequence) {
  const StatefulCase &c = GetParam();
  SpecSources sources;
  sources.overrides = c.keys;
  sources.overrides.push_back("output=sequence");
  llvm::Expected<ModelSpec> spec = parseModelSpec(sources);
  ASSERT_TRUE(static_cast<bool>(spec)) << llvm::toString(spec.takeError());
  auto model = StatefulModel::compile(*spec, {}, {c.sharing});
  ASSERT_TRUE(static_cast<bool>(model)) << llvm::toString(model.takeError());
  ASSERT_FALSE((*model)->states().empty());
  const std::vector<WeightInfo> &weightInfo = (*model)->weights();
  std::vector<HostTensor> weights = randomWeights(weightInfo, 7);
  reference::Weights named = namedWeights(weightInfo, weights);
  {
    SCOPED_TRACE("chunked");
    int64_t seq = 0;
    for (int64_t n : c.chunks)
      seq += n;
    HostTensor input = randomInput(c.batch, seq, spec->embedDim, 11);
    HostTensor ref = reference::forward(referenceConfig(*spec), named, input);
    // The case's chunks, then prefill(T-1) + one step, then T steps from an
    // empty state (k = 0).
    std::vector<std::vector<int64_t>> chunkings{
        c.chunks, {seq - 1, 1}, std::vector<int64_t>(seq, 1)};
    for (const std::vector<int64_t> &chunks : chunkings) {
      SCOPED_TRACE("chunking of " + std::to_string(chunks.size()) +
                   " calls starting with " + std::to_string(chunks[0]));
      ModelState state = (*model)->newState(c.batch);
      const int64_t bytes = state.bytes();
      double err = 0.0, scale = 1.0;
      int64_t from = 0;
      HostTensor out;
      // Snapshot after the first call; the rest is run twice, the second
      // time from the restored snapshot, and must repeat bit for bit.
      ModelState snapshot;
      std::vector<float> firstRun, secondRun;
      for (int pass = 0; pass < 2; ++pass) {
        if (pass == 1) {
          state = snapshot;
          from = chunks[0];
        }
        for (size_t i = pass; i < chunks.size(); ++i) {
          int64_t n = chunks[i];
          HostTensor chunk = sliceSeq(input, from, n);
          llvm::Error e = n == 1
                              ? (*model)->step(state, chunk, weights, out)
                              : (*model)->prefill(state, chunk, weights, out);
          ASSERT_FALSE(static_cast<bool>(e)) << llvm::toString(std::move(e));
          if (pass == 0)
            for (int64_t b = 0; b < c.batch; ++b)
              for (int64_t j = 0; j < n; ++j)
                err = std::max(err,
                               maxRowDiff(out, b, j, ref, b, from + j, scale));
          if (i > 0)
            (pass == 0 ? firstRun : secondRun)
                .insert((pass == 0 ? firstRun : secondRun).end(),
                        out.data.begin(), out.data.end());
          if (pass == 0 && i == 0)
            snapshot = state;
          from += n;
        }
      }
      EXPECT_LT(err / scale, kModelTol);
      EXPECT_TRUE(firstRun == secondRun) << "restore did not repeat the run";
      EXPECT_EQ(state.bytes(), bytes) << "the state must not grow";
      for (int64_t p : state.positions)
        EXPECT_EQ(p, seq);
    }
  }
  {
    SCOPED_TRACE("variable length");
    const int64_t t = 13;
    std::vector<int64_t> lengths{t, 0, 1, 7};
    const int64_t batch = lengths.size(), h = spec->hiddenSize;
    HostTensor input = randomInput(batch, t + 1, spec->embedDim, 17);
    // Sequence b is its first lengths[b] positions, then the step's token
    // (input position t).
    ModelState state = (*model)->newState(batch);
    HostTensor chunk = sliceSeq(input, 0, t), out;
    llvm::Error e = (*model)->prefill(state, chunk, weights, out, lengths);
    ASSERT_FALSE(static_cast<bool>(e)) << llvm::toString(std::move(e));
    HostTensor last = sliceSeq(input, t, 1), stepOut;
    e = (*model)->step(state, last, weights, stepOut);
    ASSERT_FALSE(static_cast<bool>(e)) << llvm::toString(std::move(e));
    for (int64_t b = 0; b < batch; ++b) {
      int64_t n = lengths[b];
      SCOPED_TRACE("sequence " + std::to_string(b) + " of length " +
                   std::to_string(n));
      HostTensor alone({1, n + 1, spec->embedDim});
      int64_t d = spec->embedDim;
      for (int64_t j = 0; j < n; ++j)
        std::copy_n(&input.data[(b * (t + 1) + j) * d], d, &alone.data[j * d]);
      std::copy_n(&input.data[(b * (t + 1) + t) * d], d, &alone.data[n * d]);
      HostTensor want = reference::forward(referenceConfig(*spec), named, alone);
      double err = 0.0, scale = 1.0;
      for (int64_t j = 0; j < n; ++j)
        err = std::max(err, maxRowDiff(out, b, j, want, 0, j, scale));
      err = std::max(err, maxRowDiff(stepOut, b, 0, want, 0, n, scale));
      EXPECT_LT(err / scale, kModelTol);
      for (int64_t j = n * h; j < t * h; ++j)
        ASSERT_EQ(out.data[b * t * h + j], 0.0f) << "past the length";
      EXPECT_EQ(state.positions[b], n + 1);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Backbones, StatefulTest,
    ::testing::Values(
        StatefulCase{"mamba", small({"schedule=[\"mamba\",\"attn\"]"}), 2,
                     {5, 1, 17, 1, 3}},
        StatefulCase{"gru", small({"schedule=[\"gru\",\"attn\"]"}), 2,
                     {1, 1, 11}},
        StatefulCase{"rwkv", small({"schedule=[\"rwkv\",\"attn\"]"}), 2,
                     {3, 1, 13}},
        StatefulCase{"delta_net", small({"schedule=[\"delta_net\",\"attn\"]"}),
                     2, {7, 1, 10}},
        StatefulCase{"gated_delta_net",
                     small({"schedule=[\"gated_delta_net\",\"attn\"]"}), 1,
                     {2, 1, 1, 9}},
        StatefulCase{"griffin_lru",
                     small({"schedule=[\"griffin_lru\",\"attn\"]"}), 2,
                     {1, 4, 12}},
        StatefulCase{"parallel_mamba", small({"mode=parallel", "num_layers=1"}),
                     2, {4, 1, 12}},
        StatefulCase{"parallel_gru", small({"mode=parallel", "num_layers=1",
                                            "backbone=gru"}),
                     1, {1, 10, 2}},
        StatefulCase{"parallel_rwkv", small({"mode=parallel", "num_layers=1",
                                             "backbone=rwkv"}),
                     2, {2, 1, 1, 8}},
        StatefulCase{"parallel_delta_net",
                     small({"mode=parallel", "num_layers=1",
                            "backbone=delta_net"}),
                     1, {11, 1}},
        StatefulCase{"parallel_gated_delta_net",
                     small({"mode=parallel", "num_layers=1",
                            "backbone=gated_delta_net"}),
                     2, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
        StatefulCase{"parallel_griffin_lru",
                     small({"mode=parallel", "num_layers=1",
                            "backbone=griffin_lru"}),
                     2, {1, 12}},
        StatefulCase{"jamba", withWindow5(preset("jamba")), 1, {6, 1, 10}},
        // Prefill of T-1 then one step, and T steps from an empty prompt.
        StatefulCase{"nemotron_h", withWindow5(preset("nemotron_h")), 2,
                     {12, 1}},
        StatefulCase{"minimal_attn", withWindow5(preset("minimal_attn")), 1,
                     {1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
        StatefulCase{"parallel", withWindow5(preset("parallel")), 2,
                     {3, 4, 1}},
        StatefulCase{"attention_decode", small({"schedule=[\"attn\"]"}), 2,
                     {1, 1, 11, 1}},
        StatefulCase{"mixed",
                     small({"schedule=[\"mamba\",\"gru\",\"rwkv\",\"attn\","
                            "\"delta_net\",\"gated_delta_net\",\"griffin_lru\"]"}),
                     2, {3, 1, 9}}),
    [](const auto &info) { return std::string(info.param.name); });

// Shared layer functions (one private function per layer kind, called per
// layer with its weights and states): the same numbers as the reference,
// whole-sequence and chunked. Schedules repeat kinds, so a function is
// called with several layers' weights and states.
INSTANTIATE_TEST_SUITE_P(
    SharedLayers, StatefulTest,
    ::testing::Values(
        StatefulCase{"mixed_repeated",
                     small({"schedule=[\"mamba\",\"attn\",\"gru\",\"mamba\","
                            "\"rwkv\",\"attn\",\"gated_delta_net\","
                            "\"griffin_lru\",\"rwkv\",\"delta_net\","
                            "\"gated_delta_net\",\"griffin_lru\"]"}),
                     2, {3, 1, 9}, LayerSharing::Always},
        StatefulCase{"parallel", small({"mode=parallel", "num_layers=3",
                                        "backbone=gated_delta_net"}),
                     2, {4, 1, 1, 6}, LayerSharing::Always},
        // Deep enough for Auto to share: 20 layers, every 4th attention.
        StatefulCase{"auto_deep", small({"num_layers=20", "backbone=gru",
                                         "hidden_size=16", "head_dim=8"}),
                     1, {5, 1, 2}}),
    [](const auto &info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    SharedLayers, ModelTest,
    ::testing::Values(
        ModelCase{"mixed_repeated",
                  small({"schedule=[\"mamba\",\"attn\",\"mamba\",\"gru\","
                         "\"attn\",\"gru\",\"rwkv\",\"rwkv\","
                         "\"delta_net\",\"delta_net\",\"gated_delta_net\","
                         "\"gated_delta_net\",\"griffin_lru\","
                         "\"griffin_lru\"]",
                         "output=sequence"}),
                  3, 37, LayerSharing::Always},
        ModelCase{"parallel", small({"mode=parallel", "num_layers=3"}), 2, 17,
                  LayerSharing::Always},
        ModelCase{"jamba", preset("jamba"), 1, 17,
                  LayerSharing::Always},
        ModelCase{"inline_deep", small({"num_layers=18", "backbone=gru",
                                        "hidden_size=16", "head_dim=8"}),
                  1, 9, LayerSharing::Never}),
    [](const auto &info) { return std::string(info.param.name); });

TEST(StatefulModelErrors, FullCausalAttentionIsRejected) {
  SpecSources sources;
  sources.overrides = small({"schedule=[\"attn\"]", "use_sliding_window=false"});
  llvm::Expected<ModelSpec> spec = parseModelSpec(sources);
  ASSERT_TRUE(static_cast<bool>(spec));
  mlir::DialectRegistry registry;
  registerFrontendDialects(registry);
  mlir::MLIRContext context(registry);
  llvm::Expected<BuiltModel> built = buildStatefulModel(&context, *spec);
  ASSERT_FALSE(static_cast<bool>(built));
  EXPECT_NE(llvm::toString(built.takeError()).find("sliding window"),
            std::string::npos);
}

//===----------------------------------------------------------------------===//
// StatefulModel: decode steps, snapshot/restore, errors leave the state alone
//===----------------------------------------------------------------------===//

/// Max relative difference of two equally shaped tensors.
double relDiff(const HostTensor &a, const HostTensor &b) {
  double err = 0.0, scale = 1.0;
  for (size_t i = 0; i < a.data.size(); ++i) {
    err = std::max(err, std::abs(double(a.data[i]) - b.data[i]));
    scale = std::max(scale, std::abs(double(b.data[i])));
  }
  return err / scale;
}

TEST(StatefulModel, DecodePastTheWindowSnapshotAndRestore) {
  // Window 5: the K/V cache (4 slots) is overwritten many times over the 40
  // positions; output=last, so each step returns its own position.
  SpecSources sources;
  sources.overrides = small({"schedule=[\"gated_delta_net\",\"attn\",\"mamba\"]",
                             "window_size=5"});
  llvm::Expected<ModelSpec> spec = parseModelSpec(sources);
  ASSERT_TRUE(static_cast<bool>(spec)) << llvm::toString(spec.takeError());
  auto model = StatefulModel::compile(*spec);
  ASSERT_TRUE(static_cast<bool>(model)) << llvm::toString(model.takeError());
  std::vector<HostTensor> weights = randomWeights((*model)->weights(), 3);
  const int64_t batch = 2, prompt = 6, total = 40;
  HostTensor input = randomInput(batch, total, spec->embedDim, 5);
  reference::ModelConfig config = referenceConfig(*spec);
  config.sequenceOutput = true;
  HostTensor ref = reference::forward(
      config, namedWeights((*model)->weights(), weights), input);
  int64_t h = spec->hiddenSize;
  auto refAt = [&](int64_t p) {
    HostTensor r({batch, h});
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t k = 0; k < h; ++k)
        r.data[b * h + k] = ref.data[(b * total + p) * h + k];
    return r;
  };

  ModelState state = (*model)->newState(batch);
  const int64_t bytes = state.bytes();
  HostTensor out;
  HostTensor first = sliceSeq(input, 0, prompt);
  ASSERT_FALSE(static_cast<bool>(
      (*model)->prefill(state, first, weights, out)));
  EXPECT_LT(relDiff(out, refAt(prompt - 1)), kModelTol);
  ModelState snapshot = state;
  std::vector<HostTensor> firstRun;
  for (int64_t p = prompt; p < total; ++p) {
    HostTensor x = sliceSeq(input, p, 1);
    ASSERT_FALSE(static_cast<bool>((*model)->step(state, x, weights, out)));
    EXPECT_LT(relDiff(out, refAt(p)), kModelTol) << "position " << p;
    firstRun.push_back(out);
  }
  for (int64_t p : state.positions)
    EXPECT_EQ(p, total);
  EXPECT_EQ(state.bytes(), bytes) << "the state must not grow";

  // Restore and run the same steps again: bit-identical.
  state = snapshot;
  for (int64_t p = prompt; p < total; ++p) {
    HostTensor x = sliceSeq(input, p, 1);
    ASSERT_FALSE(static_cast<bool>((*model)->step(state, x, weights, out)));
    EXPECT_EQ(out.data, firstRun[p - prompt].data) << "position " << p;
  }
}

TEST(StatefulModel, BadCallsGetMessagesAndKeepTheState) {
  SpecSources sources;
  sources.overrides = small({"schedule=[\"gru\",\"attn\"]"});
  llvm::Expected<ModelSpec> spec = parseModelSpec(sources);
  ASSERT_TRUE(static_cast<bool>(spec));
  auto model = StatefulModel::compile(*spec);
  ASSERT_TRUE(static_cast<bool>(model)) << llvm::toString(model.takeError());
  auto other = StatefulModel::compile(*spec);
  ASSERT_TRUE(static_cast<bool>(other));
  std::vector<HostTensor> weights = randomWeights((*model)->weights(), 1);
  ModelState state = (*model)->newState(2);
  HostTensor x = randomInput(2, 3, spec->embedDim, 2), out;
  ASSERT_FALSE(static_cast<bool>((*model)->prefill(state, x, weights, out)));
  ModelState before = state;
  auto unchanged = [&] {
    EXPECT_EQ(state.positions, before.positions);
    for (size_t i = 0; i < state.tensors.size(); ++i)
      EXPECT_EQ(state.tensors[i].data, before.tensors[i].data);
  };

  HostTensor wrongBatch = randomInput(3, 1, spec->embedDim, 2);
  EXPECT_EQ(llvm::toString((*model)->prefill(state, wrongBatch, weights, out)),
            "the state holds 2 sequences, but the input has batch 3");
  unchanged();
  ModelState foreign = (*other)->newState(2);
  EXPECT_EQ(llvm::toString((*model)->prefill(foreign, x, weights, out)),
            "the state was not made by this model");
  HostTensor empty({2, 0, spec->embedDim});
  EXPECT_EQ(llvm::toString((*model)->prefill(state, empty, weights, out)),
            "input must have at least one position");
  unchanged();
  ModelState broken = state;
  broken.tensors[0] = HostTensor({2, 5});
  EXPECT_NE(llvm::toString((*model)->prefill(broken, x, weights, out))
                .find("does not fit the model"),
            std::string::npos);
  EXPECT_EQ(llvm::toString((*model)->prefill(state, x, weights, out, {1})),
            "expected 2 lengths (one per sequence), got 1");
  EXPECT_EQ(llvm::toString((*model)->prefill(state, x, weights, out, {3, 4})),
            "length 4 of sequence 1 is outside [0, 3] (the chunk's positions)");
  EXPECT_EQ(llvm::toString((*model)->prefill(state, x, weights, out, {-1, 0})),
            "length -1 of sequence 0 is outside [0, 3] (the chunk's positions)");
  EXPECT_EQ(llvm::toString((*model)->step(state, x, weights, out)),
            "a step's input must be [batch, " +
                std::to_string(spec->embedDim) + "], got [2, 3, " +
                std::to_string(spec->embedDim) + "]");
  HostTensor token = randomInput(2, 1, spec->embedDim, 4);
  EXPECT_EQ(llvm::toString((*model)->step(state, token, weights, out, {1, 2})),
            "length 2 of sequence 1 is outside [0, 1] (the chunk's positions)");
  unchanged();
  // An inactive sequence keeps its state and position; its output is zero.
  ASSERT_FALSE(
      static_cast<bool>((*model)->step(state, token, weights, out, {0, 1})));
  EXPECT_EQ(state.positions, (std::vector<int64_t>{3, 4}));
  for (int64_t k = 0; k < spec->hiddenSize; ++k)
    ASSERT_EQ(out.data[k], 0.0f);
  for (size_t i = 0; i < state.tensors.size(); ++i) {
    int64_t row = state.tensors[i].numElements() / 2;
    EXPECT_TRUE(std::equal(state.tensors[i].data.begin(),
                           state.tensors[i].data.begin() + row,
                           before.tensors[i].data.begin()))
        << (*model)->states()[i].name;
  }
  state = before;
  std::vector<HostTensor> fewer(weights.begin(), weights.end() - 1);
  EXPECT_NE(llvm::toString((*model)->prefill(state, x, fewer, out))
                .find("weight tensors, got"),
            std::string::npos);
  unchanged();

  sources.overrides.push_back("seq_len=4");
  llvm::Expected<ModelSpec> fixed = parseModelSpec(sources);
  ASSERT_TRUE(static_cast<bool>(fixed));
  auto rejected = StatefulModel::compile(*fixed);
  ASSERT_FALSE(static_cast<bool>(rejected));
  EXPECT_NE(llvm::toString(rejected.takeError()).find("seq_len"),
            std::string::npos);
}

} // namespace
