//===- MatrixRecurrence.cpp - Lower wkv and delta_rule ---------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// The matrix-state recurrences: an scf.forall over (batch, head, value-row
// tile) around an scf.for over time; the state tile [rows x K] lives in
// vector registers.
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
// Matrix-state recurrences: wkv, delta_rule
//===----------------------------------------------------------------------===//

/// The shared skeleton of the matrix-state recurrences: tasks (batch, value
/// head, row tile of `vb` value rows), state tile vector<vb x K>, output
/// [B, T, H, V]. `step` computes one time step: given the head, time, first
/// row and state, it returns (new state, output rows).
using MatrixStep = function_ref<std::pair<Value, Value>(
    Emit &, Value bi, Value head, Value t, Value v0, Value state)>;

Value lowerMatrixRecurrence(PatternRewriter &rw, Location loc, Value seqLike,
                            Value values, Value initState, Value lengths,
                            Type outElt,
                            int64_t keyDim, int64_t vb, MatrixStep step,
                            ValueRange &results) {
  Emit e{rw, loc};
  Value batch = e.dim(values, 0), seq = e.dim(seqLike, 1);
  Value heads = e.dim(values, 2), vdim = e.dim(values, 3);
  SmallVector<OpFoldResult> outSizes{e.dimOF(values, 0), e.dimOF(seqLike, 1),
                                     e.dimOF(values, 2), e.dimOF(values, 3)};
  Value oInit = e.outputInit(outSizes, outElt, lengths);
  Value sInit = e.empty({e.dimOF(values, 0), e.dimOF(values, 2),
                         e.dimOF(values, 3), rw.getIndexAttr(keyDim)},
                        e.f32());
  auto forall = scf::ForallOp::create(
      rw, loc, SmallVector<OpFoldResult>{batch, heads, e.ceilDiv(vdim, vb)},
      ValueRange{oInit, sInit}, std::nullopt,
      [&](OpBuilder &b, Location l, ValueRange args) {
        Emit e{b, l};
        Value bi = args[0], hd = args[1], v0 = e.muli(args[2], e.idx(vb));
        Value vs = e.mini(e.subi(vdim, v0), e.idx(vb));
        Value zero = e.idx(0);
        Value s0 = initState
                       ? e.read(initState, {bi, hd, v0, zero}, {vb, keyDim})
                       : e.cst(VectorType::get({vb, keyDim}, e.f32()), 0.0);
        SmallVector<OpFoldResult> off{bi, b.getIndexAttr(0), hd, v0};
        SmallVector<OpFoldResult> sz{b.getIndexAttr(1), seq,
                                     b.getIndexAttr(1), vs};
        Value tileOut = e.slice(args[3], off, sz);
        auto loop = scf::ForOp::create(
            b, l, zero, e.seqLength(lengths, bi, seq), e.idx(1),
            ValueRange{s0, tileOut},
            [&](OpBuilder &b, Location l, Value t, ValueRange it) {
              Emit e{b, l};
              auto [s, o] = step(e, bi, hd, t, v0, it[0]);
              Value out = e.write(o, it[1], {e.idx(0), t, e.idx(0), e.idx(0)});
              scf::YieldOp::create(b, l, ValueRange{s, out});
            });
        SmallVector<OpFoldResult> sOff{bi, hd, v0, b.getIndexAttr(0)};
        SmallVector<OpFoldResult> sSz{b.getIndexAttr(1), b.getIndexAttr(1), vs,
                                      b.getIndexAttr(keyDim)};
        Value sTile = e.write(loop.getResult(0), e.slice(args[4], sOff, sSz),
                              {e.idx(0), e.idx(0), e.idx(0), e.idx(0)});
        auto term = scf::InParallelOp::create(b, l);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(term.getBody());
        parallelInsert(b, l, loop.getResult(1), args[3], off, sz);
        parallelInsert(b, l, sTile, args[4], sOff, sSz);
      });
  results = forall.getResults();
  return forall.getResult(0);
}

struct LowerWkv : OpRewritePattern<WkvOp> {
  LowerWkv(MLIRContext *ctx, const HybridToSCFOptions &o)
      : OpRewritePattern(ctx), opts(o) {}
  const HybridToSCFOptions &opts;

  LogicalResult matchAndRewrite(WkvOp op, PatternRewriter &rw) const override {
    int64_t k = staticDim(op.getR(), 3);
    int64_t vb = opts.rowTile;
    double scale = op.getScale().convertToDouble();
    bool v7 = op.getVariant() == WkvVariant::rwkv7;
    auto step = [&](Emit &e, Value bi, Value hd, Value t, Value v0,
                    Value s) -> std::pair<Value, Value> {
      Value zero = e.idx(0);
      Value r = e.read(op.getR(), {bi, t, hd, zero}, {k});
      if (scale != 1.0)
        r = e.mul(r, e.cstLike(r, scale));
      Value kv = e.read(op.getK(), {bi, t, hd, zero}, {k});
      Value decay = e.exp(e.read(op.getLogDecay(), {bi, t, hd, zero}, {k}));
      Value vv = e.read(op.getV(), {bi, t, hd, v0}, {vb});
      if (!v7) {
        // o = S r + v (u . (k * r)), read before the update.
        Value o = e.sumOver(e.mul(s, e.broadcast(r, {vb, k})), 1);
        Value u = e.read(op.getBonus(), {hd, zero}, {k});
        Value bonus = e.sum(e.mul(u, e.mul(kv, r)));
        o = e.add(o, e.mul(vv, e.broadcast(bonus, {vb})));
        s = e.outer(vv, kv, e.mul(s, e.broadcast(decay, {vb, k})));
        return {s, o};
      }
      // S = S diag(w) + (S a) b^T + v k^T; o = S r.
      Value a = e.read(op.getA(), {bi, t, hd, zero}, {k});
      Value bb = e.read(op.getB(), {bi, t, hd, zero}, {k});
      Value sa = e.sumOver(e.mul(s, e.broadcast(a, {vb, k})), 1);
      Value sNew = e.mul(s, e.broadcast(decay, {vb, k}));
      sNew = e.outer(sa, bb, sNew);
      sNew = e.outer(vv, kv, sNew);
      Value o = e.sumOver(e.mul(sNew, e.broadcast(r, {vb, k})), 1);
      return {sNew, o};
    };
    ValueRange results;
    lowerMatrixRecurrence(rw, op.getLoc(), op.getR(), op.getV(),
                          op.getInitialState(), op.getLengths(),
                          getElementTypeOrSelf(op.getO().getType()), k, vb,
                          step, results);
    rw.replaceOp(op, results);
    return success();
  }
};

struct LowerDeltaRule : OpRewritePattern<DeltaRuleOp> {
  LowerDeltaRule(MLIRContext *ctx, const HybridToSCFOptions &o)
      : OpRewritePattern(ctx), opts(o) {}
  const HybridToSCFOptions &opts;

  LogicalResult matchAndRewrite(DeltaRuleOp op,
                                PatternRewriter &rw) const override {
    int64_t k = staticDim(op.getK(), 3);
    int64_t vb = opts.rowTile;
    double scale = op.getEffectiveScale();
    Emit outer{rw, op.getLoc()};
    // Value head j reads q/k head j / (Hv / Hk).
    Value groupSize = outer.divi(outer.dim(op.getV(), 2), outer.dim(op.getQ(), 2));
    bool perChannel = op.hasPerChannelBeta();
    auto step = [&](Emit &e, Value bi, Value hd, Value t, Value v0,
                    Value s) -> std::pair<Value, Value> {
      Value zero = e.idx(0);
      Value hq = e.divi(hd, groupSize);
      Value q = e.read(op.getQ(), {bi, t, hq, zero}, {k});
      q = e.mul(q, e.cstLike(q, scale));
      Value kv = e.read(op.getK(), {bi, t, hq, zero}, {k});
      Value vv = e.read(op.getV(), {bi, t, hd, v0}, {vb});
      Value beta = perChannel
                       ? e.read(op.getBeta(), {bi, t, hd, v0}, {vb})
                       : e.broadcast(e.scalar(op.getBeta(), {bi, t, hd}), {vb});
      if (op.getBetaSigmoid())
        beta = e.sigmoid(beta);
      if (op.getLogDecay()) {
        Value logAlpha = e.scalar(op.getLogDecay(), {bi, t, hd});
        if (op.getDecayALog()) {
          // Gated DeltaNet: -exp(A_log[h]) * softplus(a + dt_bias[h]).
          Value aLog = e.scalar(op.getDecayALog(), {hd});
          Value bias = e.scalar(op.getDecayBias(), {hd});
          logAlpha = e.neg(e.mul(e.exp(aLog), e.softplus(e.add(logAlpha, bias))));
        }
        Value alpha = e.exp(logAlpha);
        s = e.mul(s, e.broadcast(alpha, {vb, k}));
      }
      Value sk = e.sumOver(e.mul(s, e.broadcast(kv, {vb, k})), 1);
      Value err = e.mul(beta, e.sub(vv, sk));
      s = e.outer(err, kv, s);
      Value o = e.sumOver(e.mul(s, e.broadcast(q, {vb, k})), 1);
      return {s, o};
    };
    ValueRange results;
    lowerMatrixRecurrence(rw, op.getLoc(), op.getQ(), op.getV(),
                          op.getInitialState(), op.getLengths(),
                          getElementTypeOrSelf(op.getO().getType()), k, vb,
                          step, results);
    rw.replaceOp(op, results);
    return success();
  }
};

} // namespace

void mlir::hybrid::lowering::populateMatrixRecurrencePatterns(RewritePatternSet &patterns,
    const HybridToSCFOptions &options) {
  patterns.add<LowerWkv, LowerDeltaRule>(patterns.getContext(), options);
}
