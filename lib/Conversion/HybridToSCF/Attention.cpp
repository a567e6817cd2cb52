//===- Attention.cpp - Lower windowed_attention ----------------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// An scf.forall over (batch, query head, query) with an online-softmax
// scf.for over the keys of the query's window.
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
  using OpRewritePattern::OpRewritePattern;

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
      FloatAttr eps = rw.getF32FloatAttr(1e-6f);
      q = LayerNormOp::create(rw, loc, q.getType(), q, Value(), Value(), eps);
      k = LayerNormOp::create(rw, loc, k.getType(), k, Value(), Value(), eps);
    }
    Value batch = e.dim(q, 0), tq = e.dim(q, 1), hq = e.dim(q, 2);
    Value skv = e.dim(k, 1);
    Value group = e.divi(hq, e.dim(k, 2));
    Value offset = e.subi(skv, tq); // absolute position of query 0
    std::optional<int64_t> window = op.getWindow();
    Value oInit = e.empty({e.dimOF(q, 0), e.dimOF(q, 1), e.dimOF(q, 2),
                           e.dimOF(v, 3)},
                          getElementTypeOrSelf(op.getO().getType()));
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
};

} // namespace

void mlir::hybrid::lowering::populateAttentionPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerWindowedAttention>(patterns.getContext());
}
