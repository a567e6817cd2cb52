//===- Pipelines.h - Hybrid pass pipelines ----------------------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//

#ifndef HYBRID_PIPELINES_PIPELINES_H
#define HYBRID_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassOptions.h"

namespace mlir {
class DialectRegistry;
class OpPassManager;
} // namespace mlir

namespace mlir::hybrid {

/// Options of --hybrid-cpu-pipeline.
struct CPUPipelineOptions : public PassPipelineOptions<CPUPipelineOptions> {
  PassOptions::Option<int64_t> vectorWidth{
      *this, "vector-width",
      llvm::cl::desc("Lanes of the recurrences' channel and row tiles"),
      llvm::cl::init(8)};
  PassOptions::Option<int64_t> rowTile{
      *this, "row-tile",
      llvm::cl::desc("Rows of a matrix state (wkv, delta_rule) per task"),
      llvm::cl::init(4)};
  PassOptions::Option<bool> openmp{
      *this, "openmp",
      llvm::cl::desc("Run the parallel loops on all cores through OpenMP "
                     "(link libomp); off: serial code"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> vectorizeLinalg{
      *this, "vectorize-linalg",
      llvm::cl::desc("Tile the linalg ops into parallel tiles and vectorize "
                     "them (hybrid-tile-and-vectorize)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> approximateMath{
      *this, "approximate-math",
      llvm::cl::desc("Vectorizable polynomial exp/log/tanh/erf instead of "
                     "libm calls"),
      llvm::cl::init(true)};
};

/// hybrid (+ linalg, tensor, arith, math on tensors) -> LLVM dialect:
/// convert-hybrid-to-scf, elementwise fusion, one-shot bufferization,
/// linalg to parallel loops, math approximation, vector lowering, scf.forall
/// and scf.parallel to OpenMP, then everything to LLVM.
void buildHybridCPUPipeline(OpPassManager &pm,
                            const CPUPipelineOptions &options);

/// Adds what the pipelines need beyond the dialects' own registration: the
/// bufferization and convert-to-llvm interfaces of upstream dialects and the
/// LLVM IR translations. Tools that register all extensions already have
/// them; in-process compilers (the JIT, hybrid-compile) call this.
void registerPipelineDependencies(DialectRegistry &registry);

/// Registers --hybrid-cpu-pipeline.
void registerHybridPipelines();

} // namespace mlir::hybrid

#endif // HYBRID_PIPELINES_PIPELINES_H
