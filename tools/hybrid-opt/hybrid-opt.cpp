//===- hybrid-opt.cpp - mlir-opt with the Hybrid dialect -------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// The optimizer driver: every upstream dialect, pass and extension, the
// hybrid dialect, and the LLVM IR translations (so passes that serialize
// through LLVM IR, such as gpu-module-to-binary, work).
//
//===----------------------------------------------------------------------===//

#include "hybrid/Conversion/Passes.h"
#include "hybrid/Dialect/Hybrid/Transforms/Passes.h"
#include "hybrid/Pipelines/Pipelines.h"
#include "hybrid/InitAllDialects.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::hybrid::registerHybridConversionPasses();
  mlir::hybrid::registerHybridTransformsPasses();
  mlir::hybrid::registerHybridPipelines();

  mlir::DialectRegistry registry;
  mlir::hybrid::registerAllDialects(registry);
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);

  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "Hybrid optimizer driver\n", registry));
}
