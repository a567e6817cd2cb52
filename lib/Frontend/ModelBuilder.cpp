//===- ModelBuilder.cpp - Model spec to hybrid IR --------------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// The emitter builds one layer at a time with a few helpers: weights (new
// function arguments named by their hierarchical path), linear layers
// (linalg.matmul over the flattened [batch*seq, in] activations), elementwise
// maps (linalg.generic with trailing-dimension broadcasting), head splits and
// slices, and the hybrid ops. Each helper also books its cost (parameters,
// FLOPs per token, state bytes) on the layer being built.
//
// Blocks follow the canonical math of SPEC.md section 4 inside the residual
// wrappers of section 2.4; docs/Frontend.md describes each block and the
// weight names and layouts.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Frontend/ModelBuilder.h"

#include "hybrid/Dialect/Hybrid/IR/HybridExternalModels.h"

#include "hybrid/Dialect/Hybrid/IR/HybridOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectRegistry.h"

#include <cmath>
#include <functional>
#include <map>

using namespace mlir;
using namespace mlir::hybrid;
using namespace mlir::hybrid::frontend;

int64_t WeightInfo::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

void mlir::hybrid::frontend::registerFrontendDialects(
    DialectRegistry &registry) {
  registry.insert<HybridDialect, func::FuncDialect, linalg::LinalgDialect,
                  tensor::TensorDialect, arith::ArithDialect,
                  math::MathDialect>();
  registerHybridExternalModels(registry);
}

namespace {

using ScalarFn = std::function<Value(OpBuilder &, Location, ValueRange)>;

/// Builds the model function layer by layer; see the file comment.
class Emitter {
public:
  Emitter(const ModelSpec &spec, func::FuncOp fn, BuiltModel &out,
          bool stateful, bool shareLayers)
      : spec(spec), fn(fn), out(out), stateful(stateful),
        shareLayers(shareLayers), b(fn.getContext()), loc(fn.getLoc()),
        f32(b.getF32Type()) {
    b.setInsertionPointToEnd(&fn.front());
  }

  Value emitModel(Value input);

  /// The final states, in the order of the state arguments.
  SmallVector<Value> finalStates;

private:
  //===--------------------------------------------------------------------===//
  // Accounting
  //===--------------------------------------------------------------------===//

  void addFlops(int64_t flops) {
    if (cost)
      cost->flopsPerToken += flops;
    else
      out.otherFlopsPerToken += flops;
  }
  void addStateBytes(int64_t elements) {
    if (cost)
      cost->stateBytes += 4 * elements;
  }

  //===--------------------------------------------------------------------===//
  // Weights and shapes
  //===--------------------------------------------------------------------===//

  /// A new f32 weight argument named `prefix + name`. Inside a shared
  /// layer function it is an argument of that function, recorded in its
  /// signature; the call passes the model's own.
  Value weight(StringRef name, ArrayRef<int64_t> shape) {
    if (layerFn) {
      unsigned index = (lengths ? 2 : 1) + layerFn->weights.size();
      (void)layerFn->fn.insertArgument(index, RankedTensorType::get(shape, f32),
                                       {}, loc);
      layerFn->weights.push_back(
          {name.str(), std::vector<int64_t>(shape.begin(), shape.end())});
      cost->params += layerFn->weights.back().numElements();
      return layerFn->fn.getArgument(index);
    }
    return modelWeight(name, shape, /*book=*/true);
  }

  /// A weight argument of the model function (booked as the current
  /// layer's, or model-level, parameters when `book`).
  Value modelWeight(StringRef name, ArrayRef<int64_t> shape, bool book) {
    // Weights come after the input (and the lengths), before the states.
    unsigned index = (stateful ? 2 : 1) + out.weights.size();
    auto type = RankedTensorType::get(shape, f32);
    std::string full = prefix + name.str();
    auto attrs = b.getDictionaryAttr(
        {b.getNamedAttr(kWeightAttrName, b.getStringAttr(full))});
    (void)fn.insertArgument(index, type, attrs, loc);
    WeightInfo info{full, std::vector<int64_t>(shape.begin(), shape.end())};
    if (book && cost)
      cost->params += info.numElements();
    else if (book)
      out.otherParams += info.numElements();
    out.weights.push_back(std::move(info));
    return fn.getArgument(index);
  }

  /// Stateful mode: a new state argument [batch, trailing...] named
  /// `prefix + name` (after all weights); null in stateless mode.
  Value stateIn(StringRef name, ArrayRef<int64_t> trailing) {
    if (!stateful)
      return Value();
    if (layerFn) {
      SmallVector<int64_t> shape{batchSize};
      shape.append(trailing.begin(), trailing.end());
      unsigned index = layerFn->fn.getNumArguments();
      (void)layerFn->fn.insertArgument(index, RankedTensorType::get(shape, f32),
                                       {}, loc);
      layerFn->states.push_back(
          {name.str(), std::vector<int64_t>(trailing.begin(), trailing.end())});
      return layerFn->fn.getArgument(index);
    }
    return modelStateIn(name, trailing);
  }

  /// A state argument of the model function.
  Value modelStateIn(StringRef name, ArrayRef<int64_t> trailing) {
    SmallVector<int64_t> shape{batchSize};
    shape.append(trailing.begin(), trailing.end());
    auto type = RankedTensorType::get(shape, f32);
    std::string full = prefix + name.str();
    auto attrs = b.getDictionaryAttr(
        {b.getNamedAttr("hybrid.state", b.getStringAttr(full))});
    unsigned index = fn.getNumArguments();
    (void)fn.insertArgument(index, type, attrs, loc);
    out.states.push_back(
        {full, std::vector<int64_t>(trailing.begin(), trailing.end())});
    return fn.getArgument(index);
  }
  /// Records the final value of the state created last-but-n (in order).
  void stateOut(Value v) {
    if (stateful)
      finalStates.push_back(v);
  }

  /// Sizes of an activation: batch and seq (dims 0 and 1) come from the
  /// model input, static sizes are attributes, other dynamic sizes dims.
  SmallVector<OpFoldResult> sizesOf(Value v) {
    auto type = cast<RankedTensorType>(v.getType());
    SmallVector<OpFoldResult> sizes;
    for (int64_t i = 0; i < type.getRank(); ++i) {
      if (!type.isDynamicDim(i))
        sizes.push_back(b.getIndexAttr(type.getDimSize(i)));
      else if (i == 0)
        sizes.push_back(batch);
      else if (i == 1 && !longerThanSeq.contains(v))
        sizes.push_back(seq);
      else
        sizes.push_back(tensor::DimOp::create(b, loc, v, i).getResult());
    }
    return sizes;
  }

  static int64_t rank(Value v) {
    return cast<RankedTensorType>(v.getType()).getRank();
  }
  static int64_t lastDim(Value v) {
    return cast<RankedTensorType>(v.getType()).getShape().back();
  }

  /// A [batch, seq, ...] tensor type with the given trailing sizes.
  RankedTensorType seqType(ArrayRef<int64_t> trailing, Type elt = {}) {
    SmallVector<int64_t> shape{batchSize, seqSize};
    shape.append(trailing.begin(), trailing.end());
    return RankedTensorType::get(shape, elt ? elt : f32);
  }

  //===--------------------------------------------------------------------===//
  // Elementwise maps
  //===--------------------------------------------------------------------===//

  /// Elementwise `fn` over `ins`, with the shape of ins[0]; lower-rank
  /// inputs broadcast along the leading dimensions (trailing-aligned).
  Value map(ArrayRef<Value> ins, const ScalarFn &body, Type outElt = {}) {
    auto type0 = cast<RankedTensorType>(ins[0].getType());
    int64_t r = type0.getRank();
    SmallVector<AffineMap> maps;
    for (Value in : ins) {
      SmallVector<AffineExpr> exprs;
      for (int64_t i = r - rank(in); i < r; ++i)
        exprs.push_back(b.getAffineDimExpr(i));
      maps.push_back(AffineMap::get(r, 0, exprs, b.getContext()));
    }
    maps.push_back(b.getMultiDimIdentityMap(r));
    Type elt = outElt ? outElt : f32;
    Value init = tensor::EmptyOp::create(b, loc, sizesOf(ins[0]), elt);
    SmallVector<utils::IteratorType> iters(r, utils::IteratorType::parallel);
    auto generic = linalg::GenericOp::create(
        b, loc, TypeRange{init.getType()}, ins, ValueRange{init}, maps, iters,
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          Value result = body(nb, nl, args.drop_back());
          linalg::YieldOp::create(nb, nl, result);
        });
    return generic.getResult(0);
  }

  static Value cst(OpBuilder &nb, Location nl, double v) {
    return arith::ConstantOp::create(nb, nl, nb.getF32FloatAttr(v));
  }
  static Value sigmoidS(OpBuilder &nb, Location nl, Value x) {
    Value e = math::ExpOp::create(nb, nl, arith::NegFOp::create(nb, nl, x));
    Value d = arith::AddFOp::create(nb, nl, cst(nb, nl, 1.0), e);
    return arith::DivFOp::create(nb, nl, cst(nb, nl, 1.0), d);
  }
  static Value siluS(OpBuilder &nb, Location nl, Value x) {
    return arith::MulFOp::create(nb, nl, x, sigmoidS(nb, nl, x));
  }
  /// softplus(x) = max(x, 0) + log1p(exp(-|x|)): exact, never overflows.
  static Value softplusS(OpBuilder &nb, Location nl, Value x) {
    Value relu = arith::MaximumFOp::create(nb, nl, x, cst(nb, nl, 0.0));
    Value negAbs = arith::NegFOp::create(nb, nl, math::AbsFOp::create(nb, nl, x));
    Value l = math::Log1pOp::create(nb, nl, math::ExpOp::create(nb, nl, negAbs));
    return arith::AddFOp::create(nb, nl, relu, l);
  }
  /// Exact (erf) GELU.
  static Value geluErfS(OpBuilder &nb, Location nl, Value x) {
    Value s = arith::MulFOp::create(nb, nl, x, cst(nb, nl, M_SQRT1_2));
    Value e = math::ErfOp::create(nb, nl, s);
    Value one = arith::AddFOp::create(nb, nl, cst(nb, nl, 1.0), e);
    Value h = arith::MulFOp::create(nb, nl, x, cst(nb, nl, 0.5));
    return arith::MulFOp::create(nb, nl, h, one);
  }
  /// tanh-approximated GELU (recurrentgemma).
  static Value geluTanhS(OpBuilder &nb, Location nl, Value x) {
    Value x3 = arith::MulFOp::create(
        nb, nl, x, arith::MulFOp::create(nb, nl, x, x));
    Value inner = arith::AddFOp::create(
        nb, nl, x, arith::MulFOp::create(nb, nl, x3, cst(nb, nl, 0.044715)));
    Value t = math::TanhOp::create(
        nb, nl,
        arith::MulFOp::create(nb, nl, inner,
                              cst(nb, nl, std::sqrt(2.0 / M_PI))));
    Value one = arith::AddFOp::create(nb, nl, cst(nb, nl, 1.0), t);
    Value h = arith::MulFOp::create(nb, nl, x, cst(nb, nl, 0.5));
    return arith::MulFOp::create(nb, nl, h, one);
  }

  Value add(Value x, Value y) {
    return map({x, y}, [](OpBuilder &nb, Location nl, ValueRange a) {
      return arith::AddFOp::create(nb, nl, a[0], a[1]).getResult();
    });
  }
  Value sub(Value x, Value y) {
    return map({x, y}, [](OpBuilder &nb, Location nl, ValueRange a) {
      return arith::SubFOp::create(nb, nl, a[0], a[1]).getResult();
    });
  }
  Value mul(Value x, Value y) {
    return map({x, y}, [](OpBuilder &nb, Location nl, ValueRange a) {
      return arith::MulFOp::create(nb, nl, a[0], a[1]).getResult();
    });
  }
  Value unary(Value x, Value (*fn)(OpBuilder &, Location, Value)) {
    return map({x}, [fn](OpBuilder &nb, Location nl, ValueRange a) {
      return fn(nb, nl, a[0]);
    });
  }
  Value scale(Value x, double factor) {
    return map({x}, [factor](OpBuilder &nb, Location nl, ValueRange a) {
      return arith::MulFOp::create(nb, nl, a[0], cst(nb, nl, factor))
          .getResult();
    });
  }

  //===--------------------------------------------------------------------===//
  // Shapes: slices, heads
  //===--------------------------------------------------------------------===//

  /// x[..., offset : offset + size] along the last dimension.
  Value sliceLast(Value x, int64_t offset, int64_t size) {
    SmallVector<OpFoldResult> sizes = sizesOf(x);
    int64_t r = rank(x);
    SmallVector<OpFoldResult> offsets(r, b.getIndexAttr(0));
    SmallVector<OpFoldResult> strides(r, b.getIndexAttr(1));
    offsets.back() = b.getIndexAttr(offset);
    sizes.back() = b.getIndexAttr(size);
    auto type = cast<RankedTensorType>(x.getType());
    SmallVector<int64_t> shape(type.getShape());
    shape.back() = size;
    return tensor::ExtractSliceOp::create(
        b, loc, RankedTensorType::get(shape, type.getElementType()), x,
        offsets, sizes, strides);
  }

  /// [B, T, H*dh] -> [B, T, H, dh].
  Value splitHeads(Value x, int64_t heads) {
    int64_t width = lastDim(x);
    int64_t dh = width / heads;
    SmallVector<OpFoldResult> shape = sizesOf(x);
    shape.back() = b.getIndexAttr(heads);
    shape.push_back(b.getIndexAttr(dh));
    return tensor::ExpandShapeOp::create(
        b, loc, seqType({heads, dh}), x,
        SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}}, shape);
  }

  /// [B, T, H, dh] -> [B, T, H*dh].
  Value mergeHeads(Value x) {
    return tensor::CollapseShapeOp::create(
        b, loc, x, SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
  }

  //===--------------------------------------------------------------------===//
  // Layers
  //===--------------------------------------------------------------------===//

  /// out = Σ a · w over the reduction loops of `iters`, starting from zeros:
  /// a linalg.generic with `maps` for (a, w, out), output sizes `sizes`.
  Value contraction(Value a, Value w, ArrayRef<AffineMap> maps,
                    ArrayRef<utils::IteratorType> iters,
                    ArrayRef<OpFoldResult> sizes) {
    Value init = tensor::EmptyOp::create(b, loc, sizes, f32);
    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
    Value filled =
        linalg::FillOp::create(b, loc, ValueRange{zero}, ValueRange{init})
            .getResult(0);
    return linalg::GenericOp::create(
               b, loc, TypeRange{filled.getType()}, ValueRange{a, w},
               ValueRange{filled}, maps, iters,
               [](OpBuilder &nb, Location nl, ValueRange v) {
                 Value m = arith::MulFOp::create(nb, nl, v[0], v[1]);
                 Value s = arith::AddFOp::create(nb, nl, v[2], m);
                 linalg::YieldOp::create(nb, nl, s);
               })
        .getResult(0);
  }

  /// x [B, T, in] · weight [in, out] (+ bias [out]), as a linalg.generic
  /// contraction over (b, t, i, o). (Not collapse + linalg.matmul + expand:
  /// MLIR 22's expand-strided-metadata crashes on a memref.expand_shape that
  /// splits one dynamic size into two, which that form produces.)
  Value linear(Value x, StringRef name, int64_t out, bool bias) {
    int64_t in = lastDim(x);
    Value w = weight((name + ".weight").str(), {in, out});
    MLIRContext *ctx = b.getContext();
    // Loops (batch, seq, in, out): the reduction before the output columns,
    // so a vectorized tile is x[k] * W[k, cols] summed over k in vector
    // lanes (rows of W read contiguously), not a dot product per column
    // with a horizontal sum (hybrid-tile-and-vectorize would interchange
    // the loops to this order anyway).
    AffineExpr B, T, O, I;
    bindDims(ctx, B, T, I, O);
    SmallVector<AffineMap> maps{AffineMap::get(4, 0, {B, T, I}, ctx),
                                AffineMap::get(4, 0, {I, O}, ctx),
                                AffineMap::get(4, 0, {B, T, O}, ctx)};
    using IT = utils::IteratorType;
    Value result = contraction(
        x, w, maps, {IT::parallel, IT::parallel, IT::reduction, IT::parallel},
        {batch, seq, b.getIndexAttr(out)});
    addFlops(2 * in * out);
    if (bias)
      result = add(result, weight((name + ".bias").str(), {out}));
    return result;
  }

  /// The wrapper norm (layer_norm or rms_norm, per the spec) named `name`.
  Value norm(Value x, StringRef name) {
    int64_t d = lastDim(x);
    Value w = weight((name + ".weight").str(), {d});
    if (spec.norm == NormKind::RmsNorm)
      return RmsNormOp::create(b, loc, x, w, 1e-5f)->getResult(0);
    Value bias = weight((name + ".bias").str(), {d});
    return LayerNormOp::create(b, loc, x, w, bias, 1e-5f)->getResult(0);
  }

  /// L2 normalisation over the last dimension, x / sqrt(Σx² + 1e-6), as
  /// rms_norm(eps = 1e-6 / n) / sqrt(n) (the same function).
  Value l2norm(Value x) {
    double n = static_cast<double>(lastDim(x));
    Value r = RmsNormOp::create(b, loc, x, Value(), 1e-6 / n)->getResult(0);
    return scale(r, 1.0 / std::sqrt(n));
  }

  /// Depthwise causal conv of width conv_size named `name`.
  Value conv(Value x, StringRef name, bool bias, Activation act) {
    int64_t c = lastDim(x), k = spec.convSize;
    Value w = weight((name + ".weight").str(), {k, c});
    Value bv = bias ? weight((name + ".bias").str(), {c}) : Value();
    Value tail = stateIn((name + ".tail").str(), {k - 1, c});
    auto op = CausalConv1dOp::create(b, loc, x, w, bv, tail, act, lengths);
    stateOut(op.getFinalState());
    addFlops(2 * k * c);
    addStateBytes((k - 1) * c);
    return op.getY();
  }

  /// shift(x)[t] = x[t-1] (zero, or the carried token, before the start):
  /// a width-2 causal conv with taps (1, 0), so the carried token is the
  /// conv's state.
  Value tokenShift(Value x, StringRef name) {
    int64_t c = lastDim(x);
    std::vector<float> taps(2 * c, 0.0f);
    std::fill(taps.begin(), taps.begin() + c, 1.0f);
    auto type = RankedTensorType::get({2, c}, f32);
    Value w = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(type, ArrayRef<float>(taps)));
    Value tail = stateIn((name + ".shift").str(), {1, c});
    auto op = CausalConv1dOp::create(b, loc, x, w, Value(), tail,
                                     Activation::none, lengths);
    stateOut(op.getFinalState());
    addStateBytes(c);
    return op.getY();
  }

  /// FFN of the attention and parallel layers: down(gelu(up(x))), 4x wide.
  Value ffn(Value x, StringRef name) {
    int64_t d = lastDim(x);
    std::string p = name.str();
    Value h = linear(x, p + ".up", 4 * d, true);
    return linear(unary(h, geluErfS), p + ".down", d, true);
  }

  /// [cache; x] along dimension 1 (cache [B, C, ...], x [B, T, ...]).
  Value appendAlongSeq(Value cache, Value x) {
    auto ct = cast<RankedTensorType>(cache.getType());
    auto xt = cast<RankedTensorType>(x.getType());
    int64_t c = ct.getDimSize(1);
    SmallVector<OpFoldResult> sizes = sizesOf(x);
    Value total = arith::AddIOp::create(
        b, loc, getValueOrCreateConstantIndexOp(b, loc, seq),
        arith::ConstantIndexOp::create(b, loc, c));
    sizes[1] = total;
    Value all = tensor::EmptyOp::create(b, loc, sizes, xt.getElementType());
    int64_t r = xt.getRank();
    SmallVector<OpFoldResult> zeros(r, b.getIndexAttr(0)),
        ones(r, b.getIndexAttr(1));
    SmallVector<OpFoldResult> cacheSizes = sizesOf(cache);
    all = tensor::InsertSliceOp::create(b, loc, cache, all, zeros, cacheSizes,
                                        ones);
    SmallVector<OpFoldResult> offsets = zeros;
    offsets[1] = b.getIndexAttr(c);
    SmallVector<OpFoldResult> xSizes = sizesOf(x);
    Value joined = tensor::InsertSliceOp::create(b, loc, x, all, offsets,
                                                 xSizes, ones);
    longerThanSeq.insert(joined);
    return joined;
  }

  /// lengths[b] clamped to [0, T], as an index (inside a generic body).
  Value clampedLength(OpBuilder &nb, Location nl, Value n) {
    Value i = arith::IndexCastOp::create(nb, nl, nb.getIndexType(), n);
    Value zero = arith::ConstantIndexOp::create(nb, nl, 0);
    Value t = getValueOrCreateConstantIndexOp(nb, nl, seq);
    return arith::MinSIOp::create(
        nb, nl, arith::MaxSIOp::create(nb, nl, i, zero), t);
  }

  /// out[b, i, ...] = x[b, n_b + offset + i, ...] for i < count, with n_b
  /// sequence b's clamped length. Entries whose index would be negative
  /// are zero.
  Value gatherAlongSeq(Value x, int64_t offset, int64_t count) {
    auto xt = cast<RankedTensorType>(x.getType());
    int64_t r = xt.getRank();
    SmallVector<OpFoldResult> sizes = sizesOf(x);
    sizes[1] = b.getIndexAttr(count);
    Value init = tensor::EmptyOp::create(b, loc, sizes, xt.getElementType());
    SmallVector<AffineMap> maps{
        AffineMap::get(r, 0, {b.getAffineDimExpr(0)}, b.getContext()),
        b.getMultiDimIdentityMap(r)};
    SmallVector<utils::IteratorType> iters(r, utils::IteratorType::parallel);
    return linalg::GenericOp::create(
               b, loc, TypeRange{init.getType()}, ValueRange{lengths},
               ValueRange{init}, maps, iters,
               [&](OpBuilder &nb, Location nl, ValueRange a) {
                 SmallVector<Value> idx;
                 for (int64_t i = 0; i < r; ++i)
                   idx.push_back(linalg::IndexOp::create(nb, nl, i));
                 Value pos = arith::AddIOp::create(
                     nb, nl, clampedLength(nb, nl, a[0]), idx[1]);
                 Value zero = arith::ConstantIndexOp::create(nb, nl, 0);
                 Value off = arith::ConstantIndexOp::create(nb, nl, offset);
                 pos = arith::AddIOp::create(nb, nl, pos, off);
                 Value neg = arith::CmpIOp::create(
                     nb, nl, arith::CmpIPredicate::slt, pos, zero);
                 idx[1] = arith::SelectOp::create(nb, nl, neg, zero, pos);
                 Value v = tensor::ExtractOp::create(nb, nl, x, idx);
                 Value z = arith::ConstantOp::create(
                     nb, nl, nb.getZeroAttr(v.getType()));
                 linalg::YieldOp::create(
                     nb, nl,
                     arith::SelectOp::create(nb, nl, neg, z, v).getResult());
               })
        .getResult(0);
  }

  /// The last `count` entries of each sequence of x [B, count + T, ...]
  /// ([cache; chunk]): those before position count + lengths[b].
  Value lastAlongSeq(Value x, int64_t count) {
    return gatherAlongSeq(x, 0, count);
  }

  /// Sliding-window attention with GQA: qkv, attention, output projection.
  Value attention(Value x, StringRef name) {
    int64_t d = lastDim(x), hq = spec.numHeads, hkv = spec.numKvHeads,
            dh = spec.headDim;
    std::string p = name.str();
    Value qkv = linear(x, p + ".qkv_proj", (hq + 2 * hkv) * dh, true);
    Value q = splitHeads(sliceLast(qkv, 0, hq * dh), hq);
    Value k = splitHeads(sliceLast(qkv, hq * dh, hkv * dh), hkv);
    Value v = splitHeads(sliceLast(qkv, (hq + hkv) * dh, hkv * dh), hkv);
    std::optional<int64_t> window = spec.attentionWindow();
    Value mask;
    if (stateful && window && *window > 1) {
      // The window's last W-1 keys and values, and which slots hold one.
      int64_t cached = *window - 1;
      Value kc = stateIn(p + ".k_cache", {cached, hkv, dh});
      Value vc = stateIn(p + ".v_cache", {cached, hkv, dh});
      Value mc = stateIn(p + ".cache_valid", {cached});
      k = appendAlongSeq(kc, k);
      v = appendAlongSeq(vc, v);
      Value ones = tensor::EmptyOp::create(
          b, loc, SmallVector<OpFoldResult>{batch, seq}, f32);
      ones = linalg::FillOp::create(
                 b, loc, ValueRange{arith::ConstantOp::create(
                             b, loc, b.getF32FloatAttr(1.0f))},
                 ValueRange{ones})
                 .getResult(0);
      Value valid = appendAlongSeq(mc, ones);
      stateOut(lastAlongSeq(k, cached));
      stateOut(lastAlongSeq(v, cached));
      stateOut(lastAlongSeq(valid, cached));
      mask = map({valid},
                 [](OpBuilder &nb, Location nl, ValueRange a) {
                   return arith::CmpFOp::create(nb, nl,
                                                arith::CmpFPredicate::ONE,
                                                a[0], cst(nb, nl, 0.0))
                       .getResult();
                 },
                 b.getI1Type());
    }
    Value o = WindowedAttentionOp::create(b, loc, q, k, v, window,
                                          std::nullopt, spec.qkLayernorm, mask)
                  ->getResult(0);
    if (cost) {
      cost->flopsPerKey += 4 * hq * dh;
      cost->kvBytesPerPosition += 4 * 2 * hkv * dh;
      cost->kvWindow = window.value_or(0);
    }
    return linear(mergeHeads(o), p + ".o_proj", d, true);
  }

  /// Canonical Mamba-1 mixer (SPEC.md 4.1.1).
  Value mamba(Value x, StringRef name) {
    int64_t d = lastDim(x), di = spec.innerSize(), n = spec.stateSize,
            rk = spec.dtRank();
    std::string p = name.str();
    Value xz = linear(x, p + ".in_proj", 2 * di, false);
    Value xi = sliceLast(xz, 0, di), z = sliceLast(xz, di, di);
    // Written unfused, as the canonical module computes it: hybrid-fuse
    // folds the SiLU, the discretisation, the D skip and the gate into the
    // conv and the scan.
    Value u = unary(conv(xi, p + ".conv1d", true, Activation::none), siluS);
    Value dbc = linear(u, p + ".x_proj", rk + 2 * n, false);
    Value dt = linear(sliceLast(dbc, 0, rk), p + ".dt_proj", di, false);
    Value dtBias = weight(p + ".dt_proj.bias", {di});
    Value aLog = weight(p + ".A_log", {di, n});
    Value a = map({aLog}, [](OpBuilder &nb, Location nl, ValueRange v) {
      return arith::NegFOp::create(nb, nl, math::ExpOp::create(nb, nl, v[0]))
          .getResult();
    });
    Value skip = weight(p + ".D", {di});
    Value bm = splitHeads(sliceLast(dbc, rk, n), 1);
    Value cm = splitHeads(sliceLast(dbc, rk + n, n), 1);
    Value h0 = stateIn(p + ".ssm_state", {di, n});
    Value delta = map({dt, dtBias}, [](OpBuilder &nb, Location nl,
                                       ValueRange v) {
      return softplusS(nb, nl, arith::AddFOp::create(nb, nl, v[0], v[1]));
    });
    auto scan = SsmScanOp::create(b, loc, u, delta, a, bm, cm, Value(),
                                  Value(), Value(), h0,
                                  /*delta_softplus=*/false, lengths);
    stateOut(scan.getFinalState());
    addFlops(7 * di * n);
    addStateBytes(di * n);
    // y + D u, then y silu(z).
    Value y = map({scan.getY(), skip, u},
                  [](OpBuilder &nb, Location nl, ValueRange v) {
                    Value du = arith::MulFOp::create(nb, nl, v[1], v[2]);
                    return arith::AddFOp::create(nb, nl, v[0], du).getResult();
                  });
    y = map({y, z}, [](OpBuilder &nb, Location nl, ValueRange v) {
      return arith::MulFOp::create(nb, nl, v[0], siluS(nb, nl, v[1]))
          .getResult();
    });
    return linear(y, p + ".out_proj", d, false);
  }

  /// GRU mixer (SPEC.md 4.6.1): input projection, then the recurrence.
  Value gru(Value x, StringRef name) {
    int64_t d = lastDim(x);
    std::string p = name.str();
    Value gates = linear(x, p + ".input_proj", 3 * d, true);
    Value wh = weight(p + ".hidden_proj.weight", {d, 3 * d});
    Value bh = weight(p + ".hidden_proj.bias", {3 * d});
    auto op = GruOp::create(b, loc, gates, wh, bh,
                            stateIn(p + ".hidden_state", {d}), lengths);
    stateOut(op.getFinalState());
    addFlops(2 * d * 3 * d);
    addStateBytes(d);
    return op.getH();
  }

  /// q, k, v projections with short convs and SiLU (fla DeltaNet layers),
  /// split into heads; q and k L2-normalised.
  std::array<Value, 3> deltaQkv(Value x, const std::string &p) {
    int64_t d = lastDim(x), h = spec.numHeads;
    std::array<Value, 3> qkv;
    const char *names[] = {"q", "k", "v"};
    for (int i = 0; i < 3; ++i) {
      Value proj = linear(x, p + "." + names[i] + "_proj", d, false);
      Value c = unary(conv(proj, p + "." + names[i] + "_conv1d", false,
                           Activation::none),
                      siluS);
      qkv[i] = splitHeads(c, h);
    }
    qkv[0] = l2norm(qkv[0]);
    qkv[1] = l2norm(qkv[1]);
    return qkv;
  }

  /// DeltaNet (SPEC.md 4.3.1) or Gated DeltaNet (4.4.1) mixer.
  Value deltaNet(Value x, StringRef name, bool gated) {
    int64_t d = lastDim(x), h = spec.numHeads, dh = d / h;
    std::string p = name.str();
    auto [q, k, v] = deltaQkv(x, p);
    Value beta = unary(linear(x, p + ".b_proj", h, false), sigmoidS);
    Value logDecay;
    if (gated) {
      Value a = linear(x, p + ".a_proj", h, false);
      Value aLog = weight(p + ".A_log", {h});
      Value dtBias = weight(p + ".dt_bias", {h});
      // g = -exp(A_log) * softplus(a + dt_bias)
      logDecay = map({a, aLog, dtBias},
                     [](OpBuilder &nb, Location nl, ValueRange v) {
                       Value sp = softplusS(
                           nb, nl, arith::AddFOp::create(nb, nl, v[0], v[2]));
                       Value ea = math::ExpOp::create(nb, nl, v[1]);
                       return arith::NegFOp::create(
                                  nb, nl, arith::MulFOp::create(nb, nl, ea, sp))
                           .getResult();
                     });
    }
    auto op = DeltaRuleOp::create(b, loc, q, k, v, beta, logDecay,
                                  stateIn(p + ".state", {h, dh, dh}),
                                  std::nullopt, lengths);
    stateOut(op.getFinalState());
    addFlops((gated ? 7 : 6) * h * dh * dh);
    addStateBytes(h * dh * dh);
    Value o = RmsNormOp::create(b, loc, op.getO(),
                                weight(p + ".o_norm.weight", {dh}),
                                1e-5f)
                  ->getResult(0);
    Value merged = mergeHeads(o);
    if (gated)
      merged = mul(merged, unary(linear(x, p + ".g_proj", d, false), siluS));
    return linear(merged, p + ".o_proj", d, false);
  }

  /// Block-diagonal linear (recurrentgemma BlockDiagonalLinear): H blocks of
  /// [blk, blk] with bias [H, blk].
  Value blockDiagonal(Value x, const std::string &name) {
    int64_t d = lastDim(x), h = spec.numHeads, blk = d / h;
    Value w = weight(name + ".weight", {h, blk, blk});
    Value bias = weight(name + ".bias", {h, blk});
    Value xh = splitHeads(x, h);
    // y[b,t,h,j] = Σ_i x[b,t,h,i] · w[h,i,j]   dims (b, t, h, j, i)
    MLIRContext *ctx = b.getContext();
    AffineExpr B, T, H, J, I;
    bindDims(ctx, B, T, H, J, I);
    SmallVector<AffineMap> maps{AffineMap::get(5, 0, {B, T, H, I}, ctx),
                                AffineMap::get(5, 0, {H, I, J}, ctx),
                                AffineMap::get(5, 0, {B, T, H, J}, ctx)};
    using IT = utils::IteratorType;
    Value y = contraction(xh, w, maps,
                          {IT::parallel, IT::parallel, IT::parallel,
                           IT::parallel, IT::reduction},
                          sizesOf(xh));
    addFlops(2 * d * blk);
    return mergeHeads(add(y, bias));
  }

  /// reset[b, t] = (t == 0): the recurrentgemma segment start of a forward
  /// pass that begins a sequence; with a `started` state [B] (stateful
  /// models), only where the sequence has not started yet.
  Value firstPositionMask(Value started) {
    Type i1 = b.getI1Type();
    SmallVector<OpFoldResult> sizes{batch, seq};
    Value init = tensor::EmptyOp::create(b, loc, sizes, i1);
    SmallVector<Value> ins;
    SmallVector<AffineMap> maps;
    if (started) {
      ins.push_back(started);
      maps.push_back(AffineMap::get(2, 0, {b.getAffineDimExpr(0)},
                                    b.getContext()));
    }
    maps.push_back(b.getMultiDimIdentityMap(2));
    SmallVector<utils::IteratorType> iters(2, utils::IteratorType::parallel);
    return linalg::GenericOp::create(
               b, loc, TypeRange{init.getType()}, ins, ValueRange{init}, maps,
               iters,
               [&](OpBuilder &nb, Location nl, ValueRange a) {
                 Value t = linalg::IndexOp::create(nb, nl, 1);
                 Value zero = arith::ConstantIndexOp::create(nb, nl, 0);
                 Value is0 = arith::CmpIOp::create(
                     nb, nl, arith::CmpIPredicate::eq, t, zero);
                 if (a.size() == 2) {
                   Value fresh = arith::CmpFOp::create(
                       nb, nl, arith::CmpFPredicate::OEQ, a[0],
                       cst(nb, nl, 0.0));
                   is0 = arith::AndIOp::create(nb, nl, is0, fresh);
                 }
                 linalg::YieldOp::create(nb, nl, is0);
               })
        .getResult(0);
  }

  /// Griffin recurrent block (SPEC.md 4.5.1): gelu branch, conv, RG-LRU.
  Value griffin(Value x, StringRef name) {
    int64_t d = lastDim(x);
    std::string p = name.str();
    Value y = unary(linear(x, p + ".linear_y", d, true), geluTanhS);
    Value xb = linear(x, p + ".linear_x", d, true);
    Value u = conv(xb, p + ".conv1d", true, Activation::none);
    Value gx = blockDiagonal(u, p + ".rg_lru.input_gate");
    Value ga = blockDiagonal(u, p + ".rg_lru.a_gate");
    Value aParam = weight(p + ".rg_lru.a_param", {d});
    Value started = stateIn(p + ".started", {});
    Value h0 = stateIn(p + ".lru_state", {d});
    // The gate math as the canonical module writes it, around the core
    // recurrence; hybrid-fuse folds it into the gated rg_lru.
    Value xGated = map({gx, u}, [](OpBuilder &nb, Location nl, ValueRange v) {
      return arith::MulFOp::create(nb, nl, sigmoidS(nb, nl, v[0]), v[1])
          .getResult();
    });
    Value logA = map({ga, aParam}, [](OpBuilder &nb, Location nl,
                                      ValueRange v) {
      // log a = -8 * sigmoid(gate_a) * softplus(Λ)
      Value s = arith::MulFOp::create(nb, nl, cst(nb, nl, -8.0),
                                      sigmoidS(nb, nl, v[0]));
      return arith::MulFOp::create(nb, nl, s, softplusS(nb, nl, v[1]))
          .getResult();
    });
    auto op = RgLruOp::createWithLogA(b, loc, xGated, logA,
                                      firstPositionMask(started), h0, lengths);
    if (stateful) {
      // Started once a sequence has had a position.
      stateOut(map({started, lengths}, [](OpBuilder &nb, Location nl,
                                          ValueRange a) {
        Value zero = arith::ConstantIntOp::create(nb, nl, a[1].getType(), 0);
        Value any = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::sgt,
                                          a[1], zero);
        return arith::SelectOp::create(nb, nl, any, cst(nb, nl, 1.0), a[0])
            .getResult();
      }));
      stateOut(op.getFinalState());
    }
    addFlops(10 * d);
    addStateBytes(d);
    return linear(mul(op.getH(), y), p + ".linear_out", d, true);
  }

  /// Griffin gated MLP: down(gelu_tanh(gate(x)) * up(x)), expand_factor wide.
  Value gatedMlp(Value x, StringRef name) {
    int64_t d = lastDim(x), w = spec.expandFactor * d;
    std::string p = name.str();
    Value g = unary(linear(x, p + ".gate_proj", w, true), geluTanhS);
    Value u = linear(x, p + ".up_proj", w, true);
    return linear(mul(g, u), p + ".down_proj", d, true);
  }

  /// RWKV-6 time mixing (SPEC.md 4.2.2, fla RWKV6Attention): data-dependent
  /// token-shift lerps (LoRA rank 32), decay LoRA (rank 64), WKV with bonus,
  /// per-head group norm, SiLU output gate.
  Value rwkvTimeMix(Value x, StringRef name) {
    int64_t d = lastDim(x), h = spec.numHeads, dh = d / h;
    constexpr int64_t kMixRank = 32, kDecayRank = 64;
    std::string p = name.str();
    Value xx = sub(tokenShift(x, p), x);
    auto lerp = [&](Value mu) { return add(x, mul(xx, mu)); };
    Value xxx = lerp(weight(p + ".time_maa_x", {d}));
    Value lora = unary(linear(xxx, p + ".time_maa_w1", 5 * kMixRank, false),
                       [](OpBuilder &nb, Location nl, Value v) {
                         return math::TanhOp::create(nb, nl, v).getResult();
                       });
    const char *parts[] = {"w", "k", "v", "r", "g"};
    Value mixed[5];
    for (int i = 0; i < 5; ++i) {
      Value delta = linear(sliceLast(lora, i * kMixRank, kMixRank),
                           p + ".time_maa_w2." + parts[i], d, false);
      Value mu = weight(p + ".time_maa_" + parts[i], {d});
      mixed[i] = add(x, mul(xx, add(delta, mu)));
    }
    Value r = linear(mixed[3], p + ".receptance", d, false);
    Value k = linear(mixed[1], p + ".key", d, false);
    Value v = linear(mixed[2], p + ".value", d, false);
    Value g = unary(linear(mixed[4], p + ".gate", d, false), siluS);
    Value wLora = linear(
        unary(linear(mixed[0], p + ".time_decay_w1", kDecayRank, false),
              [](OpBuilder &nb, Location nl, Value v) {
                return math::TanhOp::create(nb, nl, v).getResult();
              }),
        p + ".time_decay_w2", d, false);
    // log_decay = -exp(time_decay + lora): the decay is exp(-exp(w)).
    Value logDecay = map({wLora, weight(p + ".time_decay", {d})},
                         [](OpBuilder &nb, Location nl, ValueRange a) {
                           Value w = arith::AddFOp::create(nb, nl, a[0], a[1]);
                           return arith::NegFOp::create(
                                      nb, nl, math::ExpOp::create(nb, nl, w))
                               .getResult();
                         });
    Value bonus = weight(p + ".time_faaaa", {h, dh});
    auto op = WkvOp::create(b, loc, WkvVariant::rwkv6, splitHeads(r, h),
                            splitHeads(k, h), splitHeads(v, h),
                            splitHeads(logDecay, h), bonus, Value(), Value(),
                            stateIn(p + ".wkv_state", {h, dh, dh}), 1.0f,
                            lengths);
    stateOut(op.getFinalState());
    addFlops(5 * h * dh * dh);
    addStateBytes(h * dh * dh);
    // GroupNorm with one group per head, then the affine over d.
    Value o = LayerNormOp::create(b, loc, op.getO(),
                                  Value(), Value(), 1e-5f)
                  ->getResult(0);
    Value on = add(mul(mergeHeads(o), weight(p + ".ln_x.weight", {d})),
                   weight(p + ".ln_x.bias", {d}));
    return linear(mul(on, g), p + ".output", d, false);
  }

  /// RWKV-6 channel mixing: sigmoid(r) * value(relu(key(x_k))^2).
  Value rwkvChannelMix(Value x, StringRef name) {
    int64_t d = lastDim(x);
    int64_t hidden = 32 * ((d * 7 / 2 + 31) / 32);
    std::string p = name.str();
    Value xx = sub(tokenShift(x, p), x);
    Value xk = add(x, mul(xx, weight(p + ".time_maa_k", {d})));
    Value xr = add(x, mul(xx, weight(p + ".time_maa_r", {d})));
    Value k = unary(linear(xk, p + ".key", hidden, false),
                    [](OpBuilder &nb, Location nl, Value v) {
                      Value r = arith::MaximumFOp::create(nb, nl, v,
                                                          cst(nb, nl, 0.0));
                      return arith::MulFOp::create(nb, nl, r, r).getResult();
                    });
    Value kv = linear(k, p + ".value", d, false);
    Value r = unary(linear(xr, p + ".receptance", d, false), sigmoidS);
    return mul(r, kv);
  }

  /// The temporal mixer of a backbone kind (the branch of a parallel
  /// block; for rwkv the time mixing, for griffin the recurrent block).
  Value backboneMixer(LayerKind kind, Value x, StringRef name) {
    switch (kind) {
    case LayerKind::Mamba:
      return mamba(x, name);
    case LayerKind::Gru:
      return gru(x, name);
    case LayerKind::Rwkv:
      return rwkvTimeMix(x, name);
    case LayerKind::DeltaNet:
      return deltaNet(x, name, false);
    case LayerKind::GatedDeltaNet:
      return deltaNet(x, name, true);
    case LayerKind::GriffinLru:
      return griffin(x, name);
    case LayerKind::Attention:
    case LayerKind::Parallel:
      break;
    }
    llvm_unreachable("not a backbone");
  }

  /// `x + f(norm(x))` (pre-norm) or `norm(x + f(x))` (post-norm).
  Value residual(Value x, StringRef normName,
                 const std::function<Value(Value)> &f) {
    if (spec.preNorm)
      return add(x, f(norm(x, normName)));
    return norm(add(x, f(x)), normName);
  }

  /// A Hymba-style block (SPEC.md 4.8.1).
  Value parallelBlock(Value x) {
    int64_t d = lastDim(x);
    Value n = norm(x, "norm");
    Value g = unary(linear(n, "gate_proj", d, true), sigmoidS);
    // The branches' final states leave the regions as extra results, so
    // the op is built once the branches (and their types) are known.
    auto op = GatedParallelOp::create(b, loc, TypeRange{x.getType()}, n, g);
    SmallVector<Value> extras;
    for (Region *region : {&op.getBackbone(), &op.getAttention()}) {
      OpBuilder::InsertionGuard guard(b);
      Block *body = b.createBlock(region, {}, {n.getType()}, {loc});
      size_t before = finalStates.size();
      Value branch = region == &op.getBackbone()
                         ? backboneMixer(spec.backbone, body->getArgument(0),
                                         "backbone")
                         : attention(body->getArgument(0), "attn");
      SmallVector<Value> yielded{branch};
      yielded.append(finalStates.begin() + before, finalStates.end());
      extras.append(finalStates.begin() + before, finalStates.end());
      finalStates.resize(before);
      YieldOp::create(b, loc, yielded);
    }
    if (!extras.empty()) {
      // Rebuild with the extra results and move the regions over.
      SmallVector<Type> types{x.getType()};
      for (Value e : extras)
        types.push_back(e.getType());
      auto withStates = GatedParallelOp::create(b, loc, types, n, g);
      withStates.getBackbone().takeBody(op.getBackbone());
      withStates.getAttention().takeBody(op.getAttention());
      op.erase();
      op = withStates;
      for (Value r : op.getResults().drop_front())
        finalStates.push_back(r);
    }
    addFlops(3 * d); // the gated mix
    Value m = add(x, op.getResult(0));
    return add(m, ffn(norm(m, "ffn_norm"), "ffn"));
  }

  Value layer(LayerKind kind, Value x) {
    switch (kind) {
    case LayerKind::Attention: {
      Value m = residual(x, "attn_norm",
                         [&](Value v) { return attention(v, "attn"); });
      return residual(m, "ffn_norm", [&](Value v) { return ffn(v, "ffn"); });
    }
    case LayerKind::Rwkv: {
      Value m = residual(x, "ln1",
                         [&](Value v) { return rwkvTimeMix(v, "time_mix"); });
      return residual(m, "ln2", [&](Value v) {
        return rwkvChannelMix(v, "channel_mix");
      });
    }
    case LayerKind::GriffinLru: {
      Value m = residual(x, "temporal_norm",
                         [&](Value v) { return griffin(v, "temporal"); });
      return residual(m, "mlp_norm",
                      [&](Value v) { return gatedMlp(v, "mlp"); });
    }
    case LayerKind::Parallel:
      return parallelBlock(x);
    default:
      return residual(x, "norm", [&](Value v) {
        return backboneMixer(kind, v, "mixer");
      });
    }
  }

  /// A layer kind's shared function: its weights and states (names without
  /// the layer prefix, in argument order) and what one layer costs.
  struct LayerFunction {
    func::FuncOp fn;
    std::vector<WeightInfo> weights, states;
    LayerCost cost;
  };

  /// Layer `kind` as a call of its shared function (built at its first
  /// use): `fn(x, [lengths,] weights..., states...) -> (x', states'...)`,
  /// the model function passing this layer's weights and states.
  Value sharedLayer(LayerKind kind, Value x) {
    auto it = layerFns.find(kind);
    if (it == layerFns.end()) {
      LayerFunction lf;
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToEnd(fn->getBlock());
      SmallVector<Type> argTypes{x.getType()};
      if (lengths)
        argTypes.push_back(lengths.getType());
      std::string name =
          (fn.getName() + "__layer_" + layerKindName(kind)).str();
      lf.fn = func::FuncOp::create(b, loc, name,
                                   b.getFunctionType(argTypes, {}));
      lf.fn.setPrivate();
      Block *entry = lf.fn.addEntryBlock();
      // Build the layer against the function's own arguments.
      OpFoldResult outerBatch = batch, outerSeq = seq;
      Value outerLengths = lengths;
      SmallVector<Value> outerStates = std::move(finalStates);
      finalStates.clear();
      layerFn = &lf;
      b.setInsertionPointToEnd(entry);
      Value arg = entry->getArgument(0);
      batch = tensor::getMixedSize(b, loc, arg, 0);
      seq = tensor::getMixedSize(b, loc, arg, 1);
      if (lengths)
        lengths = entry->getArgument(1);
      LayerCost before = *cost;
      Value y = layer(kind, arg);
      SmallVector<Value> results{y};
      results.append(finalStates.begin(), finalStates.end());
      func::ReturnOp::create(b, loc, results);
      lf.fn.setType(b.getFunctionType(entry->getArgumentTypes(),
                                      ValueRange(results).getTypes()));
      lf.cost = *cost;
      *cost = before;
      layerFn = nullptr;
      batch = outerBatch;
      seq = outerSeq;
      lengths = outerLengths;
      finalStates = std::move(outerStates);
      it = layerFns.try_emplace(kind, std::move(lf)).first;
    }
    const LayerFunction &lf = it->second;
    *cost = lf.cost;
    SmallVector<Value> args{x};
    if (lengths)
      args.push_back(lengths);
    for (const WeightInfo &w : lf.weights)
      args.push_back(modelWeight(w.name, w.shape, /*book=*/false));
    for (const WeightInfo &st : lf.states)
      args.push_back(modelStateIn(st.name, st.shape));
    auto call = func::CallOp::create(b, loc, lf.fn, args);
    for (Value r : call.getResults().drop_front())
      finalStates.push_back(r);
    return call.getResult(0);
  }

  const ModelSpec &spec;
  func::FuncOp fn;
  BuiltModel &out;
  /// Builds the stateful form (states in and out).
  bool stateful;
  /// Calls one shared function per layer kind (BuildOptions).
  bool shareLayers;
  std::map<LayerKind, LayerFunction> layerFns;
  /// The shared layer function being built, or null.
  LayerFunction *layerFn = nullptr;
  OpBuilder b;
  Location loc;
  Type f32;
  /// The layer whose cost is being booked (null: model-level weights).
  LayerCost *cost = nullptr;
  /// Prepended to weight names ("layers.3.").
  std::string prefix;
  /// Batch and sequence sizes of the input (values for dynamic sizes).
  OpFoldResult batch, seq;
  /// Values whose dimension 1 is not the chunk length (K/V joined with
  /// their cache): sizesOf asks them for it.
  llvm::DenseSet<Value> longerThanSeq;
public:
  /// Stateful form: the lengths [B] (i64) of the sequences in the chunk.
  Value lengths;
private:
  int64_t batchSize = ShapedType::kDynamic, seqSize = ShapedType::kDynamic;
};

Value Emitter::emitModel(Value input) {
  auto inType = cast<RankedTensorType>(input.getType());
  batch = tensor::getMixedSize(b, loc, input, 0);
  seq = tensor::getMixedSize(b, loc, input, 1);
  seqSize = inType.getDimSize(1);
  Value x = input;
  if (spec.embedDim != spec.hiddenSize)
    x = linear(x, "input_proj", spec.hiddenSize, true);
  std::vector<LayerKind> layers = spec.resolveSchedule();
  out.layers.reserve(layers.size());
  for (auto [i, kind] : llvm::enumerate(layers)) {
    out.layers.push_back(LayerCost{kind});
    cost = &out.layers.back();
    prefix = "layers." + std::to_string(i) + ".";
    x = shareLayers ? sharedLayer(kind, x) : layer(kind, x);
  }
  cost = nullptr;
  prefix.clear();
  Value y = norm(x, "final_norm");
  if (lengths) {
    // Each sequence's positions past its length are zero; its last
    // position is the one before its length (zero for an empty one).
    if (spec.output == OutputKind::Sequence) {
      Value init = tensor::EmptyOp::create(b, loc, sizesOf(y), f32);
      SmallVector<AffineMap> maps{
          b.getMultiDimIdentityMap(3),
          AffineMap::get(3, 0, {b.getAffineDimExpr(0)}, b.getContext()),
          b.getMultiDimIdentityMap(3)};
      SmallVector<utils::IteratorType> iters(3, utils::IteratorType::parallel);
      return linalg::GenericOp::create(
                 b, loc, TypeRange{init.getType()}, ValueRange{y, lengths},
                 ValueRange{init}, maps, iters,
                 [&](OpBuilder &nb, Location nl, ValueRange a) {
                   Value t = linalg::IndexOp::create(nb, nl, 1);
                   Value live = arith::CmpIOp::create(
                       nb, nl, arith::CmpIPredicate::slt, t,
                       clampedLength(nb, nl, a[1]));
                   linalg::YieldOp::create(
                       nb, nl,
                       arith::SelectOp::create(nb, nl, live, a[0],
                                               cst(nb, nl, 0.0))
                           .getResult());
                 })
          .getResult(0);
    }
    Value last = gatherAlongSeq(y, -1, 1);
    return tensor::CollapseShapeOp::create(
        b, loc, RankedTensorType::get({batchSize, spec.hiddenSize}, f32), last,
        ArrayRef<ReassociationIndices>{{0, 1}, {2}});
  }
  if (spec.output == OutputKind::Sequence)
    return y;
  // y[:, T-1, :] as [B, d].
  int64_t d = spec.hiddenSize;
  OpFoldResult last;
  if (ShapedType::isDynamic(seqSize)) {
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    last = arith::SubIOp::create(b, loc, cast<Value>(seq), one).getResult();
  } else {
    last = b.getIndexAttr(seqSize - 1);
  }
  SmallVector<OpFoldResult> offsets{b.getIndexAttr(0), last, b.getIndexAttr(0)};
  SmallVector<OpFoldResult> sizes{batch, b.getIndexAttr(1), b.getIndexAttr(d)};
  SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
  auto type = RankedTensorType::get({batchSize, d}, f32);
  return tensor::ExtractSliceOp::create(b, loc, type, y, offsets, sizes,
                                        strides);
}

} // namespace

/// The model as `funcName(input, weights...[, states...]) -> (output[,
/// states...])`.
static BuiltModel buildFunction(MLIRContext *context, const ModelSpec &spec,
                                StringRef funcName, bool stateful,
                                const BuildOptions &options) {
  context->loadDialect<HybridDialect, func::FuncDialect, linalg::LinalgDialect,
                       tensor::TensorDialect, arith::ArithDialect,
                       math::MathDialect>();
  BuiltModel out;
  OpBuilder b(context);
  Location loc = NameLoc::get(b.getStringAttr("model"));
  out.module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(out.module->getBody());
  int64_t seqSize = spec.seqLen.value_or(ShapedType::kDynamic);
  auto inputType = RankedTensorType::get(
      {ShapedType::kDynamic, seqSize, spec.embedDim}, b.getF32Type());
  auto fn = func::FuncOp::create(b, loc, funcName,
                                 b.getFunctionType({inputType}, {}));
  fn.setArgAttr(0, kWeightAttrName, b.getStringAttr("input"));
  Block *entry = fn.addEntryBlock();
  bool share = options.layers == LayerSharing::Always ||
               (options.layers == LayerSharing::Auto &&
                static_cast<int64_t>(spec.resolveSchedule().size()) >
                    kShareLayersAbove);
  Emitter emitter(spec, fn, out, stateful, share);
  if (stateful) {
    auto lengthsType =
        RankedTensorType::get({ShapedType::kDynamic}, b.getI64Type());
    (void)fn.insertArgument(1, lengthsType,
                      b.getDictionaryAttr({b.getNamedAttr(
                          kWeightAttrName, b.getStringAttr("lengths"))}),
                      loc);
    emitter.lengths = entry->getArgument(1);
  }
  Value result = emitter.emitModel(entry->getArgument(0));
  b.setInsertionPointToEnd(entry);
  SmallVector<Value> results{result};
  results.append(emitter.finalStates.begin(), emitter.finalStates.end());
  func::ReturnOp::create(b, loc, results);
  fn.setType(b.getFunctionType(entry->getArgumentTypes(),
                               ValueRange(results).getTypes()));
  return out;
}

BuiltModel mlir::hybrid::frontend::buildModel(MLIRContext *context,
                                              const ModelSpec &spec,
                                              StringRef funcName,
                                              const BuildOptions &options) {
  return buildFunction(context, spec, funcName, /*stateful=*/false, options);
}

llvm::Expected<BuiltModel>
mlir::hybrid::frontend::buildStatefulModel(MLIRContext *context,
                                           const ModelSpec &spec,
                                           StringRef funcName,
                                           StringRef stepFuncName,
                                           const BuildOptions &options) {
  bool anyAttention = false;
  for (LayerKind k : spec.resolveSchedule())
    anyAttention |= k == LayerKind::Attention || k == LayerKind::Parallel;
  if (anyAttention && !spec.attentionWindow())
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "stateful inference needs a sliding window: full causal attention "
        "(use_sliding_window false) keeps every past key, so its cache would "
        "grow with the sequence");
  BuiltModel built =
      buildFunction(context, spec, funcName, /*stateful=*/true, options);
  if (stepFuncName.empty())
    return built;
  // The step: the same model over chunks of exactly one position, moved
  // into the prefill's module (same weights and states, in the same order).
  ModelSpec one = spec;
  one.seqLen = 1;
  BuiltModel step = buildFunction(context, one, stepFuncName, true, options);
  // The step function and its shared layer functions (named after it).
  for (Operation &op : llvm::make_early_inc_range(*step.module->getBody()))
    op.moveBefore(built.module->getBody(), built.module->getBody()->end());
  return built;
}

std::vector<WeightInfo>
mlir::hybrid::frontend::getModelWeights(func::FuncOp func) {
  std::vector<WeightInfo> weights;
  for (unsigned i = 1, e = func.getNumArguments(); i < e; ++i) {
    auto name = func.getArgAttrOfType<StringAttr>(i, kWeightAttrName);
    // The stateful form's lengths and states are not weights.
    if ((name && name.getValue() == "lengths") ||
        func.getArgAttr(i, "hybrid.state"))
      continue;
    auto type = cast<RankedTensorType>(func.getArgument(i).getType());
    weights.push_back({name ? name.str() : std::string(),
                       std::vector<int64_t>(type.getShape().begin(),
                                            type.getShape().end())});
  }
  return weights;
}
