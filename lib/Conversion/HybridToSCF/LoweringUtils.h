//===- LoweringUtils.h - Shared emit helpers of the lowering ---*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// What every family of convert-hybrid-to-scf's patterns uses: an `Emit`
// builder for index arithmetic, tensor plumbing, vector transfers and f32
// math on scalars or vectors alike, and the per-family populate functions.
//
//===----------------------------------------------------------------------===//

#ifndef HYBRID_LIB_CONVERSION_HYBRIDTOSCF_LOWERINGUTILS_H
#define HYBRID_LIB_CONVERSION_HYBRIDTOSCF_LOWERINGUTILS_H

#include "hybrid/Conversion/HybridToSCF/HybridToSCF.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

namespace mlir::hybrid::lowering {

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

  /// The op's destination `dest` of a sequence output, zero-filled when a
  /// variable-length batch leaves positions unwritten (the op overwrites
  /// all of it otherwise).
  Value outputInit(Value dest, Value lengths) {
    return lengths ? zeroFill(dest) : dest;
  }

  Value empty(ArrayRef<OpFoldResult> sizes, Type elt) {
    return tensor::EmptyOp::create(b, loc, sizes, elt);
  }
  /// `dest` filled with zeros.
  Value zeroFill(Value dest) {
    Type elt = getElementTypeOrSelf(dest.getType());
    Value z = arith::ConstantOp::create(b, loc, b.getZeroAttr(elt));
    return linalg::FillOp::create(b, loc, ValueRange{z}, ValueRange{dest})
        .getResult(0);
  }
  Value zerosOf(ArrayRef<OpFoldResult> sizes, Type elt) {
    return zeroFill(empty(sizes, elt));
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
inline void parallelInsert(OpBuilder &b, Location loc, Value tile, Value dest,
                    ArrayRef<OpFoldResult> offsets,
                    ArrayRef<OpFoldResult> sizes) {
  SmallVector<OpFoldResult> strides(offsets.size(), b.getIndexAttr(1));
  tensor::ParallelInsertSliceOp::create(b, loc, tile, dest, offsets, sizes,
                                        strides);
}

/// Where a recurrence writes its final state. Destination style makes it
/// the initial state, updated in place (a zero state, a chunk loop's carried
/// state). But a function argument is a caller's buffer that one-shot
/// bufferization may not write (public arguments are read-only after
/// `hybrid-protect-arguments`, and one that is not says so with
/// `bufferization.writable = true`): updating it in place would first copy
/// the whole state. There (and for a slice of such an argument, a tile's
/// initial state after hybrid-tile) the tasks read the initial state from
/// the argument and write a fresh tensor.
inline Value stateDestination(Emit &e, Value init) {
  if (!isReadOnlyFunctionArgument(init))
    return init;
  return e.empty(tensor::getMixedSizes(e.b, e.loc, init),
                 getElementTypeOrSelf(init.getType()));
}

/// The static size of dimension `i` of `v` (the verifier and
/// checkLowerable guarantee it where it sizes a vector).
inline int64_t staticDim(Value v, int64_t i) {
  return cast<RankedTensorType>(v.getType()).getDimSize(i);
}

/// `n` parallel iterators.
inline SmallVector<utils::IteratorType> parallelIters(int64_t n) {
  return SmallVector<utils::IteratorType>(n, utils::IteratorType::parallel);
}

//===----------------------------------------------------------------------===//
// Tiles of lanes in memory (matrix states, attention query blocks)
//===----------------------------------------------------------------------===//

/// Row `k` of a [rows x lanes] tile (a matrix state kept transposed, or a
/// block of queries kept as lanes).
inline Value readRow(Emit &e, Value tile, Value k) {
  auto tt = cast<RankedTensorType>(tile.getType());
  auto vt = VectorType::get({tt.getDimSize(1)}, tt.getElementType());
  Value pad = e.cst(tt.getElementType(), 0.0);
  return vector::TransferReadOp::create(
      e.b, e.loc, vt, tile, ValueRange{k, e.idx(0)}, pad,
      AffineMap::getMinorIdentityMap(2, 1, e.b.getContext()),
      ArrayRef<bool>{true});
}
inline Value writeRow(Emit &e, Value row, Value tile, Value k) {
  return vector::TransferWriteOp::create(
             e.b, e.loc, row, tile, ValueRange{k, e.idx(0)},
             AffineMap::getMinorIdentityMap(2, 1, e.b.getContext()),
             ArrayRef<bool>{true})
      .getResult();
}

/// for k in [0, K): iter = body(k, iter); returns the final values.
inline SmallVector<Value>
forKeys(Emit &e, int64_t keys, ValueRange inits,
        function_ref<SmallVector<Value>(Emit &, Value k, ValueRange)> body) {
  auto loop = scf::ForOp::create(
      e.b, e.loc, e.idx(0), e.idx(keys), e.idx(1), inits,
      [&](OpBuilder &b, Location l, Value k, ValueRange it) {
        Emit inner{b, l};
        scf::YieldOp::create(b, l, body(inner, k, it));
      });
  return loop.getResults();
}

/// Σ_k tile[k, :] · x(k): the product of the state with a key-sized
/// vector, one FMA per key row.
inline Value rowsTimes(Emit &e, Value tile, int64_t keys, int64_t lanes,
                function_ref<Value(Emit &, Value k)> x) {
  Value zero = e.cst(VectorType::get({lanes}, e.f32()), 0.0);
  return forKeys(e, keys, zero,
                 [&](Emit &e, Value k, ValueRange it) -> SmallVector<Value> {
                   Value row = readRow(e, tile, k);
                   Value xk = e.broadcast(x(e, k), {lanes});
                   return {vector::FMAOp::create(e.b, e.loc, row, xk, it[0])};
                 })
      .front();
}

inline Value fma(Emit &e, Value a, Value b, Value c) {
  return vector::FMAOp::create(e.b, e.loc, a, b, c);
}

/// The patterns of each family (one file each).
void populateScanPatterns(RewritePatternSet &patterns,
                          const HybridToSCFOptions &options);
void populateMatrixRecurrencePatterns(RewritePatternSet &patterns,
                                      const HybridToSCFOptions &options);
void populateAttentionPatterns(RewritePatternSet &patterns,
                               const HybridToSCFOptions &options);
void populateConvPatterns(RewritePatternSet &patterns);
void populateNormPatterns(RewritePatternSet &patterns);
void populateParallelPatterns(RewritePatternSet &patterns);

} // namespace mlir::hybrid::lowering

#endif // HYBRID_LIB_CONVERSION_HYBRIDTOSCF_LOWERINGUTILS_H
