//===- build_ops.cpp - Hybrid ops from C++ ----------------------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// Builds a function with a Mamba selective scan and a sliding-window
// attention through the ops' C++ builders, verifies it and prints it. The
// builders infer the result types and create the destinations (an empty
// output, a zero initial state) when they are not given.
//
//   clang++-22 -std=c++17 $(llvm-config-22 --cxxflags) -I<hybrid>/include \
//       -I<build>/include build_ops.cpp <build>/lib/libHybridDialect.a \
//       -L/usr/lib/llvm-22/lib -lMLIR -lLLVM -Wl,-rpath,/usr/lib/llvm-22/lib
//
// (docs/GettingStarted.md, "Build ops from C++"; test/Examples/build-ops.test
// builds and runs it.)
//
//===----------------------------------------------------------------------===//

#include "hybrid/Dialect/Hybrid/IR/HybridOps.h"
#include "hybrid/InitAllDialects.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::hybrid;

int main() {
  // The hybrid dialect (with its tiling and other external models) and the
  // upstream dialects its builders and users create.
  DialectRegistry registry;
  hybrid::registerAllDialects(registry);
  registry.insert<arith::ArithDialect, func::FuncDialect,
                  linalg::LinalgDialect, tensor::TensorDialect>();
  MLIRContext context(registry);
  context.loadAllAvailableDialects();

  OpBuilder b(&context);
  Location loc = b.getUnknownLoc();
  ModuleOp module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module.getBody());

  // [batch 1, time 16, channels 32], state size 8; attention with 2 heads
  // of 16.
  Type f32 = b.getF32Type();
  auto t = [&](ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, f32);
  };
  auto fnType = b.getFunctionType(
      {t({1, 16, 32}), t({1, 16, 32}), t({32, 8}), t({1, 16, 8}),
       t({1, 16, 8}), t({1, 2, 16, 16}), t({1, 2, 16, 16}),
       t({1, 2, 16, 16})},
      {t({1, 16, 32}), t({1, 2, 16, 16})});
  auto fn = func::FuncOp::create(b, loc, "mixer", fnType);
  Block *entry = fn.addEntryBlock();
  b.setInsertionPointToStart(entry);
  auto arg = [&](unsigned i) { return entry->getArgument(i); };

  // y, final state = selective scan of u with step sizes delta (softplus),
  // A, B, C; no D, gate or bias; the zero state and the output are created.
  auto scan = SsmScanOp::create(b, loc, arg(0), arg(1), arg(2), arg(3),
                                arg(4));
  auto attn = WindowedAttentionOp::create(b, loc, arg(5), arg(6), arg(7),
                                          /*window=*/4, /*scale=*/std::nullopt,
                                          /*qk_norm=*/true);
  func::ReturnOp::create(b, loc,
                         ValueRange{scan.getY(), attn.getO()});

  if (failed(verify(module))) {
    llvm::errs() << "the built module does not verify\n";
    return 1;
  }
  module.print(llvm::outs());
  module.erase();
  return 0;
}
