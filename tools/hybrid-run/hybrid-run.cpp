//===- hybrid-run.cpp - Compile a model and run it -------------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// Compiles a model spec for this CPU (JIT), fills seeded random weights and
// input, runs the forward pass, prints the output shape, a checksum and the
// time; --check compares with the reference model, --bench N times N runs.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Execution/CompiledModel.h"
#include "hybrid/Execution/Safetensors.h"
#include "hybrid/Frontend/ModelSpec.h"
#include "hybrid/Frontend/ModelSummary.h"
#include "hybrid/Frontend/WeightInit.h"
#include "hybrid/Reference/Model.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cmath>

using namespace mlir;
using namespace mlir::hybrid;
using namespace mlir::hybrid::frontend;
namespace cl = llvm::cl;

namespace {
cl::OptionCategory modelCat("Model", "A spec file, or a preset and key=value "
                                     "options (as hybrid-compile)");
cl::OptionCategory runCat("Run");

cl::opt<std::string> inputFile(cl::Positional, cl::desc("[SPEC.json]"),
                               cl::init(""), cl::cat(modelCat));
cl::opt<std::string> presetOpt("preset", cl::desc("Start from a preset"),
                               cl::value_desc("name"), cl::cat(modelCat));
cl::list<std::string> setOpts("set", cl::desc("Set a spec key"),
                              cl::value_desc("key=value"), cl::cat(modelCat));
cl::opt<int64_t> batchOpt("batch", cl::desc("Batch size"), cl::init(1),
                          cl::cat(runCat));
cl::opt<int64_t> seqOpt("seq-len",
                        cl::desc("Sequence length (default: the spec's "
                                 "seq_len, else 64)"),
                        cl::init(0), cl::cat(runCat));
cl::opt<uint64_t> seedOpt("seed", cl::desc("Seed of the random weights and "
                                           "input"),
                          cl::init(0), cl::cat(runCat));
cl::opt<bool> checkOpt("check",
                       cl::desc("Also run the reference model and fail "
                                "above --tolerance"),
                       cl::cat(runCat));
cl::opt<double> tolOpt("tolerance",
                       cl::desc("Largest accepted max|out - ref| / "
                                "max(max|ref|, 1) for --check"),
                       cl::init(1e-3), cl::cat(runCat));
cl::opt<int> benchOpt("bench",
                      cl::desc("Run N times; report median and best time "
                               "and tokens per second"),
                      cl::init(0), cl::cat(runCat));
cl::opt<bool> noOpenmp("no-openmp", cl::desc("Compile serial code"),
                       cl::cat(runCat));
cl::opt<std::string> saveWeights(
    "save-weights",
    cl::desc("Write the random weights used to a .safetensors file"),
    cl::value_desc("file"), cl::cat(runCat));
cl::opt<std::string> saveInput(
    "save-input",
    cl::desc("Write the random input as raw little-endian f32"),
    cl::value_desc("file"), cl::cat(runCat));

int fail(const llvm::Twine &msg) {
  llvm::WithColor::error(llvm::errs(), "hybrid-run") << msg << "\n";
  return 1;
}

double seconds(std::chrono::steady_clock::time_point a,
               std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::string shapeString(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions({&modelCat, &runCat});
  cl::ParseCommandLineOptions(
      argc, argv,
      "hybrid-run: compile a hybrid model for this CPU and run it\n\n"
      "  hybrid-run --preset=jamba --set embed_dim=256 --check --bench 5\n");
  if (batchOpt < 1 || seqOpt < 0 || benchOpt < 0)
    return fail("--batch must be >= 1, --seq-len and --bench >= 0");

  SpecSources sources;
  if (!inputFile.empty()) {
    auto buffer = llvm::MemoryBuffer::getFile(inputFile);
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
                "--set key=value");
  std::vector<SpecDiagnostic> notes;
  llvm::Expected<ModelSpec> spec = parseModelSpec(sources, &notes);
  if (!spec) {
    llvm::errs() << llvm::toString(spec.takeError()) << "\n";
    return 1;
  }
  for (const SpecDiagnostic &n : notes)
    llvm::errs() << n.str() << "\n";
  int64_t seq = seqOpt > 0 ? int64_t(seqOpt) : spec->seqLen.value_or(64);
  if (spec->seqLen && seq != *spec->seqLen)
    return fail("--seq-len " + std::to_string(seq) +
                " differs from the spec's seq_len " +
                std::to_string(*spec->seqLen));

  CPUPipelineOptions options;
  options.openmp = !noOpenmp;
  auto t0 = std::chrono::steady_clock::now();
  auto model = CompiledModel::compile(*spec, options);
  if (!model)
    return fail(llvm::toString(model.takeError()));
  auto t1 = std::chrono::steady_clock::now();

  std::string pattern;
  for (LayerKind k : spec->resolveSchedule())
    pattern += layerKindLetter(k);
  int64_t params = 0;
  for (const WeightInfo &w : (*model)->weights())
    params += w.numElements();
  llvm::outs() << "model     " << modeName(spec->mode) << " " << pattern
               << ", hidden " << spec->hiddenSize << ", " << params
               << " parameters; compiled in "
               << llvm::format("%.2f", seconds(t0, t1)) << " s\n";

  std::vector<HostTensor> weights =
      randomWeights((*model)->weights(), seedOpt);
  HostTensor input = randomInput(batchOpt, seq, spec->embedDim, seedOpt);
  if (!saveWeights.empty())
    if (llvm::Error e =
            writeSafetensors(saveWeights, (*model)->weights(), weights))
      return fail(llvm::toString(std::move(e)));
  if (!saveInput.empty()) {
    std::error_code ec;
    llvm::raw_fd_ostream out(saveInput, ec);
    if (ec)
      return fail("cannot write '" + saveInput + "': " + ec.message());
    out.write(reinterpret_cast<const char *>(input.data.data()),
              input.data.size() * 4);
  }
  HostTensor output;
  auto t2 = std::chrono::steady_clock::now();
  if (llvm::Error e = (*model)->run(input, weights, output))
    return fail(llvm::toString(std::move(e)));
  auto t3 = std::chrono::steady_clock::now();

  double sum = 0.0, absSum = 0.0;
  bool finite = true;
  for (float v : output.data) {
    sum += v;
    absSum += std::abs(v);
    finite &= std::isfinite(v);
  }
  int64_t tokens = batchOpt * seq;
  llvm::outs() << "input     " << shapeString(input.shape) << "\n"
               << "output    " << shapeString(output.shape) << "\n"
               << "checksum  sum " << llvm::format("%.6e", sum)
               << ", mean |x| "
               << llvm::format("%.6e", absSum / output.numElements()) << "\n"
               << "time      " << llvm::format("%.3f", seconds(t2, t3) * 1e3)
               << " ms (first run, " << tokens << " tokens)\n";
  if (!finite)
    return fail("the output has non-finite values");

  if (benchOpt > 0) {
    std::vector<double> times;
    for (int i = 0; i < benchOpt; ++i) {
      auto a = std::chrono::steady_clock::now();
      if (llvm::Error e = (*model)->run(input, weights, output))
        return fail(llvm::toString(std::move(e)));
      times.push_back(seconds(a, std::chrono::steady_clock::now()));
    }
    std::sort(times.begin(), times.end());
    double median = times[times.size() / 2], best = times.front();
    llvm::outs() << "bench     " << benchOpt << " runs: median "
                 << llvm::format("%.3f", median * 1e3) << " ms, best "
                 << llvm::format("%.3f", best * 1e3) << " ms, "
                 << llvm::format("%.0f", tokens / median)
                 << " tokens/s (median)\n";
  }

  if (checkOpt) {
    auto r0 = std::chrono::steady_clock::now();
    HostTensor expected =
        reference::forward(referenceConfig(*spec),
                           namedWeights((*model)->weights(), weights), input);
    auto r1 = std::chrono::steady_clock::now();
    double err = 0.0, scale = 1.0;
    for (size_t i = 0; i < expected.data.size(); ++i) {
      err = std::max(err, std::abs(double(output.data[i]) - expected.data[i]));
      scale = std::max(scale, std::abs(double(expected.data[i])));
    }
    double rel = err / scale;
    bool ok = expected.shape == output.shape && rel <= tolOpt;
    llvm::outs() << "check     max|out - ref| / max(max|ref|, 1) = "
                 << llvm::format("%.3e", rel) << " (tolerance "
                 << llvm::format("%.1e", double(tolOpt)) << ", reference "
                 << llvm::format("%.2f", seconds(r0, r1)) << " s): "
                 << (ok ? "PASS" : "FAIL") << "\n";
    if (!ok)
      return 1;
  }
  return 0;
}
