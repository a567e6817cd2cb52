//===- hybrid-compile.cpp - The Hybrid compiler driver ---------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// Spec (JSON, or --preset/--set) or .mlir in; IR out, in named phases
// (--compile-to=hybrid: the frontend's output). --describe prints what the
// model is and costs instead.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Frontend/ModelBuilder.h"
#include "hybrid/Frontend/ModelSpec.h"
#include "hybrid/Frontend/ModelSummary.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

using namespace mlir;
using namespace mlir::hybrid::frontend;
namespace cl = llvm::cl;

#ifndef HYBRID_VERSION
#define HYBRID_VERSION "0.1.0"
#endif

namespace {
cl::OptionCategory inputCat("Model input",
                            "A spec file, or a preset and key=value "
                            "options, or a .mlir file");
cl::OptionCategory outputCat("Output");

cl::opt<std::string> inputFile(cl::Positional,
                               cl::desc("[SPEC.json | FILE.mlir]"),
                               cl::init(""), cl::cat(inputCat));
cl::opt<std::string>
    presetOpt("preset",
              cl::desc("Start from a preset: jamba, nemotron_h, parallel, "
                       "minimal_attn (explicit keys override it)"),
              cl::value_desc("name"), cl::cat(inputCat));
cl::list<std::string>
    setOpts("set",
            cl::desc("Set a spec key, e.g. --set embed_dim=256 "
                     "--set schedule='[\"mamba\",\"attn\"]' (repeatable; "
                     "overrides the file)"),
            cl::value_desc("key=value"), cl::cat(inputCat));

enum class Phase { Hybrid };
cl::opt<Phase> compileTo(
    "compile-to", cl::desc("Stop after this phase and print its IR"),
    cl::values(clEnumValN(Phase::Hybrid, "hybrid",
                          "the hybrid dialect, as the frontend builds it")),
    cl::init(Phase::Hybrid), cl::cat(outputCat));
enum class Emit { Mlir };
cl::opt<Emit> emit("emit", cl::desc("What to write"),
                   cl::values(clEnumValN(Emit::Mlir, "mlir",
                                         "MLIR text of the chosen phase")),
                   cl::init(Emit::Mlir), cl::cat(outputCat));
cl::opt<bool> describe("describe",
                       cl::desc("Describe the model (schedule, parameters, "
                                "state and KV-cache bytes, FLOPs per token) "
                                "instead of compiling it"),
                       cl::cat(outputCat));
enum class Format { Text, Json };
cl::opt<Format> format(
    "format", cl::desc("Format of --describe"),
    cl::values(clEnumValN(Format::Text, "text", "human-readable"),
               clEnumValN(Format::Json, "json", "a JSON object")),
    cl::init(Format::Text), cl::cat(outputCat));
cl::opt<int64_t> seqLenOpt(
    "seq-len",
    cl::desc("Sequence length for --describe's KV-cache bytes and FLOPs "
             "(default: the spec's seq_len, else 4096)"),
    cl::init(0), cl::cat(outputCat));
cl::opt<std::string> outputFile("o", cl::desc("Output file (default stdout)"),
                                cl::value_desc("file"), cl::init("-"),
                                cl::cat(outputCat));
cl::opt<std::string> funcName("func-name",
                              cl::desc("Name of the model function"),
                              cl::init("forward"), cl::cat(outputCat));

int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "hybrid-compile") << message << "\n";
  return 1;
}

/// Writes `text` to -o.
int writeOutput(llvm::function_ref<void(llvm::raw_ostream &)> write) {
  std::string error;
  auto out = openOutputFile(outputFile, &error);
  if (!out)
    return fail(error);
  write(out->os());
  out->keep();
  return 0;
}

int compileMlirFile(MLIRContext &context) {
  if (describe)
    return fail("--describe needs a model spec (a .json file or "
                "--preset/--set), not a .mlir file");
  std::string error;
  auto file = openInputFile(inputFile, &error);
  if (!file)
    return fail(error);
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return 1;
  return writeOutput([&](llvm::raw_ostream &os) { module->print(os); });
}

int compileSpec(MLIRContext &context) {
  SpecSources sources;
  if (!inputFile.empty()) {
    auto buffer = llvm::MemoryBuffer::getFileOrSTDIN(inputFile);
    if (!buffer)
      return fail("cannot read '" + inputFile + "': " +
                  buffer.getError().message());
    sources.jsonText = (*buffer)->getBuffer().str();
    sources.jsonName = inputFile;
  }
  if (!presetOpt.empty())
    sources.preset = presetOpt;
  sources.overrides.assign(setOpts.begin(), setOpts.end());
  if (!sources.jsonText && !sources.preset && sources.overrides.empty())
    return fail("no model given: pass a spec file, or --preset NAME and/or "
                "--set key=value (see --help)");

  std::vector<SpecDiagnostic> notes;
  llvm::Expected<ModelSpec> spec = parseModelSpec(sources, &notes);
  if (!spec) {
    llvm::errs() << llvm::toString(spec.takeError()) << "\n";
    return 1;
  }
  for (const SpecDiagnostic &n : notes)
    llvm::errs() << n.str() << "\n";

  BuiltModel model = buildModel(&context, *spec, funcName);
  if (failed(verify(*model.module)))
    return fail("internal error: the frontend built IR that does not "
                "verify; please report this with the spec");

  if (describe) {
    int64_t seqLen = seqLenOpt > 0 ? int64_t(seqLenOpt)
                                   : spec->seqLen.value_or(4096);
    ModelSummary summary = summarize(*spec, model, seqLen);
    return writeOutput([&](llvm::raw_ostream &os) {
      if (format == Format::Json)
        printSummaryJson(os, *spec, summary);
      else
        printSummary(os, *spec, summary);
    });
  }
  return writeOutput([&](llvm::raw_ostream &os) { model.module->print(os); });
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << "hybrid-compile " << HYBRID_VERSION << " (LLVM/MLIR "
       << LLVM_VERSION_STRING << ")\n";
  });
  cl::HideUnrelatedOptions({&inputCat, &outputCat});
  cl::ParseCommandLineOptions(
      argc, argv,
      "Hybrid compiler: hybrid sequence models to MLIR\n\n"
      "  hybrid-compile SPEC.json [--emit=mlir] [-o OUT]\n"
      "  hybrid-compile --preset=jamba --set embed_dim=256 --describe\n"
      "  hybrid-compile FILE.mlir\n");
  if (seqLenOpt < 0)
    return fail("--seq-len must be positive");

  DialectRegistry registry;
  registerFrontendDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();

  if (StringRef(inputFile).ends_with(".mlir"))
    return compileMlirFile(context);
  return compileSpec(context);
}
