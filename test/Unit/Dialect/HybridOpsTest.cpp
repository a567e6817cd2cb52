//===- HybridOpsTest.cpp - Builders and verifiers of hybrid ops -*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// Builds every hybrid op from C++ through its result-inferring builder,
// checks the inferred types, shape reification, verifier behaviour on good
// and bad operands, and that printing then parsing gives the same op.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Dialect/Hybrid/IR/HybridOps.h"
#include "hybrid/InitAllDialects.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::hybrid;

namespace {

constexpr int64_t kDyn = ShapedType::kDynamic;

/// A fixture with a context, a module and a function whose arguments are
/// created on demand, so each test builds one op over fresh block arguments.
class HybridOpsTest : public ::testing::Test {
protected:
  HybridOpsTest() {
    DialectRegistry registry;
    registerAllDialects(registry);
    registry.insert<func::FuncDialect, tensor::TensorDialect,
                    arith::ArithDialect>();
    ctx.appendDialectRegistry(registry);
    ctx.loadAllAvailableDialects();
    loc = UnknownLoc::get(&ctx);
    module = ModuleOp::create(loc);
    OpBuilder b(&ctx);
    b.setInsertionPointToEnd(module->getBody());
    func = func::FuncOp::create(b, loc, "f", b.getFunctionType({}, {}));
    block = func.addEntryBlock();
    builder = std::make_unique<OpBuilder>(&ctx);
    builder->setInsertionPointToEnd(block);
    handler = std::make_unique<ScopedDiagnosticHandler>(
        &ctx, [this](Diagnostic &d) {
          diagnostics += d.str() + "\n";
          return success();
        });
  }

  /// A new function argument of type tensor<shape x elt> (f32 by default).
  Value arg(ArrayRef<int64_t> shape, Type elt = {}) {
    if (!elt)
      elt = builder->getF32Type();
    return block->addArgument(RankedTensorType::get(shape, elt), loc);
  }

  /// Verifies `op`; on failure the diagnostics are in `diagnostics`.
  bool verifies(Operation *op) {
    diagnostics.clear();
    return succeeded(verify(op));
  }

  /// The result shapes `op` reifies, with dynamic sizes as kDyn.
  SmallVector<SmallVector<int64_t>> reified(Operation *op) {
    ReifiedRankedShapedTypeDims shapes;
    OpBuilder b(op);
    EXPECT_TRUE(succeeded(reifyResultShapes(b, op, shapes)));
    SmallVector<SmallVector<int64_t>> out;
    for (auto &dims : shapes) {
      SmallVector<int64_t> s;
      for (OpFoldResult d : dims) {
        if (auto attr = dyn_cast<Attribute>(d))
          s.push_back(cast<IntegerAttr>(attr).getInt());
        else
          s.push_back(kDyn);
      }
      out.push_back(s);
    }
    return out;
  }

  /// Closes the function, prints the module, parses it back and prints it
  /// again: true when both prints agree and the op is found in the reparse.
  bool roundTrips(Operation *op) {
    func::ReturnOp::create(*builder, loc);
    func.setType(FunctionType::get(&ctx, block->getArgumentTypes(), {}));
    std::string first;
    llvm::raw_string_ostream os(first);
    module->print(os);
    OwningOpRef<ModuleOp> reparsed = parseSourceString<ModuleOp>(first, &ctx);
    if (!reparsed)
      return false;
    std::string second;
    llvm::raw_string_ostream os2(second);
    reparsed->print(os2);
    int found = 0;
    reparsed->walk([&](Operation *o) {
      found += o->getName() == op->getName() &&
               o->getAttrDictionary() == op->getAttrDictionary() &&
               o->getPropertiesAsAttribute() == op->getPropertiesAsAttribute();
    });
    return first == second && found == 1;
  }

  MLIRContext ctx;
  Location loc = UnknownLoc::get(&ctx);
  OwningOpRef<ModuleOp> module;
  func::FuncOp func;
  Block *block = nullptr;
  std::unique_ptr<OpBuilder> builder;
  std::unique_ptr<ScopedDiagnosticHandler> handler;
  std::string diagnostics;
};

TEST_F(HybridOpsTest, SsmScanBuilderInfersTypes) {
  Value u = arg({2, kDyn, 24}), dt = arg({2, kDyn, 24});
  Value A = arg({24, 16}), B = arg({2, kDyn, 1, 16}), C = arg({2, kDyn, 1, 16});
  Value D = arg({24});
  auto op = SsmScanOp::create(*builder, loc, u, dt, A, B, C, D);
  ASSERT_TRUE(verifies(op)) << diagnostics;
  EXPECT_EQ(op.getY().getType(), u.getType());
  EXPECT_EQ(op.getFinalState().getType(),
            RankedTensorType::get({2, 24, 16}, builder->getF32Type()));
  EXPECT_TRUE(op.getDeltaSoftplus());
  EXPECT_FALSE(op.getZ());
  auto shapes = reified(op);
  ASSERT_EQ(shapes.size(), 2u);
  EXPECT_EQ(shapes[0], (SmallVector<int64_t>{2, kDyn, 24}));
  EXPECT_EQ(shapes[1], (SmallVector<int64_t>{2, 24, 16}));
  EXPECT_TRUE(roundTrips(op));
}

TEST_F(HybridOpsTest, SsmScanVerifierNamesBothSides) {
  Value u = arg({2, 8, 24}), dt = arg({2, 8, 24});
  Value A = arg({20, 16}), B = arg({2, 8, 1, 16}), C = arg({2, 8, 1, 16});
  auto op = SsmScanOp::create(*builder, loc, u, dt, A, B, C);
  EXPECT_FALSE(verifies(op));
  EXPECT_NE(diagnostics.find("'A' dim 0 (d_inner) is 20, but 'u' dim 2 "
                             "(d_inner) is 24"),
            std::string::npos)
      << diagnostics;
}

TEST_F(HybridOpsTest, SsmScanReifiesDynamicDimsFromOperands) {
  Value u = arg({kDyn, kDyn, 24}), A = arg({24, kDyn});
  Value B = arg({kDyn, kDyn, 1, kDyn});
  auto op = SsmScanOp::create(*builder, loc, u, u, A, B, B, {}, {}, {}, {},
                              /*delta_softplus=*/false);
  ASSERT_TRUE(verifies(op)) << diagnostics;
  EXPECT_FALSE(op.getDeltaSoftplus());
  ReifiedRankedShapedTypeDims shapes;
  OpBuilder b(op);
  ASSERT_TRUE(succeeded(reifyResultShapes(b, op, shapes)));
  auto dimOf = [](OpFoldResult r) -> std::pair<Value, int64_t> {
    auto dim = cast<Value>(r).getDefiningOp<tensor::DimOp>();
    return {dim.getSource(), *dim.getConstantIndex()};
  };
  // Destination style: result shapes are the destinations' shapes.
  Value h0 = op.getInitialState();
  EXPECT_EQ(dimOf(shapes[1][0]), std::make_pair(h0, int64_t(0)));
  EXPECT_EQ(cast<IntegerAttr>(cast<Attribute>(shapes[1][1])).getInt(), 24);
  EXPECT_EQ(dimOf(shapes[1][2]), std::make_pair(h0, int64_t(2)));
  // Without an initial state the builder makes a zero one,
  // [batch, d_inner, d_state]: batch from u dim 0, d_state from A dim 1,
  // both through tensor.dim; d_inner static.
  auto fill = h0.getDefiningOp<linalg::FillOp>();
  ASSERT_TRUE(fill);
  auto empty = fill.getOutputs()[0].getDefiningOp<tensor::EmptyOp>();
  ASSERT_TRUE(empty);
  ASSERT_EQ(empty.getDynamicSizes().size(), 2u);
  EXPECT_EQ(dimOf(empty.getDynamicSizes()[0]), std::make_pair(u, int64_t(0)));
  EXPECT_EQ(dimOf(empty.getDynamicSizes()[1]), std::make_pair(A, int64_t(1)));
  // The sequence destination is an empty tensor shaped like u.
  auto out = op.getOut().getDefiningOp<tensor::EmptyOp>();
  ASSERT_TRUE(out);
  EXPECT_EQ(dimOf(out.getDynamicSizes()[1]), std::make_pair(u, int64_t(1)));
}

TEST_F(HybridOpsTest, WkvBuildersBothVariants) {
  Value r = arg({1, kDyn, 4, 16}), v = arg({1, kDyn, 4, 8});
  Value bonus = arg({4, 16});
  auto v6 = WkvOp::create(*builder, loc, WkvVariant::rwkv6, r, r, v, r, bonus);
  ASSERT_TRUE(verifies(v6)) << diagnostics;
  EXPECT_EQ(v6.getO().getType(),
            RankedTensorType::get({1, kDyn, 4, 8}, builder->getF32Type()));
  EXPECT_EQ(v6.getFinalState().getType(),
            RankedTensorType::get({1, 4, 8, 16}, builder->getF32Type()));
  EXPECT_EQ(v6.getScale().convertToFloat(), 1.0f);
  auto v7 = WkvOp::create(*builder, loc, WkvVariant::rwkv7, r, r, v, r, {}, r,
                          r, {}, 0.5f);
  ASSERT_TRUE(verifies(v7)) << diagnostics;
  EXPECT_EQ(v7.getVariant(), WkvVariant::rwkv7);
  EXPECT_EQ(v7.getScale().convertToFloat(), 0.5f);
  // rwkv6 without its bonus is rejected.
  auto bad = WkvOp::create(*builder, loc, WkvVariant::rwkv6, r, r, v, r);
  EXPECT_FALSE(verifies(bad));
  EXPECT_NE(diagnostics.find("variant rwkv6 requires 'bonus'"),
            std::string::npos)
      << diagnostics;
  bad->erase();
  EXPECT_TRUE(roundTrips(v7));
}

TEST_F(HybridOpsTest, DeltaRuleGatingBetaAndScale) {
  Value q = arg({2, 9, 2, 16}), v = arg({2, 9, 4, 32});
  Value betaHead = arg({2, 9, 4}), betaChan = arg({2, 9, 4, 32});
  Value gate = arg({2, 9, 4});
  auto plain = DeltaRuleOp::create(*builder, loc, q, q, v, betaHead);
  ASSERT_TRUE(verifies(plain)) << diagnostics;
  EXPECT_FALSE(plain.isGated());
  EXPECT_FALSE(plain.hasPerChannelBeta());
  EXPECT_FLOAT_EQ(plain.getEffectiveScale(), 0.25f); // 1/sqrt(16)
  EXPECT_EQ(plain.getFinalState().getType(),
            RankedTensorType::get({2, 4, 32, 16}, builder->getF32Type()));

  auto gated = DeltaRuleOp::create(*builder, loc, q, q, v, betaChan, gate, {},
                                   0.125f);
  ASSERT_TRUE(verifies(gated)) << diagnostics;
  EXPECT_TRUE(gated.isGated());
  EXPECT_TRUE(gated.hasPerChannelBeta());
  EXPECT_FLOAT_EQ(gated.getEffectiveScale(), 0.125f);
  EXPECT_TRUE(roundTrips(gated));
}

TEST_F(HybridOpsTest, DeltaRuleRejectsUngroupableHeads) {
  Value q = arg({1, 3, 4, 8}), v = arg({1, 3, 6, 8}), beta = arg({1, 3, 6});
  auto op = DeltaRuleOp::create(*builder, loc, q, q, v, beta);
  EXPECT_FALSE(verifies(op));
  EXPECT_NE(diagnostics.find("the 6 value heads must be a multiple of the 4 "
                             "q/k heads"),
            std::string::npos)
      << diagnostics;
}

TEST_F(HybridOpsTest, RgLruBuilderAndReset) {
  Value x = arg({3, kDyn, 10}), lambda = arg({10});
  Value reset = arg({3, kDyn}, builder->getI1Type());
  Value h0 = arg({3, 10});
  auto op = RgLruOp::create(*builder, loc, x, x, x, lambda, reset, h0);
  ASSERT_TRUE(verifies(op)) << diagnostics;
  EXPECT_EQ(op.getC().convertToFloat(), 8.0f);
  EXPECT_EQ(op.getFinalState().getType(), h0.getType());
  EXPECT_EQ(reified(op)[0], (SmallVector<int64_t>{3, kDyn, 10}));
  EXPECT_TRUE(roundTrips(op));
}

TEST_F(HybridOpsTest, GruBuilderAndGateCheck) {
  Value xg = arg({2, 5, 48}), wh = arg({16, 48}), bh = arg({48});
  auto op = GruOp::create(*builder, loc, xg, wh, bh);
  ASSERT_TRUE(verifies(op)) << diagnostics;
  EXPECT_EQ(op.getH().getType(),
            RankedTensorType::get({2, 5, 16}, builder->getF32Type()));
  EXPECT_EQ(op.getFinalState().getType(),
            RankedTensorType::get({2, 16}, builder->getF32Type()));
  Value wrong = arg({15, 48});
  auto bad = GruOp::create(*builder, loc, xg, wrong);
  EXPECT_FALSE(verifies(bad));
  EXPECT_NE(diagnostics.find("expected 3 x hidden = 45"), std::string::npos)
      << diagnostics;
}

TEST_F(HybridOpsTest, CausalConvBuilderTailAndActivation) {
  Value x = arg({1, kDyn, 64}), w = arg({4, 64}), b = arg({64});
  auto op = CausalConv1dOp::create(*builder, loc, x, w, b, {},
                                   Activation::silu);
  ASSERT_TRUE(verifies(op)) << diagnostics;
  EXPECT_EQ(op.getActivation(), Activation::silu);
  EXPECT_EQ(op.getFinalState().getType(),
            RankedTensorType::get({1, 3, 64}, builder->getF32Type()));
  // A dynamic width gives a dynamic tail: the builder's zero state is
  // dim(weight, 0) - 1 long.
  Value wDyn = arg({kDyn, 64});
  auto dyn = CausalConv1dOp::create(*builder, loc, x, wDyn);
  ASSERT_TRUE(verifies(dyn)) << diagnostics;
  EXPECT_EQ(dyn.getActivation(), Activation::none);
  auto fill = dyn.getInitialState().getDefiningOp<linalg::FillOp>();
  ASSERT_TRUE(fill);
  auto empty = fill.getOutputs()[0].getDefiningOp<tensor::EmptyOp>();
  ASSERT_TRUE(empty);
  auto add = empty.getDynamicSizes()[0].getDefiningOp<arith::AddIOp>();
  ASSERT_TRUE(add);
  EXPECT_EQ(add.getLhs().getDefiningOp<tensor::DimOp>().getSource(), wDyn);
  EXPECT_TRUE(roundTrips(op));
}

TEST_F(HybridOpsTest, WindowedAttentionBuilderAndScale) {
  Value q = arg({1, 4, 8, 64}), k = arg({1, 12, 2, 64}), v = arg({1, 12, 2, 32});
  auto op = WindowedAttentionOp::create(*builder, loc, q, k, v, 6,
                                        std::nullopt, true);
  ASSERT_TRUE(verifies(op)) << diagnostics;
  EXPECT_EQ(op.getO().getType(),
            RankedTensorType::get({1, 4, 8, 32}, builder->getF32Type()));
  EXPECT_EQ(op.getWindow(), std::optional<uint64_t>(6));
  EXPECT_TRUE(op.getQkNorm());
  EXPECT_FLOAT_EQ(op.getEffectiveScale(), 0.125f); // 1/sqrt(64)
  auto full = WindowedAttentionOp::create(*builder, loc, q, k, v);
  ASSERT_TRUE(verifies(full)) << diagnostics;
  EXPECT_FALSE(full.getWindow());
  EXPECT_FALSE(full.getQkNorm());
  // More queries than keys cannot be aligned to the end of the keys.
  Value longQ = arg({1, 16, 8, 64});
  auto bad = WindowedAttentionOp::create(*builder, loc, longQ, k, v);
  EXPECT_FALSE(verifies(bad));
  EXPECT_NE(diagnostics.find("'q' has 16 positions but 'k' only 12"),
            std::string::npos)
      << diagnostics;
  bad->erase();
  EXPECT_TRUE(roundTrips(op));
}

TEST_F(HybridOpsTest, NormsKeepTheInputType) {
  Value x = arg({2, kDyn, 32}, builder->getBF16Type()), w = arg({32});
  auto ln = LayerNormOp::create(*builder, loc, x, w, w, 1e-6f);
  ASSERT_TRUE(verifies(ln)) << diagnostics;
  auto rms = RmsNormOp::create(*builder, loc, x, Value(), 1e-5f);
  ASSERT_TRUE(verifies(rms)) << diagnostics;
  EXPECT_EQ(reified(rms)[0], (SmallVector<int64_t>{2, kDyn, 32}));
  Value w16 = arg({16});
  auto bad = RmsNormOp::create(*builder, loc, x, w16, 1e-5f);
  EXPECT_FALSE(verifies(bad));
  EXPECT_NE(diagnostics.find("'weight' dim 0 (features) is 16"),
            std::string::npos)
      << diagnostics;
}

TEST_F(HybridOpsTest, GatedParallelRegionsAndExtras) {
  Value n = arg({1, 4, 16}), g = arg({1, 4, 16});
  Value xg = arg({1, 4, 48}), wh = arg({16, 48});
  Type out = n.getType();
  Type state = RankedTensorType::get({1, 16}, builder->getF32Type());
  auto op = GatedParallelOp::create(*builder, loc, TypeRange{out, state}, n, g);
  for (Region *region : {&op.getBackbone(), &op.getAttention()}) {
    Block *body = builder->createBlock(region, {}, {out}, {loc});
    OpBuilder::InsertionGuard guard(*builder);
    builder->setInsertionPointToEnd(body);
    if (region == &op.getBackbone()) {
      auto gru = GruOp::create(*builder, loc, xg, wh);
      YieldOp::create(*builder, loc,
                      ValueRange{gru.getH(), gru.getFinalState()});
    } else {
      YieldOp::create(*builder, loc, ValueRange{body->getArgument(0)});
    }
  }
  builder->setInsertionPointToEnd(block);
  ASSERT_TRUE(verifies(op)) << diagnostics;
  EXPECT_EQ(op.getOutput().getType(), out);
  EXPECT_EQ(op.getBackboneYield().getNumOperands(), 2u);
  EXPECT_EQ(op.getAttentionYield().getNumOperands(), 1u);
  EXPECT_TRUE(roundTrips(op));
}

} // namespace
