//===- GpuMemory.cpp - Buffers of a program mapped to the GPU ---*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// After the parallel loops became gpu.launch ops: allocations inside a kernel
// become thread-private allocas, host-side ones device allocations, host
// copies device-to-device memcpys.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Dialect/Hybrid/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::hybrid {
#define GEN_PASS_DEF_HYBRIDGPUMEMORY
#include "hybrid/Dialect/Hybrid/Transforms/Passes.h.inc"
} // namespace mlir::hybrid

using namespace mlir;

namespace {

bool isContiguous(Type type) {
  auto memref = dyn_cast<MemRefType>(type);
  return memref && memref.getLayout().isIdentity();
}

struct HybridGpuMemoryPass
    : hybrid::impl::HybridGpuMemoryBase<HybridGpuMemoryPass> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    bool failed = false;
    // Kernels: thread-private buffers.
    getOperation()->walk([&](gpu::LaunchOp launch) {
      SmallVector<memref::AllocOp> allocs;
      launch.getBody().walk([&](memref::AllocOp a) { allocs.push_back(a); });
      for (memref::AllocOp alloc : allocs) {
        if (!alloc.getType().hasStaticShape()) {
          alloc.emitOpError(
              "allocates a dynamically sized buffer inside a GPU kernel; "
              "its size must be static (a thread's state tile or scratch)");
          failed = true;
          continue;
        }
        for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
          if (isa<memref::DeallocOp>(user))
            rewriter.eraseOp(user);
        rewriter.setInsertionPoint(alloc);
        rewriter.replaceOpWithNewOp<memref::AllocaOp>(
            alloc, alloc.getType(), alloc.getAlignmentAttr());
      }
    });
    if (failed)
      return signalPassFailure();
    // The host must not touch device memory: every load and store is in a
    // kernel.
    getOperation()->walk([&](Operation *op) {
      if (isa<memref::LoadOp, memref::StoreOp>(op) &&
          !op->getParentOfType<gpu::LaunchOp>() &&
          !op->getParentOfType<gpu::GPUModuleOp>()) {
        op->emitOpError("would run on the host and access device memory: "
                        "a loop was not mapped to the GPU");
        failed = true;
      }
    });
    if (failed)
      return signalPassFailure();
    // Host side: device memory.
    SmallVector<Operation *> host;
    getOperation()->walk([&](Operation *op) {
      if (isa<memref::AllocOp, memref::DeallocOp, memref::CopyOp>(op) &&
          !op->getParentOfType<gpu::LaunchOp>() &&
          !op->getParentOfType<gpu::GPUModuleOp>())
        host.push_back(op);
    });
    for (Operation *op : host) {
      rewriter.setInsertionPoint(op);
      if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
        auto device = gpu::AllocOp::create(
            rewriter, alloc.getLoc(), alloc.getType(), /*asyncToken=*/Type(),
            ValueRange{}, alloc.getDynamicSizes(), alloc.getSymbolOperands(),
            /*hostShared=*/UnitAttr());
        rewriter.replaceOp(alloc, device.getMemref());
      } else if (auto dealloc = dyn_cast<memref::DeallocOp>(op)) {
        gpu::DeallocOp::create(rewriter, dealloc.getLoc(), /*asyncToken=*/Type(),
                               ValueRange{}, dealloc.getMemref());
        rewriter.eraseOp(dealloc);
      } else if (auto copy = dyn_cast<memref::CopyOp>(op)) {
        if (!isContiguous(copy.getSource().getType()) ||
            !isContiguous(copy.getTarget().getType())) {
          copy.emitOpError("copies a strided buffer on the host side of a "
                           "GPU program (expand it into a kernel first: "
                           "hybrid-expand-strided-copies{all})");
          return signalPassFailure();
        }
        gpu::MemcpyOp::create(rewriter, copy.getLoc(), /*asyncToken=*/Type(),
                              ValueRange{}, copy.getTarget(),
                              copy.getSource());
        rewriter.eraseOp(copy);
      }
    }
  }
};

} // namespace
