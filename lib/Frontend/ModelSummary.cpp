//===- ModelSummary.cpp - What a model is and costs ------------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Frontend/ModelSummary.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#include <cmath>

using namespace mlir::hybrid::frontend;

/// Mean number of keys a token attends to over positions 0 .. n-1 with a
/// window of w keys (0: unbounded).
static double meanKeys(int64_t n, int64_t w) {
  if (n <= 0)
    return 0.0;
  if (w <= 0 || w >= n)
    return (n + 1) / 2.0;
  // Σ_{t<n} min(t+1, w) = w(w+1)/2 + (n-w)·w
  double total = w * (w + 1) / 2.0 + static_cast<double>(n - w) * w;
  return total / n;
}

ModelSummary mlir::hybrid::frontend::summarize(const ModelSpec &spec,
                                               const BuiltModel &model,
                                               int64_t seqLen,
                                               const BuiltModel *stateful) {
  ModelSummary s;
  if (stateful) {
    int64_t elements = 0;
    for (const WeightInfo &state : stateful->states)
      elements += state.numElements();
    s.statefulBytesPerSequence = elements * int64_t(sizeof(float));
  }
  s.schedule = spec.resolveSchedule();
  s.mode = spec.mode;
  s.seqLen = seqLen;
  s.layers = model.layers;
  for (LayerKind kind : s.schedule) {
    s.pattern += layerKindLetter(kind);
    if (kind == LayerKind::Attention)
      ++s.numAttention;
    else if (kind == LayerKind::Parallel) {
      ++s.numAttention;
      ++s.numBackbone;
    } else
      ++s.numBackbone;
  }
  size_t total = s.schedule.size();
  s.backbonePct = spec.mode == Mode::Parallel
                      ? 50.0
                      : std::round(1000.0 * s.numBackbone / total) / 10.0;
  for (const WeightInfo &w : model.weights)
    s.paramCount += w.numElements();
  s.numWeightTensors = model.weights.size();
  s.outputSize = spec.hiddenSize;
  double flops = model.otherFlopsPerToken;
  for (const LayerCost &l : model.layers) {
    s.stateBytesPerSequence += l.stateBytes;
    int64_t cached =
        l.kvWindow > 0 ? std::min<int64_t>(seqLen, l.kvWindow) : seqLen;
    s.kvCacheBytes += l.kvBytesPerPosition * cached;
    flops += l.flopsPerToken + l.flopsPerKey * meanKeys(seqLen, l.kvWindow);
  }
  s.flopsPerToken = flops;
  return s;
}

/// 1234567 -> "1,234,567".
static std::string grouped(int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return v < 0 ? "-" + out : out;
}

/// Bytes with a binary unit.
static std::string bytes(int64_t v) {
  const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double x = v;
  int u = 0;
  while (x >= 1024.0 && u < 4) {
    x /= 1024.0;
    ++u;
  }
  if (u == 0)
    return std::to_string(v) + " B";
  return llvm::formatv("{0:F2} {1} ({2} B)", x, units[u], grouped(v)).str();
}

void mlir::hybrid::frontend::printSummary(llvm::raw_ostream &os,
                                          const ModelSpec &spec,
                                          const ModelSummary &s) {
  os << "Hybrid model: " << modeName(s.mode) << ", " << s.schedule.size()
     << " layers";
  if (spec.preset)
    os << " (preset " << presetName(*spec.preset) << ")";
  os << "\n";
  os << "  layer pattern      " << s.pattern << "  (";
  std::string legend;
  for (LayerKind kind : s.schedule) {
    std::string entry = std::string(1, layerKindLetter(kind)) + " " +
                        layerKindName(kind).str();
    if (legend.find(entry) == std::string::npos)
      legend += (legend.empty() ? "" : ", ") + entry;
  }
  os << legend << ")\n";
  if (s.mode == Mode::Parallel)
    os << "  backbone           " << layerKindName(spec.backbone)
       << " beside attention in every layer\n";
  os << "  backbone layers    " << s.numBackbone << " ("
     << llvm::format("%.1f", s.backbonePct) << "%)\n";
  os << "  attention layers   " << s.numAttention << "\n";
  os << "  parameters         " << grouped(s.paramCount) << " in "
     << s.numWeightTensors << " weight tensors\n";
  os << "  input              [batch, "
     << (spec.seqLen ? std::to_string(*spec.seqLen) : "seq") << ", "
     << spec.embedDim << "]\n";
  os << "  output             [batch, "
     << (spec.output == OutputKind::Sequence ? "seq, " : "") << s.outputSize
     << "] (" << (spec.output == OutputKind::Sequence ? "every position"
                                                      : "last position")
     << ")\n";
  os << "  recurrent state    " << bytes(s.stateBytesPerSequence)
     << " per sequence (f32, constant in the sequence length)\n";
  os << "  KV cache           " << bytes(s.kvCacheBytes)
     << " per sequence at seq len " << s.seqLen;
  if (std::optional<int64_t> w = spec.attentionWindow())
    os << " (window " << *w << ")";
  else if (s.numAttention)
    os << " (full causal attention)";
  os << "\n";
  if (s.statefulBytesPerSequence)
    os << "  stateful state     " << bytes(*s.statefulBytesPerSequence)
       << " per sequence (allocated by --stateful and hybrid-run --decode: "
          "states, tails, the window's last W-1 K/V and their validity)\n";
  os << "  FLOPs per token    "
     << llvm::format("%.3f", s.flopsPerToken / 1e6)
     << " MFLOP (mean over seq len " << s.seqLen
     << "; matmuls, recurrences, attention)\n";
  os << "\n  layer  kind              params   MFLOP/token  state bytes  "
        "KV bytes/position\n";
  for (auto [i, l] : llvm::enumerate(s.layers)) {
    double f = l.flopsPerToken + l.flopsPerKey * meanKeys(s.seqLen, l.kvWindow);
    os << llvm::format("  %5zu  %-15s %10s  %11.3f  %11lld  %17lld\n", i,
                       layerKindName(l.kind).str().c_str(),
                       grouped(l.params).c_str(), f / 1e6,
                       static_cast<long long>(l.stateBytes),
                       static_cast<long long>(l.kvBytesPerPosition));
  }
}

void mlir::hybrid::frontend::printSummaryJson(llvm::raw_ostream &os,
                                              const ModelSpec &spec,
                                              const ModelSummary &s) {
  llvm::json::Array schedule, layers;
  for (LayerKind kind : s.schedule)
    schedule.push_back(layerKindName(kind));
  for (const LayerCost &l : s.layers)
    layers.push_back(llvm::json::Object{
        {"kind", layerKindName(l.kind)},
        {"params", l.params},
        {"flops_per_token",
         l.flopsPerToken + l.flopsPerKey * meanKeys(s.seqLen, l.kvWindow)},
        {"state_bytes", l.stateBytes},
        {"kv_bytes_per_position", l.kvBytesPerPosition},
        {"kv_window", l.kvWindow}});
  llvm::json::Object o{
      {"schedule", std::move(schedule)},
      {"layer_pattern", s.pattern},
      {"num_backbone", s.numBackbone},
      {"num_attention", s.numAttention},
      {"backbone_pct", s.backbonePct},
      {"mode", modeName(s.mode)},
      {"backbone", layerKindName(spec.backbone)},
      {"param_count", s.paramCount},
      {"num_weight_tensors", s.numWeightTensors},
      {"output_size", s.outputSize},
      {"output", spec.output == OutputKind::Sequence ? "sequence" : "last"},
      {"seq_len", s.seqLen},
      {"state_bytes_per_sequence", s.stateBytesPerSequence},
      {"kv_cache_bytes", s.kvCacheBytes},
      {"flops_per_token", s.flopsPerToken},
      {"layers", std::move(layers)}};
  if (spec.preset)
    o["preset"] = presetName(*spec.preset);
  if (s.statefulBytesPerSequence)
    o["stateful_bytes_per_sequence"] = *s.statefulBytesPerSequence;
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(o))) << "\n";
}
