//===- Norm.cpp - Lower layer_norm and rms_norm ----------------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// Row statistics and the normalisation as linalg.generic ops in f32.
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

Value rowMean(Emit &e, Value x, Value center, bool square) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t r = type.getRank();
  MLIRContext *ctx = e.b.getContext();
  SmallVector<OpFoldResult> rowSizes = e.sizes(x);
  rowSizes.pop_back();
  Value acc = e.zeros(rowSizes);
  SmallVector<AffineExpr> rowExprs;
  for (int64_t i = 0; i < r - 1; ++i)
    rowExprs.push_back(getAffineDimExpr(i, ctx));
  AffineMap rowMap = AffineMap::get(r, 0, rowExprs, ctx);
  SmallVector<Value> ins{x};
  SmallVector<AffineMap> maps{e.b.getMultiDimIdentityMap(r)};
  if (center) {
    ins.push_back(center);
    maps.push_back(rowMap);
  }
  maps.push_back(rowMap);
  SmallVector<utils::IteratorType> iters = parallelIters(r - 1);
  iters.push_back(utils::IteratorType::reduction);
  Value sum = linalg::GenericOp::create(
                  e.b, e.loc, TypeRange{acc.getType()}, ins, ValueRange{acc},
                  maps, iters,
                  [&](OpBuilder &b, Location l, ValueRange a) {
                    Emit e{b, l};
                    Value v = e.toF32(a[0]);
                    if (center)
                      v = e.sub(v, a[1]);
                    if (square)
                      v = e.mul(v, v);
                    linalg::YieldOp::create(b, l, e.add(a.back(), v));
                  })
                  .getResult(0);
  // Divide by the row length.
  Value n = arith::IndexCastOp::create(e.b, e.loc, e.b.getI64Type(),
                                       e.dim(x, r - 1));
  Value nf = arith::SIToFPOp::create(e.b, e.loc, e.f32(), n);
  Value outInit = e.empty(rowSizes, e.f32());
  return linalg::GenericOp::create(
             e.b, e.loc, TypeRange{outInit.getType()}, ValueRange{sum},
             ValueRange{outInit},
             SmallVector<AffineMap>(2, e.b.getMultiDimIdentityMap(r - 1)),
             parallelIters(r - 1),
             [&](OpBuilder &b, Location l, ValueRange a) {
               Emit e{b, l};
               linalg::YieldOp::create(b, l, e.div(a[0], nf));
             })
      .getResult(0);
}

/// y = (x - mean) * rsqrt(var + eps) * w + b   (layer_norm)
/// y = x * rsqrt(mean(x^2) + eps) * w          (rms_norm)
/// written into the op's destination `out`.
Value lowerNorm(PatternRewriter &rw, Location loc, Value x, Value weight,
                Value bias, double eps, bool centered, Value out) {
  Emit e{rw, loc};
  MLIRContext *ctx = rw.getContext();
  auto type = cast<RankedTensorType>(x.getType());
  int64_t r = type.getRank();
  Value mean = centered ? rowMean(e, x, Value(), false) : Value();
  Value var = rowMean(e, x, mean, true);
  SmallVector<AffineExpr> rowExprs;
  for (int64_t i = 0; i < r - 1; ++i)
    rowExprs.push_back(getAffineDimExpr(i, ctx));
  AffineMap rowMap = AffineMap::get(r, 0, rowExprs, ctx);
  AffineMap lastMap = AffineMap::get(r, 0, {getAffineDimExpr(r - 1, ctx)}, ctx);
  SmallVector<Value> ins{x, var};
  SmallVector<AffineMap> maps{rw.getMultiDimIdentityMap(r), rowMap};
  if (mean) {
    ins.push_back(mean);
    maps.push_back(rowMap);
  }
  int wIdx = -1, bIdx = -1;
  if (weight) {
    wIdx = ins.size();
    ins.push_back(weight);
    maps.push_back(lastMap);
  }
  if (bias) {
    bIdx = ins.size();
    ins.push_back(bias);
    maps.push_back(lastMap);
  }
  maps.push_back(rw.getMultiDimIdentityMap(r));
  Type outElt = getElementTypeOrSelf(out.getType());
  return linalg::GenericOp::create(
             rw, loc, TypeRange{out.getType()}, ins, ValueRange{out}, maps,
             parallelIters(r),
             [&](OpBuilder &b, Location l, ValueRange a) {
               Emit e{b, l};
               Value v = e.toF32(a[0]);
               if (mean)
                 v = e.sub(v, a[2]);
               Value inv = math::RsqrtOp::create(
                   b, l, e.add(a[1], e.cstLike(a[1], eps)));
               v = e.mul(v, inv);
               if (wIdx >= 0)
                 v = e.mul(v, e.toF32(a[wIdx]));
               if (bIdx >= 0)
                 v = e.add(v, e.toF32(a[bIdx]));
               linalg::YieldOp::create(b, l, e.fromF32(v, outElt));
             })
      .getResult(0);
}

struct LowerLayerNorm : OpRewritePattern<LayerNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LayerNormOp op,
                                PatternRewriter &rw) const override {
    rw.replaceOp(op, lowerNorm(rw, op.getLoc(), op.getInput(), op.getWeight(),
                               op.getBias(), op.getEpsilon().convertToDouble(),
                               /*centered=*/true, op.getOut()));
    return success();
  }
};

struct LowerRmsNorm : OpRewritePattern<RmsNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RmsNormOp op,
                                PatternRewriter &rw) const override {
    rw.replaceOp(op, lowerNorm(rw, op.getLoc(), op.getInput(), op.getWeight(),
                               Value(), op.getEpsilon().convertToDouble(),
                               /*centered=*/false, op.getOut()));
    return success();
  }
};

} // namespace

void mlir::hybrid::lowering::populateNormPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerLayerNorm, LowerRmsNorm>(patterns.getContext());
}
