//===- GpuTileParallelLoops.cpp - Blocks and threads ------------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// The last dimension of every outermost scf.parallel, tiled by the block
// size: the outer loop becomes the grid, the inner one a block's threads.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Dialect/Hybrid/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"

namespace mlir::hybrid {
#define GEN_PASS_DEF_HYBRIDGPUTILEPARALLELLOOPS
#include "hybrid/Dialect/Hybrid/Transforms/Passes.h.inc"
} // namespace mlir::hybrid

using namespace mlir;

namespace {

struct HybridGpuTileParallelLoopsPass
    : hybrid::impl::HybridGpuTileParallelLoopsBase<
          HybridGpuTileParallelLoopsPass> {
  using Base::Base;
  void runOnOperation() override {
    if (blockSize < 1) {
      getOperation().emitError("hybrid-gpu-tile-parallel-loops: block-size "
                               "must be at least 1, got ")
          << blockSize;
      return signalPassFailure();
    }
    // A loop nest with no parallel loop that touches memory (a norm over a
    // single vector) runs in one thread: wrapped in a one-iteration
    // scf.parallel, mapped like the others.
    SmallVector<scf::ForOp> serial;
    getOperation().walk([&](scf::ForOp loop) {
      if (loop->getParentOfType<scf::ParallelOp>() ||
          loop->getParentOfType<scf::ForOp>() || loop.getNumResults() != 0)
        return;
      bool touchesMemory = false;
      loop.walk([&](Operation *op) {
        touchesMemory |= isa<memref::LoadOp, memref::StoreOp>(op);
      });
      if (touchesMemory)
        serial.push_back(loop);
    });
    for (scf::ForOp loop : serial) {
      OpBuilder b(loop);
      Value zero = arith::ConstantIndexOp::create(b, loop.getLoc(), 0);
      Value one = arith::ConstantIndexOp::create(b, loop.getLoc(), 1);
      auto single = scf::ParallelOp::create(b, loop.getLoc(), ValueRange{zero},
                                            ValueRange{one}, ValueRange{one});
      loop->moveBefore(single.getBody()->getTerminator());
    }

    SmallVector<scf::ParallelOp> outermost;
    getOperation().walk([&](scf::ParallelOp loop) {
      if (!loop->getParentOfType<scf::ParallelOp>())
        outermost.push_back(loop);
    });
    for (scf::ParallelOp loop : outermost) {
      SmallVector<int64_t> sizes(loop.getNumLoops(), 1);
      sizes.back() = blockSize;
      scf::tileParallelLoop(loop, sizes, /*noMinMaxBounds=*/true);
    }
  }
};

} // namespace
