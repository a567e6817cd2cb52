//===- hybrid-bench.cpp - Benchmarks of compiled ops and models -*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// Measures this machine's f32 FMA peak and read bandwidth, then every
// benchmark of docs/Performance.md: each hybrid op compiled alone at the
// issue's shapes, single-token steps of the matrix recurrences, and each
// preset as a whole model; reports median and best time, GFLOP/s and the
// fraction of the measured peak (GB/s and the fraction of the read
// bandwidth for steps), as a Markdown table or one JSON array.
//
//   hybrid-bench --omp-threads 1      (OMP_NUM_THREADS; the peak uses as
//   hybrid-bench --omp-threads 2       many threads)
//   hybrid-bench --quick-shapes       (small shapes: a smoke test)
//   hybrid-bench --format=json        (one object per row)
//
//===----------------------------------------------------------------------===//

#include "hybrid/Dialect/Hybrid/IR/HybridOps.h"
#include "hybrid/Execution/CompiledModel.h"
#include "hybrid/Execution/Jit.h"
#include "hybrid/Frontend/ModelSummary.h"
#include "hybrid/Frontend/WeightInit.h"
#include "hybrid/InitAllDialects.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/MLIRContext.h"

#include "hybrid/Support/OutOfMemory.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <optional>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <random>
#include <thread>

using namespace mlir;
using namespace mlir::hybrid;
namespace cl = llvm::cl;

/// The FMA peak kernel (Peak.cpp, compiled for the host CPU): GFLOP/s of one
/// thread running independent vector FMAs for about `seconds`.
double measureFmaPeakOneThread(double seconds);
/// GB/s of one thread reading a buffer far larger than the caches.
double measureReadBandwidthOneThread(int passes);

namespace {
cl::opt<int> threads("omp-threads", cl::desc("OpenMP threads (and peak threads)"),
                     cl::init(1));
cl::opt<int> repeat("bench-repeat", cl::desc("Timed runs per benchmark"),
                    cl::init(5));
cl::opt<bool> quick("quick-shapes", cl::desc("Small shapes (a smoke test)"));
cl::opt<std::string> pipelineOptions(
    "pipeline-options",
    cl::desc("Options of --hybrid-cpu-pipeline for every benchmark, e.g. "
             "\"chunk-size=256\" or \"tile=false\""),
    cl::init(""));

/// The pipeline options of this run (exits on a bad --pipeline-options).
const CPUPipelineOptions &benchOptions() {
  static std::unique_ptr<CPUPipelineOptions> options = [] {
    auto o = CPUPipelineOptions::createFromString(pipelineOptions);
    if (!o) {
      llvm::errs() << "hybrid-bench: --pipeline-options does not parse\n";
      std::exit(1);
    }
    return o;
  }();
  return *options;
}
enum class Format { markdown, json };
cl::opt<Format> format("format", cl::desc("Output format"),
                       cl::values(clEnumValN(Format::markdown, "md",
                                             "A Markdown table (default)"),
                                  clEnumValN(Format::json, "json",
                                             "One JSON array, one object per "
                                             "row")),
                       cl::init(Format::markdown));
cl::opt<std::string> only("bench-filter",
                          cl::desc("Run benchmarks whose name contains this"),
                          cl::init(""));

double now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

HostTensor random(std::vector<int64_t> shape, std::mt19937 &rng, double lo,
                  double hi) {
  HostTensor t(std::move(shape));
  std::uniform_real_distribution<float> dist(lo, hi);
  for (float &v : t.data)
    v = dist(rng);
  return t;
}

using Dims = std::vector<std::pair<std::string, int64_t>>;

struct Result {
  std::string name;
  Dims shape;
  double median = 0, best = 0, flops = 0;
  /// Bytes a call must move (steps: the state read and written), 0 if not
  /// reported.
  double bytes = 0;
  /// Extra text for the Markdown table (e.g. tokens/s).
  std::string note;
};

double peakGflops = 0, readGbps = 0;
std::vector<Result> results;

std::string shapeText(const Dims &d) {
  std::string s;
  for (auto &[k, v] : d)
    s += (s.empty() ? "" : " ") + k + "=" + std::to_string(v);
  return s;
}

void report(const Result &r) {
  if (format != Format::markdown)
    return;
  double g = r.flops / r.median / 1e9;
  llvm::outs() << "| " << r.name << " | " << shapeText(r.shape) << r.note
               << " | " << llvm::format("%.3f", r.median * 1e3) << " | "
               << llvm::format("%.3f", r.best * 1e3) << " | "
               << llvm::format("%.2f", g) << " | "
               << llvm::format("%.1f%%", 100.0 * g / peakGflops) << " | ";
  if (r.bytes > 0) {
    double gb = r.bytes / r.median / 1e9;
    llvm::outs() << llvm::format("%.1f", gb) << " | "
                 << llvm::format("%.0f%%", 100.0 * gb / readGbps) << " |\n";
  } else {
    llvm::outs() << "– | – |\n";
  }
  llvm::outs().flush();
}

void printJson() {
  llvm::outs() << "[\n";
  for (auto [i, r] : llvm::enumerate(results)) {
    double g = r.flops / r.median / 1e9;
    llvm::outs() << "  {\"name\": \"" << r.name << "\", \"shape\": {";
    for (auto [j, d] : llvm::enumerate(r.shape))
      llvm::outs() << (j ? ", " : "") << "\"" << d.first << "\": " << d.second;
    llvm::outs() << "}, \"threads\": " << int(threads)
                 << ", \"best_ms\": " << llvm::format("%.4f", r.best * 1e3)
                 << ", \"median_ms\": " << llvm::format("%.4f", r.median * 1e3)
                 << ", \"gflops\": " << llvm::format("%.3f", g)
                 << ", \"peak_gflops\": " << llvm::format("%.2f", peakGflops)
                 << ", \"peak_fraction\": "
                 << llvm::format("%.4f", g / peakGflops);
    if (r.bytes > 0) {
      double gb = r.bytes / r.median / 1e9;
      llvm::outs() << ", \"gbytes_per_s\": " << llvm::format("%.3f", gb)
                   << ", \"read_gbytes_per_s\": "
                   << llvm::format("%.2f", readGbps)
                   << ", \"bandwidth_fraction\": "
                   << llvm::format("%.4f", gb / readGbps);
    }
    llvm::outs() << "}" << (i + 1 < results.size() ? "," : "") << "\n";
  }
  llvm::outs() << "]\n";
}

/// Times `run` (after one warm-up call); each timing is `inner` calls.
std::pair<double, double> timeIt(const std::function<void()> &run,
                                 int inner = 1) {
  run();
  std::vector<double> t;
  for (int i = 0; i < std::max(1, int(repeat)); ++i) {
    double a = now();
    for (int j = 0; j < inner; ++j)
      run();
    t.push_back((now() - a) / inner);
  }
  std::sort(t.begin(), t.end());
  return {t[t.size() / 2], t.front()};
}

using Body =
    std::function<SmallVector<Value>(OpBuilder &, Location, ValueRange)>;

/// Compiles one op over `inputs` into `outputs` and times it.
void benchOp(const std::string &name, const Dims &shape,
             std::vector<HostTensor> &inputs,
             std::vector<std::vector<int64_t>> outShapes, double flops,
             const Body &body, double bytes = 0, int inner = 1,
             bool dynamicSeq = false) {
  if (!only.empty() && name.find(only) == std::string::npos)
    return;
  MLIRContext ctx;
  DialectRegistry registry;
  registerAllDialects(registry);
  registry.insert<func::FuncDialect, bufferization::BufferizationDialect,
                  memref::MemRefDialect, linalg::LinalgDialect,
                  tensor::TensorDialect, arith::ArithDialect>();
  ctx.appendDialectRegistry(registry);
  ctx.loadAllAvailableDialects();
  OpBuilder b(&ctx);
  Location loc = b.getUnknownLoc();
  SmallVector<Type> types;
  // With `dynamicSeq`, dimension 1 (the sequence) of every operand of
  // rank 3 or more is dynamic, as in a compiled model.
  auto shapeOf = [&](std::vector<int64_t> shape) {
    if (dynamicSeq && shape.size() >= 3)
      shape[1] = ShapedType::kDynamic;
    return shape;
  };
  for (HostTensor &t : inputs)
    types.push_back(RankedTensorType::get(shapeOf(t.shape), b.getF32Type()));
  for (auto &s : outShapes)
    types.push_back(MemRefType::get(shapeOf(s), b.getF32Type()));
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module->getBody());
  auto fn = func::FuncOp::create(b, loc, "kernel", b.getFunctionType(types, {}));
  Block *entry = fn.addEntryBlock();
  b.setInsertionPointToEnd(entry);
  SmallVector<Value> res =
      body(b, loc, entry->getArguments().take_front(inputs.size()));
  for (auto [i, r] : llvm::enumerate(res)) {
    auto m = bufferization::MaterializeInDestinationOp::create(
        b, loc, r, entry->getArgument(inputs.size() + i));
    m.setRestrict(true);
    m.setWritable(true);
  }
  func::ReturnOp::create(b, loc);
  emitCInterfaces(*module);
  auto jit = JitModule::compile(*module, benchOptions());
  if (!jit) {
    llvm::errs() << name << ": " << llvm::toString(jit.takeError()) << "\n";
    return;
  }
  std::vector<HostTensor> outs;
  for (auto &s : outShapes)
    outs.emplace_back(s);
  std::vector<HostTensor *> args;
  for (HostTensor &t : inputs)
    args.push_back(&t);
  for (HostTensor &t : outs)
    args.push_back(&t);
  auto [median, best] = timeIt(
      [&] {
        if (llvm::Error e = (*jit)->call("kernel", args))
          llvm::errs() << llvm::toString(std::move(e)) << "\n";
      },
      inner);
  Result r{name, shape, median, best, flops, bytes, ""};
  report(r);
  results.push_back(r);
}

void benchSsm(int64_t b, int64_t t, int64_t d, int64_t n) {
  std::mt19937 rng(1);
  std::vector<HostTensor> in{random({b, t, d}, rng, -1, 1),
                             random({b, t, d}, rng, -3, 0),
                             random({d, n}, rng, -2, -0.1),
                             random({b, t, 1, n}, rng, -1, 1),
                             random({b, t, 1, n}, rng, -1, 1),
                             random({d}, rng, -1, 1),
                             random({b, t, d}, rng, -1, 1)};
  benchOp("ssm_scan", {{"B", b}, {"T", t}, {"D_i", d}, {"N", n}}, in,
          {{b, t, d}, {b, d, n}}, 7.0 * b * t * d * n,
          [](OpBuilder &bb, Location l, ValueRange v) {
            auto op = SsmScanOp::create(bb, l, v[0], v[1], v[2], v[3], v[4],
                                        v[5], v[6], Value(), Value(), true);
            return SmallVector<Value>{op.getY(), op.getFinalState()};
          });
}

/// The matrix recurrences: RWKV-6, RWKV-7, the delta rule and the gated
/// delta rule, H heads of K x K states, over T positions. `step` benchmarks
/// a single-token step from an initial state (T must be 1): GB/s count the
/// state read and written once.
/// gatedDeltaL2: Gated DeltaNet normalising q and k in the op (qk_l2norm,
/// what hybrid-fuse makes of the frontend's l2norm), on raw q, k.
enum class Matrix { rwkv6, rwkv7, delta, gatedDelta, gatedDeltaL2 };

void benchMatrix(Matrix kind, int64_t t, int64_t h, int64_t k, bool step) {
  std::mt19937 rng(2 + int(kind));
  std::vector<HostTensor> in;
  std::string name;
  double perElement = 0;
  switch (kind) {
  case Matrix::rwkv6:
  case Matrix::rwkv7:
    name = kind == Matrix::rwkv6 ? "wkv_rwkv6" : "wkv_rwkv7";
    in = {random({1, t, h, k}, rng, -1, 1), random({1, t, h, k}, rng, -0.5, 0.5),
          random({1, t, h, k}, rng, -1, 1), random({1, t, h, k}, rng, -1, -0.01)};
    if (kind == Matrix::rwkv6) {
      in.push_back(random({h, k}, rng, -1, 1));
      // Decay K·V, v kᵀ 2·K·V, read-out 2·K·V.
      perElement = 5;
    } else {
      in.push_back(random({1, t, h, k}, rng, -0.3, 0.0));
      in.push_back(random({1, t, h, k}, rng, 0.0, 0.3));
      // Decay K·V, S·a 2·K·V, (S a) bᵀ 2·K·V, v kᵀ 2·K·V, read-out 2·K·V.
      perElement = 9;
    }
    break;
  case Matrix::delta:
  case Matrix::gatedDelta:
  case Matrix::gatedDeltaL2:
    name = kind == Matrix::delta        ? "delta_rule"
           : kind == Matrix::gatedDelta ? "delta_rule_gated"
                                        : "delta_rule_gated_qk_l2norm";
    in = {random({1, t, h, k}, rng, -0.1, 0.1), random({1, t, h, k}, rng, -0.1, 0.1),
          random({1, t, h, k}, rng, -1, 1), random({1, t, h}, rng, 0, 1)};
    if (kind != Matrix::delta)
      in.push_back(random({1, t, h}, rng, -0.5, 0));
    perElement = kind == Matrix::delta ? 6 : 7;
    break;
  }
  if (step) {
    name = "step_" + name;
    in.push_back(random({1, h, k, k}, rng, -1, 1));
  }
  size_t n = in.size();
  auto body = [kind, step, n](OpBuilder &bb, Location l, ValueRange v) {
    Value init = step ? v[n - 1] : Value();
    Operation *op = nullptr;
    switch (kind) {
    case Matrix::rwkv6:
      op = WkvOp::create(bb, l, WkvVariant::rwkv6, v[0], v[1], v[2], v[3],
                         v[4], Value(), Value(), init);
      break;
    case Matrix::rwkv7:
      op = WkvOp::create(bb, l, WkvVariant::rwkv7, v[0], v[1], v[2], v[3],
                         Value(), v[4], v[5], init);
      break;
    case Matrix::delta:
      op = DeltaRuleOp::create(bb, l, v[0], v[1], v[2], v[3], Value(), init);
      break;
    case Matrix::gatedDelta:
    case Matrix::gatedDeltaL2: {
      auto delta = DeltaRuleOp::create(bb, l, v[0], v[1], v[2], v[3], v[4], init);
      delta.setQkL2norm(kind == Matrix::gatedDeltaL2);
      op = delta;
      break;
    }
    }
    return SmallVector<Value>(op->getResults());
  };
  double stateBytes = 4.0 * h * k * k;
  benchOp(name, {{"B", 1}, {"T", t}, {"H", h}, {"K", k}, {"V", k}}, in,
          {{1, t, h, k}, {1, h, k, k}}, perElement * t * h * k * k, body,
          step ? 2 * stateBytes : 0, step ? 200 : 1);
}

/// A projection as the frontend emits it: x [1, T, in] · W [in, out], a
/// linalg.generic contraction over (b, t, i, o) into a zero fill. A model
/// compiles it with a dynamic sequence length (`dynamicSeq`).
void benchProjection(int64_t t, int64_t in, int64_t out, bool dynamicSeq) {
  std::mt19937 rng(6);
  std::vector<HostTensor> ins{random({1, t, in}, rng, -1, 1),
                              random({in, out}, rng, -0.1, 0.1)};
  benchOp(
      dynamicSeq ? "projection_dynamic_t" : "projection",
      {{"B", 1}, {"T", t}, {"in", in}, {"out", out}}, ins, {{1, t, out}},
      2.0 * t * in * out,
      [out](OpBuilder &b, Location l, ValueRange v) {
        MLIRContext *ctx = b.getContext();
        AffineExpr B, T, I, O;
        bindDims(ctx, B, T, I, O);
        SmallVector<AffineMap> maps{AffineMap::get(4, 0, {B, T, I}, ctx),
                                    AffineMap::get(4, 0, {I, O}, ctx),
                                    AffineMap::get(4, 0, {B, T, O}, ctx)};
        SmallVector<OpFoldResult> sizes{b.getIndexAttr(1),
                                        tensor::getMixedSize(b, l, v[0], 1),
                                        b.getIndexAttr(out)};
        Value init = tensor::EmptyOp::create(b, l, sizes, b.getF32Type());
        Value zero = arith::ConstantOp::create(b, l, b.getF32FloatAttr(0.0f));
        Value filled =
            linalg::FillOp::create(b, l, ValueRange{zero}, ValueRange{init})
                .getResult(0);
        using IT = utils::IteratorType;
        Value r = linalg::GenericOp::create(
                      b, l, TypeRange{filled.getType()}, ValueRange{v[0], v[1]},
                      ValueRange{filled}, maps,
                      SmallVector<IT>{IT::parallel, IT::parallel,
                                      IT::reduction, IT::parallel},
                      [](OpBuilder &nb, Location nl, ValueRange a) {
                        Value m = arith::MulFOp::create(nb, nl, a[0], a[1]);
                        Value s = arith::AddFOp::create(nb, nl, a[2], m);
                        linalg::YieldOp::create(nb, nl, s);
                      })
                      .getResult(0);
        return SmallVector<Value>{r};
      },
      0, 1, dynamicSeq);
}

void benchAttention(int64_t t, int64_t h, int64_t dh, int64_t w) {
  std::mt19937 rng(4);
  std::vector<HostTensor> in{random({1, t, h, dh}, rng, -1, 1),
                             random({1, t, h, dh}, rng, -1, 1),
                             random({1, t, h, dh}, rng, -1, 1)};
  double keys = 0;
  for (int64_t i = 0; i < t; ++i)
    keys += std::min(i + 1, w);
  benchOp("windowed_attention", {{"B", 1}, {"T", t}, {"H", h}, {"d_h", dh}, {"W", w}},
          in, {{1, t, h, dh}}, 4.0 * h * dh * keys,
          [w](OpBuilder &bb, Location l, ValueRange v) {
            return SmallVector<Value>{WindowedAttentionOp::create(
                bb, l, v[0], v[1], v[2], w, std::nullopt, false)->getResult(0)};
          });
}

/// A preset with embed_dim = hidden_size = `hidden`; none (after printing
/// why) when it does not parse.
std::optional<frontend::ModelSpec> presetSpec(const std::string &preset,
                                              int64_t hidden) {
  frontend::SpecSources sources;
  sources.preset = preset;
  sources.overrides = {"embed_dim=" + std::to_string(hidden),
                       "hidden_size=" + std::to_string(hidden)};
  auto spec = frontend::parseModelSpec(sources);
  if (!spec) {
    llvm::errs() << llvm::toString(spec.takeError()) << "\n";
    return std::nullopt;
  }
  return std::move(*spec);
}

/// The model's FLOPs per token at sequence length `t` (--describe's).
double modelFlopsPerToken(const frontend::ModelSpec &spec, int64_t t) {
  MLIRContext ctx;
  DialectRegistry registry;
  frontend::registerFrontendDialects(registry);
  ctx.appendDialectRegistry(registry);
  frontend::BuiltModel built = frontend::buildModel(&ctx, spec);
  return frontend::summarize(spec, built, t).flopsPerToken;
}

void benchModel(const std::string &preset, int64_t hidden, int64_t t) {
  std::string name = "model_" + preset;
  if (!only.empty() && name.find(only) == std::string::npos)
    return;
  std::optional<frontend::ModelSpec> spec = presetSpec(preset, hidden);
  if (!spec)
    return;
  auto model = CompiledModel::compile(*spec, benchOptions());
  if (!model) {
    llvm::errs() << llvm::toString(model.takeError()) << "\n";
    return;
  }
  std::vector<HostTensor> weights = frontend::randomWeights((*model)->weights(), 1);
  HostTensor input = frontend::randomInput(1, t, hidden, 1), out;
  double flopsPerToken = modelFlopsPerToken(*spec, t);
  auto [median, best] = timeIt([&] {
    if (llvm::Error e = (*model)->run(input, weights, out))
      llvm::errs() << llvm::toString(std::move(e)) << "\n";
  });
  Result r{name,
           {{"B", 1}, {"T", t}, {"hidden", hidden}},
           median,
           best,
           flopsPerToken * t,
           0,
           llvm::formatv(", {0} tok/s", int64_t(t / median)).str()};
  report(r);
  results.push_back(r);
}

/// Whole-model decode: the stateful form of a preset, a prompt of `prompt`
/// positions prefilled once, then one-position steps timed (each advances
/// the state, as decoding does; the window bounds the attention's cost).
void benchDecode(const std::string &preset, int64_t hidden, int64_t prompt) {
  std::string name = "decode_" + preset;
  if (!only.empty() && name.find(only) == std::string::npos)
    return;
  std::optional<frontend::ModelSpec> spec = presetSpec(preset, hidden);
  if (!spec)
    return;
  auto model = StatefulModel::compile(*spec, benchOptions());
  if (!model) {
    llvm::errs() << llvm::toString(model.takeError()) << "\n";
    return;
  }
  std::vector<HostTensor> weights =
      frontend::randomWeights((*model)->weights(), 1);
  ModelState state = (*model)->newState(1);
  HostTensor input = frontend::randomInput(1, prompt, hidden, 1), out;
  if (llvm::Error e = (*model)->prefill(state, input, weights, out)) {
    llvm::errs() << llvm::toString(std::move(e)) << "\n";
    return;
  }
  HostTensor token = frontend::randomInput(1, 1, hidden, 2);
  // FLOPs of one token at the prompt's length (attention sees at most its
  // window).
  double flopsPerToken = modelFlopsPerToken(*spec, prompt);
  auto [median, best] = timeIt([&] {
    if (llvm::Error e = (*model)->step(state, token, weights, out))
      llvm::errs() << llvm::toString(std::move(e)) << "\n";
  });
  Result r{name,
           {{"B", 1}, {"prompt", prompt}, {"hidden", hidden}},
           median,
           best,
           flopsPerToken,
           0,
           llvm::formatv(", {0} tok/s", int64_t(1 / median)).str()};
  report(r);
  results.push_back(r);
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  mlir::hybrid::installOutOfMemoryExit("hybrid-bench");
  cl::ParseCommandLineOptions(argc, argv, "hybrid-bench\n");
  if (threads < 1)
    threads = 1;
  // Before libomp starts (the JIT loads it at the first compile).
  setenv("OMP_NUM_THREADS", std::to_string(threads).c_str(), 1);

  // The peak: every thread runs the FMA kernel at the same time.
  std::vector<double> perThread(threads);
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i)
    pool.emplace_back([&, i] { perThread[i] = measureFmaPeakOneThread(quick ? 0.2 : 1.0); });
  for (auto &t : pool)
    t.join();
  for (double g : perThread)
    peakGflops += g;
  readGbps = measureReadBandwidthOneThread(quick ? 1 : 3);
  if (format == Format::markdown)
    llvm::outs() << "Measured f32 FMA peak: "
                 << llvm::format("%.1f", peakGflops) << " GFLOP/s on "
                 << threads << " thread(s); read bandwidth "
                 << llvm::format("%.1f", readGbps) << " GB/s (1 thread)\n\n"
                 << "| benchmark | shape | median ms | best ms | GFLOP/s | of "
                    "peak | GB/s | of read bandwidth |\n"
                 << "|---|---|---|---|---|---|---|---|\n";
  if (quick) {
    benchSsm(1, 64, 40, 16);
    benchMatrix(Matrix::rwkv6, 64, 2, 64, false);
    benchMatrix(Matrix::delta, 64, 2, 64, false);
    benchMatrix(Matrix::gatedDelta, 1, 2, 64, true);
    benchAttention(128, 2, 64, 32);
    benchModel("jamba", 64, 32);
    benchDecode("jamba", 64, 8);
  } else {
    for (int64_t b : {1, 4})
      for (int64_t t : {1024, 4096})
        benchSsm(b, t, 1536, 16);
    for (int64_t t : {1024, 4096})
      for (Matrix m : {Matrix::rwkv6, Matrix::rwkv7, Matrix::delta,
                       Matrix::gatedDelta, Matrix::gatedDeltaL2})
        benchMatrix(m, t, 32, 64, false);
    for (Matrix m :
         {Matrix::rwkv6, Matrix::rwkv7, Matrix::delta, Matrix::gatedDelta})
      benchMatrix(m, 1, 32, 64, true);
    benchAttention(4096, 8, 64, 512);
    benchProjection(1024, 1024, 1024, false);
    benchProjection(1024, 1024, 1024, true);
    for (const char *p : {"jamba", "nemotron_h", "minimal_attn", "parallel"})
      benchModel(p, 256, 1024);
    for (const char *p : {"jamba", "parallel"})
      benchDecode(p, 256, 64);
  }
  if (format == Format::json)
    printJson();
  return 0;
}
