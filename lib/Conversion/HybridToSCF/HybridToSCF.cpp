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
//
// The patterns live in one file per op family (Scan.cpp,
// MatrixRecurrence.cpp, Attention.cpp, Conv.cpp, Norm.cpp, Parallel.cpp)
// over the shared helpers of LoweringUtils.h; this file is the pass: a
// dialect conversion with the hybrid dialect illegal.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Conversion/HybridToSCF/HybridToSCF.h"
#include "hybrid/Conversion/Passes.h"
#include "hybrid/Dialect/Hybrid/IR/HybridOps.h"
#include "LoweringUtils.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mlir::hybrid {
#define GEN_PASS_DEF_CONVERTHYBRIDTOSCF
#include "hybrid/Conversion/Passes.h.inc"
} // namespace mlir::hybrid

using namespace mlir;
using namespace mlir::hybrid;
using namespace mlir::hybrid::lowering;

namespace {

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
    if (vectorWidth < 1 || rowTile < 1 || queryLanes < 1) {
      getOperation()->emitError("convert-hybrid-to-scf: vector-width, "
                                "row-tile and query-lanes must be positive");
      return signalPassFailure();
    }
    // The memref form is hybrid-lower-to-loops' (after bufferization).
    auto selected = [&](Operation *op) {
      auto dps = dyn_cast<DestinationStyleOpInterface>(op);
      if (dps && !dps.hasPureTensorSemantics())
        return false;
      return op->getDialect() && isa<HybridDialect>(op->getDialect()) &&
             (opNames.empty() ||
              llvm::is_contained(opNames, op->getName().getStringRef()) ||
              (isa<hybrid::YieldOp>(op) &&
               llvm::is_contained(opNames, "hybrid.gated_parallel")));
    };
    WalkResult check = getOperation()->walk([&](Operation *op) {
      if (selected(op) && failed(checkLowerable(op)))
        return WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (check.wasInterrupted())
      return signalPassFailure();

    HybridToSCFOptions options{vectorWidth, rowTile, queryLanes};
    RewritePatternSet patterns(&getContext());
    populateHybridToSCFConversionPatterns(patterns, options);
    // Every selected hybrid op must go; everything else (what the patterns
    // create and what surrounds the ops) is legal.
    ConversionTarget target(getContext());
    target.markUnknownOpDynamicallyLegal(
        [&](Operation *op) { return !selected(op); });
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
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
    WalkResult left = getOperation()->walk([&](Operation *op) {
      if (selected(op)) {
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
  populateScanPatterns(patterns, options);
  populateMatrixRecurrencePatterns(patterns, options);
  populateAttentionPatterns(patterns, options);
  populateConvPatterns(patterns);
  populateNormPatterns(patterns);
  populateParallelPatterns(patterns);
}
