//===- Attention.cpp - Lower windowed_attention ----------------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// An scf.forall over (batch, query head, block of queries) with an
// online-softmax scf.for over the keys of the block's windows. A block of
// `query-lanes` queries is kept as vector lanes: its scaled queries as a
// [Dk x lanes] tile, its accumulator as a [Dv x lanes] tile, so a key's
// scores are one FMA chain down the query rows (times the broadcast key
// element), its softmax weights two vector exps, and its value update one
// FMA per value row. Fewer than 8 queries (decode steps) run one query per
// task instead.
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
// windowed_attention
//===----------------------------------------------------------------------===//

/// Tasks (batch, query head, query); online softmax over the window's keys.
struct LowerWindowedAttention : OpRewritePattern<WindowedAttentionOp> {
  LowerWindowedAttention(MLIRContext *ctx, const HybridToSCFOptions &o)
      : OpRewritePattern(ctx), opts(o) {}
  const HybridToSCFOptions &opts;

  LogicalResult matchAndRewrite(WindowedAttentionOp op,
                                PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    Emit e{rw, loc};
    Value q = op.getQ(), k = op.getK(), v = op.getV();
    int64_t dk = staticDim(q, 3), dv = staticDim(v, 3);
    double scale = op.getEffectiveScale();
    if (op.getQkNorm()) {
      // The affine-free QK layer norm, once per row (lowered by its own
      // pattern).
      q = LayerNormOp::create(rw, loc, q, Value(), Value(), 1e-6f)->getResult(0);
      k = LayerNormOp::create(rw, loc, k, Value(), Value(), 1e-6f)->getResult(0);
    }
    Value batch = e.dim(q, 0), tq = e.dim(q, 1), hq = e.dim(q, 2);
    Value skv = e.dim(k, 1);
    Value group = e.divi(hq, e.dim(k, 2));
    Value offset = e.subi(skv, tq); // absolute position of query 0
    std::optional<int64_t> window = op.getWindow();
    Value oInit = op.getOut();
    int64_t staticTq = staticDim(q, 1);
    if (ShapedType::isDynamic(staticTq) || staticTq >= 8) {
      int64_t lanes = opts.queryLanes;
      if (!ShapedType::isDynamic(staticTq))
        lanes = std::min(lanes, (staticTq + 7) / 8 * 8);
      Value out = lowerBlocked(rw, op, q, k, v, oInit, lanes);
      rw.replaceOp(op, out);
      return success();
    }
    auto forall = scf::ForallOp::create(
        rw, loc, SmallVector<OpFoldResult>{batch, hq, tq}, ValueRange{oInit},
        std::nullopt, [&](OpBuilder &b, Location l, ValueRange args) {
          Emit e{b, l};
          Value bi = args[0], h = args[1], i = args[2], zero = e.idx(0);
          Value g = e.divi(h, group);
          Value p = e.addi(offset, i);
          Value end = e.addi(p, e.idx(1));
          Value start = zero;
          if (window)
            start = e.maxi(zero, e.subi(end, e.idx(*window)));
          Value qv = e.read(q, {bi, i, h, zero}, {dk});
          qv = e.mul(qv, e.cstLike(qv, scale));
          Value m0 = e.cst(e.f32(), -std::numeric_limits<double>::infinity());
          Value l0 = e.cst(e.f32(), 0.0);
          Value acc0 = e.cst(VectorType::get({dv}, e.f32()), 0.0);
          // One online-softmax step for key j.
          auto update = [&](OpBuilder &b, Location l, Value j,
                            ValueRange it) -> SmallVector<Value> {
            Emit e{b, l};
            Value kv = e.read(k, {bi, j, g, e.idx(0)}, {dk});
            Value s = e.sum(e.mul(qv, kv));
            Value m = e.max(it[0], s);
            Value corr = e.exp(e.sub(it[0], m));
            Value pj = e.exp(e.sub(s, m));
            Value lsum = e.add(e.mul(it[1], corr), pj);
            Value vv = e.read(v, {bi, j, g, e.idx(0)}, {dv});
            Value acc = e.add(e.mul(it[2], e.broadcast(corr, {dv})),
                              e.mul(vv, e.broadcast(pj, {dv})));
            return {m, lsum, acc};
          };
          Value mask = op.getKeyMask();
          auto loop = scf::ForOp::create(
              b, l, start, end, e.idx(1), ValueRange{m0, l0, acc0},
              [&](OpBuilder &b, Location l, Value j, ValueRange it) {
                if (!mask) {
                  scf::YieldOp::create(b, l, update(b, l, j, it));
                  return;
                }
                // Masked keys are skipped (their score must not enter the
                // running maximum).
                Value valid = tensor::ExtractOp::create(b, l, mask,
                                                        ValueRange{bi, j});
                auto branch = scf::IfOp::create(
                    b, l, valid,
                    [&](OpBuilder &b, Location l) {
                      scf::YieldOp::create(b, l, update(b, l, j, it));
                    },
                    [&](OpBuilder &b, Location l) {
                      scf::YieldOp::create(b, l, it);
                    });
                scf::YieldOp::create(b, l, branch.getResults());
              });
          // acc / l, or zeros for a query that saw no key.
          Value lsum = loop.getResult(1);
          Value any = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT,
                                            lsum, e.cst(e.f32(), 0.0));
          Value safe = arith::SelectOp::create(b, l, any, lsum,
                                               e.cst(e.f32(), 1.0));
          Value out = e.div(loop.getResult(2), e.broadcast(safe, {dv}));
          SmallVector<OpFoldResult> off{bi, i, h, b.getIndexAttr(0)};
          SmallVector<OpFoldResult> sz{b.getIndexAttr(1), b.getIndexAttr(1),
                                       b.getIndexAttr(1), b.getIndexAttr(dv)};
          Value tile = e.write(out, e.slice(args[3], off, sz),
                               {zero, zero, zero, zero});
          auto term = scf::InParallelOp::create(b, l);
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(term.getBody());
          parallelInsert(b, l, tile, args[3], off, sz);
        });
    rw.replaceOp(op, forall.getResults());
    return success();
  }

  /// Blocks of `lanes` queries (see the file comment).
  Value lowerBlocked(PatternRewriter &rw, WindowedAttentionOp op, Value q,
                     Value k, Value v, Value oInit, int64_t lanes) const {
    Location loc = op.getLoc();
    Emit e{rw, loc};
    MLIRContext *ctx = rw.getContext();
    int64_t dk = staticDim(q, 3), dv = staticDim(v, 3);
    double scale = op.getEffectiveScale();
    std::optional<int64_t> window = op.getWindow();
    Value mask = op.getKeyMask();
    Value batch = e.dim(q, 0), tq = e.dim(q, 1), hq = e.dim(q, 2);
    Value skv = e.dim(k, 1);
    Value group = e.divi(hq, e.dim(k, 2));
    Value offset = e.subi(skv, tq); // absolute position of query 0
    // Along the query dimension of q [B, T, H, D] / o: one value per lane.
    AffineMap queryLanes = AffineMap::get(4, 0, {getAffineDimExpr(1, ctx)}, ctx);
    auto i64Vec = VectorType::get({lanes}, rw.getI64Type());
    auto f32Vec = VectorType::get({lanes}, e.f32());
    // Below every real score: a masked key's score. Lanes that have seen
    // only masked keys accumulate them with weight 1 until their first
    // valid key, whose correction exp(-1e30 - s) = 0 clears them; a lane
    // whose running maximum is still -1e30 at the end saw no key.
    const double kMasked = -1e30;
    auto forall = scf::ForallOp::create(
        rw, loc,
        SmallVector<OpFoldResult>{batch, hq, e.ceilDiv(tq, lanes)},
        ValueRange{oInit}, std::nullopt,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Emit e{b, l};
          Value bi = args[0], h = args[1], i0 = e.muli(args[2], e.idx(lanes));
          Value nq = e.mini(e.subi(tq, i0), e.idx(lanes));
          Value g = e.divi(h, group), zero = e.idx(0);
          // Scaled queries, row d = q[bi, i0 : i0 + lanes, h, d] · scale.
          Value qt = forKeys(
                         e, dk,
                         e.empty({b.getIndexAttr(dk), b.getIndexAttr(lanes)},
                                 e.f32()),
                         [&](Emit &e, Value d, ValueRange it) -> SmallVector<Value> {
                           Value row = e.read(q, {bi, i0, h, d}, {lanes},
                                              queryLanes);
                           row = e.mul(row, e.cstLike(row, scale));
                           return {writeRow(e, row, it[0], d)};
                         })
                         .front();
          Value acc0 = forKeys(
                           e, dv,
                           e.empty({b.getIndexAttr(dv), b.getIndexAttr(lanes)},
                                   e.f32()),
                           [&](Emit &e, Value d, ValueRange it) -> SmallVector<Value> {
                             return {writeRow(e, e.cst(f32Vec, 0.0), it[0], d)};
                           })
                           .front();
          // Absolute positions of the lanes' queries.
          auto asI64 = [&](Emit &e, Value x) -> Value {
            return arith::IndexCastOp::create(e.b, e.loc, e.b.getI64Type(), x);
          };
          SmallVector<int64_t> iota(lanes);
          for (int64_t i = 0; i < lanes; ++i)
            iota[i] = i;
          Value pos = arith::AddIOp::create(
              b, l,
              vector::BroadcastOp::create(b, l, i64Vec,
                                          asI64(e, e.addi(offset, i0))),
              arith::ConstantOp::create(
                  b, l, DenseElementsAttr::get(i64Vec, ArrayRef<int64_t>(iota))));
          // Keys of the block: [first window start, last query + 1).
          Value last = e.addi(offset, e.addi(i0, nq));
          Value start = zero;
          if (window)
            start = e.maxi(zero, e.subi(e.addi(e.addi(offset, i0), e.idx(1)),
                                        e.idx(*window)));
          Value end = e.mini(last, skv);
          auto loop = scf::ForOp::create(
              b, l, start, end, e.idx(1),
              ValueRange{acc0, e.cst(f32Vec, kMasked), e.cst(f32Vec, 0.0)},
              [&](OpBuilder &b, Location l, Value j, ValueRange it) {
                Emit e{b, l};
                Value s = rowsTimes(e, qt, dk, lanes, [&](Emit &e, Value d) {
                  return e.scalar(k, {bi, j, g, d});
                });
                // Key j is in lane i's window: pos - W < j <= pos.
                Value jv = vector::BroadcastOp::create(b, l, i64Vec, asI64(e, j));
                Value valid = arith::CmpIOp::create(
                    b, l, arith::CmpIPredicate::sle, jv, pos);
                if (window) {
                  Value lo = arith::SubIOp::create(
                      b, l, pos,
                      arith::ConstantOp::create(
                          b, l, DenseElementsAttr::get(
                                    i64Vec, ArrayRef<int64_t>{*window})));
                  valid = arith::AndIOp::create(
                      b, l, valid,
                      arith::CmpIOp::create(b, l, arith::CmpIPredicate::sgt,
                                            jv, lo));
                }
                if (mask) {
                  Value keep = tensor::ExtractOp::create(b, l, mask,
                                                         ValueRange{bi, j});
                  valid = arith::AndIOp::create(
                      b, l, valid,
                      vector::BroadcastOp::create(
                          b, l, VectorType::get({lanes}, b.getI1Type()), keep));
                }
                s = arith::SelectOp::create(b, l, valid, s,
                                            e.cst(f32Vec, kMasked));
                Value m = e.max(it[1], s);
                Value corr = e.exp(e.sub(it[1], m));
                Value p = e.exp(e.sub(s, m));
                Value lsum = fma(e, it[2], corr, p);
                Value acc = forKeys(
                                e, dv, it[0],
                                [&](Emit &e, Value d, ValueRange a) -> SmallVector<Value> {
                                  Value row = readRow(e, a[0], d);
                                  Value vd = e.broadcast(
                                      e.scalar(v, {bi, j, g, d}), {lanes});
                                  row = fma(e, row, corr, e.mul(p, vd));
                                  return {writeRow(e, row, a[0], d)};
                                })
                                .front();
                scf::YieldOp::create(b, l, ValueRange{acc, m, lsum});
              });
          // acc / l, or zeros for a query that saw no key.
          Value any = arith::CmpFOp::create(
              b, l, arith::CmpFPredicate::OGT, loop.getResult(1),
              e.cst(f32Vec, kMasked / 2));
          Value inv = arith::SelectOp::create(
              b, l, any, e.div(e.cst(f32Vec, 1.0), loop.getResult(2)),
              e.cst(f32Vec, 0.0));
          SmallVector<OpFoldResult> off{bi, i0, h, b.getIndexAttr(0)};
          SmallVector<OpFoldResult> sz{b.getIndexAttr(1), nq, b.getIndexAttr(1),
                                       b.getIndexAttr(dv)};
          Value accT = loop.getResult(0);
          Value tile = forKeys(
                           e, dv, e.slice(args[3], off, sz),
                           [&](Emit &e, Value d, ValueRange it) -> SmallVector<Value> {
                             Value row = e.mul(readRow(e, accT, d), inv);
                             return {e.write(row, it[0],
                                             {e.idx(0), e.idx(0), e.idx(0), d},
                                             queryLanes)};
                           })
                           .front();
          auto term = scf::InParallelOp::create(b, l);
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(term.getBody());
          parallelInsert(b, l, tile, args[3], off, sz);
        });
    return forall.getResult(0);
  }
};

} // namespace

void mlir::hybrid::lowering::populateAttentionPatterns(
    RewritePatternSet &patterns, const HybridToSCFOptions &options) {
  patterns.add<LowerWindowedAttention>(patterns.getContext(), options);
}
