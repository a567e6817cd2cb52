//===- LoweringTest.cpp - Compiled hybrid ops vs the reference --*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// Builds one op per kernel, compiles it with --hybrid-cpu-pipeline (JIT,
// OpenMP) and compares every output with lib/Reference at several shapes:
// batch 1 and 3, sequence 1 and the prime 37, widths that are not multiples
// of the vector width, static and dynamic batch/sequence sizes.
//
// Every case runs through the pipeline variant HYBRID_TEST_PIPELINE names
// (PipelineVariant.h): ctest runs the binary untiled, tiled by the cost
// model, with tiny ragged tiles and chunked time, all against the same
// reference.
//
// Error measure: max |compiled - reference| / max(|reference|, 1) over each
// output tensor. Tolerances (docs/Numerics.md): 2e-5 for the non-recurrent
// ops (f32 rounding of short sums and the polynomial exp/tanh/erf, a few
// ulp); 1e-4 for the recurrences, whose f32 state accumulates one rounding
// per step over up to 37 steps against a double-precision reference.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Dialect/Hybrid/IR/HybridOps.h"
#include "hybrid/Execution/Jit.h"
#include "hybrid/InitAllDialects.h"
#include "hybrid/Reference/Reference.h"
#include "../PipelineVariant.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>

using namespace mlir;
using namespace mlir::hybrid;

namespace {

constexpr double kRecurrenceTol = 1e-4;
constexpr double kPointwiseTol = 2e-5;

/// max |a - b| / max(max |b|, 1).
double relError(const HostTensor &got, const HostTensor &want) {
  EXPECT_EQ(got.shape, want.shape);
  double err = 0.0, scale = 1.0;
  for (size_t i = 0; i < want.data.size() && i < got.data.size(); ++i) {
    err = std::max(err, std::abs(double(got.data[i]) - want.data[i]));
    scale = std::max(scale, std::abs(double(want.data[i])));
    if (!std::isfinite(got.data[i]))
      return INFINITY;
  }
  return err / scale;
}

/// Uniform random values in [lo, hi].
HostTensor random(std::vector<int64_t> shape, std::mt19937 &rng,
                  double lo = -1.0, double hi = 1.0) {
  HostTensor t(std::move(shape));
  std::uniform_real_distribution<float> dist(lo, hi);
  for (float &v : t.data)
    v = dist(rng);
  return t;
}

using Body = std::function<SmallVector<Value>(OpBuilder &, Location,
                                              ValueRange)>;

/// Compiles `func @kernel(inputs..., outputs...)` where the outputs are
/// memrefs that receive body(inputs), runs it, and returns the outputs.
/// With `dynamic`, dims 0 and 1 of every input and output of rank >= 3 are
/// dynamic in the IR.
std::vector<HostTensor> run(const std::vector<HostTensor *> &inputs,
                            const std::vector<std::vector<int64_t>> &outShapes,
                            const Body &body, bool dynamic = false,
                            std::vector<bool> isMask = {}) {
  MLIRContext ctx;
  DialectRegistry registry;
  registerAllDialects(registry);
  registry.insert<func::FuncDialect, bufferization::BufferizationDialect,
                  memref::MemRefDialect, linalg::LinalgDialect>();
  ctx.appendDialectRegistry(registry);
  ctx.loadAllAvailableDialects();
  OpBuilder b(&ctx);
  Location loc = b.getUnknownLoc();
  auto shapeOf = [&](const std::vector<int64_t> &s) {
    SmallVector<int64_t> shape(s.begin(), s.end());
    if (dynamic && shape.size() >= 3)
      shape[0] = shape[1] = ShapedType::kDynamic;
    return shape;
  };
  SmallVector<Type> argTypes;
  for (auto [i, in] : llvm::enumerate(inputs)) {
    Type elt = i < isMask.size() && isMask[i] ? Type(b.getI1Type())
                                              : Type(b.getF32Type());
    argTypes.push_back(RankedTensorType::get(shapeOf(in->shape), elt));
  }
  for (auto &s : outShapes)
    argTypes.push_back(MemRefType::get(shapeOf(s), b.getF32Type()));
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module->getBody());
  auto fn = func::FuncOp::create(b, loc, "kernel",
                                 b.getFunctionType(argTypes, {}));
  Block *entry = fn.addEntryBlock();
  b.setInsertionPointToEnd(entry);
  SmallVector<Value> results =
      body(b, loc, entry->getArguments().take_front(inputs.size()));
  for (auto [i, r] : llvm::enumerate(results)) {
    Value out = entry->getArgument(inputs.size() + i);
    auto mt = cast<MemRefType>(out.getType());
    Value t = r;
    auto want = RankedTensorType::get(mt.getShape(), mt.getElementType());
    if (t.getType() != want)
      t = tensor::CastOp::create(b, loc, want, t);
    auto m = bufferization::MaterializeInDestinationOp::create(b, loc, t, out);
    m.setRestrict(true);
    m.setWritable(true);
  }
  func::ReturnOp::create(b, loc);
  EXPECT_TRUE(succeeded(verify(*module)));
  emitCInterfaces(*module);

  std::vector<HostTensor> outs;
  for (auto &s : outShapes)
    outs.emplace_back(s);
  std::unique_ptr<CPUPipelineOptions> options = test::pipelineVariant();
  if (!options) {
    ADD_FAILURE() << "HYBRID_TEST_PIPELINE does not parse";
    return outs;
  }
  auto jit = JitModule::compile(*module, *options);
  if (!jit) {
    ADD_FAILURE() << llvm::toString(jit.takeError());
    return outs;
  }
  // Masks travel as one byte per element.
  std::vector<HostTensor> maskBytes;
  std::vector<HostTensor *> args;
  for (auto [i, in] : llvm::enumerate(inputs))
    args.push_back(in);
  for (HostTensor &o : outs)
    args.push_back(&o);
  if (llvm::Error e = (*jit)->call("kernel", args))
    ADD_FAILURE() << llvm::toString(std::move(e));
  return outs;
}

//===----------------------------------------------------------------------===//
// ssm_scan
//===----------------------------------------------------------------------===//

struct SsmCase {
  int64_t b, t, d, n, g;
  bool full, dynamic;
};

class SsmScanTest : public ::testing::TestWithParam<SsmCase> {};

TEST_P(SsmScanTest, MatchesReference) {
  SsmCase c = GetParam();
  std::mt19937 rng(42 + c.d + c.t);
  HostTensor u = random({c.b, c.t, c.d}, rng);
  HostTensor delta = random({c.b, c.t, c.d}, rng, -3.0, 1.0);
  HostTensor a = random({c.d, c.n}, rng, -2.0, -0.05);
  HostTensor bm = random({c.b, c.t, c.g, c.n}, rng);
  HostTensor cm = random({c.b, c.t, c.g, c.n}, rng);
  HostTensor dskip = random({c.d}, rng), z = random({c.b, c.t, c.d}, rng);
  HostTensor bias = random({c.d}, rng, -1.0, 0.5);
  HostTensor h0 = random({c.b, c.d, c.n}, rng);
  std::vector<HostTensor *> ins{&u, &delta, &a, &bm, &cm};
  if (c.full)
    ins.insert(ins.end(), {&dskip, &z, &bias, &h0});
  auto outs = run(
      ins, {{c.b, c.t, c.d}, {c.b, c.d, c.n}},
      [&](OpBuilder &b, Location l, ValueRange v) {
        auto op = SsmScanOp::create(
            b, l, v[0], v[1], v[2], v[3], v[4], c.full ? v[5] : Value(),
            c.full ? v[6] : Value(), c.full ? v[7] : Value(),
            c.full ? v[8] : Value(), /*delta_softplus=*/true);
        return SmallVector<Value>{op.getY(), op.getFinalState()};
      },
      c.dynamic);
  HostTensor y, hT;
  reference::ssmScan(u, delta, a, bm, cm, c.full ? &dskip : nullptr,
                     c.full ? &z : nullptr, c.full ? &bias : nullptr,
                     c.full ? &h0 : nullptr, true, y, hT);
  EXPECT_LT(relError(outs[0], y), kRecurrenceTol);
  EXPECT_LT(relError(outs[1], hT), kRecurrenceTol);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, SsmScanTest,
    ::testing::Values(SsmCase{1, 1, 8, 16, 1, true, false},
                      SsmCase{3, 37, 19, 16, 1, true, false},
                      SsmCase{2, 37, 13, 4, 1, false, true},
                      SsmCase{1, 8, 32, 16, 2, true, false},
                      SsmCase{2, 5, 6, 3, 3, true, true}));

/// Mamba-1's B and C without a group dimension ([B, T, N]) give the numbers
/// of the one-group layout [B, T, 1, N].
TEST(SsmScanLayouts, UngroupedBC) {
  for (bool dynamic : {false, true}) {
    int64_t B = 2, T = 23, D = 21, N = 5;
    std::mt19937 rng(5);
    HostTensor u = random({B, T, D}, rng);
    HostTensor delta = random({B, T, D}, rng, -3.0, 1.0);
    HostTensor a = random({D, N}, rng, -2.0, -0.05);
    HostTensor bm = random({B, T, N}, rng), cm = random({B, T, N}, rng);
    HostTensor dskip = random({D}, rng), z = random({B, T, D}, rng);
    auto outs = run(
        {&u, &delta, &a, &bm, &cm, &dskip, &z}, {{B, T, D}, {B, D, N}},
        [&](OpBuilder &b, Location l, ValueRange v) {
          auto op = SsmScanOp::create(b, l, v[0], v[1], v[2], v[3], v[4],
                                      v[5], v[6], Value(), Value(),
                                      /*delta_softplus=*/true);
          return SmallVector<Value>{op.getY(), op.getFinalState()};
        },
        dynamic);
    HostTensor b4 = bm, c4 = cm;
    b4.shape = c4.shape = {B, T, 1, N};
    HostTensor y, hT;
    reference::ssmScan(u, delta, a, b4, c4, &dskip, &z, nullptr, nullptr, true,
                       y, hT);
    EXPECT_LT(relError(outs[0], y), kRecurrenceTol);
    EXPECT_LT(relError(outs[1], hT), kRecurrenceTol);
  }
}

//===----------------------------------------------------------------------===//
// wkv
//===----------------------------------------------------------------------===//

struct WkvCase {
  int64_t b, t, h, k, v;
  bool v7, init, dynamic;
};

class WkvTest : public ::testing::TestWithParam<WkvCase> {};

TEST_P(WkvTest, MatchesReference) {
  WkvCase c = GetParam();
  std::mt19937 rng(7 + c.t * 3 + c.k);
  HostTensor r = random({c.b, c.t, c.h, c.k}, rng);
  HostTensor k = random({c.b, c.t, c.h, c.k}, rng, -0.5, 0.5);
  HostTensor v = random({c.b, c.t, c.h, c.v}, rng);
  HostTensor w = random({c.b, c.t, c.h, c.k}, rng, -1.0, -0.01);
  HostTensor bonus = random({c.h, c.k}, rng);
  HostTensor a = random({c.b, c.t, c.h, c.k}, rng, -0.3, 0.0);
  HostTensor bb = random({c.b, c.t, c.h, c.k}, rng, 0.0, 0.3);
  HostTensor s0 = random({c.b, c.h, c.v, c.k}, rng);
  double scale = 0.5;
  std::vector<HostTensor *> ins{&r, &k, &v, &w};
  if (c.v7)
    ins.insert(ins.end(), {&a, &bb});
  else
    ins.push_back(&bonus);
  if (c.init)
    ins.push_back(&s0);
  auto outs = run(
      ins, {{c.b, c.t, c.h, c.v}, {c.b, c.h, c.v, c.k}},
      [&](OpBuilder &b, Location l, ValueRange x) {
        Value init = c.init ? x.back() : Value();
        auto op = c.v7 ? WkvOp::create(b, l, WkvVariant::rwkv7, x[0], x[1],
                                       x[2], x[3], Value(), x[4], x[5], init,
                                       scale)
                       : WkvOp::create(b, l, WkvVariant::rwkv6, x[0], x[1],
                                       x[2], x[3], x[4], Value(), Value(),
                                       init, scale);
        return SmallVector<Value>{op.getO(), op.getFinalState()};
      },
      c.dynamic);
  HostTensor o, sT;
  if (c.v7)
    reference::wkv7(r, k, v, w, a, bb, c.init ? &s0 : nullptr, scale, o, sT);
  else
    reference::wkv6(r, k, v, w, bonus, c.init ? &s0 : nullptr, scale, o, sT);
  EXPECT_LT(relError(outs[0], o), kRecurrenceTol);
  EXPECT_LT(relError(outs[1], sT), kRecurrenceTol);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, WkvTest,
    ::testing::Values(WkvCase{1, 1, 1, 8, 8, false, false, false},
                      WkvCase{3, 37, 2, 16, 13, false, true, false},
                      WkvCase{2, 23, 3, 8, 5, false, true, true},
                      WkvCase{1, 37, 2, 16, 16, true, false, false},
                      WkvCase{3, 11, 1, 8, 7, true, true, true},
                      // More value rows than one task's lanes (64), an odd K.
                      WkvCase{2, 19, 2, 5, 70, false, true, false},
                      WkvCase{1, 13, 1, 5, 70, true, true, true}));

//===----------------------------------------------------------------------===//
// delta_rule
//===----------------------------------------------------------------------===//

struct DeltaCase {
  int64_t b, t, hk, hv, k, v;
  bool gated, perChannel, init, dynamic;
};

class DeltaRuleTest : public ::testing::TestWithParam<DeltaCase> {};

/// Keys with unit L2 norm per head, as the layers feed the op.
void normalizeRows(HostTensor &t) {
  int64_t d = t.shape.back();
  for (int64_t r = 0; r < t.numElements() / d; ++r) {
    double s = 0.0;
    for (int64_t i = 0; i < d; ++i)
      s += t.data[r * d + i] * t.data[r * d + i];
    for (int64_t i = 0; i < d; ++i)
      t.data[r * d + i] /= std::sqrt(s + 1e-6);
  }
}

TEST_P(DeltaRuleTest, MatchesReference) {
  DeltaCase c = GetParam();
  std::mt19937 rng(11 + c.t + c.v);
  HostTensor q = random({c.b, c.t, c.hk, c.k}, rng);
  HostTensor k = random({c.b, c.t, c.hk, c.k}, rng);
  normalizeRows(q);
  normalizeRows(k);
  HostTensor v = random({c.b, c.t, c.hv, c.v}, rng);
  HostTensor beta = c.perChannel ? random({c.b, c.t, c.hv, c.v}, rng, 0.0, 1.0)
                                 : random({c.b, c.t, c.hv}, rng, 0.0, 1.0);
  HostTensor g = random({c.b, c.t, c.hv}, rng, -0.5, 0.0);
  HostTensor s0 = random({c.b, c.hv, c.v, c.k}, rng);
  std::vector<HostTensor *> ins{&q, &k, &v, &beta};
  if (c.gated)
    ins.push_back(&g);
  if (c.init)
    ins.push_back(&s0);
  double scale = 1.0 / std::sqrt(double(c.k));
  auto outs = run(
      ins, {{c.b, c.t, c.hv, c.v}, {c.b, c.hv, c.v, c.k}},
      [&](OpBuilder &b, Location l, ValueRange x) {
        Value gate = c.gated ? x[4] : Value();
        Value init = c.init ? x.back() : Value();
        auto op = DeltaRuleOp::create(b, l, x[0], x[1], x[2], x[3], gate, init);
        return SmallVector<Value>{op.getO(), op.getFinalState()};
      },
      c.dynamic);
  HostTensor o, sT;
  reference::deltaRule(q, k, v, beta, c.gated ? &g : nullptr,
                       c.init ? &s0 : nullptr, scale, o, sT);
  EXPECT_LT(relError(outs[0], o), kRecurrenceTol);
  EXPECT_LT(relError(outs[1], sT), kRecurrenceTol);
}

/// qk_l2norm: the op normalises raw q and k itself (rows of norm 0.3 to
/// 30, so a missing or doubled normalisation shows), against the reference
/// fed rows normalised here in double precision.
TEST_P(DeltaRuleTest, QkL2NormInTheOp) {
  DeltaCase c = GetParam();
  std::mt19937 rng(23 + c.t + c.v);
  HostTensor q = random({c.b, c.t, c.hk, c.k}, rng, -3.0, 3.0);
  HostTensor k = random({c.b, c.t, c.hk, c.k}, rng, -0.1, 0.1);
  HostTensor v = random({c.b, c.t, c.hv, c.v}, rng);
  HostTensor beta = c.perChannel ? random({c.b, c.t, c.hv, c.v}, rng, 0.0, 1.0)
                                 : random({c.b, c.t, c.hv}, rng, 0.0, 1.0);
  HostTensor g = random({c.b, c.t, c.hv}, rng, -0.5, 0.0);
  std::vector<HostTensor *> ins{&q, &k, &v, &beta};
  if (c.gated)
    ins.push_back(&g);
  auto outs = run(
      ins, {{c.b, c.t, c.hv, c.v}, {c.b, c.hv, c.v, c.k}},
      [&](OpBuilder &b, Location l, ValueRange x) {
        Value gate = c.gated ? x[4] : Value();
        auto op = DeltaRuleOp::create(b, l, x[0], x[1], x[2], x[3], gate);
        op.setQkL2norm(true);
        return SmallVector<Value>{op.getO(), op.getFinalState()};
      },
      c.dynamic);
  HostTensor qn = q, kn = k;
  normalizeRows(qn);
  normalizeRows(kn);
  HostTensor o, sT;
  reference::deltaRule(qn, kn, v, beta, c.gated ? &g : nullptr, nullptr,
                       1.0 / std::sqrt(double(c.k)), o, sT);
  EXPECT_LT(relError(outs[0], o), kRecurrenceTol);
  EXPECT_LT(relError(outs[1], sT), kRecurrenceTol);
}

/// The activations the op applies itself: beta_sigmoid and Gated
/// DeltaNet's decay activation, against the reference fed the activated
/// values computed here in double precision.
TEST_P(DeltaRuleTest, ActivationsInTheOp) {
  DeltaCase c = GetParam();
  if (c.perChannel)
    return; // (the activations do not depend on beta's layout)
  std::mt19937 rng(17 + c.t + c.v);
  HostTensor q = random({c.b, c.t, c.hk, c.k}, rng);
  HostTensor k = random({c.b, c.t, c.hk, c.k}, rng);
  normalizeRows(q);
  normalizeRows(k);
  HostTensor v = random({c.b, c.t, c.hv, c.v}, rng);
  HostTensor braw = random({c.b, c.t, c.hv}, rng, -3.0, 3.0);
  HostTensor a = random({c.b, c.t, c.hv}, rng, -2.0, 2.0);
  HostTensor aLog = random({c.hv}, rng, -2.0, 0.5);
  HostTensor bias = random({c.hv}, rng, -1.0, 1.0);
  HostTensor beta({c.b, c.t, c.hv}), g({c.b, c.t, c.hv});
  for (size_t i = 0; i < braw.data.size(); ++i) {
    size_t h = i % c.hv;
    double x = double(a.data[i]) + bias.data[h];
    double softplus = std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x)));
    beta.data[i] = static_cast<float>(1.0 / (1.0 + std::exp(-braw.data[i])));
    g.data[i] = static_cast<float>(-std::exp(double(aLog.data[h])) * softplus);
  }
  std::vector<HostTensor *> ins{&q, &k, &v, &braw, &a, &aLog, &bias};
  auto outs = run(
      ins, {{c.b, c.t, c.hv, c.v}, {c.b, c.hv, c.v, c.k}},
      [&](OpBuilder &b, Location l, ValueRange x) {
        auto op = DeltaRuleOp::create(b, l, x[0], x[1], x[2], x[3], x[4]);
        op.getDecayALogMutable().assign(x[5]);
        op.getDecayBiasMutable().assign(x[6]);
        op.setBetaSigmoid(true);
        return SmallVector<Value>{op.getO(), op.getFinalState()};
      },
      c.dynamic);
  HostTensor o, sT;
  reference::deltaRule(q, k, v, beta, &g, nullptr,
                       1.0 / std::sqrt(double(c.k)), o, sT);
  EXPECT_LT(relError(outs[0], o), kRecurrenceTol);
  EXPECT_LT(relError(outs[1], sT), kRecurrenceTol);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, DeltaRuleTest,
    ::testing::Values(
        DeltaCase{1, 1, 1, 1, 8, 8, false, false, false, false},
        DeltaCase{3, 37, 2, 2, 16, 13, false, false, true, false},
        DeltaCase{2, 37, 2, 2, 16, 16, true, false, false, true},
        DeltaCase{1, 23, 1, 3, 8, 11, true, true, true, false},
        DeltaCase{2, 9, 2, 4, 8, 5, false, true, false, true},
        // More value rows than one task's lanes (64), an odd K.
        DeltaCase{1, 19, 1, 2, 5, 70, true, false, true, false},
        DeltaCase{2, 13, 1, 1, 5, 70, false, true, true, true}));

//===----------------------------------------------------------------------===//
// rg_lru, gru, causal_conv1d
//===----------------------------------------------------------------------===//

struct SeqCase {
  int64_t b, t, d;
  bool extra, dynamic;
};

class RgLruTest : public ::testing::TestWithParam<SeqCase> {};

TEST_P(RgLruTest, MatchesReference) {
  SeqCase c = GetParam();
  std::mt19937 rng(3 + c.t + c.d);
  HostTensor x = random({c.b, c.t, c.d}, rng);
  HostTensor gx = random({c.b, c.t, c.d}, rng, -3.0, 3.0);
  HostTensor ga = random({c.b, c.t, c.d}, rng, -3.0, 3.0);
  // Λ so that the decay exp(-8 softplus(Λ)) is close to 1 for some lanes.
  HostTensor lam = random({c.d}, rng, -9.0, 1.0);
  HostTensor h0 = random({c.b, c.d}, rng);
  std::vector<HostTensor *> ins{&x, &gx, &ga, &lam};
  if (c.extra)
    ins.push_back(&h0);
  auto outs = run(
      ins, {{c.b, c.t, c.d}, {c.b, c.d}},
      [&](OpBuilder &b, Location l, ValueRange v) {
        auto op = RgLruOp::create(b, l, v[0], v[1], v[2], v[3], Value(),
                                  c.extra ? v[4] : Value());
        return SmallVector<Value>{op.getH(), op.getFinalState()};
      },
      c.dynamic);
  HostTensor h, hT;
  reference::rgLru(x, gx, ga, lam, nullptr, c.extra ? &h0 : nullptr, 8.0, h,
                   hT);
  EXPECT_LT(relError(outs[0], h), kRecurrenceTol);
  EXPECT_LT(relError(outs[1], hT), kRecurrenceTol);
}

INSTANTIATE_TEST_SUITE_P(Shapes, RgLruTest,
                         ::testing::Values(SeqCase{1, 1, 8, false, false},
                                           SeqCase{3, 37, 21, true, false},
                                           SeqCase{2, 37, 5, true, true}));

/// The core form (x already gated, log_a given) against the reference of
/// the gated form, with the gate math done here in double precision:
/// x_gated = σ(gate_x) x, log_a = -8 σ(gate_a) softplus(Λ).
TEST_P(RgLruTest, CoreFormMatchesReference) {
  SeqCase c = GetParam();
  std::mt19937 rng(13 + c.t + c.d);
  HostTensor x = random({c.b, c.t, c.d}, rng);
  HostTensor gx = random({c.b, c.t, c.d}, rng, -3.0, 3.0);
  HostTensor ga = random({c.b, c.t, c.d}, rng, -3.0, 3.0);
  HostTensor lam = random({c.d}, rng, -9.0, 1.0);
  HostTensor h0 = random({c.b, c.d}, rng);
  HostTensor xg({c.b, c.t, c.d}), logA({c.b, c.t, c.d});
  auto sigmoid = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
  for (size_t i = 0; i < x.data.size(); ++i) {
    double l = lam.data[i % c.d];
    double softplus = std::max(l, 0.0) + std::log1p(std::exp(-std::abs(l)));
    xg.data[i] = static_cast<float>(sigmoid(gx.data[i]) * x.data[i]);
    logA.data[i] = static_cast<float>(-8.0 * sigmoid(ga.data[i]) * softplus);
  }
  std::vector<HostTensor *> ins{&xg, &logA};
  if (c.extra)
    ins.push_back(&h0);
  auto outs = run(
      ins, {{c.b, c.t, c.d}, {c.b, c.d}},
      [&](OpBuilder &b, Location l, ValueRange v) {
        auto op = RgLruOp::createWithLogA(b, l, v[0], v[1], Value(),
                                          c.extra ? v[2] : Value());
        return SmallVector<Value>{op.getH(), op.getFinalState()};
      },
      c.dynamic);
  HostTensor h, hT;
  reference::rgLru(x, gx, ga, lam, nullptr, c.extra ? &h0 : nullptr, 8.0, h,
                   hT);
  EXPECT_LT(relError(outs[0], h), kRecurrenceTol);
  EXPECT_LT(relError(outs[1], hT), kRecurrenceTol);
}

class GruTest : public ::testing::TestWithParam<SeqCase> {};

TEST_P(GruTest, MatchesReference) {
  SeqCase c = GetParam();
  std::mt19937 rng(5 + c.t + c.d);
  HostTensor xg = random({c.b, c.t, 3 * c.d}, rng, -2.0, 2.0);
  HostTensor wh = random({c.d, 3 * c.d}, rng, -0.3, 0.3);
  HostTensor bh = random({3 * c.d}, rng);
  HostTensor h0 = random({c.b, c.d}, rng);
  std::vector<HostTensor *> ins{&xg, &wh};
  if (c.extra)
    ins.insert(ins.end(), {&bh, &h0});
  auto outs = run(
      ins, {{c.b, c.t, c.d}, {c.b, c.d}},
      [&](OpBuilder &b, Location l, ValueRange v) {
        auto op = GruOp::create(b, l, v[0], v[1], c.extra ? v[2] : Value(),
                                c.extra ? v[3] : Value());
        return SmallVector<Value>{op.getH(), op.getFinalState()};
      },
      c.dynamic);
  HostTensor h, hT;
  reference::gru(xg, wh, c.extra ? &bh : nullptr, c.extra ? &h0 : nullptr, h,
                 hT);
  EXPECT_LT(relError(outs[0], h), kRecurrenceTol);
  EXPECT_LT(relError(outs[1], hT), kRecurrenceTol);
}

INSTANTIATE_TEST_SUITE_P(Shapes, GruTest,
                         ::testing::Values(SeqCase{1, 1, 8, false, false},
                                           SeqCase{3, 37, 13, true, false},
                                           SeqCase{2, 17, 20, true, true}));

class CausalConvTest : public ::testing::TestWithParam<SeqCase> {};

TEST_P(CausalConvTest, MatchesReference) {
  SeqCase c = GetParam();
  std::mt19937 rng(9 + c.t + c.d);
  int64_t width = c.extra ? 4 : 1;
  HostTensor x = random({c.b, c.t, c.d}, rng);
  HostTensor w = random({width, c.d}, rng);
  HostTensor bias = random({c.d}, rng);
  HostTensor s0 = random({c.b, width - 1, c.d}, rng);
  std::vector<HostTensor *> ins{&x, &w};
  if (c.extra)
    ins.insert(ins.end(), {&bias, &s0});
  auto outs = run(
      ins, {{c.b, c.t, c.d}, {c.b, width - 1, c.d}},
      [&](OpBuilder &b, Location l, ValueRange v) {
        auto op = CausalConv1dOp::create(
            b, l, v[0], v[1], c.extra ? v[2] : Value(),
            c.extra ? v[3] : Value(),
            c.extra ? Activation::silu : Activation::none);
        return SmallVector<Value>{op.getY(), op.getFinalState()};
      },
      c.dynamic);
  HostTensor y, sT;
  reference::causalConv1d(x, w, c.extra ? &bias : nullptr,
                          c.extra ? &s0 : nullptr, c.extra, y, sT);
  EXPECT_LT(relError(outs[0], y), kPointwiseTol);
  EXPECT_LT(relError(outs[1], sT), kPointwiseTol);
}

// The ops write their final state over their initial state (destination
// style); when that state is a function argument the pipeline must copy it
// instead of writing into the caller's buffer.
TEST(DestinationStyle, InitialStatesAndInputsAreNotWritten) {
  std::mt19937 rng(17);
  HostTensor x = random({2, 9, 8}, rng), w = random({4, 8}, rng);
  HostTensor bias = random({8}, rng), s0 = random({2, 3, 8}, rng);
  HostTensor xg = random({2, 9, 24}, rng), wh = random({8, 24}, rng, -0.3, 0.3);
  HostTensor h0 = random({2, 8}, rng);
  std::vector<HostTensor> before{x, w, bias, s0, xg, wh, h0};
  std::vector<HostTensor *> ins{&x, &w, &bias, &s0, &xg, &wh, &h0};
  auto outs = run(
      ins, {{2, 9, 8}, {2, 3, 8}, {2, 9, 8}, {2, 8}},
      [&](OpBuilder &b, Location l, ValueRange v) {
        auto conv = CausalConv1dOp::create(b, l, v[0], v[1], v[2], v[3],
                                           Activation::silu);
        auto gru = GruOp::create(b, l, v[4], v[5], Value(), v[6]);
        return SmallVector<Value>{conv.getY(), conv.getFinalState(),
                                  gru.getH(), gru.getFinalState()};
      },
      /*dynamic=*/false);
  for (size_t i = 0; i < ins.size(); ++i)
    EXPECT_EQ(ins[i]->data, before[i].data) << "input " << i << " was written";
  // And the results are still right.
  HostTensor y, sT, h, hT;
  reference::causalConv1d(x, w, &bias, &s0, true, y, sT);
  reference::gru(xg, wh, nullptr, &h0, h, hT);
  EXPECT_LT(relError(outs[1], sT), kPointwiseTol);
  EXPECT_LT(relError(outs[3], hT), kRecurrenceTol);
}

INSTANTIATE_TEST_SUITE_P(Shapes, CausalConvTest,
                         ::testing::Values(SeqCase{1, 1, 8, true, false},
                                           SeqCase{3, 37, 19, true, false},
                                           SeqCase{2, 2, 5, true, true},
                                           SeqCase{2, 9, 7, false, false}));

//===----------------------------------------------------------------------===//
// windowed_attention
//===----------------------------------------------------------------------===//

struct AttnCase {
  int64_t b, t, s, hq, hkv, dk, dv, window;
  bool qkNorm, dynamic;
  bool masked = false;
};

/// An i1 tensor from an f32 one (nonzero = true), built in the kernel.
Value toMask(OpBuilder &b, Location l, Value f) {
  auto type = cast<RankedTensorType>(f.getType());
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, l, f);
  Value init = tensor::EmptyOp::create(b, l, sizes, b.getI1Type());
  int64_t r = type.getRank();
  return linalg::GenericOp::create(
             b, l, TypeRange{init.getType()}, ValueRange{f}, ValueRange{init},
             SmallVector<AffineMap>(2, b.getMultiDimIdentityMap(r)),
             SmallVector<utils::IteratorType>(r, utils::IteratorType::parallel),
             [](OpBuilder &nb, Location nl, ValueRange a) {
               Value zero =
                   arith::ConstantOp::create(nb, nl, nb.getF32FloatAttr(0.0f));
               Value ne = arith::CmpFOp::create(
                   nb, nl, arith::CmpFPredicate::ONE, a[0], zero);
               linalg::YieldOp::create(nb, nl, ne);
             })
      .getResult(0);
}

class AttentionTest : public ::testing::TestWithParam<AttnCase> {};

TEST_P(AttentionTest, MatchesReference) {
  AttnCase c = GetParam();
  std::mt19937 rng(13 + c.t + c.window);
  HostTensor q = random({c.b, c.t, c.hq, c.dk}, rng, -2.0, 2.0);
  HostTensor k = random({c.b, c.s, c.hkv, c.dk}, rng, -2.0, 2.0);
  HostTensor v = random({c.b, c.s, c.hkv, c.dv}, rng);
  // A mask with holes, and the first keys of batch 0 all masked (so early
  // queries of batch 0 see no key at all).
  HostTensor mask({c.b, c.s});
  for (int64_t b = 0; b < c.b; ++b)
    for (int64_t j = 0; j < c.s; ++j)
      mask.data[b * c.s + j] = (b == 0 && j < 3) || (j % 5 == 2) ? 0.0f : 1.0f;
  std::vector<HostTensor *> ins{&q, &k, &v};
  if (c.masked)
    ins.push_back(&mask);
  auto outs = run(
      ins, {{c.b, c.t, c.hq, c.dv}},
      [&](OpBuilder &b, Location l, ValueRange x) {
        std::optional<int64_t> window;
        if (c.window > 0)
          window = c.window;
        Value keyMask = c.masked ? toMask(b, l, x[3]) : Value();
        auto op = WindowedAttentionOp::create(b, l, x[0], x[1], x[2], window,
                                              std::nullopt, c.qkNorm, keyMask);
        return SmallVector<Value>{op.getO()};
      },
      c.dynamic);
  HostTensor o;
  reference::windowedAttention(q, k, v, c.window, 1.0 / std::sqrt(double(c.dk)),
                               c.qkNorm, o, c.masked ? &mask : nullptr);
  EXPECT_LT(relError(outs[0], o), kPointwiseTol);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, AttentionTest,
    ::testing::Values(AttnCase{1, 1, 1, 2, 2, 8, 8, 4, true, false},
                      AttnCase{3, 37, 37, 4, 2, 16, 16, 7, true, false},
                      AttnCase{2, 37, 37, 2, 1, 8, 12, 0, false, true},
                      AttnCase{1, 5, 17, 3, 3, 8, 8, 6, true, false},
                      AttnCase{2, 13, 13, 4, 4, 16, 16, 13, false, false},
                      AttnCase{2, 7, 12, 2, 1, 8, 8, 6, true, false, true},
                      AttnCase{3, 9, 9, 2, 2, 8, 8, 0, false, true, true},
                      // Query blocks: after a cache (queries start at 25),
                      // and more queries than one block's lanes (64).
                      AttnCase{1, 20, 45, 2, 1, 8, 8, 9, false, false, true},
                      AttnCase{2, 70, 70, 4, 2, 8, 16, 5, false, true}));

//===----------------------------------------------------------------------===//
// layer_norm, rms_norm
//===----------------------------------------------------------------------===//

class NormTest : public ::testing::TestWithParam<SeqCase> {};

TEST_P(NormTest, MatchesReference) {
  SeqCase c = GetParam();
  std::mt19937 rng(17 + c.d);
  HostTensor x = random({c.b, c.t, c.d}, rng, -3.0, 3.0);
  HostTensor w = random({c.d}, rng), bias = random({c.d}, rng);
  auto outs = run(
      {&x, &w, &bias}, {{c.b, c.t, c.d}, {c.b, c.t, c.d}},
      [&](OpBuilder &b, Location l, ValueRange v) {
        Value ln =
            LayerNormOp::create(b, l, v[0], v[1], v[2], 1e-5f)->getResult(0);
        Value rms = RmsNormOp::create(b, l, v[0],
                                      c.extra ? v[1] : Value(), 1e-6f)
                        ->getResult(0);
        return SmallVector<Value>{ln, rms};
      },
      c.dynamic);
  HostTensor ln, rms;
  reference::layerNorm(x, &w, &bias, 1e-5, ln);
  reference::rmsNorm(x, c.extra ? &w : nullptr, 1e-6, rms);
  EXPECT_LT(relError(outs[0], ln), kPointwiseTol);
  EXPECT_LT(relError(outs[1], rms), kPointwiseTol);
}

INSTANTIATE_TEST_SUITE_P(Shapes, NormTest,
                         ::testing::Values(SeqCase{1, 1, 8, true, false},
                                           SeqCase{3, 37, 19, false, false},
                                           SeqCase{2, 5, 64, true, true}));

//===----------------------------------------------------------------------===//
// Variable-length batches (the `lengths` operand)
//===----------------------------------------------------------------------===//
//
// A batch whose sequences have different lengths must give, for every
// sequence, what the reference gives for that sequence alone (truncated to
// its length): the same outputs at its positions, zeros after them, and the
// state after its last position. Lengths cover a full sequence, 0 (the
// initial state passes through), 1, a middle value and one past T (clamped).

/// Positions [0, n) of sequence b of a [B, T, ...] tensor, as [1, n, ...].
HostTensor firstPositions(const HostTensor &t, int64_t b, int64_t n) {
  std::vector<int64_t> shape = t.shape;
  int64_t inner = t.numElements() / (shape[0] * shape[1]);
  shape[0] = 1;
  shape[1] = n;
  HostTensor r(shape);
  std::copy_n(t.data.begin() + b * t.shape[1] * inner,
              n * inner, r.data.begin());
  return r;
}

/// Row b of a [B, ...] tensor, as [1, ...].
HostTensor row(const HostTensor &t, int64_t b) {
  std::vector<int64_t> shape = t.shape;
  int64_t inner = t.numElements() / shape[0];
  shape[0] = 1;
  HostTensor r(shape);
  std::copy_n(t.data.begin() + b * inner, inner, r.data.begin());
  return r;
}

/// Lengths {T, 0, 1, T/2, T+7}: f32 in the test's inputs, i64 in the kernel.
HostTensor lengthsFor(int64_t t) {
  HostTensor l({5});
  l.data = {float(t), 0.0f, 1.0f, float(t / 2), float(t + 7)};
  return l;
}
Value toLengths(OpBuilder &b, Location l, Value f) {
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, l, f);
  Value init = tensor::EmptyOp::create(b, l, sizes, b.getI64Type());
  return linalg::GenericOp::create(
             b, l, TypeRange{init.getType()}, ValueRange{f}, ValueRange{init},
             SmallVector<AffineMap>(2, b.getMultiDimIdentityMap(1)),
             SmallVector<utils::IteratorType>{utils::IteratorType::parallel},
             [](OpBuilder &nb, Location nl, ValueRange a) {
               linalg::YieldOp::create(
                   nb, nl,
                   arith::FPToSIOp::create(nb, nl, nb.getI64Type(), a[0])
                       .getResult());
             })
      .getResult(0);
}

/// The reference for sequence b alone over its first n positions:
/// (output [1, n, ...], final state [1, ...]).
using SingleRef =
    std::function<std::pair<HostTensor, HostTensor>(int64_t b, int64_t n)>;

/// Compares a variable-length run (outs = {output, final state}) with the
/// reference run on each sequence alone; `init` is the initial state.
void expectPerSequence(const std::vector<HostTensor> &outs,
                       const HostTensor &lengths, const HostTensor &init,
                       const SingleRef &ref, double tol) {
  const HostTensor &out = outs[0];
  int64_t t = out.shape[1], inner = out.numElements() / (out.shape[0] * t);
  for (int64_t b = 0; b < out.shape[0]; ++b) {
    int64_t n = std::min<int64_t>(lengths.data[b], t);
    SCOPED_TRACE("sequence " + std::to_string(b) + ", length " +
                 std::to_string(n));
    HostTensor wantState = row(init, b);
    if (n > 0) {
      auto [wantOut, st] = ref(b, n);
      EXPECT_LT(relError(firstPositions(out, b, n), wantOut), tol);
      wantState = st;
    }
    for (int64_t i = n * inner; i < t * inner; ++i)
      ASSERT_EQ(out.data[b * t * inner + i], 0.0f) << "past the length";
    EXPECT_LT(relError(row(outs[1], b), wantState), tol);
  }
}

TEST(VariableLengthTest, SsmScan) {
  for (bool dynamic : {false, true}) {
    int64_t B = 5, T = 13, D = 11, N = 4;
    std::mt19937 rng(101);
    HostTensor u = random({B, T, D}, rng), z = random({B, T, D}, rng);
    HostTensor delta = random({B, T, D}, rng, -3.0, 1.0);
    HostTensor a = random({D, N}, rng, -2.0, -0.05);
    HostTensor bm = random({B, T, 1, N}, rng), cm = random({B, T, 1, N}, rng);
    HostTensor dskip = random({D}, rng), bias = random({D}, rng, -1.0, 0.5);
    HostTensor h0 = random({B, D, N}, rng), len = lengthsFor(T);
    auto outs = run(
        {&u, &delta, &a, &bm, &cm, &dskip, &z, &bias, &h0, &len},
        {{B, T, D}, {B, D, N}},
        [&](OpBuilder &b, Location l, ValueRange v) {
          auto op = SsmScanOp::create(b, l, v[0], v[1], v[2], v[3], v[4], v[5],
                                      v[6], v[7], v[8], true,
                                      toLengths(b, l, v[9]));
          return SmallVector<Value>{op.getY(), op.getFinalState()};
        },
        dynamic);
    expectPerSequence(outs, len, h0, [&](int64_t b, int64_t n) {
      HostTensor y, hT, zb = firstPositions(z, b, n), h0b = row(h0, b);
      reference::ssmScan(firstPositions(u, b, n), firstPositions(delta, b, n),
                         a, firstPositions(bm, b, n), firstPositions(cm, b, n),
                         &dskip, &zb, &bias, &h0b, true, y, hT);
      return std::make_pair(y, hT);
    }, kRecurrenceTol);
  }
}

TEST(VariableLengthTest, Wkv) {
  for (bool v7 : {false, true}) {
    int64_t B = 5, T = 11, H = 2, K = 8, V = 5;
    std::mt19937 rng(103);
    HostTensor r = random({B, T, H, K}, rng), v = random({B, T, H, V}, rng);
    HostTensor k = random({B, T, H, K}, rng, -0.5, 0.5);
    HostTensor w = random({B, T, H, K}, rng, -1.0, -0.01);
    HostTensor bonus = random({H, K}, rng);
    HostTensor a = random({B, T, H, K}, rng, -0.3, 0.0);
    HostTensor bb = random({B, T, H, K}, rng, 0.0, 0.3);
    HostTensor s0 = random({B, H, V, K}, rng), len = lengthsFor(T);
    auto outs = run(
        {&r, &k, &v, &w, &bonus, &a, &bb, &s0, &len},
        {{B, T, H, V}, {B, H, V, K}},
        [&](OpBuilder &b, Location l, ValueRange x) {
          Value lens = toLengths(b, l, x[8]);
          auto op = v7 ? WkvOp::create(b, l, WkvVariant::rwkv7, x[0], x[1],
                                       x[2], x[3], Value(), x[5], x[6], x[7],
                                       0.5f, lens)
                       : WkvOp::create(b, l, WkvVariant::rwkv6, x[0], x[1],
                                       x[2], x[3], x[4], Value(), Value(),
                                       x[7], 0.5f, lens);
          return SmallVector<Value>{op.getO(), op.getFinalState()};
        },
        /*dynamic=*/v7);
    expectPerSequence(outs, len, s0, [&](int64_t b, int64_t n) {
      HostTensor o, sT, s0b = row(s0, b);
      if (v7)
        reference::wkv7(firstPositions(r, b, n), firstPositions(k, b, n),
                        firstPositions(v, b, n), firstPositions(w, b, n),
                        firstPositions(a, b, n), firstPositions(bb, b, n),
                        &s0b, 0.5, o, sT);
      else
        reference::wkv6(firstPositions(r, b, n), firstPositions(k, b, n),
                        firstPositions(v, b, n), firstPositions(w, b, n),
                        bonus, &s0b, 0.5, o, sT);
      return std::make_pair(o, sT);
    }, kRecurrenceTol);
  }
}

TEST(VariableLengthTest, GatedDeltaRule) {
  int64_t B = 5, T = 17, H = 2, K = 8, V = 7;
  std::mt19937 rng(107);
  HostTensor q = random({B, T, H, K}, rng), k = random({B, T, H, K}, rng);
  normalizeRows(q);
  normalizeRows(k);
  HostTensor v = random({B, T, H, V}, rng);
  HostTensor beta = random({B, T, H}, rng, 0.0, 1.0);
  HostTensor g = random({B, T, H}, rng, -0.5, 0.0);
  HostTensor s0 = random({B, H, V, K}, rng), len = lengthsFor(T);
  auto outs = run(
      {&q, &k, &v, &beta, &g, &s0, &len}, {{B, T, H, V}, {B, H, V, K}},
      [&](OpBuilder &b, Location l, ValueRange x) {
        auto op = DeltaRuleOp::create(b, l, x[0], x[1], x[2], x[3], x[4], x[5],
                                      std::nullopt, toLengths(b, l, x[6]));
        return SmallVector<Value>{op.getO(), op.getFinalState()};
      },
      /*dynamic=*/true);
  expectPerSequence(outs, len, s0, [&](int64_t b, int64_t n) {
    HostTensor o, sT, s0b = row(s0, b), gb = firstPositions(g, b, n);
    reference::deltaRule(firstPositions(q, b, n), firstPositions(k, b, n),
                         firstPositions(v, b, n), firstPositions(beta, b, n),
                         &gb, &s0b, 1.0 / std::sqrt(double(K)), o, sT);
    return std::make_pair(o, sT);
  }, kRecurrenceTol);
}

TEST(VariableLengthTest, RgLruAndGru) {
  int64_t B = 5, T = 13, D = 11;
  std::mt19937 rng(109);
  HostTensor x = random({B, T, D}, rng);
  HostTensor gx = random({B, T, D}, rng, -3.0, 3.0);
  HostTensor ga = random({B, T, D}, rng, -3.0, 3.0);
  HostTensor lam = random({D}, rng, -9.0, 1.0);
  HostTensor h0 = random({B, D}, rng), len = lengthsFor(T);
  auto lru = run(
      {&x, &gx, &ga, &lam, &h0, &len}, {{B, T, D}, {B, D}},
      [&](OpBuilder &b, Location l, ValueRange v) {
        auto op = RgLruOp::create(b, l, v[0], v[1], v[2], v[3], Value(), v[4],
                                  8.0f, toLengths(b, l, v[5]));
        return SmallVector<Value>{op.getH(), op.getFinalState()};
      });
  expectPerSequence(lru, len, h0, [&](int64_t b, int64_t n) {
    HostTensor h, hT, h0b = row(h0, b);
    reference::rgLru(firstPositions(x, b, n), firstPositions(gx, b, n),
                     firstPositions(ga, b, n), lam, nullptr, &h0b, 8.0, h, hT);
    return std::make_pair(h, hT);
  }, kRecurrenceTol);

  HostTensor xg = random({B, T, 3 * D}, rng, -2.0, 2.0);
  HostTensor wh = random({D, 3 * D}, rng, -0.3, 0.3);
  HostTensor bh = random({3 * D}, rng);
  auto gru = run(
      {&xg, &wh, &bh, &h0, &len}, {{B, T, D}, {B, D}},
      [&](OpBuilder &b, Location l, ValueRange v) {
        auto op = GruOp::create(b, l, v[0], v[1], v[2], v[3],
                                toLengths(b, l, v[4]));
        return SmallVector<Value>{op.getH(), op.getFinalState()};
      },
      /*dynamic=*/true);
  expectPerSequence(gru, len, h0, [&](int64_t b, int64_t n) {
    HostTensor h, hT, h0b = row(h0, b);
    reference::gru(firstPositions(xg, b, n), wh, &bh, &h0b, h, hT);
    return std::make_pair(h, hT);
  }, kRecurrenceTol);
}

TEST(VariableLengthTest, CausalConv1d) {
  for (bool dynamic : {false, true}) {
    int64_t B = 5, T = 9, C = 7, W = 4;
    std::mt19937 rng(113);
    HostTensor x = random({B, T, C}, rng), w = random({W, C}, rng);
    HostTensor bias = random({C}, rng), s0 = random({B, W - 1, C}, rng);
    HostTensor len = lengthsFor(T);
    auto outs = run(
        {&x, &w, &bias, &s0, &len}, {{B, T, C}, {B, W - 1, C}},
        [&](OpBuilder &b, Location l, ValueRange v) {
          auto op = CausalConv1dOp::create(b, l, v[0], v[1], v[2], v[3],
                                           Activation::silu,
                                           toLengths(b, l, v[4]));
          return SmallVector<Value>{op.getY(), op.getFinalState()};
        },
        dynamic);
    expectPerSequence(outs, len, s0, [&](int64_t b, int64_t n) {
      HostTensor y, sT, s0b = row(s0, b);
      reference::causalConv1d(firstPositions(x, b, n), w, &bias, &s0b, true, y,
                              sT);
      return std::make_pair(y, sT);
    }, kPointwiseTol);
  }
}

} // namespace
