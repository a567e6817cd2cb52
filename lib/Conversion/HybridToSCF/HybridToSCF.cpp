//===- HybridToSCF.cpp - Lower hybrid ops to scf/vector/linalg -*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// Each recurrence becomes
//
//   scf.forall (batch, <independent tiles>) shared_outs(out, state) {
//     state0 = read the tile of the initial state          (vector registers)
//     scf.for t in [0, T) iter_args(state, out tile) {
//       read the inputs of step t as vectors, update the state, write out[t]
//     }
//     parallel_insert the out tile and the final state tile
//   }
//
// so the time loop is sequential, everything else is parallel, the state is
// updated in registers, and ragged tiles use masked (out-of-bounds) vector
// transfers. Element-wise math is written once for scalars and vectors.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Conversion/HybridToSCF/HybridToSCF.h"
#include "hybrid/Conversion/Passes.h"

#include "hybrid/Dialect/Hybrid/IR/HybridOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <limits>

namespace mlir::hybrid {
#define GEN_PASS_DEF_CONVERTHYBRIDTOSCF
#include "hybrid/Conversion/Passes.h.inc"
} // namespace mlir::hybrid

using namespace mlir;
using namespace mlir::hybrid;

namespace {

//===----------------------------------------------------------------------===//
// Emission helpers
//===----------------------------------------------------------------------===//

/// Builds index arithmetic, tensor plumbing, vector transfers and f32 math
/// (on scalars or vectors alike) at one location.
struct Emit {
  OpBuilder &b;
  Location loc;

  Type f32() { return b.getF32Type(); }

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }

  /// Size of dimension `i` of tensor `t` as an index value.
  Value dim(Value t, int64_t i) {
    auto type = cast<RankedTensorType>(t.getType());
    if (!type.isDynamicDim(i))
      return idx(type.getDimSize(i));
    return tensor::DimOp::create(b, loc, t, i);
  }
  OpFoldResult dimOF(Value t, int64_t i) {
    return tensor::getMixedSize(b, loc, t, i);
  }
  SmallVector<OpFoldResult> sizes(Value t) {
    return tensor::getMixedSizes(b, loc, t);
  }

  Value addi(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value subi(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value muli(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value divi(Value x, Value y) { return arith::DivUIOp::create(b, loc, x, y); }
  Value mini(Value x, Value y) { return arith::MinSIOp::create(b, loc, x, y); }
  Value maxi(Value x, Value y) { return arith::MaxSIOp::create(b, loc, x, y); }
  Value ceilDiv(Value x, int64_t y) {
    return arith::CeilDivSIOp::create(b, loc, x, idx(y));
  }

  /// An f32 constant shaped like `like` (scalar or splat vector).
  Value cst(Type like, double v) {
    if (auto vt = dyn_cast<VectorType>(like))
      return arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(vt, b.getF32FloatAttr(v)));
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }
  Value cstLike(Value like, double v) { return cst(like.getType(), v); }

  Value add(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubFOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  Value div(Value x, Value y) { return arith::DivFOp::create(b, loc, x, y); }
  Value neg(Value x) { return arith::NegFOp::create(b, loc, x); }
  Value max(Value x, Value y) { return arith::MaximumFOp::create(b, loc, x, y); }
  Value exp(Value x) { return math::ExpOp::create(b, loc, x); }
  Value sqrt(Value x) { return math::SqrtOp::create(b, loc, x); }
  Value tanh(Value x) { return math::TanhOp::create(b, loc, x); }
  Value sigmoid(Value x) {
    return div(cstLike(x, 1.0), add(cstLike(x, 1.0), exp(neg(x))));
  }
  Value silu(Value x) { return mul(x, sigmoid(x)); }
  /// softplus(x) = max(x, 0) + log1p(exp(-|x|)): exact and overflow-free.
  Value softplus(Value x) {
    Value negAbs = neg(math::AbsFOp::create(b, loc, x));
    return add(max(x, cstLike(x, 0.0)),
               math::Log1pOp::create(b, loc, exp(negAbs)));
  }
  /// expm1 for x <= 0, accurate near 0 (series below |x| = 1e-2, where
  /// exp(x) - 1 would cancel).
  Value expm1(Value x) {
    Value x2 = mul(x, x);
    // x + x^2/2 + x^3/6 + x^4/24: error below |x|^5/120 < 1e-12 |x|.
    Value series = add(x, mul(x2, add(cstLike(x, 0.5),
                                      mul(x, add(cstLike(x, 1.0 / 6.0),
                                                 mul(x, cstLike(x, 1.0 / 24.0)))))));
    Value direct = sub(exp(x), cstLike(x, 1.0));
    Value small = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, x,
                                        cstLike(x, -1e-2));
    return arith::SelectOp::create(b, loc, small, series, direct);
  }

  /// Extends a value of a narrow float type to f32 (no-op for f32).
  Value toF32(Value v) {
    Type elt = getElementTypeOrSelf(v.getType());
    if (elt.isF32())
      return v;
    Type target = f32();
    if (auto vt = dyn_cast<VectorType>(v.getType()))
      target = vt.clone(f32());
    return arith::ExtFOp::create(b, loc, target, v);
  }
  /// Truncates an f32 value to `elt` (no-op for f32).
  Value fromF32(Value v, Type elt) {
    if (elt.isF32())
      return v;
    Type target = elt;
    if (auto vt = dyn_cast<VectorType>(v.getType()))
      target = vt.clone(elt);
    return arith::TruncFOp::create(b, loc, target, v);
  }

  /// Reads an f32 vector of `shape` from `tensor` at `indices` (masked at
  /// the tensor's bounds, padding 0), optionally permuted.
  Value read(Value tensor, ValueRange indices, ArrayRef<int64_t> shape,
             AffineMap perm = {}) {
    auto tt = cast<RankedTensorType>(tensor.getType());
    Type elt = tt.getElementType();
    auto vt = VectorType::get(shape, elt);
    if (!perm)
      perm = AffineMap::getMinorIdentityMap(tt.getRank(), shape.size(),
                                            b.getContext());
    Value pad = arith::ConstantOp::create(b, loc, b.getZeroAttr(elt));
    SmallVector<bool> inBounds(shape.size(), false);
    Value v = vector::TransferReadOp::create(b, loc, vt, tensor, indices, pad,
                                             perm, ArrayRef<bool>(inBounds));
    return toF32(v);
  }

  /// Writes `vec` (f32) into `tensor` at `indices`, masked at its bounds;
  /// returns the new tensor.
  Value write(Value vec, Value tensor, ValueRange indices,
              AffineMap perm = {}) {
    auto tt = cast<RankedTensorType>(tensor.getType());
    Value v = fromF32(vec, tt.getElementType());
    auto vt = cast<VectorType>(v.getType());
    if (!perm)
      perm = AffineMap::getMinorIdentityMap(tt.getRank(), vt.getRank(),
                                            b.getContext());
    SmallVector<bool> inBounds(vt.getRank(), false);
    return vector::TransferWriteOp::create(b, loc, v, tensor, indices, perm,
                                           ArrayRef<bool>(inBounds))
        .getResult();
  }

  /// One element of `tensor` as f32.
  Value scalar(Value tensor, ValueRange indices) {
    return toF32(tensor::ExtractOp::create(b, loc, tensor, indices));
  }

  Value broadcast(Value v, ArrayRef<int64_t> shape) {
    return vector::BroadcastOp::create(b, loc, VectorType::get(shape, f32()),
                                       v);
  }
  /// lhs[i] * rhs[j] (+ acc[i, j]).
  Value outer(Value lhs, Value rhs, Value acc = {}) {
    auto l = cast<VectorType>(lhs.getType());
    auto r = cast<VectorType>(rhs.getType());
    auto type = VectorType::get({l.getDimSize(0), r.getDimSize(0)}, f32());
    return vector::OuterProductOp::create(b, loc, type, lhs, rhs, acc,
                                          vector::CombiningKind::ADD);
  }
  /// Sum of a 2-D vector over dimension `dim`.
  Value sumOver(Value v, int64_t dim) {
    auto vt = cast<VectorType>(v.getType());
    int64_t keep = vt.getDimSize(1 - dim);
    Value zero = cst(VectorType::get({keep}, f32()), 0.0);
    SmallVector<bool> mask{dim == 0, dim == 1};
    return vector::MultiDimReductionOp::create(
        b, loc, v, zero, mask, vector::CombiningKind::ADD);
  }
  /// Sum of a 1-D vector.
  Value sum(Value v) {
    return vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, v);
  }

  /// The positions sequence `bi` processes: clamp(lengths[bi], 0, seq), or
  /// all `seq` without lengths.
  Value seqLength(Value lengths, Value bi, Value seq) {
    if (!lengths)
      return seq;
    return clampLength(tensor::ExtractOp::create(b, loc, lengths, bi), seq);
  }
  /// A length (any integer type) as an index clamped to [0, seq].
  Value clampLength(Value n, Value seq) {
    if (!n.getType().isIndex())
      n = arith::IndexCastOp::create(b, loc, b.getIndexType(), n);
    return mini(maxi(n, idx(0)), seq);
  }

  /// The destination of a sequence output: zeros when a variable-length
  /// batch leaves positions unwritten, uninitialised otherwise.
  Value outputInit(ArrayRef<OpFoldResult> sizes, Type elt, Value lengths) {
    return lengths ? zerosOf(sizes, elt) : empty(sizes, elt);
  }

  Value empty(ArrayRef<OpFoldResult> sizes, Type elt) {
    return tensor::EmptyOp::create(b, loc, sizes, elt);
  }
  Value zerosOf(ArrayRef<OpFoldResult> sizes, Type elt) {
    Value e = empty(sizes, elt);
    Value z = arith::ConstantOp::create(b, loc, b.getZeroAttr(elt));
    return linalg::FillOp::create(b, loc, ValueRange{z}, ValueRange{e})
        .getResult(0);
  }
  Value zeros(ArrayRef<OpFoldResult> sizes) { return zerosOf(sizes, f32()); }

  /// `t` cast to the static sizes among `sizes` (insert_slice wants its
  /// source type to agree with its static sizes).
  Value castToSizes(Value t, ArrayRef<OpFoldResult> sizes) {
    auto type = cast<RankedTensorType>(t.getType());
    SmallVector<int64_t> shape;
    for (auto [i, s] : llvm::enumerate(sizes)) {
      std::optional<int64_t> c = getConstantIntValue(s);
      shape.push_back(c ? *c : type.getDimSize(i));
    }
    auto want = RankedTensorType::get(shape, type.getElementType());
    if (want == type)
      return t;
    return tensor::CastOp::create(b, loc, want, t);
  }

  Value slice(Value t, ArrayRef<OpFoldResult> offsets,
              ArrayRef<OpFoldResult> sizes) {
    SmallVector<OpFoldResult> strides(offsets.size(), b.getIndexAttr(1));
    return tensor::ExtractSliceOp::create(b, loc, t, offsets, sizes, strides);
  }
};

/// Inserts `tile` into `dest` at offsets/sizes inside an
/// scf.forall.in_parallel terminator being built.
void parallelInsert(OpBuilder &b, Location loc, Value tile, Value dest,
                    ArrayRef<OpFoldResult> offsets,
                    ArrayRef<OpFoldResult> sizes) {
  SmallVector<OpFoldResult> strides(offsets.size(), b.getIndexAttr(1));
  tensor::ParallelInsertSliceOp::create(b, loc, tile, dest, offsets, sizes,
                                        strides);
}

/// The destination of a final state: every task writes its own tile, so it
/// starts uninitialised. (Initial states are read from the op's operand,
/// never from this destination.)
Value stateDestination(Emit &e, Value finalState,
                       ArrayRef<OpFoldResult> sizes) {
  return e.empty(sizes, getElementTypeOrSelf(finalState.getType()));
}

/// The static size of dimension `i` of `v` (the verifier and
/// checkLowerable guarantee it where it sizes a vector).
int64_t staticDim(Value v, int64_t i) {
  return cast<RankedTensorType>(v.getType()).getDimSize(i);
}

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
    int64_t g = staticDim(op.getB(), 2);
    int64_t dStatic = staticDim(u, 2);
    // A channel tile must not straddle two groups of B and C.
    int64_t cb = 1;
    if (g == 1)
      cb = opts.vectorWidth;
    else if (!ShapedType::isDynamic(g) && !ShapedType::isDynamic(dStatic) &&
             (dStatic / g) % opts.vectorWidth == 0)
      cb = opts.vectorWidth;

    Value batch = e.dim(u, 0), seq = e.dim(u, 1), chans = e.dim(u, 2);
    Value groups = e.dim(op.getB(), 2);
    Value groupSize = e.divi(chans, groups);
    Value yInit = e.outputInit(e.sizes(u),
                               getElementTypeOrSelf(op.getY().getType()),
                               op.getLengths());
    Value sInit = stateDestination(
        e, op.getFinalState(),
        {e.dimOF(u, 0), e.dimOF(u, 2), rw.getIndexAttr(n)});
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
          Value h0 = op.getInitialState()
                         ? e.read(op.getInitialState(), {bi, c0, zero},
                                  {n, cb}, permS)
                         : e.cst(VectorType::get({n, cb}, e.f32()), 0.0);
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
                Value bv = e.read(op.getB(), {bi, t, grp, e.idx(0)}, {n});
                Value cv = e.read(op.getC(), {bi, t, grp, e.idx(0)}, {n});
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
    Value hInit = e.outputInit(e.sizes(x),
                               getElementTypeOrSelf(op.getH().getType()),
                               op.getLengths());
    Value sInit = stateDestination(e, op.getFinalState(),
                                   {e.dimOF(x, 0), e.dimOF(x, 2)});
    double c = op.getC().convertToDouble();
    auto forall = scf::ForallOp::create(
        rw, loc, SmallVector<OpFoldResult>{batch, e.ceilDiv(width, cb)},
        ValueRange{hInit, sInit}, std::nullopt,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Emit e{b, l};
          Value bi = args[0], c0 = e.muli(args[1], e.idx(cb));
          Value cs = e.mini(e.subi(width, c0), e.idx(cb));
          Value zero = e.idx(0);
          // -c * softplus(Λ), once per tile.
          Value lam = e.read(op.getAParam(), {c0}, {cb});
          Value negCsp = e.mul(e.cstLike(lam, -c), e.softplus(lam));
          Value h0 = op.getInitialState()
                         ? e.read(op.getInitialState(), {bi, c0}, {cb})
                         : e.cst(VectorType::get({cb}, e.f32()), 0.0);
          SmallVector<OpFoldResult> off{bi, b.getIndexAttr(0), c0};
          SmallVector<OpFoldResult> sz{b.getIndexAttr(1), seq, cs};
          Value tileOut = e.slice(args[2], off, sz);
          auto loop = scf::ForOp::create(
              b, l, zero, e.seqLength(op.getLengths(), bi, seq), e.idx(1),
              ValueRange{h0, tileOut},
              [&](OpBuilder &b, Location l, Value t, ValueRange it) {
                Emit e{b, l};
                Value xv = e.read(x, {bi, t, c0}, {cb});
                Value gx = e.sigmoid(e.read(op.getGateX(), {bi, t, c0}, {cb}));
                Value ga = e.sigmoid(e.read(op.getGateA(), {bi, t, c0}, {cb}));
                Value logA = e.mul(negCsp, ga);
                Value a = e.exp(logA);
                Value m = e.sqrt(e.neg(e.expm1(e.add(logA, logA))));
                if (op.getReset()) {
                  Value r = tensor::ExtractOp::create(b, l, op.getReset(),
                                                      ValueRange{bi, t});
                  a = arith::SelectOp::create(b, l, r, e.cstLike(a, 0.0), a);
                  m = arith::SelectOp::create(b, l, r, e.cstLike(m, 1.0), m);
                }
                Value h = e.add(e.mul(a, it[0]), e.mul(m, e.mul(gx, xv)));
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
    Value hInit = e.outputInit(
        {e.dimOF(xg, 0), e.dimOF(xg, 1), e.dimOF(wh, 0)},
        getElementTypeOrSelf(op.getH().getType()), op.getLengths());
    Value sInit = stateDestination(e, op.getFinalState(),
                                   {e.dimOF(xg, 0), e.dimOF(wh, 0)});
    auto forall = scf::ForallOp::create(
        rw, loc, SmallVector<OpFoldResult>{batch}, ValueRange{hInit, sInit},
        std::nullopt, [&](OpBuilder &b, Location l, ValueRange args) {
          Emit e{b, l};
          // One induction variable: args = (batch, h out, state out).
          Value bi = args[0], hOut = args[1], sOut = args[2];
          Value zero = e.idx(0), one = e.idx(1);
          // The state of this sequence as a rank-1 tensor, and scratch for hh.
          auto vecType = RankedTensorType::get({ShapedType::kDynamic}, e.f32());
          Value h0;
          if (op.getInitialState()) {
            // A private copy of this sequence's initial state.
            Value slice = tensor::ExtractSliceOp::create(
                b, l, vecType, op.getInitialState(),
                SmallVector<OpFoldResult>{bi, b.getIndexAttr(0)},
                SmallVector<OpFoldResult>{b.getIndexAttr(1), hidden},
                SmallVector<OpFoldResult>{b.getIndexAttr(1),
                                          b.getIndexAttr(1)});
            Value fresh = e.empty({OpFoldResult(hidden)}, e.f32());
            h0 = linalg::CopyOp::create(b, l, slice, fresh).getResult(0);
          } else {
            h0 = e.zeros({OpFoldResult(hidden)});
          }
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
      if (op.getLogDecay()) {
        Value alpha = e.exp(e.scalar(op.getLogDecay(), {bi, t, hd}));
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

//===----------------------------------------------------------------------===//
// causal_conv1d, layer_norm, rms_norm: linalg
//===----------------------------------------------------------------------===//

SmallVector<utils::IteratorType> parallelIters(int64_t n) {
  return SmallVector<utils::IteratorType>(n, utils::IteratorType::parallel);
}

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
    Value init = op.getInitialState() ? op.getInitialState()
                                      : e.zeros({batch, tail, chans});
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
    Value yInit = e.empty({batch, seq, chans}, outElt);
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
    Value finalState;
    if (tailC && *tailC == 0) {
      finalState = e.empty({batch, tail, chans}, e.f32());
    } else if (lengths) {
      Value dest = e.empty({batch, tail, chans}, e.f32());
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
      finalState = e.slice(xc, {rw.getIndexAttr(0), seq, rw.getIndexAttr(0)},
                           {batch, tail, chans});
    }
    finalState = tensor::CastOp::create(rw, loc, op.getFinalState().getType(),
                                        finalState);
    rw.replaceOp(op, {y, finalState});
    return success();
  }
};

/// Per-row mean or mean of squares over the last dimension, in f32.
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
Value lowerNorm(PatternRewriter &rw, Location loc, Value x, Value weight,
                Value bias, double eps, bool centered, Type resultType) {
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
  Type outElt = getElementTypeOrSelf(resultType);
  Value init = e.empty(e.sizes(x), outElt);
  return linalg::GenericOp::create(
             rw, loc, TypeRange{resultType}, ins, ValueRange{init}, maps,
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
                               /*centered=*/true, op.getType()));
    return success();
  }
};

struct LowerRmsNorm : OpRewritePattern<RmsNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RmsNormOp op,
                                PatternRewriter &rw) const override {
    rw.replaceOp(op, lowerNorm(rw, op.getLoc(), op.getInput(), op.getWeight(),
                               Value(), op.getEpsilon().convertToDouble(),
                               /*centered=*/false, op.getType()));
    return success();
  }
};

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

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

/// Reports, on the op, why it cannot be lowered (a dynamic size that sizes
/// a vector, or an option out of range).
LogicalResult checkLowerable(Operation *op) {
  auto requireStatic = [&](Value v, int64_t dim,
                           StringRef what) -> LogicalResult {
    if (!ShapedType::isDynamic(staticDim(v, dim)))
      return success();
    return op->emitOpError() << "cannot be lowered: " << what
                             << " must be static (it sizes the vector "
                                "registers that hold the state)";
  };
  return TypeSwitch<Operation *, LogicalResult>(op)
      .Case<SsmScanOp>([&](SsmScanOp o) {
        return requireStatic(o.getA(), 1, "d_state (dimension 1 of 'A')");
      })
      .Case<WkvOp>([&](WkvOp o) {
        return requireStatic(o.getR(), 3, "the key width (dimension 3 of 'r')");
      })
      .Case<DeltaRuleOp>([&](DeltaRuleOp o) {
        return requireStatic(o.getK(), 3, "the key width (dimension 3 of 'k')");
      })
      .Case<WindowedAttentionOp>([&](WindowedAttentionOp o) {
        if (failed(requireStatic(o.getQ(), 3,
                                 "the key width (dimension 3 of 'q')")))
          return failure();
        return requireStatic(o.getV(), 3,
                             "the value width (dimension 3 of 'v')");
      })
      .Default([](Operation *) { return success(); });
}

/// Rewrites `forall` (with shared outputs) as a nest of scf.for loops that
/// carry the outputs: each parallel_insert_slice of the terminator becomes
/// an insert_slice into the carried tensor.
void serializeForall(RewriterBase &rw, scf::ForallOp forall) {
  Location loc = forall.getLoc();
  rw.setInsertionPoint(forall);
  SmallVector<Value> lbs = forall.getLowerBound(rw);
  SmallVector<Value> ubs = forall.getUpperBound(rw);
  SmallVector<Value> steps = forall.getStep(rw);
  SmallVector<Value> ivs;
  SmallVector<scf::ForOp> loops;
  ValueRange carried = forall.getOutputs();
  for (unsigned d = 0; d < lbs.size(); ++d) {
    auto loop = scf::ForOp::create(rw, loc, lbs[d], ubs[d], steps[d], carried);
    if (!loops.empty())
      scf::YieldOp::create(rw, loc, loop.getResults());
    loops.push_back(loop);
    ivs.push_back(loop.getInductionVar());
    carried = loop.getRegionIterArgs();
    rw.setInsertionPointToStart(loop.getBody());
  }
  IRMapping map;
  map.map(forall.getInductionVars(), ivs);
  map.map(forall.getRegionIterArgs(), carried);
  for (Operation &op : forall.getBody()->without_terminator())
    rw.clone(op, map);
  SmallVector<Value> outs(carried.begin(), carried.end());
  for (Operation &op : forall.getTerminator().getYieldingOps()) {
    auto insert = cast<tensor::ParallelInsertSliceOp>(&op);
    unsigned i = cast<BlockArgument>(insert.getDest()).getArgNumber() -
                 forall.getRank();
    outs[i] = tensor::InsertSliceOp::create(
        rw, loc, map.lookupOrDefault(insert.getSource()), outs[i],
        llvm::map_to_vector(insert.getMixedOffsets(),
                            [&](OpFoldResult f) -> OpFoldResult {
                              if (auto v = dyn_cast<Value>(f))
                                return map.lookupOrDefault(v);
                              return f;
                            }),
        llvm::map_to_vector(insert.getMixedSizes(),
                            [&](OpFoldResult f) -> OpFoldResult {
                              if (auto v = dyn_cast<Value>(f))
                                return map.lookupOrDefault(v);
                              return f;
                            }),
        insert.getMixedStrides());
  }
  scf::YieldOp::create(rw, loc, outs);
  rw.replaceOp(forall, loops.front().getResults());
}

struct ConvertHybridToSCFPass
    : hybrid::impl::ConvertHybridToSCFBase<ConvertHybridToSCFPass> {
  using Base::Base;

  void runOnOperation() override {
    if (vectorWidth < 1 || rowTile < 1) {
      getOperation()->emitError("convert-hybrid-to-scf: vector-width and "
                                "row-tile must be positive");
      return signalPassFailure();
    }
    WalkResult check = getOperation()->walk([](Operation *op) {
      if (op->getDialect() && isa<HybridDialect>(op->getDialect()) &&
          failed(checkLowerable(op)))
        return WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (check.wasInterrupted())
      return signalPassFailure();

    HybridToSCFOptions options{vectorWidth, rowTile};
    RewritePatternSet patterns(&getContext());
    populateHybridToSCFConversionPatterns(patterns, options);
    GreedyRewriteConfig config;
    config.setRegionSimplificationLevel(GreedySimplifyRegionLevel::Disabled);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns),
                                     config)))
      return signalPassFailure();
    // A hybrid op that was already tiled (hybrid-tile) sits in an
    // scf.forall: the loops over its own tasks run inside one outer task,
    // sequentially (no nested parallel regions).
    SmallVector<scf::ForallOp> nested;
    getOperation()->walk([&](scf::ForallOp forall) {
      if (forall->getParentOfType<scf::ForallOp>())
        nested.push_back(forall);
    });
    IRRewriter rewriter(&getContext());
    for (scf::ForallOp forall : nested)
      serializeForall(rewriter, forall);
    WalkResult left = getOperation()->walk([](Operation *op) {
      if (op->getDialect() && isa<HybridDialect>(op->getDialect())) {
        op->emitOpError("was not lowered by convert-hybrid-to-scf");
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (left.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace

void mlir::hybrid::populateHybridToSCFConversionPatterns(
    RewritePatternSet &patterns, const HybridToSCFOptions &options) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<LowerSsmScan, LowerRgLru, LowerGru, LowerWkv, LowerDeltaRule>(
      ctx, options);
  patterns.add<LowerWindowedAttention, LowerCausalConv1d, LowerLayerNorm,
               LowerRmsNorm, LowerGatedParallel>(ctx);
}
