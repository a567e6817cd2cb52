//===- TileAndVectorize.cpp - Tile linalg ops and vectorize ----*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// A thin wrapper over upstream tiling (TilingInterface, tile-and-fuse) and
// linalg::vectorize; see the pass description.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Dialect/Hybrid/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::hybrid {
#define GEN_PASS_DEF_HYBRIDTILEANDVECTORIZE
#include "hybrid/Dialect/Hybrid/Transforms/Passes.h.inc"
} // namespace mlir::hybrid

using namespace mlir;

namespace {

struct TileSizes {
  /// Per loop: the parallel tile (0: not tiled at the forall level) and the
  /// reduction tile (0: not tiled).
  SmallVector<int64_t> parallel, reduction;
  /// A dynamic loop tiled by `rows` whose tiles are versioned: full tiles
  /// get static sizes (vectorized), the last partial tile is tiled by 1.
  std::optional<unsigned> versioned;
};

/// The largest of the candidate tiles that divides `size`, else `size`
/// itself when it is at most `limit`, else 1.
int64_t dividingTile(int64_t size, ArrayRef<int64_t> candidates,
                     int64_t limit) {
  for (int64_t c : candidates)
    if (c <= size && size % c == 0)
      return c;
  return size <= limit ? size : 1;
}

/// The tile sizes of `op`. Every tile is full (its sizes divide the static
/// sizes), so the vectorized tile needs no masks. A dynamic second-to-last
/// parallel loop (a projection's tokens) gets tiles of `rows` that are
/// versioned (full tiles static, the remainder by 1); other dynamic sizes
/// get tiles of 1. Fails when a reduction is dynamic or a loop is empty.
FailureOr<TileSizes> chooseTiles(linalg::LinalgOp op, int64_t rows,
                                 int64_t cols, int64_t red,
                                 int64_t dynamicRows) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  // An empty loop has nothing to tile (upstream tiling divides by its
  // size): the op is left to the loop lowering.
  if (llvm::is_contained(ranges, 0))
    return failure();
  SmallVector<utils::IteratorType> iters = op.getIteratorTypesArray();
  TileSizes t;
  SmallVector<unsigned> parallelDims;
  for (unsigned i = 0; i < iters.size(); ++i)
    if (iters[i] == utils::IteratorType::parallel)
      parallelDims.push_back(i);
  t.parallel.assign(iters.size(), 0);
  t.reduction.assign(iters.size(), 0);
  for (auto [k, d] : llvm::enumerate(parallelDims)) {
    int64_t size = ranges[d], tile = 1;
    if (!ShapedType::isDynamic(size)) {
      if (k + 1 == parallelDims.size())
        tile = dividingTile(size, {cols, cols / 2, cols / 4}, cols);
      else if (k + 2 == parallelDims.size())
        tile = dividingTile(size, {rows, rows / 2}, 1);
    } else if (k + 2 == parallelDims.size() && dynamicRows > 1) {
      tile = dynamicRows;
      t.versioned = d;
    }
    t.parallel[d] = tile;
  }
  for (unsigned i = 0; i < iters.size(); ++i) {
    if (iters[i] != utils::IteratorType::reduction)
      continue;
    if (ShapedType::isDynamic(ranges[i]))
      return failure();
    int64_t tile = dividingTile(ranges[i], {red, red / 2}, 4 * red);
    t.reduction[i] = tile;
  }
  return t;
}

SmallVector<OpFoldResult> asOFR(OpBuilder &b, ArrayRef<int64_t> v) {
  SmallVector<OpFoldResult> r;
  for (int64_t x : v)
    r.push_back(b.getIndexAttr(x));
  return r;
}

/// A contraction whose innermost loop is a reduction gets its innermost
/// parallel loop moved to the end: `(b, t, o, i) -> (b, t, i, o)` for a
/// projection. The vectorized tile is then x[k] broadcast times rows of W,
/// summed over the outer dimension in vector lanes, instead of one dot
/// product with a horizontal sum per output column.
linalg::LinalgOp reductionBeforeColumns(RewriterBase &rewriter,
                                        linalg::LinalgOp op) {
  auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
  if (!generic)
    return op;
  SmallVector<utils::IteratorType> iters = generic.getIteratorTypesArray();
  unsigned n = iters.size();
  if (n < 2 || iters.back() != utils::IteratorType::reduction)
    return op;
  std::optional<unsigned> column;
  for (unsigned i = n; i-- > 0;)
    if (iters[i] == utils::IteratorType::parallel) {
      column = i;
      break;
    }
  if (!column)
    return op;
  SmallVector<unsigned> order;
  for (unsigned i = 0; i < n; ++i)
    if (i != *column)
      order.push_back(i);
  order.push_back(*column);
  rewriter.setInsertionPoint(generic);
  FailureOr<linalg::GenericOp> moved =
      linalg::interchangeGenericOp(rewriter, generic, order);
  return succeeded(moved) ? cast<linalg::LinalgOp>(moved->getOperation())
                          : op;
}

/// Tiles the reductions of a parallel tile (an scf.for over reduction
/// tiles) and vectorizes it.
void finishTile(RewriterBase &rewriter, linalg::LinalgOp tiled,
                ArrayRef<int64_t> reduction) {
  if (llvm::any_of(reduction, [](int64_t t) { return t != 0; })) {
    rewriter.setInsertionPoint(tiled);
    scf::SCFTilingOptions redTiling;
    redTiling.setTileSizes(asOFR(rewriter, reduction));
    redTiling.setLoopType(scf::SCFTilingOptions::LoopType::ForOp);
    FailureOr<scf::SCFTilingResult> red = scf::tileUsingSCF(
        rewriter, cast<TilingInterface>(tiled.getOperation()), redTiling);
    if (failed(red))
      return;
    rewriter.replaceOp(tiled, red->replacements);
    tiled = cast<linalg::LinalgOp>(red->tiledOps.front());
  }
  rewriter.setInsertionPoint(tiled);
  if (succeeded(linalg::vectorizeOpPrecondition(tiled))) {
    FailureOr<linalg::VectorizationResult> v =
        linalg::vectorize(rewriter, tiled);
    if (succeeded(v))
      rewriter.replaceOp(tiled, v->replacements);
  }
}

/// `type` with the dimensions that `map` reads from loop `loop` set to
/// `size`.
RankedTensorType withLoopSize(RankedTensorType type, AffineMap map,
                              unsigned loop, int64_t size) {
  SmallVector<int64_t> shape(type.getShape());
  for (auto [i, e] : llvm::enumerate(map.getResults()))
    if (auto d = dyn_cast<AffineDimExpr>(e); d && d.getPosition() == loop)
      shape[i] = size;
  return RankedTensorType::get(shape, type.getElementType());
}

/// Versions a tile whose loop `loop` has a dynamic size of at most `full`:
///
///   scf.if (size == full) { the op on operands cast to static size `full` }
///   else                  { the op as it is }
///
/// Returns (the static version, the dynamic one).
FailureOr<std::pair<linalg::LinalgOp, linalg::LinalgOp>>
versionTile(RewriterBase &rewriter, linalg::LinalgOp tiled, unsigned loop,
            int64_t full) {
  Location loc = tiled.getLoc();
  rewriter.setInsertionPoint(tiled);
  SmallVector<Range> ranges = tiled.createLoopRanges(rewriter, loc);
  Value size =
      getValueOrCreateConstantIndexOp(rewriter, loc, ranges[loop].size);
  Value isFull = arith::CmpIOp::create(
      rewriter, loc, arith::CmpIPredicate::eq, size,
      arith::ConstantIndexOp::create(rewriter, loc, full));
  auto ifOp = scf::IfOp::create(rewriter, loc, tiled->getResultTypes(), isFull,
                                /*withElseRegion=*/true);
  // Static: every operand cast to the full size, the results cast back.
  rewriter.setInsertionPointToStart(ifOp.thenBlock());
  IRMapping staticMap;
  for (OpOperand &operand : tiled->getOpOperands()) {
    auto type = dyn_cast<RankedTensorType>(operand.get().getType());
    if (!type)
      continue;
    RankedTensorType want = withLoopSize(
        type, tiled.getMatchingIndexingMap(&operand), loop, full);
    if (want != type)
      staticMap.map(operand.get(), tensor::CastOp::create(
                                       rewriter, loc, want, operand.get()));
  }
  Operation *fixed = rewriter.clone(*tiled, staticMap);
  SmallVector<Value> yields;
  for (OpResult r : fixed->getResults()) {
    auto type = cast<RankedTensorType>(r.getType());
    OpOperand *init = cast<linalg::LinalgOp>(fixed).getDpsInitOperand(
        r.getResultNumber());
    r.setType(cast<RankedTensorType>(init->get().getType()));
    yields.push_back(tensor::CastOp::create(rewriter, loc, type, r));
  }
  scf::YieldOp::create(rewriter, loc, yields);
  // Dynamic: the op as it is.
  rewriter.setInsertionPointToStart(ifOp.elseBlock());
  Operation *rest = rewriter.clone(*tiled);
  scf::YieldOp::create(rewriter, loc, rest->getResults());
  rewriter.replaceOp(tiled, ifOp.getResults());
  return std::make_pair(cast<linalg::LinalgOp>(fixed),
                        cast<linalg::LinalgOp>(rest));
}

/// Tiles, fuses the destination fill, and vectorizes one op.
void tileAndVectorize(RewriterBase &rewriter, linalg::LinalgOp op,
                      int64_t rows, int64_t cols, int64_t red,
                      int64_t dynamicRows) {
  // Vectors of i1 are bit-packed in memory while scalar i1 accesses use a
  // byte per element: ops on i1 tensors stay scalar.
  auto isI1 = [](Value v) { return getElementTypeOrSelf(v.getType()).isInteger(1); };
  if (llvm::any_of(op->getOperands(), isI1) ||
      llvm::any_of(op->getResults(), isI1))
    return;
  // Convolution-style accesses (t + j) are not vectorized here.
  if (!llvm::all_of(op.getIndexingMapsArray(),
                    [](AffineMap m) { return m.isProjectedPermutation(); }))
    return;
  op = reductionBeforeColumns(rewriter, op);
  FailureOr<TileSizes> tiles = chooseTiles(op, rows, cols, red, dynamicRows);
  if (failed(tiles))
    return;

  rewriter.setInsertionPoint(op);
  scf::SCFTilingOptions tiling;
  tiling.setTileSizes(asOFR(rewriter, tiles->parallel));
  tiling.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
  scf::SCFTileAndFuseOptions fuse;
  fuse.setTilingOptions(tiling);
  fuse.setFusionControlFn(
      [](tensor::ExtractSliceOp, OpResult producer, bool isDestination)
          -> std::optional<scf::SCFTileAndFuseOptions::ControlFnResult> {
        if (isDestination && isa<linalg::FillOp>(producer.getOwner()))
          return scf::SCFTileAndFuseOptions::ControlFnResult{};
        return std::nullopt;
      });
  auto tilingOp = cast<TilingInterface>(op.getOperation());
  FailureOr<scf::SCFTileAndFuseResult> fused =
      scf::tileConsumerAndFuseProducersUsingSCF(rewriter, tilingOp, fuse);
  if (failed(fused))
    return;
  for (auto [orig, repl] : fused->replacements)
    rewriter.replaceAllUsesWith(orig, repl);

  auto tiled = cast<linalg::LinalgOp>(fused->tiledAndFusedOps.front());
  if (tiles->versioned) {
    // Full tiles (`rows` positions) on static types, the last one by 1.
    FailureOr<std::pair<linalg::LinalgOp, linalg::LinalgOp>> versions =
        versionTile(rewriter, tiled, *tiles->versioned, dynamicRows);
    if (failed(versions))
      return;
    finishTile(rewriter, versions->first, tiles->reduction);
    rewriter.setInsertionPoint(versions->second);
    SmallVector<int64_t> ones(tiles->parallel.size(), 0);
    ones[*tiles->versioned] = 1;
    scf::SCFTilingOptions byOne;
    byOne.setTileSizes(asOFR(rewriter, ones));
    byOne.setLoopType(scf::SCFTilingOptions::LoopType::ForOp);
    FailureOr<scf::SCFTilingResult> rest = scf::tileUsingSCF(
        rewriter, cast<TilingInterface>(versions->second.getOperation()),
        byOne);
    if (failed(rest))
      return;
    rewriter.replaceOp(versions->second, rest->replacements);
    finishTile(rewriter, cast<linalg::LinalgOp>(rest->tiledOps.front()),
               tiles->reduction);
  } else {
    finishTile(rewriter, tiled, tiles->reduction);
  }
  // The fused fills (static tiles of the destination).
  for (Operation *other : llvm::drop_begin(fused->tiledAndFusedOps)) {
    auto fill = dyn_cast<linalg::FillOp>(other);
    if (!fill)
      continue;
    rewriter.setInsertionPoint(fill);
    if (succeeded(linalg::vectorizeOpPrecondition(fill)))
      if (FailureOr<linalg::VectorizationResult> v =
              linalg::vectorize(rewriter, fill);
          succeeded(v))
        rewriter.replaceOp(fill, v->replacements);
  }
}

struct HybridTileAndVectorizePass
    : hybrid::impl::HybridTileAndVectorizeBase<HybridTileAndVectorizePass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    // Fuse elementwise producers into elementwise consumers only: fusing one
    // into a contraction would recompute it for every output column (the
    // upstream pass does, so it is not in the pipeline).
    {
      RewritePatternSet fusion(&getContext());
      linalg::populateElementwiseOpsFusionPatterns(
          fusion, [](OpOperand *operand) {
            auto consumer = dyn_cast<linalg::LinalgOp>(operand->getOwner());
            return consumer && consumer.getNumReductionLoops() == 0 &&
                   operand->get().getDefiningOp() &&
                   operand->get().hasOneUse();
          });
      if (failed(applyPatternsGreedily(fn, std::move(fusion))))
        return signalPassFailure();
    }
    SmallVector<linalg::LinalgOp> ops;
    for (Operation &op : fn.getBody().front())
      if (auto l = dyn_cast<linalg::LinalgOp>(&op);
          l && !isa<linalg::FillOp>(&op) && l.hasPureTensorSemantics())
        ops.push_back(l);
    IRRewriter rewriter(&getContext());
    // Consumers first, so the fills they fuse are still there.
    for (linalg::LinalgOp op : llvm::reverse(ops))
      tileAndVectorize(rewriter, op, rows, cols, reduction, dynamicRows);

    // Unit batch/token dims off the vectors. A projection tile stays
    // mul + multi_reduction over its outer (k) dimension: x[k] broadcast
    // times the rows W[k, cols], summed row by row in `cols` lanes. (Folding
    // it into vector.contract instead gives a contract whose broadcast lhs
    // is hidden in a transfer_read, which the contract lowering unrolls into
    // one dot product and horizontal sum per column: 1.5x slower steps.)
    RewritePatternSet patterns(&getContext());
    vector::populateCastAwayVectorLeadingOneDimPatterns(patterns);
    // (Sinking patterns are not mask-aware: not used.)
    if (failed(applyPatternsGreedily(fn, std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
