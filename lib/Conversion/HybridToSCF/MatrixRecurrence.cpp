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
//
// A task owns `lanes` value rows of one head's state S [V x K]. It keeps
// them transposed, as a [K x lanes] tile whose row k holds S[v0 : v0 +
// lanes, k]: every per-step product with a key-sized vector (S k, S q,
// S r, S a) is then a chain of vector FMAs down the key rows (row k times
// the broadcast scalar k[k]) instead of a horizontal sum per value row, and
// every update (S += e kᵀ, S diag(w)) is one FMA per key row. The tile
// lives in memory (16 KB for 64 x 64: L1), read and written row by row by
// loops over the keys; the time loop carries it.

/// One time step of a matrix recurrence. Given the task's batch element,
/// value head, time, first value row, state tile and a key-sized scratch
/// tensor (for per-key values computed once per step, e.g. decays, then
/// read back as scalars), it returns the new state tile, the output rows
/// (vector<lanes>) and the scratch.
struct StepResult {
  Value state, out, scratch;
};
using MatrixStep = function_ref<StepResult(Emit &, Value bi, Value head,
                                           Value t, Value v0, Value state,
                                           Value scratch)>;

Value lowerMatrixRecurrence(PatternRewriter &rw, Location loc, Value seqLike,
                            Value values, Value out, Value initState,
                            Value lengths, int64_t keyDim, int64_t lanes,
                            MatrixStep step, ValueRange &results) {
  Emit e{rw, loc};
  Value batch = e.dim(values, 0), seq = e.dim(seqLike, 1);
  Value heads = e.dim(values, 2), vdim = e.dim(values, 3);
  // Destination style: the output goes to `out`, the final state over the
  // initial state (each task reads its tile of it before writing it).
  Value oInit = e.outputInit(out, lengths);
  Value sInit = stateDestination(e, initState);
  bool inPlace = sInit == initState;
  MLIRContext *ctx = rw.getContext();
  // A value-row column of a state tensor [B, H, V, K] read as lanes.
  AffineMap column = AffineMap::get(4, 0, {getAffineDimExpr(2, ctx)}, ctx);
  auto forall = scf::ForallOp::create(
      rw, loc, SmallVector<OpFoldResult>{batch, heads, e.ceilDiv(vdim, lanes)},
      ValueRange{oInit, sInit}, std::nullopt,
      [&](OpBuilder &b, Location l, ValueRange args) {
        Emit e{b, l};
        Value bi = args[0], hd = args[1], v0 = e.muli(args[2], e.idx(lanes));
        Value vs = e.mini(e.subi(vdim, v0), e.idx(lanes));
        Value zero = e.idx(0);
        // The transposed tile: row k = S[v0 : v0 + lanes, k] (zeros past V).
        Value tile = e.empty({b.getIndexAttr(keyDim), b.getIndexAttr(lanes)},
                             e.f32());
        tile = forKeys(e, keyDim, tile,
                       [&](Emit &e, Value k, ValueRange it) -> SmallVector<Value> {
                         Value col = e.read(inPlace ? args[4] : initState,
                                            {bi, hd, v0, k}, {lanes}, column);
                         return {writeRow(e, col, it[0], k)};
                       })
                   .front();
        SmallVector<OpFoldResult> off{bi, b.getIndexAttr(0), hd, v0};
        SmallVector<OpFoldResult> sz{b.getIndexAttr(1), seq,
                                     b.getIndexAttr(1), vs};
        Value tileOut = e.slice(args[3], off, sz);
        Value scratch = e.empty({b.getIndexAttr(keyDim)}, e.f32());
        auto loop = scf::ForOp::create(
            b, l, zero, e.seqLength(lengths, bi, seq), e.idx(1),
            ValueRange{tile, tileOut, scratch},
            [&](OpBuilder &b, Location l, Value t, ValueRange it) {
              Emit e{b, l};
              StepResult r = step(e, bi, hd, t, v0, it[0], it[2]);
              Value out =
                  e.write(r.out, it[1], {e.idx(0), t, e.idx(0), e.idx(0)});
              scf::YieldOp::create(b, l, ValueRange{r.state, out, r.scratch});
            });
        SmallVector<OpFoldResult> sOff{bi, hd, v0, b.getIndexAttr(0)};
        SmallVector<OpFoldResult> sSz{b.getIndexAttr(1), b.getIndexAttr(1), vs,
                                      b.getIndexAttr(keyDim)};
        Value finalTile = loop.getResult(0);
        Value sTile =
            forKeys(e, keyDim, e.slice(args[4], sOff, sSz),
                    [&](Emit &e, Value k, ValueRange it) -> SmallVector<Value> {
                      Value row = readRow(e, finalTile, k);
                      return {e.write(row, it[0], {e.idx(0), e.idx(0),
                                                   e.idx(0), k},
                                      column)};
                    })
                .front();
        auto term = scf::InParallelOp::create(b, l);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(term.getBody());
        parallelInsert(b, l, loop.getResult(1), args[3], off, sz);
        parallelInsert(b, l, sTile, args[4], sOff, sSz);
      });
  results = forall.getResults();
  return forall.getResult(0);
}

/// Value lanes per task: the row-tile option, or V rounded up to 8 when
/// that is smaller.
int64_t valueLanes(Value values, int64_t rowTile) {
  int64_t v = staticDim(values, 3);
  if (ShapedType::isDynamic(v))
    return rowTile;
  return std::max<int64_t>(1, std::min(rowTile, (v + 7) / 8 * 8));
}

struct LowerWkv : OpRewritePattern<WkvOp> {
  LowerWkv(MLIRContext *ctx, const HybridToSCFOptions &o)
      : OpRewritePattern(ctx), opts(o) {}
  const HybridToSCFOptions &opts;

  LogicalResult matchAndRewrite(WkvOp op, PatternRewriter &rw) const override {
    int64_t k = staticDim(op.getR(), 3);
    int64_t lanes = valueLanes(op.getV(), opts.rowTile);
    double scale = op.getScale().convertToDouble();
    bool v7 = op.getVariant() == WkvVariant::rwkv7;
    auto step = [&](Emit &e, Value bi, Value hd, Value t, Value v0, Value s,
                    Value scratch) -> StepResult {
      Value zero = e.idx(0);
      auto at = [&](Value tensor) {
        return [&, tensor](Emit &e, Value kk) {
          return e.scalar(tensor, {bi, t, hd, kk});
        };
      };
      // The decays of this step, computed once for all lanes (vectorized)
      // and read back per key row from the scratch.
      Value decay = e.exp(e.read(op.getLogDecay(), {bi, t, hd, zero}, {k}));
      scratch = e.write(decay, scratch, {zero});
      auto w = [&](Emit &e, Value kk) {
        return e.broadcast(tensor::ExtractOp::create(e.b, e.loc, scratch, kk),
                           {lanes});
      };
      Value vv = e.read(op.getV(), {bi, t, hd, v0}, {lanes});
      Value zeroRow = e.cst(VectorType::get({lanes}, e.f32()), 0.0);
      if (!v7) {
        // o = scale · (S r + v (u · (k ⊙ r))), S before the update;
        // S ← S diag(w) + v kᵀ, i.e. row k: row · w[k] + k[k] · v.
        Value r = e.read(op.getR(), {bi, t, hd, zero}, {k});
        Value kv = e.read(op.getK(), {bi, t, hd, zero}, {k});
        Value u = e.read(op.getBonus(), {hd, zero}, {k});
        Value bonus = e.sum(e.mul(u, e.mul(kv, r)));
        SmallVector<Value> res = forKeys(
            e, k, ValueRange{s, zeroRow},
            [&](Emit &e, Value kk, ValueRange it) -> SmallVector<Value> {
              Value row = readRow(e, it[0], kk);
              Value o = fma(e, row, e.broadcast(at(op.getR())(e, kk), {lanes}),
                            it[1]);
              Value kv = e.broadcast(at(op.getK())(e, kk), {lanes});
              Value nrow = fma(e, row, w(e, kk), e.mul(kv, vv));
              return {writeRow(e, nrow, it[0], kk), o};
            });
        Value o = fma(e, vv, e.broadcast(bonus, {lanes}), res[1]);
        if (scale != 1.0)
          o = e.mul(o, e.cstLike(o, scale));
        return {res[0], o, scratch};
      }
      // S ← S diag(w) + (S a) bᵀ + v kᵀ; o = scale · S r.
      Value sa = rowsTimes(e, s, k, lanes, at(op.getA()));
      SmallVector<Value> res = forKeys(
          e, k, ValueRange{s, zeroRow},
          [&](Emit &e, Value kk, ValueRange it) -> SmallVector<Value> {
            Value row = readRow(e, it[0], kk);
            Value bk = e.broadcast(at(op.getB())(e, kk), {lanes});
            Value kv = e.broadcast(at(op.getK())(e, kk), {lanes});
            Value nrow = fma(e, kv, vv, fma(e, bk, sa, e.mul(row, w(e, kk))));
            Value o = fma(e, nrow, e.broadcast(at(op.getR())(e, kk), {lanes}),
                          it[1]);
            return {writeRow(e, nrow, it[0], kk), o};
          });
      Value o = res[1];
      if (scale != 1.0)
        o = e.mul(o, e.cstLike(o, scale));
      return {res[0], o, scratch};
    };
    ValueRange results;
    lowerMatrixRecurrence(rw, op.getLoc(), op.getR(), op.getV(),
                          op.getOut(), op.getInitialState(), op.getLengths(),
                          k, lanes,
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
    int64_t lanes = valueLanes(op.getV(), opts.rowTile);
    double scale = op.getEffectiveScale();
    Emit outer{rw, op.getLoc()};
    // Value head j reads q/k head j / (Hv / Hk).
    Value groupSize = outer.divi(outer.dim(op.getV(), 2), outer.dim(op.getQ(), 2));
    bool perChannel = op.hasPerChannelBeta();
    auto step = [&](Emit &e, Value bi, Value hd, Value t, Value v0, Value s,
                    Value scratch) -> StepResult {
      Value hq = e.divi(hd, groupSize);
      auto at = [&](Value tensor) {
        return [&, tensor](Emit &e, Value kk) {
          return e.scalar(tensor, {bi, t, hq, kk});
        };
      };
      Value vv = e.read(op.getV(), {bi, t, hd, v0}, {lanes});
      Value beta = perChannel
                       ? e.read(op.getBeta(), {bi, t, hd, v0}, {lanes})
                       : e.broadcast(e.scalar(op.getBeta(), {bi, t, hd}), {lanes});
      if (op.getBetaSigmoid())
        beta = e.sigmoid(beta);
      // S' = α S: S' k = α (S k), and row k of S' is α · row.
      Value alpha;
      if (op.getLogDecay()) {
        Value logAlpha = e.scalar(op.getLogDecay(), {bi, t, hd});
        if (op.getDecayALog()) {
          // Gated DeltaNet: -exp(A_log[h]) * softplus(a + dt_bias[h]).
          Value aLog = e.scalar(op.getDecayALog(), {hd});
          Value bias = e.scalar(op.getDecayBias(), {hd});
          logAlpha = e.neg(e.mul(e.exp(aLog), e.softplus(e.add(logAlpha, bias))));
        }
        alpha = e.broadcast(e.exp(logAlpha), {lanes});
      }
      // qk_l2norm: k̂ = k / |k|, q̂ = q / |q| (|x| = sqrt(Σx² + 1e-6)). The
      // loops below read the raw rows; 1/|k| scales S k and the error
      // (row ← row + k̂[k]·e = row + k[k]·(e/|k|)), 1/|q| the read-out.
      Value invQ, invK;
      if (op.getQkL2norm()) {
        auto inverseNorm = [&](Value tensor) {
          Value zero = e.cst(e.f32(), 0.0);
          auto loop = scf::ForOp::create(
              e.b, e.loc, e.idx(0), e.idx(k), e.idx(1), ValueRange{zero},
              [&](OpBuilder &nb, Location nl, Value kk, ValueRange acc) {
                Emit ne{nb, nl};
                Value x = at(tensor)(ne, kk);
                scf::YieldOp::create(nb, nl, ne.add(acc[0], ne.mul(x, x)));
              });
          Value norm = e.sqrt(e.add(loop.getResult(0), e.cst(e.f32(), 1e-6)));
          return e.div(e.cst(e.f32(), 1.0), norm);
        };
        invQ = e.broadcast(inverseNorm(op.getQ()), {lanes});
        invK = e.broadcast(inverseNorm(op.getK()), {lanes});
      }
      Value sk = rowsTimes(e, s, k, lanes, at(op.getK()));
      if (invK)
        sk = e.mul(invK, sk);
      if (alpha)
        sk = e.mul(alpha, sk);
      // e = β ⊙ (v − S' k); row k ← α·row + k[k]·e; o = scale · Σ_k row·q[k].
      Value err = e.mul(beta, e.sub(vv, sk));
      if (invK)
        err = e.mul(invK, err);
      Value zeroRow = e.cst(VectorType::get({lanes}, e.f32()), 0.0);
      SmallVector<Value> res = forKeys(
          e, k, ValueRange{s, zeroRow},
          [&](Emit &e, Value kk, ValueRange it) -> SmallVector<Value> {
            Value row = readRow(e, it[0], kk);
            if (alpha)
              row = e.mul(alpha, row);
            Value kv = e.broadcast(at(op.getK())(e, kk), {lanes});
            Value nrow = fma(e, kv, err, row);
            Value o = fma(e, nrow, e.broadcast(at(op.getQ())(e, kk), {lanes}),
                          it[1]);
            return {writeRow(e, nrow, it[0], kk), o};
          });
      Value o = e.mul(res[1], e.cstLike(res[1], scale));
      if (invQ)
        o = e.mul(invQ, o);
      return {res[0], o, scratch};
    };
    ValueRange results;
    lowerMatrixRecurrence(rw, op.getLoc(), op.getQ(), op.getV(),
                          op.getOut(), op.getInitialState(), op.getLengths(),
                          k, lanes,
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
