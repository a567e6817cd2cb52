//===- IrFuzzer.cpp - libFuzzer target: hybrid IR -> LLVM ------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// Bytes as MLIR source (what hybrid-opt and hybrid-compile FILE.mlir read):
// the parser, the hybrid verifiers, then, for programs made only of
// functions and hybrid ops with small static sizes, convert-hybrid-to-scf,
// the CPU pipeline through the ops' memref forms and scalar loops
// (scalar-loops), and the whole CPU pipeline down to the LLVM dialect. Passes may refuse IR
// with a diagnostic; a crash or a sanitizer report is a finding.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Conversion/Passes.h"
#include "hybrid/Frontend/ModelBuilder.h"
#include "hybrid/Pipelines/Pipelines.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include <cstdint>

using namespace mlir;

namespace {
MLIRContext &context() {
  static MLIRContext *ctx = [] {
    DialectRegistry registry;
    hybrid::frontend::registerFrontendDialects(registry);
    hybrid::registerPipelineDependencies(registry);
    auto *c = new MLIRContext(registry, MLIRContext::Threading::DISABLED);
    c->loadAllAvailableDialects();
    return c;
  }();
  return *ctx;
}

/// Only functions and hybrid ops, with static dims of at most 64 (dynamic
/// dims are fine: nothing runs). Upstream ops are upstream's to fuzz.
bool onlyHybrid(ModuleOp module) {
  bool ok = true;
  module.walk([&](Operation *op) {
    StringRef ns = op->getName().getDialectNamespace();
    if (!isa<ModuleOp, func::FuncOp, func::ReturnOp>(op) && ns != "hybrid")
      ok = false;
    for (Type t : llvm::concat<Type>(op->getOperandTypes(),
                                      op->getResultTypes()))
      if (auto shaped = dyn_cast<ShapedType>(t))
        for (int64_t d : shaped.getShape())
          if (!ShapedType::isDynamic(d) && d > 64)
            ok = false;
  });
  return ok;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 8192)
    return 0;
  MLIRContext &ctx = context();
  ScopedDiagnosticHandler quiet(&ctx, [](Diagnostic &) { return success(); });
  // The MLIR lexer needs a null-terminated buffer (as files are read).
  std::string text(reinterpret_cast<const char *>(data), size);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(text, &ctx);
  if (!module || !onlyHybrid(*module))
    return 0;
  {
    OwningOpRef<ModuleOp> copy = module->clone();
    PassManager pm(&ctx);
    pm.addPass(hybrid::createConvertHybridToSCF());
    (void)pm.run(*copy);
  }
  {
    // The memref forms' path: one-shot bufferization through the ops'
    // models, then their scalar implementations (hybrid-lower-to-loops).
    OwningOpRef<ModuleOp> copy = module->clone();
    PassManager pm(&ctx);
    hybrid::CPUPipelineOptions options;
    options.openmp = false;
    options.scalarLoops = true;
    hybrid::buildHybridCPUPipeline(pm, options);
    (void)pm.run(*copy);
  }
  PassManager pm(&ctx);
  hybrid::CPUPipelineOptions options;
  options.openmp = false;
  hybrid::buildHybridCPUPipeline(pm, options);
  (void)pm.run(*module);
  return 0;
}
