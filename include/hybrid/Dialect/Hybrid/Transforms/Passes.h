//===- Passes.h - Hybrid transformation passes ------------------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//

#ifndef HYBRID_DIALECT_HYBRID_TRANSFORMS_PASSES_H
#define HYBRID_DIALECT_HYBRID_TRANSFORMS_PASSES_H

#include "mlir/Pass/Pass.h"

namespace mlir::hybrid {

#define GEN_PASS_DECL
#include "hybrid/Dialect/Hybrid/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "hybrid/Dialect/Hybrid/Transforms/Passes.h.inc"

} // namespace mlir::hybrid

#endif // HYBRID_DIALECT_HYBRID_TRANSFORMS_PASSES_H
