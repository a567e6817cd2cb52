//===- Transforms.h - Hybrid-level transformations --------------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// The transformations behind hybrid-fuse, hybrid-tile and hybrid-chunk as
// free functions, so pipelines, tests and other passes can call them on
// chosen ops. The passes are thin wrappers.
//
//===----------------------------------------------------------------------===//

#ifndef HYBRID_DIALECT_HYBRID_TRANSFORMS_TRANSFORMS_H
#define HYBRID_DIALECT_HYBRID_TRANSFORMS_TRANSFORMS_H

#include "hybrid/Dialect/Hybrid/IR/HybridOps.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/TilingInterface.h"

namespace mlir::hybrid {

//===----------------------------------------------------------------------===//
// hybrid-fuse
//===----------------------------------------------------------------------===//

/// Patterns that fold element-wise linalg.generic producers and consumers
/// of hybrid ops into the ops (softplus(dt + bias), the D skip and the
/// SiLU(z) gate into ssm_scan; SiLU into causal_conv1d). See the pass
/// description in Passes.td for when each fires.
void populateHybridFusePatterns(RewritePatternSet &patterns);

//===----------------------------------------------------------------------===//
// hybrid-tile
//===----------------------------------------------------------------------===//

/// Inputs of the tile-size cost model.
struct TileCostOptions {
  /// f32 lanes of the target's vectors; 0: the host's.
  int64_t vectorWidth = 0;
  /// Value rows of a matrix state the lowering updates at once.
  int64_t rowTile = 64;
  /// Tiles per batch element the model aims for.
  int64_t minTasks = 8;
  /// Largest query tile of windowed_attention.
  int64_t queryTile = 32;
};

/// f32 lanes of the host's widest vector registers (16 with AVX-512, 8
/// with AVX or NEON pairs, else 4).
int64_t getHostVectorWidth();

/// The cost model's tile sizes of the parallel loops of `op` (0: not
/// tiled); fails for ops it does not know.
FailureOr<SmallVector<int64_t>>
getDefaultTileSizes(Operation *op, const TileCostOptions &options);

/// Checks tile sizes of the parallel loops of `op`: no more than it has, not
/// negative, and grouped loops tiled within a group or by whole groups.
/// Emits an error on the op otherwise.
LogicalResult checkTileSizes(Operation *op, ArrayRef<int64_t> parallelSizes);

/// Tiles the parallel loops of `op` by `parallelSizes` into an scf.forall
/// (time and other sequential loops are never tiled) and, with
/// `fuseProducers`, computes its single-use element-wise linalg producers
/// inside the tile. Replaces the uses of `op`'s results; `op` itself is
/// left for the caller to erase.
FailureOr<scf::SCFTileAndFuseResult>
tileHybridOp(RewriterBase &rewriter, TilingInterface op,
             ArrayRef<int64_t> parallelSizes, bool fuseProducers);

//===----------------------------------------------------------------------===//
// hybrid-chunk
//===----------------------------------------------------------------------===//

/// Splits the time loop of `op` into an scf.for over chunks of `chunkSize`
/// positions carrying the state, each chunk the same op on the chunk's
/// positions. Replaces `op`. Fails (changing nothing) when the sequence is
/// statically no longer than one chunk.
FailureOr<scf::ForOp> chunkRecurrence(RewriterBase &rewriter,
                                      RecurrenceOpInterface op,
                                      int64_t chunkSize);

} // namespace mlir::hybrid

#endif // HYBRID_DIALECT_HYBRID_TRANSFORMS_TRANSFORMS_H
