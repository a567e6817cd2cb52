//===- HybridToSCF.h - Lower hybrid ops to scf/vector/linalg ----*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//

#ifndef HYBRID_CONVERSION_HYBRIDTOSCF_HYBRIDTOSCF_H
#define HYBRID_CONVERSION_HYBRIDTOSCF_HYBRIDTOSCF_H

#include <cstdint>

namespace mlir {
class RewritePatternSet;
} // namespace mlir

namespace mlir::hybrid {

/// Tile sizes of the lowering.
struct HybridToSCFOptions {
  /// Lanes of channel tiles (ssm_scan, rg_lru) and of the vectors that
  /// sweep a hidden state (gru).
  int64_t vectorWidth = 8;
  /// Value rows of a matrix state (wkv, delta_rule) per task, as lanes.
  int64_t rowTile = 64;
  /// Queries of windowed_attention per task, as lanes (blocks of queries
  /// are used from 8 queries on; fewer run one query per task).
  int64_t queryLanes = 64;
};

/// Patterns lowering every hybrid op to scf + vector + linalg on tensors
/// (see the convert-hybrid-to-scf pass description).
void populateHybridToSCFConversionPatterns(RewritePatternSet &patterns,
                                           const HybridToSCFOptions &options);

} // namespace mlir::hybrid

#endif // HYBRID_CONVERSION_HYBRIDTOSCF_HYBRIDTOSCF_H
