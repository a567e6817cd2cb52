//===- SpecFuzzer.cpp - libFuzzer target: spec -> IR ------------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// Bytes as a spec file: the JSON reader, key checks, schedule resolution,
// then (for specs small enough to build in milliseconds) the IR builder, the
// verifier, --describe's summary and the stateful form. A crash, a sanitizer
// report, or a built module that fails to verify is a finding.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Frontend/ModelBuilder.h"
#include "hybrid/Frontend/ModelSpec.h"
#include "hybrid/Frontend/ModelSummary.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace mlir;
using namespace mlir::hybrid::frontend;

namespace {
MLIRContext &context() {
  static MLIRContext *ctx = [] {
    DialectRegistry registry;
    registerFrontendDialects(registry);
    auto *c = new MLIRContext(registry);
    c->loadAllAvailableDialects();
    return c;
  }();
  return *ctx;
}

/// Specs whose IR builds quickly: the fuzzer explores the logic, the size
/// limits are checked by parseModelSpec (and by the lit tests).
bool smallEnough(const ModelSpec &s) {
  return s.embedDim <= 64 && s.hiddenSize <= 64 && s.numLayers <= 6 &&
         s.stateSize <= 16 && s.expandFactor <= 4 && s.convSize <= 8 &&
         s.numHeads <= 8 && s.headDim <= 16 && s.seqLen.value_or(1) <= 64 &&
         s.chunkSize <= 64;
}

[[noreturn]] void finding(const char *what) {
  std::fprintf(stderr, "spec fuzzer: %s\n", what);
  std::abort();
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > (1 << 16))
    return 0;
  SpecSources sources;
  sources.jsonText = std::string(reinterpret_cast<const char *>(data), size);
  sources.jsonName = "fuzz.json";
  std::vector<SpecDiagnostic> notes;
  llvm::Expected<ModelSpec> spec = parseModelSpec(sources, &notes);
  if (!spec) {
    std::string message = llvm::toString(spec.takeError());
    if (message.empty())
      finding("a rejected spec without a message");
    return 0;
  }
  if (!smallEnough(*spec))
    return 0;
  MLIRContext &ctx = context();
  ScopedDiagnosticHandler quiet(&ctx, [](Diagnostic &) { return success(); });
  BuiltModel model = buildModel(&ctx, *spec);
  if (!model.module || failed(verify(*model.module)))
    finding("the builder produced IR that does not verify");
  ModelSummary summary = summarize(*spec, model, spec->seqLen.value_or(16));
  std::string text;
  llvm::raw_string_ostream os(text);
  printSummary(os, *spec, summary);
  printSummaryJson(os, *spec, summary);
  llvm::Expected<BuiltModel> stateful =
      buildStatefulModel(&ctx, *spec, "prefill", "step");
  if (!stateful) {
    llvm::consumeError(stateful.takeError());
    return 0;
  }
  if (failed(verify(*stateful->module)))
    finding("the stateful builder produced IR that does not verify");
  return 0;
}
