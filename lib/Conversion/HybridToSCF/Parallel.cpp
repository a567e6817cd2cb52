//===- Parallel.cpp - Lower gated_parallel ---------------------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// The two branches are inlined and their outputs mixed by a
// linalg.generic.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Conversion/HybridToSCF/HybridToSCF.h"
#include "hybrid/Dialect/Hybrid/IR/HybridOps.h"
#include "LoweringUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::hybrid;
using namespace mlir::hybrid::lowering;

namespace {

//===----------------------------------------------------------------------===//
// gated_parallel
//===----------------------------------------------------------------------===//

struct LowerGatedParallel : OpRewritePattern<GatedParallelOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(GatedParallelOp op,
                                PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    SmallVector<Value> branchOut, extras;
    for (Region *region : {&op.getBackbone(), &op.getAttention()}) {
      Block *body = &region->front();
      auto yield = cast<YieldOp>(body->getTerminator());
      // The block argument disappears when the block is inlined: yielded
      // uses of it become the input.
      SmallVector<Value> yielded;
      for (Value v : yield.getOperands())
        yielded.push_back(v == body->getArgument(0) ? op.getInput() : v);
      rw.eraseOp(yield);
      rw.inlineBlockBefore(body, op, ValueRange{op.getInput()});
      branchOut.push_back(yielded.front());
      llvm::append_range(extras, ArrayRef<Value>(yielded).drop_front());
    }
    Emit e{rw, loc};
    auto type = cast<RankedTensorType>(op.getOutput().getType());
    int64_t r = type.getRank();
    Value init = e.empty(e.sizes(branchOut[0]), type.getElementType());
    Type elt = type.getElementType();
    Value mixed =
        linalg::GenericOp::create(
            rw, loc, TypeRange{type},
            ValueRange{op.getGate(), branchOut[0], branchOut[1]},
            ValueRange{init},
            SmallVector<AffineMap>(4, rw.getMultiDimIdentityMap(r)),
            parallelIters(r),
            [&](OpBuilder &b, Location l, ValueRange a) {
              Emit e{b, l};
              Value g = e.toF32(a[0]);
              // g * s + (1 - g) * a  =  a + g * (s - a)
              Value s = e.toF32(a[1]), at = e.toF32(a[2]);
              Value v = e.add(at, e.mul(g, e.sub(s, at)));
              linalg::YieldOp::create(b, l, e.fromF32(v, elt));
            })
            .getResult(0);
    SmallVector<Value> results{mixed};
    llvm::append_range(results, extras);
    rw.replaceOp(op, results);
    return success();
  }
};

} // namespace

void mlir::hybrid::lowering::populateParallelPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerGatedParallel>(patterns.getContext());
}
