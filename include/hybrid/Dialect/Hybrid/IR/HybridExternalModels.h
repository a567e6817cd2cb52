//===- HybridExternalModels.h - Upstream interfaces on hybrid ops -*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// The upstream interfaces that hybrid ops implement as external models (so
// the dialect library itself does not depend on the interfaces' users), as
// upstream Linalg does in TilingInterfaceImpl.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef HYBRID_DIALECT_HYBRID_IR_HYBRIDEXTERNALMODELS_H
#define HYBRID_DIALECT_HYBRID_IR_HYBRIDEXTERNALMODELS_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace mlir::hybrid {

/// TilingInterface on the recurrences (ssm_scan, wkv, delta_rule, rg_lru,
/// gru), causal_conv1d, windowed_attention, layer_norm and rms_norm.
void registerTilingInterfaceExternalModels(DialectRegistry &registry);

/// BufferizableOpInterface on the same ops: one-shot bufferization turns
/// their tensor form into their memref form (BufferizableOpInterfaceImpl.cpp).
void registerBufferizableOpInterfaceExternalModels(DialectRegistry &registry);

/// Every external model of the hybrid dialect.
void registerHybridExternalModels(DialectRegistry &registry);

} // namespace mlir::hybrid

#endif // HYBRID_DIALECT_HYBRID_IR_HYBRIDEXTERNALMODELS_H
