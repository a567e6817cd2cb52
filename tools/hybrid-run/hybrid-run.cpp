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
#include "hybrid/Reference/SpecBridge.h"
#include "hybrid/Execution/Safetensors.h"
#include "hybrid/Frontend/ModelSpec.h"
#include "hybrid/Frontend/ModelSummary.h"
#include "hybrid/Frontend/WeightInit.h"
#include "hybrid/Reference/Model.h"

#include "hybrid/Runtime/hybrid_runtime.h"

#include "hybrid/Support/OutOfMemory.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/DynamicLibrary.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <cmath>
#include <cstring>

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
cl::opt<std::string> pipelineOptions(
    "pipeline-options",
    cl::desc("Options of --hybrid-cpu-pipeline, e.g. \"scalar-loops=true\" "
             "(docs/Passes.md)"),
    cl::init(""), cl::cat(runCat));
cl::opt<std::string> weightsFile(
    "weights",
    cl::desc("Read the weights from a .safetensors file instead of "
             "generating them"),
    cl::value_desc("file"), cl::cat(runCat));
cl::opt<std::string> inputNpy(
    "input",
    cl::desc("Read the input [batch, seq, embed_dim] from a .npy file (f4, "
             "C order); sets --batch and --seq-len"),
    cl::value_desc("file.npy"), cl::cat(runCat));
cl::opt<std::string> library(
    "library",
    cl::desc("Run a model compiled ahead of time (hybrid-compile "
             "--emit=shared) through the C runtime instead of the JIT; the "
             "spec describes it (weights, reference)"),
    cl::value_desc("lib.so"), cl::cat(runCat));
cl::opt<std::string> libraryModel(
    "library-model", cl::desc("The model's C name in --library"),
    cl::init("model"), cl::value_desc("name"), cl::cat(runCat));
cl::opt<int64_t> decodeOpt(
    "decode",
    cl::desc("Stateful inference: prefill --seq-len positions, then decode N "
             "positions one step at a time; report the per-token latency "
             "(median, p99) and tokens/s; --check compares the prefill and "
             "every step with the reference's whole-sequence forward pass"),
    cl::init(0), cl::value_desc("N"), cl::cat(runCat));
cl::opt<bool> decodeViaPrefill(
    "decode-via-prefill",
    cl::desc("With --decode: run each step through the prefill function "
             "(chunks of any length) instead of the step function compiled "
             "for one position, to compare the two"),
    cl::init(false), cl::cat(runCat));
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

/// Reads a little-endian f4, C-order .npy file.
llvm::Expected<HostTensor> readNpy(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return llvm::createStringError(buffer.getError(), "cannot read '%s'",
                                   path.str().c_str());
  llvm::StringRef bytes = (*buffer)->getBuffer();
  auto bad = [&](const llvm::Twine &why) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "'" + path + "': " + why);
  };
  if (bytes.size() < 10 || !bytes.starts_with("\x93NUMPY"))
    return bad("not a .npy file");
  unsigned major = static_cast<unsigned char>(bytes[6]);
  size_t headerLen, start;
  if (major == 1) {
    headerLen = static_cast<unsigned char>(bytes[8]) |
                (static_cast<unsigned char>(bytes[9]) << 8);
    start = 10;
  } else {
    if (bytes.size() < 12)
      return bad("truncated header");
    headerLen = 0;
    for (int i = 3; i >= 0; --i)
      headerLen = (headerLen << 8) | static_cast<unsigned char>(bytes[8 + i]);
    start = 12;
  }
  if (start + headerLen > bytes.size())
    return bad("truncated header");
  llvm::StringRef header = bytes.substr(start, headerLen);
  if (!header.contains("'descr': '<f4'"))
    return bad("expected dtype '<f4' (float32), header " + header.trim());
  if (header.contains("'fortran_order': True"))
    return bad("expected C order");
  size_t open = header.find("'shape': (");
  if (open == llvm::StringRef::npos)
    return bad("no shape in header");
  llvm::StringRef dims =
      header.substr(open + 10).take_until([](char c) { return c == ')'; });
  HostTensor t;
  llvm::SmallVector<llvm::StringRef> parts;
  dims.split(parts, ',', -1, false);
  for (llvm::StringRef p : parts) {
    int64_t d;
    if (p.trim().getAsInteger(10, d) || d < 0)
      return bad("bad shape '(" + dims + ")': dims are integers >= 0");
    t.shape.push_back(d);
  }
  int64_t elements = HostTensor::checkedElements(t.shape);
  if (elements < 0)
    return bad("shape '(" + dims + ")' has more than " +
               std::to_string(HostTensor::kMaxElements) + " elements");
  llvm::StringRef data = bytes.substr(start + headerLen);
  if (data.size() != static_cast<uint64_t>(elements) * 4)
    return bad("expected " + std::to_string(elements * 4) +
               " bytes of data, found " + std::to_string(data.size()));
  t.data.assign(elements, 0.0f);
  std::memcpy(t.data.data(), data.data(), data.size());
  return t;
}

std::string shapeString(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}
} // namespace

/// --weights through the runtime's safetensors reader (as applications load
/// them), else seeded random weights.
llvm::Expected<std::vector<HostTensor>>
loadWeights(const ModelSpec &spec, const std::vector<WeightInfo> &infos) {
  if (weightsFile.empty())
    return randomWeights(infos, seedOpt);
  std::vector<hybrid_weight_info> info;
  for (const WeightInfo &w : infos)
    info.push_back({w.name.c_str(), int32_t(w.shape.size()), w.shape.data()});
  hybrid_model_desc desc{HYBRID_MODEL_MAGIC, HYBRID_ABI_VERSION, "hybrid-run", spec.embedDim, spec.hiddenSize, 0, 0,
                         int32_t(info.size()), info.data(), [](void **) {},
                         /*num_states=*/0, /*states=*/nullptr,
                         /*prefill=*/nullptr, /*step=*/nullptr};
  hybrid_model *loaded = nullptr;
  if (hybrid_model_create_from_file(&desc, weightsFile.c_str(), &loaded) !=
      HYBRID_OK)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   hybrid_last_error());
  std::vector<HostTensor> weights;
  for (auto [i, w] : llvm::enumerate(infos)) {
    const float *data;
    hybrid_model_weight(loaded, i, &data);
    HostTensor t(w.shape);
    std::memcpy(t.data.data(), data, t.data.size() * 4);
    weights.push_back(std::move(t));
  }
  hybrid_model_destroy(loaded);
  return weights;
}

/// Positions [from, from + len) of a [B, S, C] tensor.
HostTensor slicePositions(const HostTensor &t, int64_t from, int64_t len) {
  int64_t b = t.shape[0], s = t.shape[1], c = t.shape[2];
  HostTensor out({b, len, c});
  for (int64_t i = 0; i < b; ++i)
    std::memcpy(&out.data[i * len * c], &t.data[(i * s + from) * c],
                len * c * sizeof(float));
  return out;
}

/// --decode: prefill, then one position per step, with the stateful model.
int runDecode(const ModelSpec &spec, int64_t batch, int64_t prompt,
              const CPUPipelineOptions &options) {
  auto t0 = std::chrono::steady_clock::now();
  auto model = StatefulModel::compile(spec, options);
  if (!model)
    return fail(llvm::toString(model.takeError()));
  auto t1 = std::chrono::steady_clock::now();
  llvm::Expected<std::vector<HostTensor>> loaded =
      loadWeights(spec, (*model)->weights());
  if (!loaded)
    return fail(llvm::toString(loaded.takeError()));
  std::vector<HostTensor> weights = std::move(*loaded);
  int64_t total = prompt + decodeOpt;
  HostTensor input = randomInput(batch, total, spec.embedDim, seedOpt);
  ModelState state = (*model)->newState(batch);
  llvm::outs() << "model     stateful, " << (*model)->states().size()
               << " state tensors, " << state.bytes() / batch
               << " bytes per sequence; compiled in "
               << llvm::format("%.2f", seconds(t0, t1)) << " s\n";

  // Every position's output, gathered for --check: [batch, total, hidden].
  int64_t h = spec.hiddenSize;
  bool sequence = spec.output == OutputKind::Sequence;
  HostTensor all({batch, total, h});
  auto keep = [&](const HostTensor &out, int64_t from, int64_t len) {
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t j = sequence ? 0 : len - 1; j < len; ++j)
        std::memcpy(&all.data[(b * total + from + j) * h],
                    &out.data[(sequence ? b * len + j : b) * h],
                    h * sizeof(float));
  };
  HostTensor output;
  double prefillTime = 0.0;
  if (prompt > 0) {
    HostTensor chunk = slicePositions(input, 0, prompt);
    auto a = std::chrono::steady_clock::now();
    if (llvm::Error e = (*model)->prefill(state, chunk, weights, output))
      return fail(llvm::toString(std::move(e)));
    prefillTime = seconds(a, std::chrono::steady_clock::now());
    keep(output, 0, prompt);
  }
  std::vector<double> steps;
  std::vector<HostTensor> tokens;
  for (int64_t p = prompt; p < total; ++p)
    tokens.push_back(slicePositions(input, p, 1));
  for (int64_t i = 0; i < decodeOpt; ++i) {
    auto a = std::chrono::steady_clock::now();
    llvm::Error e = decodeViaPrefill
                        ? (*model)->prefill(state, tokens[i], weights, output)
                        : (*model)->step(state, tokens[i], weights, output);
    if (e)
      return fail(llvm::toString(std::move(e)));
    steps.push_back(seconds(a, std::chrono::steady_clock::now()));
    keep(output, prompt + i, 1);
  }
  llvm::outs() << "prefill   " << prompt << " positions x batch " << batch
               << ": " << llvm::format("%.3f", prefillTime * 1e3) << " ms";
  if (prompt > 0)
    llvm::outs() << ", "
                 << llvm::format("%.0f", batch * prompt / prefillTime)
                 << " tokens/s";
  llvm::outs() << "\n";
  std::vector<double> sorted = steps;
  std::sort(sorted.begin(), sorted.end());
  double median = sorted[sorted.size() / 2];
  double p99 = sorted[std::min<size_t>(sorted.size() - 1,
                                       size_t(0.99 * sorted.size()))];
  llvm::outs() << "decode    " << decodeOpt << " steps x batch " << batch
               << ": median " << llvm::format("%.3f", median * 1e3)
               << " ms, p99 " << llvm::format("%.3f", p99 * 1e3) << " ms, "
               << llvm::format("%.0f", batch / median)
               << " tokens/s (median)\n";
  llvm::outs() << "state     " << state.bytes() << " bytes for " << batch
               << " sequences after " << state.positions[0]
               << " positions (constant in the length)\n";

  if (checkOpt) {
    reference::ModelConfig config = referenceConfig(spec);
    config.sequenceOutput = true;
    HostTensor expected = reference::forward(
        config, namedWeights((*model)->weights(), weights), input);
    double err = 0.0, scale = 1.0;
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t p = 0; p < total; ++p) {
        if (!sequence && p < prompt - 1)
          continue; // only the prompt's last position is returned
        for (int64_t k = 0; k < h; ++k) {
          size_t i = (b * total + p) * h + k;
          err = std::max(err, std::abs(double(all.data[i]) -
                                       expected.data[i]));
          scale = std::max(scale, std::abs(double(expected.data[i])));
        }
      }
    double rel = err / scale;
    bool ok = rel <= tolOpt;
    llvm::outs() << "check     prefill and every step vs the whole "
                    "sequence: max|out - ref| / max(max|ref|, 1) = "
                 << llvm::format("%.3e", rel) << " (tolerance "
                 << llvm::format("%.1e", double(tolOpt)) << "): "
                 << (ok ? "PASS" : "FAIL") << "\n";
    if (!ok)
      return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  mlir::hybrid::installOutOfMemoryExit("hybrid-run");
  cl::HideUnrelatedOptions({&modelCat, &runCat});
  cl::ParseCommandLineOptions(
      argc, argv,
      "hybrid-run: compile a hybrid model for this CPU and run it\n\n"
      "  hybrid-run --preset=jamba --set embed_dim=256 --check --bench 5\n");
  if (batchOpt < 1 || seqOpt < 0 || benchOpt < 0)
    return fail("--batch must be >= 1, --seq-len and --bench >= 0");
  if (!std::isfinite(tolOpt) || tolOpt < 0)
    return fail("--tolerance must be a finite number >= 0, got " +
                std::to_string(tolOpt));
  if (seqOpt > limits::kMaxSeqLen)
    return fail("--seq-len " + std::to_string(seqOpt) + " exceeds the limit " +
                std::to_string(limits::kMaxSeqLen));

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
  int64_t seq = seqOpt > 0 ? int64_t(seqOpt) : spec->seqLen.value_or(64);
  if (spec->seqLen && seq != *spec->seqLen)
    return fail("--seq-len " + std::to_string(seq) +
                " differs from the spec's seq_len " +
                std::to_string(*spec->seqLen));

  // The host buffers (input, output) must be representable before
  // anything is compiled or allocated.
  for (int64_t width : {spec->embedDim, spec->hiddenSize})
    if (HostTensor::checkedElements(
            {batchOpt, seq + std::max<int64_t>(decodeOpt, 0), width}) < 0)
      return fail("--batch " + std::to_string(batchOpt) + " x --seq-len " +
                  std::to_string(seq) + " x width " + std::to_string(width) +
                  " exceeds " + std::to_string(HostTensor::kMaxElements) +
                  " elements");
  std::unique_ptr<CPUPipelineOptions> parsed =
      CPUPipelineOptions::createFromString(pipelineOptions);
  if (!parsed)
    return fail("--pipeline-options=\"" + pipelineOptions +
                "\" does not parse (see --hybrid-cpu-pipeline in "
                "docs/Passes.md)");
  CPUPipelineOptions &options = *parsed;
  if (noOpenmp)
    options.openmp = false;
  if (decodeOpt < 0)
    return fail("--decode must be >= 0");
  if (decodeOpt > limits::kMaxSeqLen)
    return fail("--decode " + std::to_string(decodeOpt) +
                " exceeds the limit " + std::to_string(limits::kMaxSeqLen));
  if (decodeOpt > 0) {
    if (!inputNpy.empty() || !library.empty() || benchOpt > 0)
      return fail("--decode does not combine with --input, --library or "
                  "--bench");
    return runDecode(*spec, batchOpt, seq,
                     options);
  }
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

  llvm::Expected<std::vector<HostTensor>> loaded =
      loadWeights(*spec, (*model)->weights());
  if (!loaded)
    return fail(llvm::toString(loaded.takeError()));
  std::vector<HostTensor> weights = std::move(*loaded);
  HostTensor input;
  if (!inputNpy.empty()) {
    auto loaded = readNpy(inputNpy);
    if (!loaded)
      return fail(llvm::toString(loaded.takeError()));
    input = std::move(*loaded);
    if (input.shape.size() != 3 || input.shape[2] != spec->embedDim)
      return fail("--input must be [batch, seq, " +
                  std::to_string(spec->embedDim) + "], got " +
                  shapeString(input.shape));
    seq = input.shape[1];
  } else {
    input = randomInput(batchOpt, seq, spec->embedDim, seedOpt);
  }
  int64_t batch = input.shape[0];
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
  // The forward pass: the JIT, or the ahead-of-time library.
  std::function<llvm::Error()> runOnce;
  std::vector<const float *> buffers;
  hybrid_model *aot = nullptr;
  if (!library.empty()) {
    std::string err;
    if (llvm::sys::DynamicLibrary::LoadLibraryPermanently(library.c_str(),
                                                          &err))
      return fail("cannot load '" + library + "': " + err);
    auto *desc = static_cast<const hybrid_model_desc *>(
        llvm::sys::DynamicLibrary::SearchForAddressOfSymbol(
            (libraryModel + "_model").c_str()));
    if (!desc)
      return fail("'" + library + "' has no model '" + libraryModel +
                  "' (symbol " + libraryModel + "_model)");
    for (HostTensor &w : weights)
      buffers.push_back(w.data.data());
    if (hybrid_model_create_from_buffers(desc, buffers.data(), buffers.size(),
                                         &aot) != HYBRID_OK)
      return fail(hybrid_last_error());
    output = HostTensor((*model)->outputShape(batch, seq));
    runOnce = [&]() -> llvm::Error {
      if (hybrid_model_forward(aot, input.data.data(), batch, seq,
                               output.data.data(), output.data.size()) !=
          HYBRID_OK)
        return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                       hybrid_last_error());
      return llvm::Error::success();
    };
  } else {
    runOnce = [&] { return (*model)->run(input, weights, output); };
  }
  if (llvm::Error e = runOnce())
    return fail(llvm::toString(std::move(e)));
  auto t3 = std::chrono::steady_clock::now();

  double sum = 0.0, absSum = 0.0;
  bool finite = true;
  for (float v : output.data) {
    sum += v;
    absSum += std::abs(v);
    finite &= std::isfinite(v);
  }
  int64_t tokens = batch * seq;
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
      if (llvm::Error e = runOnce())
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
  hybrid_model_destroy(aot);
  return 0;
}
