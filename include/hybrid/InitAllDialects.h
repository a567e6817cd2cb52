//===- InitAllDialects.h - Register Hybrid's dialects -----------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// Registration of the project's own dialects. Upstream dialects are
// registered by the tools (mlir/InitAllDialects.h is heavy; it stays there).
//
//===----------------------------------------------------------------------===//

#ifndef HYBRID_INITALLDIALECTS_H
#define HYBRID_INITALLDIALECTS_H

#include "hybrid/Dialect/Hybrid/IR/HybridDialect.h"
#include "hybrid/Dialect/Hybrid/IR/HybridExternalModels.h"

#include "mlir/IR/DialectRegistry.h"

namespace mlir::hybrid {

/// Adds every dialect defined by Hybrid to `registry`, with the external
/// models of upstream interfaces (tiling) on its ops.
inline void registerAllDialects(DialectRegistry &registry) {
  registry.insert<HybridDialect>();
  registerHybridExternalModels(registry);
}

} // namespace mlir::hybrid

#endif // HYBRID_INITALLDIALECTS_H
