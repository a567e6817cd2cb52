//===- TilingInterfaceImpl.cpp - TilingInterface for hybrid ops -*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// TilingInterface external models, so upstream `scf::tileUsingSCF` and
// `scf::tileConsumerAndFuseProducersUsingSCF` tile hybrid ops and fuse
// producers and consumers into their tiles.
//
// Every op is described by a small table: its loops (parallel ones first,
// then the sequential time loop of a recurrence, or the reduction of a
// norm), where each loop's size comes from, and for every operand and
// result which loop indexes each of its dimensions. A dimension is
//
//   * `Loop(l)`:  indexed by loop l (sliced like the tile of l);
//   * `Group(l)`: a group of loop l's indices (B/C groups of ssm_scan, the
//                 q/k heads of grouped delta rules, the K/V heads of
//                 grouped-query attention): sliced to the groups the tile
//                 of l touches;
//   * `Keys(l)`:  the keys that the query tile of l attends to;
//   * `Full`:     never sliced (feature widths, d_state, and time: a tile
//                 of a recurrence always covers the whole sequence, since
//                 splitting time needs the state carried between the
//                 pieces, which is `hybrid-chunk`'s job).
//
// A tile is the same hybrid op on slices. Tile sizes of grouped loops must
// keep a tile inside a group or cover whole groups (the tiling pass chooses
// such sizes and rejects others).
//
//===----------------------------------------------------------------------===//

#include "ScalarImplementation.h"
#include "hybrid/Dialect/Hybrid/IR/HybridExternalModels.h"
#include "hybrid/Dialect/Hybrid/IR/HybridOps.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/TilingInterface.h"

using namespace mlir;
using namespace mlir::hybrid;

namespace {

using utils::IteratorType;

/// Dimension `dim` of a tensor or memref value.
OpFoldResult mixedSize(OpBuilder &b, Location loc, Value value, int64_t dim) {
  if (isa<MemRefType>(value.getType()))
    return memref::getMixedSize(b, loc, value, dim);
  return tensor::getMixedSize(b, loc, value, dim);
}

/// Every dimension of a tensor or memref value.
SmallVector<OpFoldResult> mixedSizes(OpBuilder &b, Location loc, Value value) {
  if (isa<MemRefType>(value.getType()))
    return memref::getMixedSizes(b, loc, value);
  return tensor::getMixedSizes(b, loc, value);
}

/// How one dimension of an operand or result relates to the loops.
struct DimMap {
  enum Kind { Full, Loop, Group, Keys } kind = Full;
  unsigned loop = 0;
};
DimMap full() { return {DimMap::Full, 0}; }
DimMap loop(unsigned l) { return {DimMap::Loop, l}; }
DimMap group(unsigned l) { return {DimMap::Group, l}; }
DimMap keys(unsigned l) { return {DimMap::Keys, l}; }

/// The tiling table of one op.
struct TilingDesc {
  SmallVector<IteratorType> iterators;
  /// The size of loop l is dimension `second` of value `first`.
  SmallVector<std::pair<Value, int64_t>> loopSizes;
  /// Per operand number; empty: not sliced (a weight with no tiled dim).
  SmallVector<SmallVector<DimMap>> operands;
  SmallVector<SmallVector<DimMap>> results;
  /// windowed_attention: the key range [start, start + size) that queries
  /// [offset, offset + size) attend to.
  std::function<std::pair<OpFoldResult, OpFoldResult>(
      OpBuilder &, Location, OpFoldResult, OpFoldResult)>
      keyRange;

  explicit TilingDesc(Operation *op)
      : operands(op->getNumOperands()), results(op->getNumResults()) {}
  void set(MutableOperandRange range, SmallVector<DimMap> dims) {
    for (OpOperand &o : range)
      operands[o.getOperandNumber()] = dims;
  }
};

//===----------------------------------------------------------------------===//
// The tables
//===----------------------------------------------------------------------===//

constexpr IteratorType kPar = IteratorType::parallel;
constexpr IteratorType kSeq = IteratorType::reduction;

/// ssm_scan: loops (batch, channel, time).
TilingDesc describe(SsmScanOp op) {
  TilingDesc d(op);
  d.iterators = {kPar, kPar, kSeq};
  d.loopSizes = {{op.getU(), 0}, {op.getU(), 2}, {op.getU(), 1}};
  SmallVector<DimMap> seq{loop(0), full(), loop(1)};
  d.set(op.getUMutable(), seq);
  d.set(op.getDeltaMutable(), seq);
  d.set(op.getZMutable(), seq);
  d.set(op.getAMutable(), {loop(1), full()});
  SmallVector<DimMap> bc{loop(0), full(), group(1), full()};
  if (!op.hasGroupedBC())
    bc = {loop(0), full(), full()};
  d.set(op.getBMutable(), bc);
  d.set(op.getCMutable(), bc);
  d.set(op.getDMutable(), {loop(1)});
  d.set(op.getDeltaBiasMutable(), {loop(1)});
  d.set(op.getInitialStateMutable(), {loop(0), loop(1), full()});
  d.set(op.getLengthsMutable(), {loop(0)});
  d.results = {seq, {loop(0), loop(1), full()}};
  return d;
}

/// wkv: loops (batch, head, value row, time).
TilingDesc describe(WkvOp op) {
  TilingDesc d(op);
  d.iterators = {kPar, kPar, kPar, kSeq};
  d.loopSizes = {{op.getR(), 0}, {op.getR(), 2}, {op.getV(), 3},
                 {op.getR(), 1}};
  SmallVector<DimMap> key{loop(0), full(), loop(1), full()};
  SmallVector<DimMap> value{loop(0), full(), loop(1), loop(2)};
  for (MutableOperandRange r : std::initializer_list<MutableOperandRange>{
           op.getRMutable(), op.getKMutable(), op.getLogDecayMutable(),
        op.getAMutable(), op.getBMutable()})
    d.set(r, key);
  d.set(op.getVMutable(), value);
  d.set(op.getBonusMutable(), {loop(1), full()});
  d.set(op.getInitialStateMutable(), {loop(0), loop(1), loop(2), full()});
  d.set(op.getLengthsMutable(), {loop(0)});
  d.results = {value, {loop(0), loop(1), loop(2), full()}};
  return d;
}

/// delta_rule: loops (batch, value head, value row, time); q/k heads are
/// groups of value heads.
TilingDesc describe(DeltaRuleOp op) {
  TilingDesc d(op);
  d.iterators = {kPar, kPar, kPar, kSeq};
  d.loopSizes = {{op.getV(), 0}, {op.getV(), 2}, {op.getV(), 3},
                 {op.getV(), 1}};
  SmallVector<DimMap> qk{loop(0), full(), group(1), full()};
  SmallVector<DimMap> value{loop(0), full(), loop(1), loop(2)};
  d.set(op.getQMutable(), qk);
  d.set(op.getKMutable(), qk);
  d.set(op.getVMutable(), value);
  if (op.hasPerChannelBeta())
    d.set(op.getBetaMutable(), value);
  else
    d.set(op.getBetaMutable(), {loop(0), full(), loop(1)});
  d.set(op.getLogDecayMutable(), {loop(0), full(), loop(1)});
  d.set(op.getDecayALogMutable(), {loop(1)});
  d.set(op.getDecayBiasMutable(), {loop(1)});
  d.set(op.getInitialStateMutable(), {loop(0), loop(1), loop(2), full()});
  d.set(op.getLengthsMutable(), {loop(0)});
  d.results = {value, {loop(0), loop(1), loop(2), full()}};
  return d;
}

/// rg_lru: loops (batch, channel, time).
TilingDesc describe(RgLruOp op) {
  TilingDesc d(op);
  d.iterators = {kPar, kPar, kSeq};
  d.loopSizes = {{op.getX(), 0}, {op.getX(), 2}, {op.getX(), 1}};
  SmallVector<DimMap> seq{loop(0), full(), loop(1)};
  d.set(op.getXMutable(), seq);
  d.set(op.getGateXMutable(), seq);
  d.set(op.getGateAMutable(), seq);
  d.set(op.getLogAMutable(), seq);
  d.set(op.getAParamMutable(), {loop(1)});
  d.set(op.getResetMutable(), {loop(0), full()});
  d.set(op.getInitialStateMutable(), {loop(0), loop(1)});
  d.set(op.getLengthsMutable(), {loop(0)});
  d.results = {seq, {loop(0), loop(1)}};
  return d;
}

/// gru: loops (batch, time); the hidden mat-vec couples every channel.
TilingDesc describe(GruOp op) {
  TilingDesc d(op);
  d.iterators = {kPar, kSeq};
  d.loopSizes = {{op.getInputGates(), 0}, {op.getInputGates(), 1}};
  d.set(op.getInputGatesMutable(), {loop(0), full(), full()});
  d.set(op.getInitialStateMutable(), {loop(0), full()});
  d.set(op.getLengthsMutable(), {loop(0)});
  d.results = {{loop(0), full(), full()}, {loop(0), full()}};
  return d;
}

/// causal_conv1d: loops (batch, channel, time).
TilingDesc describe(CausalConv1dOp op) {
  TilingDesc d(op);
  d.iterators = {kPar, kPar, kSeq};
  d.loopSizes = {{op.getX(), 0}, {op.getX(), 2}, {op.getX(), 1}};
  SmallVector<DimMap> seq{loop(0), full(), loop(1)};
  d.set(op.getXMutable(), seq);
  d.set(op.getWeightMutable(), {full(), loop(1)});
  d.set(op.getBiasMutable(), {loop(1)});
  d.set(op.getInitialStateMutable(), {loop(0), full(), loop(1)});
  d.set(op.getLengthsMutable(), {loop(0)});
  d.results = {seq, {loop(0), full(), loop(1)}};
  return d;
}

/// windowed_attention: loops (batch, query head, query), all parallel; a
/// query tile reads the keys its queries attend to.
TilingDesc describe(WindowedAttentionOp op) {
  TilingDesc d(op);
  d.iterators = {kPar, kPar, kPar};
  d.loopSizes = {{op.getQ(), 0}, {op.getQ(), 2}, {op.getQ(), 1}};
  d.set(op.getQMutable(), {loop(0), loop(2), loop(1), full()});
  SmallVector<DimMap> kv{loop(0), keys(2), group(1), full()};
  d.set(op.getKMutable(), kv);
  d.set(op.getVMutable(), kv);
  d.set(op.getKeyMaskMutable(), {loop(0), keys(2)});
  d.results = {{loop(0), loop(2), loop(1), full()}};
  Value q = op.getQ(), k = op.getK();
  std::optional<int64_t> window = op.getWindow();
  d.keyRange = [q, k, window](OpBuilder &b, Location loc, OpFoldResult off,
                              OpFoldResult size)
      -> std::pair<OpFoldResult, OpFoldResult> {
    // Query i sits at key position S - Tq + i: the tile's last query at
    // S - Tq + off + size - 1, its first at S - Tq + off.
    AffineExpr s0, s1, s2, s3;
    bindSymbols(b.getContext(), s0, s1, s2, s3);
    SmallVector<OpFoldResult> ops{mixedSize(b, loc, k, 1),
                                  mixedSize(b, loc, q, 1), off,
                                  size};
    OpFoldResult end = affine::makeComposedFoldedAffineApply(
        b, loc, s0 - s1 + s2 + s3, ops);
    if (!window)
      return {b.getIndexAttr(0), end};
    AffineMap startMap = AffineMap::get(
        0, 4, {s0 - s1 + s2 - (*window - 1), getAffineConstantExpr(0, b.getContext())},
        b.getContext());
    OpFoldResult start =
        affine::makeComposedFoldedAffineMax(b, loc, startMap, ops);
    OpFoldResult len = affine::makeComposedFoldedAffineApply(
        b, loc, s0 - s1, {end, start});
    return {start, len};
  };
  return d;
}

/// layer_norm, rms_norm: every dimension but the last is a parallel loop;
/// the last is the normalised (reduction) dimension, never sliced.
template <typename NormOp>
TilingDesc describeNorm(NormOp op) {
  TilingDesc d(op);
  Value x = op.getInput();
  int64_t rank = cast<ShapedType>(x.getType()).getRank();
  SmallVector<DimMap> rows;
  for (int64_t i = 0; i < rank; ++i) {
    d.iterators.push_back(i + 1 == rank ? kSeq : kPar);
    d.loopSizes.push_back({x, i});
    rows.push_back(i + 1 == rank ? full() : loop(i));
  }
  d.set(op.getInputMutable(), rows);
  d.results = {rows};
  return d;
}
TilingDesc describe(LayerNormOp op) { return describeNorm(op); }
TilingDesc describe(RmsNormOp op) { return describeNorm(op); }

/// The table of `op` with its destinations sliced like their results.
template <typename OpTy>
TilingDesc describeOp(OpTy op) {
  TilingDesc d = describe(op);
  auto dps = cast<DestinationStyleOpInterface>(op.getOperation());
  // Destination i holds result i (also in the memref form, which has no
  // results).
  for (auto [i, init] : llvm::enumerate(dps.getDpsInitsMutable()))
    d.operands[init.getOperandNumber()] = d.results[i];
  return d;
}

//===----------------------------------------------------------------------===//
// Slicing by the tables
//===----------------------------------------------------------------------===//

/// x / y (rounded up with `ceil`), folded when both are constants.
OpFoldResult divide(OpBuilder &b, Location loc, OpFoldResult x,
                    OpFoldResult y, bool ceil) {
  std::optional<int64_t> cy = getConstantIntValue(y);
  if (cy && *cy == 1)
    return x;
  if (cy) {
    AffineExpr s0 = getAffineSymbolExpr(0, b.getContext());
    return affine::makeComposedFoldedAffineApply(
        b, loc, ceil ? s0.ceilDiv(*cy) : s0.floorDiv(*cy), {x});
  }
  Value vx = getValueOrCreateConstantIndexOp(b, loc, x);
  Value vy = getValueOrCreateConstantIndexOp(b, loc, y);
  if (ceil)
    return arith::CeilDivUIOp::create(b, loc, vx, vy).getResult();
  return arith::DivUIOp::create(b, loc, vx, vy).getResult();
}

/// The size of loop l.
OpFoldResult loopSize(OpBuilder &b, Location loc, const TilingDesc &d,
                      unsigned l) {
  return mixedSize(b, loc, d.loopSizes[l].first, d.loopSizes[l].second);
}

/// The tile of every dimension of `value` is the whole dimension.
bool isWhole(ArrayRef<DimMap> dims) {
  return llvm::all_of(dims, [](DimMap m) { return m.kind == DimMap::Full; });
}

/// The sizes of `value`: an operand's own, or, for a result of the op being
/// tiled (`ownResult`), reified from its operands (a tile must not refer to
/// the op it replaces).
SmallVector<OpFoldResult> sizesOf(OpBuilder &b, Location loc, Value value,
                                  bool ownResult) {
  auto result = dyn_cast<OpResult>(value);
  if (!ownResult || !result)
    return mixedSizes(b, loc, value);
  ReifiedRankedShapedTypeDims shapes;
  if (failed(reifyResultShapes(b, result.getOwner(), shapes)))
    return {};
  return shapes[result.getResultNumber()];
}

/// Offsets and sizes of the part of `value` (laid out as `dims`) that the
/// loop tile (offsets, sizes) reads or writes.
void tileOf(OpBuilder &b, Location loc, const TilingDesc &d, Value value,
            bool ownResult, ArrayRef<DimMap> dims, ArrayRef<OpFoldResult> offsets,
            ArrayRef<OpFoldResult> sizes, SmallVectorImpl<OpFoldResult> &off,
            SmallVectorImpl<OpFoldResult> &sz) {
  SmallVector<OpFoldResult> whole = sizesOf(b, loc, value, ownResult);
  for (auto [i, dm] : llvm::enumerate(dims)) {
    switch (dm.kind) {
    case DimMap::Full:
      off.push_back(b.getIndexAttr(0));
      sz.push_back(whole[i]);
      break;
    case DimMap::Loop:
      off.push_back(offsets[dm.loop]);
      sz.push_back(sizes[dm.loop]);
      break;
    case DimMap::Group: {
      // groups of gs = loop size / group count consecutive loop indices.
      OpFoldResult gs =
          divide(b, loc, loopSize(b, loc, d, dm.loop),
                 mixedSize(b, loc, value, i), /*ceil=*/false);
      off.push_back(divide(b, loc, offsets[dm.loop], gs, /*ceil=*/false));
      sz.push_back(divide(b, loc, sizes[dm.loop], gs, /*ceil=*/true));
      break;
    }
    case DimMap::Keys: {
      auto [start, len] = d.keyRange(b, loc, offsets[dm.loop], sizes[dm.loop]);
      off.push_back(start);
      sz.push_back(len);
      break;
    }
    }
  }
}

/// True when [offset, offset + size) is provably all of dimension `dim` of
/// `value` (a constant size, or the same tensor.dim).
bool coversDim(Value value, int64_t dim, OpFoldResult offset,
               OpFoldResult size) {
  if (!isConstantIntValue(offset, 0))
    return false;
  auto type = cast<ShapedType>(value.getType());
  if (!type.isDynamicDim(dim))
    return isConstantIntValue(size, type.getDimSize(dim));
  auto sv = dyn_cast<Value>(size);
  if (!sv)
    return false;
  std::optional<int64_t> idx;
  Value source;
  if (auto dimOp = sv.getDefiningOp<tensor::DimOp>()) {
    idx = dimOp.getConstantIndex();
    source = dimOp.getSource();
  } else if (auto dimOp = sv.getDefiningOp<memref::DimOp>()) {
    idx = dimOp.getConstantIndex();
    source = dimOp.getSource();
  }
  return idx && *idx == dim && source == value;
}

/// The iteration-domain tile that touches the tile (offsets, sizes) of a
/// value laid out as `dims`: its Loop dimensions give their loops' tiles,
/// every other loop is whole. Fails when a dimension that is not indexed by
/// a loop (time, a feature width) is not whole, or a loop is indexed by a
/// group.
LogicalResult domainFromTile(OpBuilder &b, Location loc, const TilingDesc &d,
                             Value value, ArrayRef<DimMap> dims,
                             ArrayRef<OpFoldResult> offsets,
                             ArrayRef<OpFoldResult> sizes,
                             SmallVectorImpl<OpFoldResult> &domOff,
                             SmallVectorImpl<OpFoldResult> &domSz) {
  unsigned n = d.iterators.size();
  domOff.assign(n, b.getIndexAttr(0));
  domSz.clear();
  for (unsigned l = 0; l < n; ++l)
    domSz.push_back(loopSize(b, loc, d, l));
  if (dims.size() != offsets.size())
    return failure();
  for (auto [i, dm] : llvm::enumerate(dims)) {
    if (dm.kind == DimMap::Loop) {
      domOff[dm.loop] = offsets[i];
      domSz[dm.loop] = sizes[i];
      continue;
    }
    if (!coversDim(value, i, offsets[i], sizes[i]))
      return failure();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// The external model
//===----------------------------------------------------------------------===//

template <typename OpTy>
struct HybridTilingModel
    : public TilingInterface::ExternalModel<HybridTilingModel<OpTy>, OpTy> {
  SmallVector<IteratorType> getLoopIteratorTypes(Operation *op) const {
    return describeOp(cast<OpTy>(op)).iterators;
  }

  SmallVector<Range> getIterationDomain(Operation *op, OpBuilder &b) const {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPoint(op);
    TilingDesc d = describeOp(cast<OpTy>(op));
    SmallVector<Range> domain;
    for (unsigned l = 0; l < d.iterators.size(); ++l)
      domain.push_back(Range{b.getIndexAttr(0), loopSize(b, op->getLoc(), d, l),
                             b.getIndexAttr(1)});
    return domain;
  }

  LogicalResult getResultTilePosition(Operation *op, OpBuilder &b,
                                      unsigned resultNumber,
                                      ArrayRef<OpFoldResult> offsets,
                                      ArrayRef<OpFoldResult> sizes,
                                      SmallVector<OpFoldResult> &resultOffsets,
                                      SmallVector<OpFoldResult> &resultSizes) const {
    TilingDesc d = describeOp(cast<OpTy>(op));
    resultOffsets.clear();
    resultSizes.clear();
    tileOf(b, op->getLoc(), d, op->getResult(resultNumber), /*ownResult=*/true,
           d.results[resultNumber], offsets, sizes, resultOffsets,
           resultSizes);
    return success();
  }

  /// The memref form only: the body of the innermost loop of the
  /// iteration domain (ScalarImplementation.cpp).
  LogicalResult generateScalarImplementation(Operation *op, OpBuilder &b,
                                             Location loc,
                                             ValueRange ivs) const {
    if (!cast<DestinationStyleOpInterface>(op).hasPureBufferSemantics())
      return op->emitOpError(
          "has no scalar implementation in the tensor form (bufferize it "
          "first: its scalar loops update its destination buffers)");
    return hybrid::detail::emitScalarImplementation(cast<OpTy>(op), b, loc, ivs);
  }

  FailureOr<TilingResult>
  getTiledImplementation(Operation *op, OpBuilder &b,
                         ArrayRef<OpFoldResult> offsets,
                         ArrayRef<OpFoldResult> sizes) const {
    Location loc = op->getLoc();
    TilingDesc d = describeOp(cast<OpTy>(op));
    if (offsets.size() != d.iterators.size() ||
        sizes.size() != d.iterators.size())
      return op->emitOpError("tile has ")
             << offsets.size() << " offsets and " << sizes.size()
             << " sizes for " << d.iterators.size() << " loops";
    TilingResult result;
    SmallVector<Value> operands;
    for (OpOperand &operand : op->getOpOperands()) {
      ArrayRef<DimMap> dims = d.operands[operand.getOperandNumber()];
      Value v = operand.get();
      if (dims.empty() || isWhole(dims)) {
        operands.push_back(v);
        continue;
      }
      SmallVector<OpFoldResult> off, sz;
      tileOf(b, loc, d, v, /*ownResult=*/false, dims, offsets, sizes, off, sz);
      SmallVector<OpFoldResult> strides(off.size(), b.getIndexAttr(1));
      if (isa<MemRefType>(v.getType())) {
        // The memref form tiles into views of its buffers.
        operands.push_back(
            memref::SubViewOp::create(b, loc, v, off, sz, strides));
        continue;
      }
      auto slice = tensor::ExtractSliceOp::create(b, loc, v, off, sz, strides);
      result.generatedSlices.push_back(slice);
      operands.push_back(slice);
    }
    SmallVector<Type> resultTypes;
    for (OpResult r : op->getResults()) {
      SmallVector<OpFoldResult> off, sz;
      tileOf(b, loc, d, r, /*ownResult=*/true, d.results[r.getResultNumber()],
             offsets, sizes,
             off, sz);
      SmallVector<int64_t> shape;
      SmallVector<Value> dynamic;
      dispatchIndexOpFoldResults(sz, dynamic, shape);
      resultTypes.push_back(RankedTensorType::get(
          shape, cast<RankedTensorType>(r.getType()).getElementType()));
    }
    Operation *tiled = clone(b, op, resultTypes, operands);
    result.tiledOps.push_back(tiled);
    llvm::append_range(result.tiledValues, tiled->getResults());
    return result;
  }

  LogicalResult getIterationDomainTileFromResultTile(
      Operation *op, OpBuilder &b, unsigned resultNumber,
      ArrayRef<OpFoldResult> offsets, ArrayRef<OpFoldResult> sizes,
      SmallVectorImpl<OpFoldResult> &domOff,
      SmallVectorImpl<OpFoldResult> &domSz) const {
    TilingDesc d = describeOp(cast<OpTy>(op));
    return domainFromTile(b, op->getLoc(), d, op->getResult(resultNumber),
                          d.results[resultNumber], offsets, sizes, domOff,
                          domSz);
  }

  FailureOr<TilingResult>
  generateResultTileValue(Operation *op, OpBuilder &b, unsigned resultNumber,
                          ArrayRef<OpFoldResult> offsets,
                          ArrayRef<OpFoldResult> sizes) const {
    SmallVector<OpFoldResult> domOff, domSz;
    if (failed(getIterationDomainTileFromResultTile(
            op, b, resultNumber, offsets, sizes, domOff, domSz)))
      return failure();
    return getTiledImplementation(op, b, domOff, domSz);
  }

  LogicalResult getIterationDomainTileFromOperandTiles(
      Operation *op, OpBuilder &b, ArrayRef<unsigned> operandNumbers,
      ArrayRef<SmallVector<OpFoldResult>> allOffsets,
      ArrayRef<SmallVector<OpFoldResult>> allSizes,
      SmallVectorImpl<OpFoldResult> &domOff,
      SmallVectorImpl<OpFoldResult> &domSz) const {
    TilingDesc d = describeOp(cast<OpTy>(op));
    if (operandNumbers.empty())
      return failure();
    for (auto [i, number] : llvm::enumerate(operandNumbers)) {
      ArrayRef<DimMap> dims = d.operands[number];
      if (dims.empty())
        return failure();
      SmallVector<OpFoldResult> off, sz;
      if (failed(domainFromTile(b, op->getLoc(), d, op->getOperand(number),
                                dims, allOffsets[i], allSizes[i], off, sz)))
        return failure();
      // Several operand tiles must agree on the domain tile.
      if (i == 0) {
        domOff.assign(off);
        domSz.assign(sz);
        continue;
      }
      for (unsigned l = 0; l < off.size(); ++l)
        if (!isEqualConstantIntOrValue(off[l], domOff[l]) ||
            !isEqualConstantIntOrValue(sz[l], domSz[l]))
          return failure();
    }
    return success();
  }

  FailureOr<TilingResult> getTiledImplementationFromOperandTiles(
      Operation *op, OpBuilder &b, ArrayRef<unsigned> operandNumbers,
      ArrayRef<SmallVector<OpFoldResult>> allOffsets,
      ArrayRef<SmallVector<OpFoldResult>> allSizes) const {
    SmallVector<OpFoldResult> domOff, domSz;
    if (failed(getIterationDomainTileFromOperandTiles(
            op, b, operandNumbers, allOffsets, allSizes, domOff, domSz)))
      return failure();
    return getTiledImplementation(op, b, domOff, domSz);
  }
};

template <typename... Ops>
void attachAll(MLIRContext *ctx) {
  (Ops::template attachInterface<HybridTilingModel<Ops>>(*ctx), ...);
}

} // namespace

void mlir::hybrid::registerTilingInterfaceExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, HybridDialect *) {
    attachAll<SsmScanOp, WkvOp, DeltaRuleOp, RgLruOp, GruOp, CausalConv1dOp,
              WindowedAttentionOp, LayerNormOp, RmsNormOp>(ctx);
  });
}

void mlir::hybrid::registerHybridExternalModels(DialectRegistry &registry) {
  registerTilingInterfaceExternalModels(registry);
  registerBufferizableOpInterfaceExternalModels(registry);
}
