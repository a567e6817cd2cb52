//===- ProtectArguments.cpp - Read-only public arguments ------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// Marks the tensor arguments of public functions read-only for one-shot
// bufferization, so that destination-style ops whose destination is an
// argument (a recurrence's initial state) never write into a caller's
// buffer. Arguments that already carry `bufferization.writable` keep it.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Dialect/Hybrid/Transforms/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::hybrid {
#define GEN_PASS_DEF_HYBRIDPROTECTARGUMENTS
#include "hybrid/Dialect/Hybrid/Transforms/Passes.h.inc"
} // namespace mlir::hybrid

using namespace mlir;

namespace {

struct HybridProtectArgumentsPass
    : hybrid::impl::HybridProtectArgumentsBase<HybridProtectArgumentsPass> {
  void runOnOperation() override {
    StringRef name = bufferization::BufferizationDialect::kWritableAttrName;
    auto readOnly = BoolAttr::get(&getContext(), false);
    for (auto fn : getOperation().getOps<func::FuncOp>()) {
      if (!fn.isPublic() || fn.isExternal())
        continue;
      for (unsigned i = 0, e = fn.getNumArguments(); i < e; ++i)
        if (isa<TensorType>(fn.getArgument(i).getType()) &&
            !fn.getArgAttr(i, name))
          fn.setArgAttr(i, name, readOnly);
    }
  }
};

} // namespace
