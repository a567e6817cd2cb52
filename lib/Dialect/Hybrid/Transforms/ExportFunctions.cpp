//===- ExportFunctions.cpp - C ABI with caller-owned outputs ---*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Dialect/Hybrid/Transforms/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"

namespace mlir::hybrid {
#define GEN_PASS_DEF_HYBRIDEXPORTFUNCTIONS
#include "hybrid/Dialect/Hybrid/Transforms/Passes.h.inc"
} // namespace mlir::hybrid

using namespace mlir;

namespace {

/// Turns the tensor results of `fn` into memref out-parameters.
LogicalResult exportFunction(func::FuncOp fn) {
  auto results = fn.getResultTypes();
  for (Type t : results)
    if (!isa<RankedTensorType>(t))
      return fn.emitOpError("hybrid-export-functions: only ranked tensor "
                            "results can become out-parameters, got ")
             << t;
  OpBuilder b(fn.getContext());
  unsigned firstOut = fn.getNumArguments();
  SmallVector<Type> outTypes;
  for (Type t : results) {
    auto tt = cast<RankedTensorType>(t);
    outTypes.push_back(MemRefType::get(tt.getShape(), tt.getElementType()));
  }
  for (auto [i, t] : llvm::enumerate(outTypes)) {
    auto attrs = b.getDictionaryAttr({b.getNamedAttr(
        "hybrid.weight", b.getStringAttr("output" + std::to_string(i)))});
    if (failed(fn.insertArgument(firstOut + i, t, attrs, fn.getLoc())))
      return failure();
  }
  SmallVector<func::ReturnOp> returns;
  fn.walk([&](func::ReturnOp r) { returns.push_back(r); });
  for (func::ReturnOp ret : returns) {
    b.setInsertionPoint(ret);
    for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
      auto m = bufferization::MaterializeInDestinationOp::create(
          b, ret.getLoc(), v, fn.getArgument(firstOut + i));
      m.setRestrict(true);
      m.setWritable(true);
    }
    func::ReturnOp::create(b, ret.getLoc());
    ret.erase();
  }
  fn.setType(b.getFunctionType(fn.getArgumentTypes(), {}));
  fn->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(), b.getUnitAttr());
  return success();
}

struct HybridExportFunctionsPass
    : hybrid::impl::HybridExportFunctionsBase<HybridExportFunctionsPass> {
  using Base::Base;
  void runOnOperation() override {
    for (auto fn : getOperation().getOps<func::FuncOp>())
      if (fn.isPublic() && !fn.isExternal() && failed(exportFunction(fn)))
        return signalPassFailure();
  }
};

} // namespace
