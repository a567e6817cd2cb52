//===- ModelSummary.h - What a model is and costs ---------------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// `hybrid-compile --describe`: the seed library's describe_schedule /
// layer_pattern / param_count / output_size, done right, plus what users of
// hybrids ask first: recurrent state bytes per sequence, KV-cache bytes at a
// sequence length, and FLOPs per token. Everything is read off the built
// model (its weight tensors and the costs booked while building it).
//
//===----------------------------------------------------------------------===//

#ifndef HYBRID_FRONTEND_MODELSUMMARY_H
#define HYBRID_FRONTEND_MODELSUMMARY_H

#include "hybrid/Frontend/ModelBuilder.h"
#include "hybrid/Frontend/ModelSpec.h"

#include "llvm/Support/raw_ostream.h"

namespace mlir::hybrid::frontend {

struct ModelSummary {
  std::vector<LayerKind> schedule;
  /// One letter per layer (layerKindLetter).
  std::string pattern;
  int64_t numBackbone = 0;
  int64_t numAttention = 0;
  /// round(100 * backbone / layers, 1); 50.0 in parallel mode.
  double backbonePct = 0.0;
  Mode mode = Mode::Interleaved;
  /// Exact: the sum of the elements of every weight tensor the IR takes.
  int64_t paramCount = 0;
  int64_t numWeightTensors = 0;
  int64_t outputSize = 0;
  /// The sequence length the KV cache and FLOPs are given at.
  int64_t seqLen = 0;
  /// f32 recurrent states and conv tails of one sequence.
  int64_t stateBytesPerSequence = 0;
  /// f32 keys and values of one sequence at seqLen (bounded by the window).
  int64_t kvCacheBytes = 0;
  /// Bytes per sequence of every state of the stateful form
  /// (buildStatefulModel: recurrent states, conv tails, the window's last
  /// W-1 keys and values and their validity), exactly as allocated; unset
  /// when the model has no stateful form (full causal attention).
  std::optional<int64_t> statefulBytesPerSequence;
  /// Mean FLOPs per token over positions 0 .. seqLen-1 (matmuls,
  /// recurrences, attention scores; not elementwise work).
  double flopsPerToken = 0.0;
  std::vector<LayerCost> layers;
};

/// Summarises `model` (built from `spec`) at sequence length `seqLen`.
/// `stateful` (optional) is the stateful form of the same spec.
ModelSummary summarize(const ModelSpec &spec, const BuiltModel &model,
                       int64_t seqLen, const BuiltModel *stateful = nullptr);

/// Human-readable summary.
void printSummary(llvm::raw_ostream &os, const ModelSpec &spec,
                  const ModelSummary &summary);
/// The same as a JSON object with at least the keys schedule, num_backbone,
/// num_attention, backbone_pct, mode, param_count, output_size.
void printSummaryJson(llvm::raw_ostream &os, const ModelSpec &spec,
                      const ModelSummary &summary);

} // namespace mlir::hybrid::frontend

#endif // HYBRID_FRONTEND_MODELSUMMARY_H
