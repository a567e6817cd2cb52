//===- Conv.cpp - Lower causal_conv1d --------------------------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// The depthwise causal convolution as linalg: [initial_state; x], a
// generic over (batch, time, channel, tap), the bias/activation/length
// mask, and the tail (gathered per sequence with lengths).
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
// causal_conv1d, layer_norm, rms_norm: linalg
//===----------------------------------------------------------------------===//


struct LowerCausalConv1d : OpRewritePattern<CausalConv1dOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(CausalConv1dOp op,
                                PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    Emit e{rw, loc};
    MLIRContext *ctx = rw.getContext();
    Value x = op.getX(), w = op.getWeight();
    OpFoldResult batch = e.dimOF(x, 0), seq = e.dimOF(x, 1),
                 chans = e.dimOF(x, 2);
    // Static sizes stay static (insert_slice checks them against its
    // source type).
    auto foldedSum = [&](OpFoldResult a, int64_t c) -> OpFoldResult {
      if (std::optional<int64_t> v = getConstantIntValue(a))
        return rw.getIndexAttr(*v + c);
      return e.addi(cast<Value>(a), e.idx(c));
    };
    OpFoldResult tail = foldedSum(e.dimOF(w, 0), -1);
    // xc = [initial_state; x] in f32, [B, K-1+T, C].
    OpFoldResult total;
    std::optional<int64_t> tailC = getConstantIntValue(tail);
    std::optional<int64_t> seqC = getConstantIntValue(seq);
    if (tailC && seqC)
      total = rw.getIndexAttr(*tailC + *seqC);
    else
      total = e.addi(getValueOrCreateConstantIndexOp(rw, loc, tail),
                     getValueOrCreateConstantIndexOp(rw, loc, seq));
    Value xc = e.empty({batch, total, chans}, e.f32());
    Value init = op.getInitialState();
    SmallVector<OpFoldResult> ones(3, rw.getIndexAttr(1));
    xc = tensor::InsertSliceOp::create(
        rw, loc, e.castToSizes(init, {batch, tail, chans}), xc,
        SmallVector<OpFoldResult>(3, rw.getIndexAttr(0)),
        SmallVector<OpFoldResult>{batch, tail, chans}, ones);
    Value xf = x;
    if (!getElementTypeOrSelf(x.getType()).isF32()) {
      Value ext = e.empty(e.sizes(x), e.f32());
      xf = linalg::GenericOp::create(
               rw, loc, TypeRange{ext.getType()}, ValueRange{x},
               ValueRange{ext},
               SmallVector<AffineMap>(2, rw.getMultiDimIdentityMap(3)),
               parallelIters(3),
               [](OpBuilder &b, Location l, ValueRange a) {
                 Emit e{b, l};
                 linalg::YieldOp::create(b, l, e.toF32(a[0]));
               })
               .getResult(0);
    }
    xc = tensor::InsertSliceOp::create(
        rw, loc, e.castToSizes(xf, {batch, seq, chans}), xc,
        SmallVector<OpFoldResult>{rw.getIndexAttr(0), tail,
                                  rw.getIndexAttr(0)},
        SmallVector<OpFoldResult>{batch, seq, chans}, ones);
    // acc[b,t,c] = bias[c] + Σ_j w[j,c] xc[b,t+j,c]
    Value acc = e.zeros({batch, seq, chans});
    AffineExpr B, T, C, J;
    bindDims(ctx, B, T, C, J);
    SmallVector<AffineMap> maps{AffineMap::get(4, 0, {B, T + J, C}, ctx),
                                AffineMap::get(4, 0, {J, C}, ctx),
                                AffineMap::get(4, 0, {B, T, C}, ctx)};
    SmallVector<utils::IteratorType> iters = parallelIters(3);
    iters.push_back(utils::IteratorType::reduction);
    acc = linalg::GenericOp::create(
              rw, loc, TypeRange{acc.getType()}, ValueRange{xc, w},
              ValueRange{acc}, maps, iters,
              [](OpBuilder &b, Location l, ValueRange a) {
                Emit e{b, l};
                Value r = math::FmaOp::create(b, l, a[0], e.toF32(a[1]), a[2]);
                linalg::YieldOp::create(b, l, r);
              })
              .getResult(0);
    // y = act(acc + bias), in the output type.
    Type outElt = getElementTypeOrSelf(op.getY().getType());
    Value yInit = op.getOut();
    SmallVector<Value> ins{acc};
    SmallVector<AffineMap> ymaps{rw.getMultiDimIdentityMap(3)};
    if (op.getBias()) {
      ins.push_back(op.getBias());
      ymaps.push_back(AffineMap::get(3, 0, {C}, ctx));
    }
    ymaps.push_back(rw.getMultiDimIdentityMap(3));
    // Positions past a sequence's length are zero.
    Value lengths = op.getLengths();
    if (lengths) {
      ins.push_back(lengths);
      ymaps.insert(ymaps.end() - 1, AffineMap::get(3, 0, {B}, ctx));
    }
    bool silu = op.getActivation() == Activation::silu;
    bool bias = static_cast<bool>(op.getBias());
    Value seqV = getValueOrCreateConstantIndexOp(rw, loc, seq);
    Value y = linalg::GenericOp::create(
                  rw, loc, TypeRange{yInit.getType()}, ins, ValueRange{yInit},
                  ymaps, parallelIters(3),
                  [&](OpBuilder &b, Location l, ValueRange a) {
                    Emit e{b, l};
                    Value v = a[0];
                    if (bias)
                      v = e.add(v, e.toF32(a[1]));
                    if (silu)
                      v = e.silu(v);
                    if (lengths) {
                      Value n = e.clampLength(a[bias ? 2 : 1], seqV);
                      Value t = linalg::IndexOp::create(b, l, 1);
                      Value live = arith::CmpIOp::create(
                          b, l, arith::CmpIPredicate::slt, t, n);
                      v = arith::SelectOp::create(b, l, live, v,
                                                  e.cstLike(v, 0.0));
                    }
                    linalg::YieldOp::create(b, l, e.fromF32(v, outElt));
                  })
                  .getResult(0);
    // The last K-1 inputs of [initial_state; x] (none for a width-1 conv:
    // an empty slice at the very end is not a valid extract_slice).
    // With lengths, sequence b's tail ends at its own last position: a
    // gather of xc[b, len[b] + j, c].
    // Destination style: the final state is written over the initial state
    // (already copied into xc), or a fresh tensor for a caller's argument.
    Value stateDest = stateDestination(e, init);
    Value finalState;
    auto stateType = cast<RankedTensorType>(op.getFinalState().getType());
    if (tailC && *tailC == 0) {
      finalState = stateDest;
    } else if (lengths) {
      Value dest = stateDest;
      SmallVector<AffineMap> gmaps{AffineMap::get(3, 0, {B}, ctx),
                                   rw.getMultiDimIdentityMap(3)};
      finalState =
          linalg::GenericOp::create(
              rw, loc, TypeRange{dest.getType()}, ValueRange{lengths},
              ValueRange{dest}, gmaps, parallelIters(3),
              [&](OpBuilder &b, Location l, ValueRange a) {
                Emit e{b, l};
                Value n = e.clampLength(a[0], seqV);
                Value bi = linalg::IndexOp::create(b, l, 0);
                Value j = linalg::IndexOp::create(b, l, 1);
                Value c = linalg::IndexOp::create(b, l, 2);
                Value v = tensor::ExtractOp::create(
                    b, l, xc, ValueRange{bi, e.addi(n, j), c});
                linalg::YieldOp::create(b, l, v);
              })
              .getResult(0);
    } else {
      Value last = e.slice(xc, {rw.getIndexAttr(0), seq, rw.getIndexAttr(0)},
                           {batch, tail, chans});
      if (last.getType() != stateType)
        last = tensor::CastOp::create(rw, loc, stateType, last);
      finalState =
          linalg::CopyOp::create(rw, loc, last, stateDest).getResult(0);
    }
    rw.replaceOp(op, {y, finalState});
    return success();
  }
};

/// Per-row mean or mean of squares over the last dimension, in f32.

} // namespace

void mlir::hybrid::lowering::populateConvPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerCausalConv1d>(patterns.getContext());
}
