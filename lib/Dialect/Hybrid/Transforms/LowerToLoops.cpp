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

struct HybridLowerToLoopsPass
    : hybrid::impl::HybridLowerToLoopsBase<HybridLowerToLoopsPass> {
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
      if (failed(scf::lowerToLoopsUsingSCFForOp(rewriter, op))) {
        op->emitOpError("could not be lowered to scalar loops");
        return signalPassFailure();
      }
      rewriter.eraseOp(op);
    }
  }
};

} // namespace
