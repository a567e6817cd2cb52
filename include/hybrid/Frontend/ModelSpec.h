//===- ModelSpec.h - Hybrid model specifications ----------------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// The model spec: the options of the seed library's Hybrid.build /
// HybridBuilder.build (same key names), read from JSON or key=value pairs,
// validated with messages that name the key, the value, what was expected
// and the position in the file, and resolved into a layer schedule.
//
//===----------------------------------------------------------------------===//

#ifndef HYBRID_FRONTEND_MODELSPEC_H
#define HYBRID_FRONTEND_MODELSPEC_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mlir::hybrid::frontend {

/// What one layer of the model is.
enum class LayerKind {
  Attention,
  Mamba,
  Gru,
  Rwkv,
  DeltaNet,
  GatedDeltaNet,
  GriffinLru,
  /// A Hymba-style block: the backbone beside attention, gated.
  Parallel,
};

/// The spec spelling of a layer kind ("attn", "mamba", ..., "parallel").
llvm::StringRef layerKindName(LayerKind kind);
/// One-letter code used in layer patterns: A, M, G, R, D, N (gated delta
/// net), L (griffin LRU), P (parallel).
char layerKindLetter(LayerKind kind);
/// Parses a backbone or schedule entry name.
std::optional<LayerKind> parseLayerKind(llvm::StringRef name);

enum class Mode { Interleaved, Parallel };
enum class Preset { Jamba, NemotronH, Parallel, MinimalAttn };
enum class OutputKind { LastPosition, Sequence };
enum class NormKind { LayerNorm, RmsNorm };

llvm::StringRef modeName(Mode mode);
llvm::StringRef presetName(Preset preset);

/// A validated model spec. Every field holds its effective value (defaults,
/// then the preset, then explicit keys).
/// The largest values a spec may set (docs/Frontend.md, "Limits"). A
/// larger value is an error naming the key and the limit. Together they keep
/// every size product of the builder, --describe and the runtime's
/// per-sequence sizes below 2^53 (exact in int64 and in double), and a
/// compile within this machine's memory.
namespace limits {
/// embed_dim, hidden_size.
constexpr int64_t kMaxWidth = 65536;
/// num_layers, schedule entries, each ratio term, attention_every.
constexpr int64_t kMaxLayers = 1024;
/// state_size (Mamba uses 16; Mamba-2 up to 256).
constexpr int64_t kMaxStateSize = 256;
constexpr int64_t kMaxExpandFactor = 16;
constexpr int64_t kMaxConvSize = 64;
/// num_heads, num_kv_heads.
constexpr int64_t kMaxHeads = 1024;
constexpr int64_t kMaxHeadDim = 1024;
/// seq_len, window_size, chunk_size (16 Mi positions).
constexpr int64_t kMaxSeqLen = int64_t(1) << 24;
/// Any other integer.
constexpr int64_t kMaxInteger = int64_t(1) << 31;
} // namespace limits

struct ModelSpec {
  int64_t embedDim = 0;
  int64_t hiddenSize = 256;
  int64_t numLayers = 6;
  LayerKind backbone = LayerKind::Mamba;
  std::optional<int64_t> attentionEvery;
  std::optional<std::pair<int64_t, int64_t>> ratio;
  std::optional<std::vector<LayerKind>> schedule;
  Mode mode = Mode::Interleaved;
  int64_t stateSize = 16;
  int64_t expandFactor = 2;
  int64_t convSize = 4;
  int64_t numHeads = 4;
  int64_t headDim = 64;
  /// Key/value heads of the attention layers (grouped-query attention);
  /// defaults to numHeads.
  int64_t numKvHeads = 4;
  int64_t windowSize = 60;
  bool useSlidingWindow = true;
  bool qkLayernorm = true;
  bool preNorm = true;
  double dropout = 0.1;
  /// Static sequence length; dynamic when absent.
  std::optional<int64_t> seqLen;
  bool chunkedAttention = false;
  bool memoryEfficientAttention = false;
  int64_t chunkSize = 32;
  std::optional<Preset> preset;
  OutputKind output = OutputKind::LastPosition;
  NormKind norm = NormKind::LayerNorm;

  /// The layer schedule (SPEC.md 2.3): schedule > ratio > attention_every >
  /// every 4th layer; in parallel mode one `Parallel` block per layer.
  std::vector<LayerKind> resolveSchedule() const;
  /// The attention window each query sees (keys, itself included), or
  /// nullopt for full causal attention.
  std::optional<int64_t> attentionWindow() const;
  /// Mamba inner width `expand_factor * hidden_size`.
  int64_t innerSize() const { return expandFactor * hiddenSize; }
  /// Mamba dt rank `ceil(hidden_size / 16)`.
  int64_t dtRank() const { return (hiddenSize + 15) / 16; }
};

/// A diagnostic about a spec: what is wrong, with the key and, where the
/// input gives one, the position.
struct SpecDiagnostic {
  enum class Severity { Error, Note };
  Severity severity = Severity::Error;
  std::string message;
  /// "file:line:col" or "--set key=value", empty when unknown.
  std::string location;

  /// "location: error: message".
  std::string str() const;
};

/// Where a spec's key=value pairs come from, in increasing priority.
struct SpecSources {
  /// JSON text of a spec file (an object), and its name for messages.
  std::optional<std::string> jsonText;
  std::string jsonName = "<spec>";
  /// `--preset NAME`, as if the file had `"preset": NAME` (a file's own
  /// "preset" key wins over it).
  std::optional<std::string> preset;
  /// `--set key=value` pairs; a value is read as JSON when it parses as JSON
  /// (numbers, true/false, arrays) and as a string otherwise.
  std::vector<std::string> overrides;
};

/// Reads, merges and validates a spec. On failure returns the errors (at
/// least one); notes (which of two conflicting keys wins) go to `notes`.
llvm::Expected<ModelSpec> parseModelSpec(const SpecSources &sources,
                                         std::vector<SpecDiagnostic> *notes =
                                             nullptr);

/// The sources of a command line: a spec file (read here; "-" is stdin),
/// `--preset` and `--set` values. Fails when the file cannot be read or
/// nothing describes a model.
llvm::Expected<SpecSources>
specSourcesFromCommandLine(llvm::StringRef file, llvm::StringRef preset,
                           llvm::ArrayRef<std::string> overrides);

/// Every key a spec may have, in documentation order.
llvm::ArrayRef<llvm::StringRef> specKeys();

/// The spec as a JSON object with every key's effective value (keys that
/// are unset, such as `ratio` without one, are left out; `embed_dim` 0, the
/// default spec's, is left out too). Parsing the result gives the same spec.
llvm::json::Object specToJson(const ModelSpec &spec);

/// The keys a preset sets, as the seed library's preset(name) returns them.
llvm::json::Object presetOptions(Preset preset);

/// The presets, in documentation order.
llvm::ArrayRef<Preset> allPresets();

} // namespace mlir::hybrid::frontend

#endif // HYBRID_FRONTEND_MODELSPEC_H
