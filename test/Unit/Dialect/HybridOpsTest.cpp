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

} // namespace
