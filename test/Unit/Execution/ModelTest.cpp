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
#include "hybrid/Dialect/Hybrid/Transforms/Passes.h"
#include "hybrid/Frontend/WeightInit.h"

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
};

std::ostream &operator<<(std::ostream &os, const StatefulCase &c) {
  return os << c.name;
}

class StatefulTest : public ::testing::TestWithParam<StatefulCase> {};

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

TEST_P(StatefulTest, ChunkedPrefillMatchesWholeSequence) {
  const StatefulCase &c = GetParam();
  SpecSources sources;
  sources.overrides = c.keys;
  sources.overrides.push_back("output=sequence");
  llvm::Expected<ModelSpec> spec = parseModelSpec(sources);
  ASSERT_TRUE(static_cast<bool>(spec)) << llvm::toString(spec.takeError());

  mlir::DialectRegistry registry;
  registerFrontendDialects(registry);
  mlir::MLIRContext context(registry);
  llvm::Expected<BuiltModel> built =
      buildStatefulModel(&context, *spec, "prefill");
  ASSERT_TRUE(static_cast<bool>(built)) << llvm::toString(built.takeError());
  ASSERT_FALSE(built->states.empty());
  mlir::PassManager pm(&context);
  pm.addPass(mlir::hybrid::createHybridExportFunctions());
  ASSERT_TRUE(mlir::succeeded(pm.run(*built->module)));
  std::vector<WeightInfo> weightInfo = built->weights;
  std::vector<WeightInfo> stateInfo = built->states;
  auto jit = JitModule::compile(*built->module);
  ASSERT_TRUE(static_cast<bool>(jit)) << llvm::toString(jit.takeError());

  std::vector<HostTensor> weights = randomWeights(weightInfo, 7);
  int64_t seq = 0;
  for (int64_t n : c.chunks)
    seq += n;
  HostTensor input = randomInput(c.batch, seq, spec->embedDim, 11);
  HostTensor ref = reference::forward(
      referenceConfig(*spec), namedWeights(weightInfo, weights), input);

  auto withBatch = [&](const WeightInfo &s) {
    std::vector<int64_t> shape{c.batch};
    shape.insert(shape.end(), s.shape.begin(), s.shape.end());
    return HostTensor(shape);
  };
  std::vector<HostTensor> states, next;
  for (const WeightInfo &s : stateInfo) {
    states.push_back(withBatch(s));
    next.push_back(withBatch(s));
  }
  double err = 0.0, scale = 1.0;
  int64_t from = 0;
  int64_t h = spec->hiddenSize;
  for (int64_t n : c.chunks) {
    HostTensor chunk = sliceSeq(input, from, n);
    HostTensor out({c.batch, n, h});
    std::vector<HostTensor *> args{&chunk};
    for (HostTensor &w : weights)
      args.push_back(&w);
    for (HostTensor &s : states)
      args.push_back(&s);
    args.push_back(&out);
    for (HostTensor &s : next)
      args.push_back(&s);
    llvm::Error e = (*jit)->call("prefill", args);
    ASSERT_FALSE(static_cast<bool>(e)) << llvm::toString(std::move(e));
    for (int64_t i = 0; i < c.batch; ++i)
      for (int64_t j = 0; j < n; ++j)
        for (int64_t k = 0; k < h; ++k) {
          float o = out.data[(i * n + j) * h + k];
          double r = ref.data[(i * seq + from + j) * h + k];
          ASSERT_TRUE(std::isfinite(o)) << "chunk at " << from;
          err = std::max(err, std::abs(double(o) - r));
          scale = std::max(scale, std::abs(r));
        }
    std::swap(states, next);
    from += n;
  }
  EXPECT_LT(err / scale, kModelTol);
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
        StatefulCase{"jamba", preset("jamba"), 1, {6, 1, 10}},
        // Prefill of T-1 then one step, and T steps from an empty prompt.
        StatefulCase{"nemotron_h", preset("nemotron_h"), 2, {12, 1}},
        StatefulCase{"minimal_attn", preset("minimal_attn"), 1,
                     {1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
        StatefulCase{"parallel", preset("parallel"), 2, {3, 4, 1}},
        StatefulCase{"attention_decode", small({"schedule=[\"attn\"]"}), 2,
                     {1, 1, 11, 1}},
        StatefulCase{"mixed",
                     small({"schedule=[\"mamba\",\"gru\",\"rwkv\",\"attn\","
                            "\"delta_net\",\"gated_delta_net\",\"griffin_lru\"]"}),
                     2, {3, 1, 9}}),
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
    ASSERT_FALSE(static_cast<bool>(
        (*model)->prefill(state, x, weights, out)));
    EXPECT_LT(relDiff(out, refAt(p)), kModelTol) << "position " << p;
    firstRun.push_back(out);
  }
  EXPECT_EQ(state.position, total);
  EXPECT_EQ(state.bytes(), bytes) << "the state must not grow";

  // Restore and run the same steps again: bit-identical.
  state = snapshot;
  for (int64_t p = prompt; p < total; ++p) {
    HostTensor x = sliceSeq(input, p, 1);
    ASSERT_FALSE(static_cast<bool>(
        (*model)->prefill(state, x, weights, out)));
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
    EXPECT_EQ(state.position, before.position);
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
