//===- Scan.cpp - Lower the vector-state recurrences -----------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// ssm_scan, rg_lru and gru: an scf.forall over (batch, channel tiles) (one
// task per batch element for gru, whose hidden mat-vec needs the whole
// state) around an scf.for over time that carries the state in vector
// registers.
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
// ssm_scan
//===----------------------------------------------------------------------===//

/// Tasks (batch, channel tile of cb channels); state tile vector<N x cb>
/// (state index major, channels in lanes).
struct LowerSsmScan : OpRewritePattern<SsmScanOp> {
  LowerSsmScan(MLIRContext *ctx, const HybridToSCFOptions &o)
      : OpRewritePattern(ctx), opts(o) {}
  const HybridToSCFOptions &opts;

  LogicalResult matchAndRewrite(SsmScanOp op,
                                PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    Emit e{rw, loc};
    Value u = op.getU();
    int64_t n = staticDim(op.getA(), 1);
    bool grouped = op.hasGroupedBC();
    int64_t g = grouped ? staticDim(op.getB(), 2) : 1;
    int64_t dStatic = staticDim(u, 2);
    // A channel tile must not straddle two groups of B and C.
    int64_t cb = 1;
    if (g == 1)
      cb = opts.vectorWidth;
    else if (!ShapedType::isDynamic(g) && !ShapedType::isDynamic(dStatic) &&
             (dStatic / g) % opts.vectorWidth == 0)
      cb = opts.vectorWidth;

    Value batch = e.dim(u, 0), seq = e.dim(u, 1), chans = e.dim(u, 2);
    Value groups = grouped ? e.dim(op.getB(), 2) : e.idx(1);
    Value groupSize = e.divi(chans, groups);
    // Destination style: y goes to `outs`, the final state over the
    // initial state (each task reads its tile of it before writing it).
    Value yInit = e.outputInit(op.getOut(), op.getLengths());
    Value sInit = stateDestination(e, op.getInitialState());
    bool inPlace = sInit == op.getInitialState();
    Value tiles = e.ceilDiv(chans, cb);
    MLIRContext *ctx = rw.getContext();
    // vector<N x cb> <-> tensor [.., channel, state]: transposed.
    AffineMap permA = AffineMap::get(
        2, 0, {getAffineDimExpr(1, ctx), getAffineDimExpr(0, ctx)}, ctx);
    AffineMap permS = AffineMap::get(
        3, 0, {getAffineDimExpr(2, ctx), getAffineDimExpr(1, ctx)}, ctx);

    auto forall = scf::ForallOp::create(
        rw, loc, SmallVector<OpFoldResult>{batch, tiles},
        ValueRange{yInit, sInit}, std::nullopt,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Emit e{b, l};
          Value bi = args[0], tile = args[1], yOut = args[2], sOut = args[3];
          Value c0 = e.muli(tile, e.idx(cb));
          Value cs = e.mini(e.subi(chans, c0), e.idx(cb));
          Value grp = e.divi(c0, groupSize);
          Value zero = e.idx(0);
          Value aT = e.read(op.getA(), {c0, zero}, {n, cb}, permA);
          Value h0 = e.read(inPlace ? sOut : op.getInitialState(),
                            {bi, c0, zero}, {n, cb}, permS);
          Value skip = op.getD() ? e.read(op.getD(), {c0}, {cb}) : Value();
          Value bias =
              op.getDeltaBias() ? e.read(op.getDeltaBias(), {c0}, {cb}) : Value();
          Value ones = e.cst(VectorType::get({cb}, e.f32()), 1.0);
          SmallVector<OpFoldResult> yOff{bi, b.getIndexAttr(0), c0};
          SmallVector<OpFoldResult> ySz{b.getIndexAttr(1), seq, cs};
          Value yTile = e.slice(yOut, yOff, ySz);
          auto loop = scf::ForOp::create(
              b, l, zero, e.seqLength(op.getLengths(), bi, seq), e.idx(1),
              ValueRange{h0, yTile},
              [&](OpBuilder &b, Location l, Value t, ValueRange it) {
                Emit e{b, l};
                Value h = it[0];
                Value uv = e.read(u, {bi, t, c0}, {cb});
                Value dt = e.read(op.getDelta(), {bi, t, c0}, {cb});
                if (bias)
                  dt = e.add(dt, bias);
                if (op.getDeltaSoftplus())
                  dt = e.softplus(dt);
                SmallVector<Value> at{bi, t, grp, e.idx(0)};
                if (!grouped)
                  at = {bi, t, e.idx(0)};
                Value bv = e.read(op.getB(), at, {n});
                Value cv = e.read(op.getC(), at, {n});
                // h = exp(Δ A) h + B ⊗ (Δ u)
                Value decay = e.exp(e.mul(e.broadcast(dt, {n, cb}), aT));
                h = e.outer(bv, e.mul(dt, uv), e.mul(decay, h));
                // y = Σ_n h[n] C[n] (+ D u) (* silu(z))
                Value yv = e.sumOver(e.mul(h, e.outer(cv, ones)), 0);
                if (skip)
                  yv = e.add(yv, e.mul(skip, uv));
                if (op.getZ())
                  yv = e.mul(yv, e.silu(e.read(op.getZ(), {bi, t, c0}, {cb})));
                Value ys = e.write(yv, it[1], {e.idx(0), t, e.idx(0)});
                scf::YieldOp::create(b, l, ValueRange{h, ys});
              });
          SmallVector<OpFoldResult> sOff{bi, c0, b.getIndexAttr(0)};
          SmallVector<OpFoldResult> sSz{b.getIndexAttr(1), cs,
                                        b.getIndexAttr(n)};
          Value sTile = e.write(loop.getResult(0), e.slice(sOut, sOff, sSz),
                                {e.idx(0), e.idx(0), e.idx(0)}, permS);
          auto term = scf::InParallelOp::create(b, l);
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(term.getBody());
          parallelInsert(b, l, loop.getResult(1), yOut, yOff, ySz);
          parallelInsert(b, l, sTile, sOut, sOff, sSz);
        });
    rw.replaceOp(op, forall.getResults());
    return success();
  }
};

//===----------------------------------------------------------------------===//
// rg_lru
//===----------------------------------------------------------------------===//

/// Tasks (batch, channel tile); state tile vector<cb>.
struct LowerRgLru : OpRewritePattern<RgLruOp> {
  LowerRgLru(MLIRContext *ctx, const HybridToSCFOptions &o)
      : OpRewritePattern(ctx), opts(o) {}
  const HybridToSCFOptions &opts;

  LogicalResult matchAndRewrite(RgLruOp op,
                                PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    Emit e{rw, loc};
    int64_t cb = opts.vectorWidth;
    Value x = op.getX();
    Value batch = e.dim(x, 0), seq = e.dim(x, 1), width = e.dim(x, 2);
    Value hInit = e.outputInit(op.getOut(), op.getLengths());
    Value sInit = stateDestination(e, op.getInitialState());
    bool inPlace = sInit == op.getInitialState();
    double c = op.getC().convertToDouble();
    auto forall = scf::ForallOp::create(
        rw, loc, SmallVector<OpFoldResult>{batch, e.ceilDiv(width, cb)},
        ValueRange{hInit, sInit}, std::nullopt,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Emit e{b, l};
          Value bi = args[0], c0 = e.muli(args[1], e.idx(cb));
          Value cs = e.mini(e.subi(width, c0), e.idx(cb));
          Value zero = e.idx(0);
          // -c * softplus(Λ), once per tile (the gated form).
          Value negCsp;
          if (!op.getLogA()) {
            Value lam = e.read(op.getAParam(), {c0}, {cb});
            negCsp = e.mul(e.cstLike(lam, -c), e.softplus(lam));
          }
          Value h0 =
              e.read(inPlace ? args[3] : op.getInitialState(), {bi, c0}, {cb});
          SmallVector<OpFoldResult> off{bi, b.getIndexAttr(0), c0};
          SmallVector<OpFoldResult> sz{b.getIndexAttr(1), seq, cs};
          Value tileOut = e.slice(args[2], off, sz);
          auto loop = scf::ForOp::create(
              b, l, zero, e.seqLength(op.getLengths(), bi, seq), e.idx(1),
              ValueRange{h0, tileOut},
              [&](OpBuilder &b, Location l, Value t, ValueRange it) {
                Emit e{b, l};
                // The gated input and log a: read (core form) or computed
                // from the gates.
                Value xg = e.read(x, {bi, t, c0}, {cb});
                Value logA;
                if (op.getLogA()) {
                  logA = e.read(op.getLogA(), {bi, t, c0}, {cb});
                } else {
                  Value gx =
                      e.sigmoid(e.read(op.getGateX(), {bi, t, c0}, {cb}));
                  Value ga =
                      e.sigmoid(e.read(op.getGateA(), {bi, t, c0}, {cb}));
                  logA = e.mul(negCsp, ga);
                  xg = e.mul(gx, xg);
                }
                Value a = e.exp(logA);
                Value m = e.sqrt(e.neg(e.expm1(e.add(logA, logA))));
                if (op.getReset()) {
                  Value r = tensor::ExtractOp::create(b, l, op.getReset(),
                                                      ValueRange{bi, t});
                  a = arith::SelectOp::create(b, l, r, e.cstLike(a, 0.0), a);
                  m = arith::SelectOp::create(b, l, r, e.cstLike(m, 1.0), m);
                }
                Value h = e.add(e.mul(a, it[0]), e.mul(m, xg));
                Value out = e.write(h, it[1], {e.idx(0), t, e.idx(0)});
                scf::YieldOp::create(b, l, ValueRange{h, out});
              });
          SmallVector<OpFoldResult> sOff{bi, c0};
          SmallVector<OpFoldResult> sSz{b.getIndexAttr(1), cs};
          Value sTile = e.write(loop.getResult(0), e.slice(args[3], sOff, sSz),
                                {e.idx(0), e.idx(0)});
          auto term = scf::InParallelOp::create(b, l);
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(term.getBody());
          parallelInsert(b, l, loop.getResult(1), args[2], off, sz);
          parallelInsert(b, l, sTile, args[3], sOff, sSz);
        });
    rw.replaceOp(op, forall.getResults());
    return success();
  }
};

//===----------------------------------------------------------------------===//
// gru
//===----------------------------------------------------------------------===//

/// Tasks: one per batch element (the hidden mat-vec needs the whole state).
/// Per step: hh = h W_h + b_h in vector<w> column tiles, then the gates and
/// the in-place update of h.
struct LowerGru : OpRewritePattern<GruOp> {
  LowerGru(MLIRContext *ctx, const HybridToSCFOptions &o)
      : OpRewritePattern(ctx), opts(o) {}
  const HybridToSCFOptions &opts;

  LogicalResult matchAndRewrite(GruOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    Emit e{rw, loc};
    int64_t w = opts.vectorWidth;
    Value xg = op.getInputGates(), wh = op.getHiddenWeight();
    Value batch = e.dim(xg, 0), seq = e.dim(xg, 1), hidden = e.dim(wh, 0);
    Value gates = e.dim(wh, 1);
    Value hInit = e.outputInit(op.getOut(), op.getLengths());
    Value sInit = stateDestination(e, op.getInitialState());
    bool inPlace = sInit == op.getInitialState();
    auto forall = scf::ForallOp::create(
        rw, loc, SmallVector<OpFoldResult>{batch}, ValueRange{hInit, sInit},
        std::nullopt, [&](OpBuilder &b, Location l, ValueRange args) {
          Emit e{b, l};
          // One induction variable: args = (batch, h out, state out).
          Value bi = args[0], hOut = args[1], sOut = args[2];
          Value zero = e.idx(0), one = e.idx(1);
          // The state of this sequence as a rank-1 tensor, and scratch for hh.
          auto vecType = RankedTensorType::get({ShapedType::kDynamic}, e.f32());
          // A private copy of this sequence's initial state.
          Value slice = tensor::ExtractSliceOp::create(
              b, l, vecType, inPlace ? sOut : op.getInitialState(),
              SmallVector<OpFoldResult>{bi, b.getIndexAttr(0)},
              SmallVector<OpFoldResult>{b.getIndexAttr(1), hidden},
              SmallVector<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
          Value fresh = e.empty({OpFoldResult(hidden)}, e.f32());
          Value h0 = linalg::CopyOp::create(b, l, slice, fresh).getResult(0);
          Value hh0 = e.empty({OpFoldResult(gates)}, e.f32());
          SmallVector<OpFoldResult> off{bi, b.getIndexAttr(0),
                                        b.getIndexAttr(0)};
          SmallVector<OpFoldResult> sz{b.getIndexAttr(1), seq, hidden};
          Value tileOut = e.slice(hOut, off, sz);
          auto loop = scf::ForOp::create(
              b, l, zero, e.seqLength(op.getLengths(), bi, seq), one,
              ValueRange{h0, hh0, tileOut},
              [&](OpBuilder &b, Location l, Value t, ValueRange it) {
                Emit e{b, l};
                Value h = it[0];
                // hh[j0 : j0 + w] = b_h + Σ_i h[i] W_h[i, j0 : j0 + w]
                auto cols = scf::ForOp::create(
                    b, l, e.idx(0), gates, e.idx(w), ValueRange{it[1]},
                    [&](OpBuilder &b, Location l, Value j0, ValueRange hhIt) {
                      Emit e{b, l};
                      Value acc = op.getHiddenBias()
                                      ? e.read(op.getHiddenBias(), {j0}, {w})
                                      : e.cst(VectorType::get({w}, e.f32()), 0.0);
                      auto dot = scf::ForOp::create(
                          b, l, e.idx(0), hidden, e.idx(1), ValueRange{acc},
                          [&](OpBuilder &b, Location l, Value i, ValueRange a) {
                            Emit e{b, l};
                            Value hi = e.broadcast(e.scalar(h, {i}), {w});
                            Value row = e.read(wh, {i, j0}, {w});
                            Value r = math::FmaOp::create(b, l, hi, row, a[0]);
                            scf::YieldOp::create(b, l, r);
                          });
                      Value hhNew = e.write(dot.getResult(0), hhIt[0], {j0});
                      scf::YieldOp::create(b, l, hhNew);
                    });
                Value hh = cols.getResult(0);
                // Gates r, z, n and the update, in column tiles of h.
                auto upd = scf::ForOp::create(
                    b, l, e.idx(0), hidden, e.idx(w), ValueRange{h, it[2]},
                    [&](OpBuilder &b, Location l, Value j0, ValueRange u) {
                      Emit e{b, l};
                      Value jz = e.addi(j0, hidden);
                      Value jn = e.addi(jz, hidden);
                      Value xr = e.read(xg, {bi, t, j0}, {w});
                      Value xz = e.read(xg, {bi, t, jz}, {w});
                      Value xn = e.read(xg, {bi, t, jn}, {w});
                      Value r = e.sigmoid(e.add(xr, e.read(hh, {j0}, {w})));
                      Value z = e.sigmoid(e.add(xz, e.read(hh, {jz}, {w})));
                      Value nn = e.tanh(e.add(xn, e.mul(r, e.read(hh, {jn}, {w}))));
                      Value hOld = e.read(u[0], {j0}, {w});
                      Value hNew = e.add(e.mul(e.sub(e.cstLike(z, 1.0), z), nn),
                                         e.mul(z, hOld));
                      Value h2 = e.write(hNew, u[0], {j0});
                      Value o2 = e.write(hNew, u[1], {e.idx(0), t, j0});
                      scf::YieldOp::create(b, l, ValueRange{h2, o2});
                    });
                scf::YieldOp::create(
                    b, l, ValueRange{upd.getResult(0), hh, upd.getResult(1)});
              });
          auto term = scf::InParallelOp::create(b, l);
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(term.getBody());
          parallelInsert(b, l, loop.getResult(2), hOut, off, sz);
          tensor::ParallelInsertSliceOp::create(
              b, l, loop.getResult(0), sOut,
              SmallVector<OpFoldResult>{bi, b.getIndexAttr(0)},
              SmallVector<OpFoldResult>{b.getIndexAttr(1), hidden},
              SmallVector<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
        });
    rw.replaceOp(op, forall.getResults());
    return success();
  }
};

} // namespace

void mlir::hybrid::lowering::populateScanPatterns(RewritePatternSet &patterns,
    const HybridToSCFOptions &options) {
  patterns.add<LowerSsmScan, LowerRgLru, LowerGru>(patterns.getContext(), options);
}
