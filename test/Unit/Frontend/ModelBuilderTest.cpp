//===- ModelBuilderTest.cpp - Spec to IR, parameters, costs ----*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// Builds one-layer models of every kind and checks the IR verifies, the
// weight tensors, and the parameter count and state bytes against closed
// forms written out here from the block definitions (docs/Frontend.md), not
// taken from the builder.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Frontend/ModelBuilder.h"
#include "hybrid/Frontend/ModelSummary.h"

#include "hybrid/Dialect/Hybrid/IR/HybridOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include <gtest/gtest.h>

#include <map>

using namespace mlir;
using namespace mlir::hybrid::frontend;

namespace {

// The test configuration: d = 64, 2 heads of 32, expand 2, N = 16, K = 4.
constexpr int64_t d = 64, H = 2, dh = 32, E = 2, Di = E * d, N = 16, K = 4;
constexpr int64_t R = (d + 15) / 16;
constexpr int64_t ln = 2 * d; // a LayerNorm's gamma and beta

/// The test configuration with `schedule` (none when empty) and more keys.
ModelSpec specFor(const std::string &schedule,
                  std::vector<std::string> extra = {}) {
  SpecSources sources;
  sources.overrides = {"embed_dim=64", "hidden_size=64", "num_heads=2",
                       "head_dim=32"};
  if (!schedule.empty())
    sources.overrides.push_back("schedule=" + schedule);
  sources.overrides.insert(sources.overrides.end(), extra.begin(),
                           extra.end());
  llvm::Expected<ModelSpec> spec = parseModelSpec(sources);
  EXPECT_TRUE(static_cast<bool>(spec));
  if (!spec) {
    llvm::consumeError(spec.takeError());
    return ModelSpec();
  }
  return *spec;
}

/// Mixer parameters of each block, without the wrapper norms.
constexpr int64_t mambaMixer = d * 2 * Di + (K * Di + Di) + Di * (R + 2 * N) +
                               (R * Di + Di) + Di * N + Di + Di * d;
constexpr int64_t gruMixer = (d * 3 * d + 3 * d) + (d * 3 * d + 3 * d);
constexpr int64_t attnMixer = (d * 3 * H * dh + 3 * H * dh) + (H * dh * d + d);
constexpr int64_t ffn = (d * 4 * d + 4 * d) + (4 * d * d + d);
constexpr int64_t deltaMixer = 3 * d * d + 3 * K * d + d * H + dh + d * d;
constexpr int64_t gatedMixer = deltaMixer + d * H + H + H + d * d;
constexpr int64_t blk = d / H;
constexpr int64_t griffinMixer = 2 * (d * d + d) + (K * d + d) +
                                 2 * (H * blk * blk + H * blk) + d +
                                 (d * d + d);
constexpr int64_t gatedMlp = 2 * (d * E * d + E * d) + (E * d * d + d);
constexpr int64_t rwkvHidden = 224; // 32 * ceil(3.5 * 64 / 32)
constexpr int64_t rwkvTimeMix = d + d * 5 * 32 + 5 * 32 * d + 5 * d +
                                4 * d * d + d * 64 + 64 * d + d + H * dh +
                                2 * d + d * d;
constexpr int64_t rwkvChannelMix =
    2 * d + d * rwkvHidden + rwkvHidden * d + d * d;

struct Case {
  const char *schedule;
  int64_t layerParams;
  int64_t stateBytes;
  const char *op;
};

class ModelBuilderTest : public ::testing::TestWithParam<Case> {
protected:
  ModelBuilderTest() {
    DialectRegistry registry;
    registerFrontendDialects(registry);
    context.appendDialectRegistry(registry);
  }
  MLIRContext context;
};

TEST_P(ModelBuilderTest, OneLayerParamsStateAndIR) {
  const Case &c = GetParam();
  ModelSpec spec = specFor(c.schedule);
  BuiltModel model = buildModel(&context, spec);
  ASSERT_TRUE(succeeded(verify(*model.module)));
  ASSERT_EQ(model.layers.size(), 1u);
  EXPECT_EQ(model.layers[0].params, c.layerParams);
  EXPECT_EQ(model.layers[0].stateBytes, c.stateBytes);
  // Model total: the layer plus the final norm (embed_dim == hidden_size).
  ModelSummary summary = summarize(spec, model, 128);
  EXPECT_EQ(summary.paramCount, c.layerParams + ln);
  // The weights read back from the IR agree with what the builder reported.
  auto fn = *model.module->getOps<func::FuncOp>().begin();
  std::vector<WeightInfo> weights = getModelWeights(fn);
  ASSERT_EQ(weights.size(), model.weights.size());
  int64_t fromIR = 0;
  for (auto [w, built] : llvm::zip(weights, model.weights)) {
    EXPECT_EQ(w.name, built.name);
    EXPECT_EQ(w.shape, built.shape);
    fromIR += w.numElements();
  }
  EXPECT_EQ(fromIR, summary.paramCount);
  // Every weight name is unique.
  std::set<std::string> names;
  for (const WeightInfo &w : weights)
    EXPECT_TRUE(names.insert(w.name).second) << w.name;
  // The mixer's op is there.
  int found = 0;
  model.module->walk([&](Operation *op) {
    found += op->getName().getStringRef() == c.op;
  });
  EXPECT_GE(found, 1) << c.op;
}

INSTANTIATE_TEST_SUITE_P(
    EveryKind, ModelBuilderTest,
    ::testing::Values(
        Case{R"(["mamba"])", ln + mambaMixer, 4 * (Di * N + (K - 1) * Di),
             "hybrid.ssm_scan"},
        Case{R"(["gru"])", ln + gruMixer, 4 * d, "hybrid.gru"},
        Case{R"(["attn"])", 2 * ln + attnMixer + ffn, 0,
             "hybrid.windowed_attention"},
        Case{R"(["delta_net"])", ln + deltaMixer,
             4 * (H * dh * dh + 3 * (K - 1) * d), "hybrid.delta_rule"},
        Case{R"(["gated_delta_net"])", ln + gatedMixer,
             4 * (H * dh * dh + 3 * (K - 1) * d), "hybrid.delta_rule"},
        Case{R"(["griffin_lru"])", 2 * ln + griffinMixer + gatedMlp,
             4 * (d + (K - 1) * d), "hybrid.rg_lru"},
        Case{R"(["rwkv"])", 2 * ln + rwkvTimeMix + rwkvChannelMix,
             4 * (H * dh * dh + 2 * d), "hybrid.wkv"}));

TEST(ModelBuilderParallelTest, HymbaBlock) {
  MLIRContext context;
  DialectRegistry registry;
  registerFrontendDialects(registry);
  context.appendDialectRegistry(registry);
  ModelSpec spec = specFor("", {"mode=parallel", "num_layers=2"});
  BuiltModel model = buildModel(&context, spec);
  ASSERT_TRUE(succeeded(verify(*model.module)));
  ASSERT_EQ(model.layers.size(), 2u);
  // norm, gate (d x d + d), mamba mixer, attention mixer, ffn norm, ffn.
  EXPECT_EQ(model.layers[0].params,
            ln + (d * d + d) + mambaMixer + attnMixer + ln + ffn);
  EXPECT_EQ(model.layers[0].stateBytes, 4 * (Di * N + (K - 1) * Di));
  EXPECT_EQ(model.layers[0].kvBytesPerPosition, 4 * 2 * H * dh);
  int blocks = 0;
  model.module->walk([&](mlir::hybrid::GatedParallelOp op) {
    ++blocks;
    EXPECT_EQ(op.getNumResults(), 1u);
  });
  EXPECT_EQ(blocks, 2);
}

TEST(ModelBuilderCostTest, SeedReferenceNumbers) {
  // SPEC.md section 5: the canonical Mamba-1 mixer at d = 256, E = 2, N = 16
  // is 0.913 MFLOP per token; the jamba preset's exact parameter count.
  MLIRContext context;
  DialectRegistry registry;
  registerFrontendDialects(registry);
  context.appendDialectRegistry(registry);
  SpecSources sources;
  sources.preset = "jamba";
  sources.overrides = {"embed_dim=256"};
  llvm::Expected<ModelSpec> spec = parseModelSpec(sources);
  ASSERT_TRUE(static_cast<bool>(spec));
  BuiltModel model = buildModel(&context, *spec);
  ASSERT_TRUE(succeeded(verify(*model.module)));
  // Mixer FLOPs: in_proj, conv, x_proj, dt_proj, scan (7 D_i N), out_proj.
  const int64_t d = 256, di = 512, n = 16, r = 16, k = 4;
  int64_t mambaFlops = 2 * d * 2 * di + 2 * k * di + 2 * di * (r + 2 * n) +
                       2 * r * di + 7 * di * n + 2 * di * d;
  EXPECT_EQ(mambaFlops, 913408);
  EXPECT_EQ(model.layers[0].flopsPerToken, mambaFlops);
  ModelSummary s = summarize(*spec, model, 4096);
  int64_t mamba = 2 * d + d * 2 * di + (k * di + di) + di * (r + 2 * n) +
                  (r * di + di) + di * n + di + di * d;
  int64_t attn = 2 * (2 * d) + (d * 3 * d + 3 * d) + (d * d + d) +
                 (d * 4 * d + 4 * d) + (4 * d * d + d);
  EXPECT_EQ(s.paramCount, 4 * mamba + 2 * attn + 2 * d);
  EXPECT_EQ(s.paramCount, 3333120);
  // Attention KV: 2 layers x (K and V: 4 heads x 64) x 60 positions x 4 B.
  EXPECT_EQ(s.kvCacheBytes, 2 * 2 * 4 * 64 * 60 * 4);
}

TEST(ModelBuilderShapeTest, StaticSeqLenAndSequenceOutput) {
  MLIRContext context;
  DialectRegistry registry;
  registerFrontendDialects(registry);
  context.appendDialectRegistry(registry);
  ModelSpec spec = specFor(R"(["gru", "attn"])",
                           {"seq_len=37", "output=sequence", "embed_dim=10"});
  BuiltModel model = buildModel(&context, spec);
  ASSERT_TRUE(succeeded(verify(*model.module)));
  auto fn = *model.module->getOps<func::FuncOp>().begin();
  auto in = cast<RankedTensorType>(fn.getArgument(0).getType());
  EXPECT_EQ(in.getShape(), (ArrayRef<int64_t>{ShapedType::kDynamic, 37, 10}));
  auto out = cast<RankedTensorType>(fn.getResultTypes()[0]);
  EXPECT_EQ(out.getShape(), (ArrayRef<int64_t>{ShapedType::kDynamic, 37, 64}));
  EXPECT_EQ(model.weights[0].name, "input_proj.weight");
  EXPECT_EQ(model.weights[0].shape, (std::vector<int64_t>{10, 64}));
}

/// Shared layer functions change how the IR is organised, not what the
/// model takes or costs: the same weights and states (names, shapes, order),
/// the same per-layer costs, and one private function per layer kind called
/// once per layer.
void expectSameModel(const BuiltModel &a, const BuiltModel &b) {
  ASSERT_EQ(a.weights.size(), b.weights.size());
  for (size_t i = 0; i < a.weights.size(); ++i) {
    EXPECT_EQ(a.weights[i].name, b.weights[i].name) << i;
    EXPECT_EQ(a.weights[i].shape, b.weights[i].shape) << i;
  }
  ASSERT_EQ(a.states.size(), b.states.size());
  for (size_t i = 0; i < a.states.size(); ++i) {
    EXPECT_EQ(a.states[i].name, b.states[i].name) << i;
    EXPECT_EQ(a.states[i].shape, b.states[i].shape) << i;
  }
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (size_t i = 0; i < a.layers.size(); ++i) {
    EXPECT_EQ(a.layers[i].kind, b.layers[i].kind) << i;
    EXPECT_EQ(a.layers[i].params, b.layers[i].params) << i;
    EXPECT_EQ(a.layers[i].flopsPerToken, b.layers[i].flopsPerToken) << i;
    EXPECT_EQ(a.layers[i].flopsPerKey, b.layers[i].flopsPerKey) << i;
    EXPECT_EQ(a.layers[i].stateBytes, b.layers[i].stateBytes) << i;
    EXPECT_EQ(a.layers[i].kvBytesPerPosition, b.layers[i].kvBytesPerPosition)
        << i;
  }
  EXPECT_EQ(a.otherParams, b.otherParams);
  EXPECT_EQ(a.otherFlopsPerToken, b.otherFlopsPerToken);
}

TEST(ModelBuilderSharedLayersTest, SameWeightsStatesAndCosts) {
  MLIRContext context;
  DialectRegistry registry;
  registerFrontendDialects(registry);
  context.appendDialectRegistry(registry);
  for (const char *schedule :
       {R"(["mamba","attn","gru","mamba","rwkv","attn","rwkv"])",
        R"(["gated_delta_net","griffin_lru","delta_net","griffin_lru"])"}) {
    ModelSpec spec = specFor(schedule, {"embed_dim=48"});
    BuiltModel inlined =
        buildModel(&context, spec, "forward", {LayerSharing::Never});
    BuiltModel shared =
        buildModel(&context, spec, "forward", {LayerSharing::Always});
    ASSERT_TRUE(succeeded(verify(*shared.module)));
    expectSameModel(inlined, shared);
    // One public model function, one private function per kind, each
    // called once per layer of its kind; no layer's op left in the model
    // function itself (only the final norm).
    std::map<std::string, int> calls;
    int privateFns = 0;
    for (auto fn : shared.module->getOps<func::FuncOp>()) {
      if (fn.isPrivate()) {
        ++privateFns;
        continue;
      }
      EXPECT_EQ(fn.getName(), "forward");
      fn.walk([&](func::CallOp call) { ++calls[call.getCallee().str()]; });
      fn.walk([&](Operation *op) {
        EXPECT_FALSE((isa<mlir::hybrid::RecurrenceOpInterface,
                          mlir::hybrid::WindowedAttentionOp,
                          mlir::hybrid::GatedParallelOp>(op)))
            << op->getName().getStringRef().str();
      });
    }
    std::map<std::string, int> kinds;
    for (LayerKind k : spec.resolveSchedule())
      ++kinds["forward__layer_" + layerKindName(k).str()];
    EXPECT_EQ(calls, kinds);
    EXPECT_EQ(privateFns, static_cast<int>(kinds.size()));

    // The stateful form: the same states, prefill's and step's layer
    // functions side by side.
    llvm::Expected<BuiltModel> statefulInline = buildStatefulModel(
        &context, specFor(schedule, {"embed_dim=48", "window_size=8"}),
        "prefill", "step", {LayerSharing::Never});
    llvm::Expected<BuiltModel> statefulShared = buildStatefulModel(
        &context, specFor(schedule, {"embed_dim=48", "window_size=8"}),
        "prefill", "step", {LayerSharing::Always});
    ASSERT_TRUE(static_cast<bool>(statefulInline));
    ASSERT_TRUE(static_cast<bool>(statefulShared));
    ASSERT_TRUE(succeeded(verify(*statefulShared->module)));
    expectSameModel(*statefulInline, *statefulShared);
  }
}

TEST(ModelBuilderSharedLayersTest, AutoSharesDeepModels) {
  MLIRContext context;
  DialectRegistry registry;
  registerFrontendDialects(registry);
  context.appendDialectRegistry(registry);
  auto functions = [&](int64_t layers) {
    BuiltModel m = buildModel(
        &context, specFor("", {"num_layers=" + std::to_string(layers)}));
    return std::distance(m.module->getOps<func::FuncOp>().begin(),
                         m.module->getOps<func::FuncOp>().end());
  };
  EXPECT_EQ(functions(kShareLayersAbove), 1);
  // Mamba with attention every 4th layer: two kinds.
  EXPECT_EQ(functions(kShareLayersAbove + 1), 3);
}

} // namespace
