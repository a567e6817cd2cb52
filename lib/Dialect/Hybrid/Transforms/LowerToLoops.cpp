//===- LowerToLoops.cpp - Memref-form hybrid ops to scalar loops -*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// Every hybrid op in memref form becomes the loops of its iteration domain
// around its scalar implementation (upstream scf::lowerToLoopsUsingSCFForOp
// over the ops' TilingInterface models).
//
//===----------------------------------------------------------------------===//

#include "hybrid/Dialect/Hybrid/IR/HybridOps.h"
#include "hybrid/Dialect/Hybrid/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/TilingInterface.h"

namespace mlir::hybrid {
#define GEN_PASS_DEF_HYBRIDLOWERTOLOOPS
#include "hybrid/Dialect/Hybrid/Transforms/Passes.h.inc"
} // namespace mlir::hybrid

using namespace mlir;

namespace {

/// The op's leading parallel loops as one scf.parallel, the rest as
/// scf.for inside it, around its scalar implementation.
LogicalResult lowerToParallelLoops(RewriterBase &rewriter, TilingInterface op) {
  Location loc = op.getLoc();
  SmallVector<Range> domain = op.getIterationDomain(rewriter);
  SmallVector<utils::IteratorType> iterators = op.getLoopIteratorTypes();
  size_t numParallel = 0;
  while (numParallel < iterators.size() &&
         iterators[numParallel] == utils::IteratorType::parallel)
    ++numParallel;
  auto bound = [&](OpFoldResult f) {
    return getValueOrCreateConstantIndexOp(rewriter, loc, f);
  };
  SmallVector<Value> ivs;
  if (numParallel > 0) {
    SmallVector<Value> lbs, ubs, steps;
    for (const Range &r : ArrayRef<Range>(domain).take_front(numParallel)) {
      lbs.push_back(bound(r.offset));
      ubs.push_back(bound(r.size));
      steps.push_back(bound(r.stride));
    }
    auto parallel = scf::ParallelOp::create(rewriter, loc, lbs, ubs, steps);
    llvm::append_range(ivs, parallel.getInductionVars());
    rewriter.setInsertionPoint(parallel.getBody()->getTerminator());
  }
  for (const Range &r : ArrayRef<Range>(domain).drop_front(numParallel)) {
    auto loop = scf::ForOp::create(rewriter, loc, bound(r.offset),
                                   bound(r.size), bound(r.stride));
    ivs.push_back(loop.getInductionVar());
    rewriter.setInsertionPoint(loop.getBody()->getTerminator());
  }
  return op.generateScalarImplementation(rewriter, loc, ivs);
}

struct HybridLowerToLoopsPass
    : hybrid::impl::HybridLowerToLoopsBase<HybridLowerToLoopsPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<TilingInterface> ops;
    getOperation()->walk([&](TilingInterface op) {
      auto dps = dyn_cast<DestinationStyleOpInterface>(op.getOperation());
      if (isa<hybrid::HybridDialect>(op->getDialect()) && dps &&
          dps.hasPureBufferSemantics())
        ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (TilingInterface op : ops) {
      rewriter.setInsertionPoint(op);
      LogicalResult lowered =
          parallelLoops
              ? lowerToParallelLoops(rewriter, op)
              : LogicalResult(scf::lowerToLoopsUsingSCFForOp(rewriter, op));
      if (failed(lowered)) {
        op->emitOpError("could not be lowered to scalar loops");
        return signalPassFailure();
      }
      rewriter.eraseOp(op);
    }
  }
};

} // namespace
