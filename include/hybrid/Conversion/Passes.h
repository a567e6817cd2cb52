//===- Passes.h - Hybrid conversion passes ----------------------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//

#ifndef HYBRID_CONVERSION_PASSES_H
#define HYBRID_CONVERSION_PASSES_H

#include "hybrid/Conversion/HybridToSCF/HybridToSCF.h"

#include "mlir/Pass/Pass.h"

namespace mlir::hybrid {

#define GEN_PASS_DECL
#include "hybrid/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "hybrid/Conversion/Passes.h.inc"

} // namespace mlir::hybrid

#endif // HYBRID_CONVERSION_PASSES_H
