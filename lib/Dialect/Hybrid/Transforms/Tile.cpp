//===- Tile.cpp - hybrid-tile: tile hybrid ops into scf.forall -*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// Tiles the parallel loops of hybrid ops through their TilingInterface
// (lib/Dialect/Hybrid/IR/TilingInterfaceImpl.cpp) with upstream
// tile-and-fuse. The mechanism is upstream's; this file holds the policy:
// which ops, and the cost model that picks tile sizes.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Dialect/Hybrid/Transforms/Passes.h"
#include "hybrid/Dialect/Hybrid/Transforms/Transforms.h"

#include "hybrid/Dialect/Hybrid/IR/HybridOps.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/TilingInterface.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/TargetParser/Host.h"

namespace mlir::hybrid {
#define GEN_PASS_DEF_HYBRIDTILE
#include "hybrid/Dialect/Hybrid/Transforms/Passes.h.inc"
} // namespace mlir::hybrid

using namespace mlir;
using namespace mlir::hybrid;

int64_t mlir::hybrid::getHostVectorWidth() {
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  if (features.lookup("avx512f"))
    return 16;
  if (features.lookup("avx") || features.lookup("neon"))
    return 8;
  return 4;
}

namespace {

int64_t staticDim(Value v, int64_t i) {
  return cast<RankedTensorType>(v.getType()).getDimSize(i);
}
int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t roundUp(int64_t a, int64_t m) { return ceilDiv(a, m) * m; }

/// The group size of parallel loop `loop` of `op` (the loop indices one
/// group spans: a tile must stay inside a group or cover whole groups), 0
/// when the loop is not grouped, dynamic when unknown.
int64_t groupSize(Operation *op, unsigned loop) {
  auto ratio = [](int64_t whole, int64_t groups) {
    if (ShapedType::isDynamic(whole) || ShapedType::isDynamic(groups) ||
        groups == 0)
      return ShapedType::kDynamic;
    return whole / groups;
  };
  return TypeSwitch<Operation *, int64_t>(op)
      .Case([&](SsmScanOp o) -> int64_t {
        return loop == 1 && o.hasGroupedBC()
                   ? ratio(staticDim(o.getU(), 2), staticDim(o.getB(), 2))
                   : 0;
      })
      .Case([&](DeltaRuleOp o) -> int64_t {
        return loop == 1 ? ratio(staticDim(o.getV(), 2), staticDim(o.getQ(), 2))
                         : 0;
      })
      .Case([&](WindowedAttentionOp o) -> int64_t {
        return loop == 1 ? ratio(staticDim(o.getQ(), 2), staticDim(o.getK(), 2))
                         : 0;
      })
      .Default([](Operation *) -> int64_t { return 0; });
}

/// A channel-like tile: a multiple of `vw` lanes with at least `tasks`
/// tiles over `size` channels, kept inside a group of `gs` channels or
/// covering whole groups.
int64_t channelTile(int64_t size, int64_t vw, int64_t tasks, int64_t gs) {
  if (ShapedType::isDynamic(size))
    return ShapedType::isDynamic(gs) || gs != 0 ? 0 : 4 * vw;
  int64_t t = std::min(size, std::max(vw, roundUp(ceilDiv(size, tasks), vw)));
  if (gs == 0)
    return t;
  if (ShapedType::isDynamic(gs))
    return 0;
  if (t >= gs)
    return roundUp(t, gs) >= size ? 0 : roundUp(t, gs);
  while (gs % t != 0)
    --t;
  return t;
}

} // namespace

FailureOr<SmallVector<int64_t>>
mlir::hybrid::getDefaultTileSizes(Operation *op,
                                  const TileCostOptions &options) {
  int64_t vw = options.vectorWidth > 0 ? options.vectorWidth
                                       : getHostVectorWidth();
  int64_t tasks = std::max<int64_t>(1, options.minTasks);
  auto perBatch = [&](int64_t other) {
    // Tiles wanted per (batch element, other parallel index).
    if (ShapedType::isDynamic(other) || other <= 0)
      return tasks;
    return std::max<int64_t>(1, ceilDiv(tasks, other));
  };
  return TypeSwitch<Operation *, FailureOr<SmallVector<int64_t>>>(op)
      .Case([&](SsmScanOp o) -> SmallVector<int64_t> {
        return {1, channelTile(staticDim(o.getU(), 2), vw, tasks,
                               groupSize(op, 1))};
      })
      .Case([&](RgLruOp o) -> SmallVector<int64_t> {
        return {1, channelTile(staticDim(o.getX(), 2), vw, tasks, 0)};
      })
      .Case([&](CausalConv1dOp o) -> SmallVector<int64_t> {
        return {1, channelTile(staticDim(o.getX(), 2), vw, tasks, 0)};
      })
      .Case([&](GruOp) -> SmallVector<int64_t> { return {1}; })
      .Case<WkvOp, DeltaRuleOp>([&](Operation *) -> SmallVector<int64_t> {
        // (batch, head, value rows): one head per tile, row tiles a
        // multiple of the lowering's row tile.
        Value v = op->getOperand(2);
        int64_t rows = staticDim(v, 3), heads = staticDim(v, 2);
        int64_t rt = std::max<int64_t>(1, options.rowTile);
        int64_t r = ShapedType::isDynamic(rows)
                        ? 4 * rt
                        : std::min(rows, roundUp(ceilDiv(rows, perBatch(heads)),
                                                 rt));
        return {1, 1, r};
      })
      .Case([&](WindowedAttentionOp o) -> SmallVector<int64_t> {
        int64_t q = staticDim(o.getQ(), 1), heads = staticDim(o.getQ(), 2);
        int64_t qt = std::max<int64_t>(1, options.queryTile);
        if (!ShapedType::isDynamic(q))
          qt = std::min(qt, std::max<int64_t>(1, ceilDiv(q, perBatch(heads))));
        return {1, 1, qt};
      })
      .Case<LayerNormOp, RmsNormOp>([&](Operation *) -> SmallVector<int64_t> {
        // Rows: 1 along every leading dim, up to 8 along the last one.
        auto type = cast<RankedTensorType>(op->getOperand(0).getType());
        SmallVector<int64_t> t(type.getRank() - 1, 1);
        if (!t.empty()) {
          int64_t rows = type.getDimSize(type.getRank() - 2);
          t.back() = ShapedType::isDynamic(rows) ? 8 : std::min<int64_t>(rows, 8);
        }
        return t;
      })
      .Default([](Operation *) { return failure(); });
}

LogicalResult mlir::hybrid::checkTileSizes(Operation *op,
                                           ArrayRef<int64_t> sizes) {
  auto tiling = dyn_cast<TilingInterface>(op);
  if (!tiling)
    return op->emitOpError("cannot be tiled: it has no TilingInterface");
  SmallVector<utils::IteratorType> iters = tiling.getLoopIteratorTypes();
  unsigned parallel = llvm::count(iters, utils::IteratorType::parallel);
  if (sizes.size() > parallel)
    return op->emitOpError("has ")
           << parallel << " parallel loops, but " << sizes.size()
           << " tile sizes were given";
  for (auto [l, t] : llvm::enumerate(sizes)) {
    if (t < 0)
      return op->emitOpError("tile size ") << t << " of loop " << l
                                           << " is negative";
    int64_t gs = groupSize(op, l);
    if (t == 0 || gs == 0 || ShapedType::isDynamic(gs))
      continue;
    if (t % gs != 0 && gs % t != 0)
      return op->emitOpError("tile size ")
             << t << " of loop " << l << " straddles groups of " << gs
             << " (it must divide the group size or be a multiple of it)";
  }
  return success();
}

/// Upstream tiling makes a destination-style op's inits the forall's shared
/// outputs. When one is a read-only function argument (a recurrence's
/// initial state that is the caller's), bufferization would copy the whole
/// argument into a new buffer before the tasks update it in place. Instead
/// the shared output starts as an empty tensor and each task reads its
/// initial state's slice from the argument itself: the tasks' slices cover
/// the whole output, so every element is still written, and the argument
/// is read once, where the tasks need it.
static void readOnlyInitsFromTheArgument(RewriterBase &rewriter,
                                         scf::ForallOp forall) {
  for (unsigned i = 0, e = forall.getOutputs().size(); i < e; ++i) {
    Value init = forall.getOutputs()[i];
    if (!isReadOnlyFunctionArgument(init))
      continue;
    // The slices a recurrence reads as its initial state come from the
    // argument; the other slices of the shared output are only written.
    BlockArgument shared = forall.getRegionIterArgs()[i];
    for (OpOperand &use : llvm::make_early_inc_range(shared.getUses())) {
      auto slice = dyn_cast<tensor::ExtractSliceOp>(use.getOwner());
      if (!slice)
        continue;
      bool readAsState = llvm::any_of(slice->getUses(), [](OpOperand &u) {
        auto rec = dyn_cast<RecurrenceOpInterface>(u.getOwner());
        return rec && &rec.getInitialStateMutable() == &u;
      });
      if (readAsState)
        rewriter.modifyOpInPlace(slice, [&] { use.set(init); });
    }
    rewriter.setInsertionPoint(forall);
    Location loc = forall.getLoc();
    Value empty = tensor::EmptyOp::create(
        rewriter, loc, tensor::getMixedSizes(rewriter, loc, init),
        getElementTypeOrSelf(init.getType()));
    rewriter.modifyOpInPlace(
        forall, [&] { forall.getOutputsMutable()[i].set(empty); });
  }
}

FailureOr<scf::SCFTileAndFuseResult>
mlir::hybrid::tileHybridOp(RewriterBase &rewriter, TilingInterface op,
                           ArrayRef<int64_t> parallelSizes,
                           bool fuseProducers) {
  if (failed(checkTileSizes(op, parallelSizes)))
    return failure();
  // Tile sizes per loop: parallel loops from the list, the sequential loop
  // (time, a norm's reduction) never.
  SmallVector<OpFoldResult> sizes;
  unsigned p = 0;
  bool any = false;
  for (utils::IteratorType it : op.getLoopIteratorTypes()) {
    int64_t t = 0;
    if (it == utils::IteratorType::parallel && p < parallelSizes.size())
      t = parallelSizes[p++];
    any |= t != 0;
    sizes.push_back(rewriter.getIndexAttr(t));
  }
  if (!any)
    return failure();
  scf::SCFTilingOptions tiling;
  tiling.setTileSizes(sizes);
  tiling.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
  scf::SCFTileAndFuseOptions fuse;
  fuse.setTilingOptions(tiling);
  fuse.setFusionControlFn(
      [fuseProducers, orig = op.getOperation()](
          tensor::ExtractSliceOp, OpResult producer, bool isDestination)
          -> std::optional<scf::SCFTileAndFuseOptions::ControlFnResult> {
        auto generic = dyn_cast<linalg::GenericOp>(producer.getOwner());
        if (!fuseProducers || isDestination || !generic ||
            generic.getNumReductionLoops() != 0)
          return std::nullopt;
        // Only producers nothing else needs (their other users are the op
        // being tiled and the slices of its tiles), so nothing is computed
        // twice.
        if (llvm::any_of(producer.getUsers(), [&](Operation *user) {
              return user != orig && !isa<tensor::ExtractSliceOp>(user);
            }))
          return std::nullopt;
        return scf::SCFTileAndFuseOptions::ControlFnResult{};
      });
  rewriter.setInsertionPoint(op);
  FailureOr<scf::SCFTileAndFuseResult> result =
      scf::tileConsumerAndFuseProducersUsingSCF(rewriter, op, fuse);
  if (failed(result))
    return op->emitOpError("could not be tiled");
  for (auto [orig, repl] : result->replacements)
    rewriter.replaceAllUsesWith(orig, repl);
  if (!result->loops.empty())
    if (auto forall = dyn_cast<scf::ForallOp>(result->loops.front().getOperation()))
      readOnlyInitsFromTheArgument(rewriter, forall);
  return result;
}

namespace {

struct HybridTilePass : hybrid::impl::HybridTileBase<HybridTilePass> {
  using Base::Base;

  void runOnOperation() override {
    TileCostOptions cost;
    cost.vectorWidth = vectorWidth;
    cost.rowTile = rowTile;
    cost.minTasks = minTasks;
    cost.queryTile = queryTile;
    SmallVector<TilingInterface> ops;
    getOperation()->walk([&](TilingInterface op) {
      if (!isa<HybridDialect>(op->getDialect()))
        return;
      // The memref form is tiled where it is lowered (not with scf.forall
      // over tensors).
      if (auto dps = dyn_cast<DestinationStyleOpInterface>(op.getOperation());
          dps && !dps.hasPureTensorSemantics())
        return;
      // Already a tile (this pass ran before, or the IR came tiled).
      if (op->getParentOfType<scf::ForallOp>())
        return;
      if (!opNames.empty() &&
          !llvm::is_contained(opNames, op->getName().getStringRef().str()))
        return;
      ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (TilingInterface op : ops) {
      SmallVector<int64_t> sizes;
      if (auto attr = op->getAttrOfType<DenseI64ArrayAttr>("hybrid.tile_sizes")) {
        llvm::append_range(sizes, attr.asArrayRef());
      } else if (!tileSizes.empty()) {
        // One list for ops with different loop counts: an op takes as many
        // sizes as it has parallel loops.
        unsigned parallel = llvm::count(op.getLoopIteratorTypes(),
                                        utils::IteratorType::parallel);
        llvm::append_range(sizes, ArrayRef<int64_t>(tileSizes).take_front(
                                      std::min<size_t>(parallel,
                                                       tileSizes.size())));
      } else {
        FailureOr<SmallVector<int64_t>> chosen = getDefaultTileSizes(op, cost);
        if (failed(chosen))
          continue;
        sizes = *chosen;
      }
      if (failed(checkTileSizes(op, sizes)))
        return signalPassFailure();
      if (llvm::all_of(sizes, [](int64_t t) { return t == 0; }))
        continue;
      if (failed(tileHybridOp(rewriter, op, sizes, fuseProducers)))
        return signalPassFailure();
      rewriter.eraseOp(op);
    }
  }
};

} // namespace
