//===- Model.h - Reference forward pass of whole hybrid models --*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// The whole-model reference: the blocks of docs/Frontend.md composed from
// the reference ops, with weights looked up by name. It knows nothing of the
// compiler; callers describe the model with the plain struct below.
//
//===----------------------------------------------------------------------===//

#ifndef HYBRID_REFERENCE_MODEL_H
#define HYBRID_REFERENCE_MODEL_H

#include "hybrid/Support/HostTensor.h"

#include <map>
#include <string>
#include <vector>

namespace mlir::hybrid::reference {

/// What the reference needs to know of a model.
struct ModelConfig {
  enum class Layer {
    Attention,
    Mamba,
    Gru,
    Rwkv,
    DeltaNet,
    GatedDeltaNet,
    GriffinLru,
    Parallel
  };
  std::vector<Layer> layers;
  /// The backbone of parallel blocks.
  Layer backbone = Layer::Mamba;
  int64_t embedDim = 0, hiddenSize = 0;
  int64_t stateSize = 16, expandFactor = 2, convSize = 4;
  int64_t numHeads = 4, numKvHeads = 4, headDim = 64;
  /// Keys per query, 0 for full causal attention.
  int64_t window = 0;
  bool qkNorm = true, preNorm = true, rmsNorm = false;
  /// Output every position (true) or only the last.
  bool sequenceOutput = false;
};

using Weights = std::map<std::string, HostTensor>;

/// The forward pass on input [B, T, embed_dim]; returns [B, hidden] or
/// [B, T, hidden]. Throws nothing: a missing weight is a programming error
/// of the caller (abort with its name).
HostTensor forward(const ModelConfig &config, const Weights &weights,
                   const HostTensor &input);

} // namespace mlir::hybrid::reference

#endif // HYBRID_REFERENCE_MODEL_H
