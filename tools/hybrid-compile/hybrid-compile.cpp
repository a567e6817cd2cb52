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

#include "hybrid/Dialect/Hybrid/Transforms/Passes.h"
#include "hybrid/Execution/Aot.h"
#include "hybrid/Runtime/hybrid_runtime.h"
#include "hybrid/Frontend/ModelBuilder.h"
#include "hybrid/Pipelines/Pipelines.h"
#include "hybrid/Frontend/ModelSpec.h"
#include "hybrid/Frontend/ModelSummary.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/AsmParser/AsmParserState.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"

#include "hybrid/Support/OutOfMemory.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
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

enum class Phase { Hybrid, HybridOpt, Llvm };
cl::opt<Phase> compileTo(
    "compile-to", cl::desc("Stop after this phase (with --emit=mlir)"),
    cl::values(clEnumValN(Phase::Hybrid, "hybrid",
                          "the hybrid dialect, as the frontend builds it "
                          "(unfused, as the model is written)"),
               clEnumValN(Phase::HybridOpt, "hybrid-tiled",
                          "the hybrid dialect after the hybrid-level "
                          "passes (fuse, tile, chunk)"),
               clEnumValN(Phase::Llvm, "llvm",
                          "the LLVM dialect, after --hybrid-cpu-pipeline")),
    cl::init(Phase::Hybrid), cl::cat(outputCat));
enum class Emit { Mlir, Llvm, Asm, Obj, Shared, Header, Manifest, Spec };
cl::opt<Emit> emit(
    "emit", cl::desc("What to write"),
    cl::values(
        clEnumValN(Emit::Mlir, "mlir", "MLIR text of the --compile-to phase"),
        clEnumValN(Emit::Llvm, "llvm", "LLVM IR for the host CPU"),
        clEnumValN(Emit::Asm, "asm", "host assembly"),
        clEnumValN(Emit::Obj, "obj", "a host object file"),
        clEnumValN(Emit::Shared, "shared",
                   "a shared library (links libomp; the application links "
                   "libhybrid_runtime)"),
        clEnumValN(Emit::Header, "header",
                   "the C header declaring the model (or the functions)"),
        clEnumValN(Emit::Manifest, "weights-manifest",
                   "the weights the model takes, as JSON"),
        clEnumValN(Emit::Spec, "spec",
                   "the model's spec as JSON, every key's effective value "
                   "(defaults, preset, file, --set)")),
    cl::init(Emit::Mlir), cl::cat(outputCat));
enum class Target { Cpu };
cl::opt<Target> target("target", cl::desc("Code generation target"),
                       cl::values(clEnumValN(Target::Cpu, "cpu",
                                             "this host's CPU (OpenMP)")),
                       cl::init(Target::Cpu), cl::cat(outputCat));
cl::opt<std::string> modelName(
    "model-name",
    cl::desc("C name of the model, the prefix of every symbol it exports: "
             "<name>_model for a spec, <name>_<function> for a .mlir file "
             "(default: the preset, else 'model'; the .mlir file's name)"),
    cl::value_desc("name"), cl::cat(outputCat));
cl::opt<int64_t> vectorWidth("vector-width",
                             cl::desc("Lanes of the recurrences' tiles"),
                             cl::init(8), cl::cat(outputCat));
cl::opt<std::string> pipelineOptions(
    "pipeline-options",
    cl::desc("Options of --hybrid-cpu-pipeline, e.g. \"chunk-size=64 "
             "tile=false\" (docs/Passes.md)"),
    cl::init(""), cl::cat(outputCat));
cl::opt<bool> openmp("openmp",
                     cl::desc("Run parallel loops on all cores (OpenMP)"),
                     cl::init(true), cl::cat(outputCat));
cl::opt<bool> listPresets(
    "list-presets",
    cl::desc("Print the presets' options and the defaults as JSON "
             "({\"presets\": {name: {key: value}}, \"defaults\": {...}})"),
    cl::cat(outputCat));
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
cl::opt<LayerSharing> shareLayers(
    "share-layers",
    cl::desc("Layers as calls of one function per layer kind (compile time "
             "grows with the kinds, not the depth) or inline"),
    cl::values(clEnumValN(LayerSharing::Auto, "auto",
                          "share above 16 layers (default)"),
               clEnumValN(LayerSharing::Always, "always", "always share"),
               clEnumValN(LayerSharing::Never, "never", "every layer inline")),
    cl::init(LayerSharing::Auto), cl::cat(inputCat));

cl::opt<bool> stateful(
    "stateful",
    cl::desc("Also build the stateful (prefill/decode) form of the model: "
             "f(input, lengths, weights..., states...) -> (output, "
             "states...) and its one-position step; needs a sliding window. "
             "--emit=mlir prints these two functions (<func-name> and "
             "<func-name>_step); object code and libraries add them to the "
             "forward function, for the runtime's hybrid_state_* API"),
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

/// Like openOutputFile, but refuses to write object code to a terminal.
bool binaryToTerminal() {
  return outputFile == "-" && llvm::outs().is_displayed();
}

bool needsLowering() {
  return emit == Emit::Llvm || emit == Emit::Asm || emit == Emit::Obj ||
         emit == Emit::Shared ||
         (emit == Emit::Mlir && compileTo != Phase::Hybrid);
}

/// Exports the public functions and runs the CPU pipeline (only its
/// hybrid-level stages for --compile-to=hybrid-tiled).
LogicalResult lower(ModuleOp module) {
  std::unique_ptr<hybrid::CPUPipelineOptions> options =
      hybrid::CPUPipelineOptions::createFromString(pipelineOptions);
  if (!options) {
    llvm::errs() << "hybrid-compile: error: --pipeline-options=\""
                 << pipelineOptions << "\" does not parse\n";
    return failure();
  }
  if (vectorWidth.getNumOccurrences())
    options->vectorWidth = vectorWidth;
  if (openmp.getNumOccurrences())
    options->openmp = openmp;
  PassManager pm(module.getContext());
  if (failed(applyPassManagerCLOptions(pm)))
    return failure();
  if (compileTo == Phase::HybridOpt && emit == Emit::Mlir) {
    hybrid::buildHybridLevelPipeline(pm, *options);
    return pm.run(module);
  }
  pm.addPass(hybrid::createHybridExportFunctions());
  hybrid::buildHybridCPUPipeline(pm, *options);
  return pm.run(module);
}

/// Writes the lowered module as --emit asks.
int emitLowered(ModuleOp module) {
  if (emit == Emit::Mlir)
    return writeOutput([&](llvm::raw_ostream &os) { module.print(os); });
  llvm::LLVMContext llvmContext;
  auto llvmModule = hybrid::translateForHost(module, llvmContext);
  if (!llvmModule)
    return fail(llvm::toString(llvmModule.takeError()));
  if (emit == Emit::Llvm)
    return writeOutput(
        [&](llvm::raw_ostream &os) { (*llvmModule)->print(os, nullptr); });
  if (emit == Emit::Shared) {
    if (outputFile == "-")
      return fail("--emit=shared needs -o FILE");
    llvm::SmallString<128> object;
    int fd;
    if (std::error_code ec = llvm::sys::fs::createTemporaryFile(
            "hybrid", "o", fd, object))
      return fail("cannot create a temporary object file: " + ec.message());
    {
      llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
      if (llvm::Error e = hybrid::emitHostCode(**llvmModule,
                                               hybrid::HostOutput::Object, os))
        return fail(llvm::toString(std::move(e)));
    }
    llvm::Error e = hybrid::linkSharedLibrary(object, outputFile);
    llvm::sys::fs::remove(object);
    if (e)
      return fail(llvm::toString(std::move(e)));
    return 0;
  }
  std::string error;
  auto out = openOutputFile(outputFile, &error);
  if (!out)
    return fail(error);
  if (llvm::Error e = hybrid::emitHostCode(
          **llvmModule,
          emit == Emit::Obj ? hybrid::HostOutput::Object
                            : hybrid::HostOutput::Assembly,
          out->os()))
    return fail(llvm::toString(std::move(e)));
  out->keep();
  return 0;
}

bool isIdentifier(StringRef n) {
  return !n.empty() && !std::isdigit(static_cast<unsigned char>(n[0])) &&
         llvm::all_of(n, [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
         });
}

/// Parses a .mlir file and names the arguments of its functions after the
/// source's SSA names (`hybrid.weight`, unless already set), which the C
/// header uses.
OwningOpRef<ModuleOp> parseNamingArguments(llvm::SourceMgr &sourceMgr,
                                           MLIRContext &context) {
  Block block;
  AsmParserState state;
  ParserConfig config(&context);
  if (failed(parseAsmSourceFile(sourceMgr, &block, config, &state)))
    return {};
  for (Operation &top : block)
    top.walk([&](func::FuncOp fn) {
      if (fn.isExternal())
        return;
      const AsmParserState::BlockDefinition *def =
          state.getBlockDef(&fn.getBody().front());
      if (!def)
        return;
      for (auto [i, arg] : llvm::enumerate(def->arguments)) {
        if (i >= fn.getNumArguments() || fn.getArgAttr(i, "hybrid.weight"))
          continue;
        StringRef text(arg.loc.Start.getPointer(),
                       arg.loc.End.getPointer() - arg.loc.Start.getPointer());
        text.consume_front("%");
        if (!text.empty())
          fn.setArgAttr(i, "hybrid.weight",
                        StringAttr::get(&context, text));
      }
    });
  const llvm::MemoryBuffer *buffer =
      sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID());
  return detail::constructContainerOpForParserIfNecessary<ModuleOp>(
      &block, &context,
      FileLineColLoc::get(&context, buffer->getBufferIdentifier(), 0, 0));
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
  OwningOpRef<ModuleOp> module = parseNamingArguments(sourceMgr, context);
  if (!module)
    return 1;
  if (emit == Emit::Manifest || emit == Emit::Spec)
    return fail("--emit=weights-manifest and --emit=spec need a model spec");
  std::string name = modelName;
  if (name.empty()) {
    // The file's name, as a C identifier.
    StringRef stem = llvm::sys::path::stem(inputFile);
    for (char c : stem)
      name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])))
      name = "kernels_" + name;
  } else if (!isIdentifier(name)) {
    return fail("--model-name '" + name + "' is not a C identifier");
  }
  if (emit == Emit::Header) {
    PassManager pm(&context);
    pm.addPass(hybrid::createHybridExportFunctions());
    if (failed(pm.run(*module)))
      return 1;
    std::string text;
    llvm::raw_string_ostream os(text);
    if (failed(hybrid::writeFunctionsHeader(os, name, *module)))
      return 1;
    return writeOutput([&](llvm::raw_ostream &out) { out << text; });
  }
  if (!needsLowering())
    return writeOutput([&](llvm::raw_ostream &os) { module->print(os); });
  if (failed(lower(*module)))
    return 1;
  if (emit != Emit::Mlir && failed(hybrid::exportFunctionsAs(*module, name)))
    return 1;
  return emitLowered(*module);
}

int compileSpec(MLIRContext &context) {
  std::vector<std::string> sets(setOpts.begin(), setOpts.end());
  llvm::Expected<SpecSources> sources =
      specSourcesFromCommandLine(inputFile, presetOpt, sets);
  if (!sources)
    return fail(llvm::toString(sources.takeError()));

  std::vector<SpecDiagnostic> notes;
  llvm::Expected<ModelSpec> spec = parseModelSpec(*sources, &notes);
  if (!spec) {
    llvm::errs() << llvm::toString(spec.takeError()) << "\n";
    return 1;
  }
  for (const SpecDiagnostic &n : notes)
    llvm::errs() << n.str() << "\n";

  BuiltModel model;
  std::vector<WeightInfo> states;
  if (stateful) {
    if (describe)
      return fail("--describe describes both forms (see its 'stateful "
                  "state' line); drop --stateful");
    bool alone = emit == Emit::Mlir;
    std::string prefillName = alone ? std::string(funcName) : "prefill";
    llvm::Expected<BuiltModel> built = buildStatefulModel(
        &context, *spec, prefillName,
        alone ? prefillName + "_step" : std::string("step"),
        BuildOptions{shareLayers});
    if (!built)
      return fail(llvm::toString(built.takeError()));
    states = built->states;
    if (alone) {
      model = std::move(*built);
    } else {
      // The library holds forward, prefill and step.
      model = buildModel(&context, *spec, funcName, BuildOptions{shareLayers});
      Block *body = model.module->getBody();
      for (Operation &op :
           llvm::make_early_inc_range(built->module->getBody()->getOperations()))
        op.moveBefore(body, body->end());
    }
  } else {
    model = buildModel(&context, *spec, funcName, BuildOptions{shareLayers});
  }
  if (failed(verify(*model.module)))
    return fail("internal error: the frontend built IR that does not "
                "verify; please report this with the spec");

  if (describe) {
    int64_t seqLen = seqLenOpt > 0 ? int64_t(seqLenOpt)
                                   : spec->seqLen.value_or(4096);
    // The stateful form's exact state, where the model has one (not with
    // full causal attention, not for a fixed seq_len).
    std::optional<BuiltModel> stateForm;
    if (!spec->seqLen) {
      llvm::Expected<BuiltModel> built =
          buildStatefulModel(&context, *spec, "prefill", {},
                             BuildOptions{shareLayers});
      if (built)
        stateForm = std::move(*built);
      else
        llvm::consumeError(built.takeError());
    }
    ModelSummary summary = summarize(*spec, model, seqLen,
                                     stateForm ? &*stateForm : nullptr);
    return writeOutput([&](llvm::raw_ostream &os) {
      if (format == Format::Json)
        printSummaryJson(os, *spec, summary);
      else
        printSummary(os, *spec, summary);
    });
  }
  std::string name = !modelName.empty() ? std::string(modelName)
                     : spec->preset  ? presetName(*spec->preset).str()
                                     : std::string("model");
  if (!isIdentifier(name))
    return fail("--model-name '" + name + "' is not a C identifier");
  if (emit == Emit::Spec)
    return writeOutput([&](llvm::raw_ostream &os) {
      os << llvm::formatv("{0:2}", llvm::json::Value(specToJson(*spec)))
         << "\n";
    });
  if (emit == Emit::Manifest)
    return writeOutput([&](llvm::raw_ostream &os) {
      llvm::json::Array list;
      for (const WeightInfo &w : model.weights)
        list.push_back(llvm::json::Object{
            {"name", w.name},
            {"shape", llvm::json::Array(w.shape)},
            {"dtype", "F32"}});
      os << llvm::formatv("{0:2}", llvm::json::Value(std::move(list)))
         << "\n";
    });
  if (emit == Emit::Header)
    return writeOutput([&](llvm::raw_ostream &os) {
      hybrid::writeModelHeader(os, name, *spec, model.weights, states);
    });
  if (!needsLowering())
    return writeOutput(
        [&](llvm::raw_ostream &os) { model.module->print(os); });
  if (failed(lower(*model.module)))
    return fail("lowering the model failed");
  if (emit == Emit::Mlir && compileTo == Phase::HybridOpt)
    return writeOutput(
        [&](llvm::raw_ostream &os) { model.module->print(os); });
  if (emit != Emit::Mlir) {
    if (failed(hybrid::addModelDescriptor(*model.module, name, funcName,
                                          *spec, model.weights, states)))
      return 1;
    hybrid::internalizeSymbols(*model.module, {name + "_model"});
  }
  return emitLowered(*model.module);
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  mlir::hybrid::installOutOfMemoryExit("hybrid-compile");
  cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << "hybrid-compile " << HYBRID_VERSION << " (runtime ABI "
       << HYBRID_ABI_VERSION << ", LLVM/MLIR "
       << LLVM_VERSION_STRING << ")\n";
  });
  // --mlir-print-ir-after-all, --mlir-print-ir-before=..., --mlir-timing
  // (hidden from --help, as MLIR's own options are).
  mlir::registerPassManagerCLOptions();
  cl::HideUnrelatedOptions({&inputCat, &outputCat});
  cl::ParseCommandLineOptions(
      argc, argv,
      "Hybrid compiler: hybrid sequence models to MLIR\n\n"
      "  hybrid-compile SPEC.json [--emit=mlir] [-o OUT]\n"
      "  hybrid-compile --preset=jamba --set embed_dim=256 --describe\n"
      "  hybrid-compile --preset=jamba --set embed_dim=256 --target=cpu "
      "--emit=obj -o jamba.o\n"
      "  hybrid-compile FILE.mlir --emit=shared -o kernels.so\n");
  if (seqLenOpt < 0)
    return fail("--seq-len must be positive");
  if (emit == Emit::Obj && binaryToTerminal())
    return fail("refusing to write an object file to a terminal: give -o "
                "FILE (or redirect the output)");

  if (listPresets) {
    llvm::json::Object presets;
    for (Preset p : allPresets())
      presets[presetName(p)] = presetOptions(p);
    llvm::json::Object out{{"presets", std::move(presets)},
                           {"defaults", specToJson(ModelSpec())}};
    return writeOutput([&](llvm::raw_ostream &os) {
      os << llvm::formatv("{0:2}", llvm::json::Value(std::move(out))) << "\n";
    });
  }

  DialectRegistry registry;
  registerFrontendDialects(registry);
  hybrid::registerPipelineDependencies(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();

  if (StringRef(inputFile).ends_with(".mlir"))
    return compileMlirFile(context);
  return compileSpec(context);
}
