//===- SpecBridge.h - Model specs described to the reference ------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// A frontend ModelSpec described to the reference model (the same model in
// its plain struct), and weights by name. For tools and tests that check the
// compiler against the reference (library HybridReferenceBridge); nothing a
// product links.
//
//===----------------------------------------------------------------------===//

#ifndef HYBRID_REFERENCE_SPECBRIDGE_H
#define HYBRID_REFERENCE_SPECBRIDGE_H

#include "hybrid/Frontend/ModelBuilder.h"
#include "hybrid/Frontend/ModelSpec.h"
#include "hybrid/Reference/Model.h"

#include <vector>

namespace mlir::hybrid {

/// The spec described to the reference model.
reference::ModelConfig referenceConfig(const frontend::ModelSpec &spec);

/// Weights by name, for the reference model.
reference::Weights namedWeights(const std::vector<frontend::WeightInfo> &info,
                                const std::vector<HostTensor> &weights);

} // namespace mlir::hybrid

#endif // HYBRID_REFERENCE_SPECBRIDGE_H
