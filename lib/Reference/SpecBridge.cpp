//===- SpecBridge.cpp - Model specs described to the reference ----*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// The one place where the frontend's ModelSpec meets the reference model's
// plain config: tools and tests that compare the two link it; the compiler
// and its execution layer do not.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Reference/SpecBridge.h"

#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::hybrid;
using namespace mlir::hybrid::frontend;

reference::ModelConfig
mlir::hybrid::referenceConfig(const ModelSpec &spec) {
  using L = reference::ModelConfig::Layer;
  auto convert = [](LayerKind k) {
    switch (k) {
    case LayerKind::Attention:
      return L::Attention;
    case LayerKind::Mamba:
      return L::Mamba;
    case LayerKind::Gru:
      return L::Gru;
    case LayerKind::Rwkv:
      return L::Rwkv;
    case LayerKind::DeltaNet:
      return L::DeltaNet;
    case LayerKind::GatedDeltaNet:
      return L::GatedDeltaNet;
    case LayerKind::GriffinLru:
      return L::GriffinLru;
    case LayerKind::Parallel:
      return L::Parallel;
    }
    return L::Mamba;
  };
  reference::ModelConfig c;
  for (LayerKind k : spec.resolveSchedule())
    c.layers.push_back(convert(k));
  c.backbone = convert(spec.backbone);
  c.embedDim = spec.embedDim;
  c.hiddenSize = spec.hiddenSize;
  c.stateSize = spec.stateSize;
  c.expandFactor = spec.expandFactor;
  c.convSize = spec.convSize;
  c.numHeads = spec.numHeads;
  c.numKvHeads = spec.numKvHeads;
  c.headDim = spec.headDim;
  c.window = spec.attentionWindow().value_or(0);
  c.qkNorm = spec.qkLayernorm;
  c.preNorm = spec.preNorm;
  c.rmsNorm = spec.norm == NormKind::RmsNorm;
  c.sequenceOutput = spec.output == OutputKind::Sequence;
  return c;
}

reference::Weights
mlir::hybrid::namedWeights(const std::vector<WeightInfo> &info,
                           const std::vector<HostTensor> &weights) {
  reference::Weights named;
  for (auto [i, w] : llvm::zip(info, weights))
    named[i.name] = w;
  return named;
}
