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
  // The hybrid-level stages (docs/Passes.md).
  PassOptions::Option<bool> fuse{
      *this, "fuse",
      llvm::cl::desc("Fold element-wise math around the recurrences into "
                     "them (hybrid-fuse)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> tile{
      *this, "tile",
      llvm::cl::desc("Tile the parallel loops of the recurrences and "
                     "attention into scf.forall (hybrid-tile)"),
      llvm::cl::init(true)};
  PassOptions::ListOption<int64_t> tileSizes{
      *this, "tile-sizes",
      llvm::cl::desc("hybrid-tile's tile sizes for every op (empty: its "
                     "cost model)")};
  PassOptions::Option<int64_t> minTasks{
      *this, "min-tasks",
      llvm::cl::desc("Tiles per batch element hybrid-tile's cost model aims "
                     "for"),
      llvm::cl::init(8)};
  PassOptions::Option<int64_t> chunkSize{
      *this, "chunk-size",
      llvm::cl::desc("Split recurrences into chunks of this many positions "
                     "(hybrid-chunk; 0: off)"),
      llvm::cl::init(64)};
  PassOptions::ListOption<std::string> chunkOps{
      *this, "chunk-ops",
      llvm::cl::desc("The recurrences hybrid-chunk splits (default: "
                     "hybrid.ssm_scan, where time-blocking pays off; "
                     "\"all\": every recurrence)")};
  PassOptions::Option<bool> stopAfterHybrid{
      *this, "stop-after-hybrid",
      llvm::cl::desc("Run only the hybrid-level stages (fuse, tile, chunk) "
                     "and stop before lowering"),
      llvm::cl::init(false)};
  PassOptions::Option<int64_t> vectorWidth{
      *this, "vector-width",
      llvm::cl::desc("Lanes of the recurrences' channel and row tiles"),
      llvm::cl::init(8)};
  PassOptions::Option<int64_t> rowTile{
      *this, "row-tile",
      llvm::cl::desc("Value rows of a matrix state (wkv, delta_rule) a task "
                     "updates, as vector lanes (the state tile is keys x "
                     "rows)"),
      llvm::cl::init(64)};
  PassOptions::Option<int64_t> dynamicRows{
      *this, "dynamic-rows",
      llvm::cl::desc("Tokens per vectorized tile of a projection with a "
                     "dynamic sequence length (versioned tiles; 1: one "
                     "token per tile). Measured (docs/Performance.md): 4 "
                     "makes such projections 2-3x faster and compiles "
                     "models 1.7x slower, so it is opt-in"),
      llvm::cl::init(1)};
  PassOptions::Option<int64_t> queryLanes{
      *this, "query-lanes",
      llvm::cl::desc("Queries of windowed_attention per task, as vector "
                     "lanes (also hybrid-tile's query tile)"),
      llvm::cl::init(64)};
  PassOptions::Option<bool> scalarLoops{
      *this, "scalar-loops",
      llvm::cl::desc("Lower the hybrid ops after bufferization, through "
                     "their memref form and hybrid-lower-to-loops (scalar "
                     "loops from TilingInterface's scalar implementation), "
                     "instead of convert-hybrid-to-scf's vectorized loops: "
                     "slow; an independent check of the optimised lowering"),
      llvm::cl::init(false)};
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
/// the hybrid-level stages (buildHybridLevelPipeline), convert-hybrid-to-scf,
/// elementwise fusion, one-shot bufferization,
/// linalg to parallel loops, math approximation, vector lowering, scf.forall
/// and scf.parallel to OpenMP, then everything to LLVM.
void buildHybridCPUPipeline(OpPassManager &pm,
                            const CPUPipelineOptions &options);

/// The hybrid-level stages shared by every target: hybrid-fuse ->
/// hybrid-tile -> hybrid-chunk, each as the options say, with
/// canonicalization in between. The IR stays in the hybrid dialect (tiled
/// ops inside scf.forall).
void buildHybridLevelPipeline(OpPassManager &pm,
                              const CPUPipelineOptions &options);

/// Options of --hybrid-gpu-pipeline.
struct GPUPipelineOptions : public PassPipelineOptions<GPUPipelineOptions> {
  PassOptions::Option<bool> fuse{
      *this, "fuse",
      llvm::cl::desc("Run hybrid-fuse first (fold the math around the ops "
                     "into them)"),
      llvm::cl::init(true)};
  PassOptions::Option<int64_t> blockSize{
      *this, "block-size",
      llvm::cl::desc("Threads per block along the last parallel dimension "
                     "of each loop nest (channels, value rows, queries, "
                     "output features)"),
      llvm::cl::init(128)};
  PassOptions::Option<std::string> chip{
      *this, "chip", llvm::cl::desc("The GPU architecture (sm_80, sm_90, ...)"),
      llvm::cl::init("sm_80")};
  PassOptions::Option<std::string> features{
      *this, "features",
      llvm::cl::desc("PTX features; +ptx80 or newer (LLVM aborts on sm_90 "
                     "with older PTX)"),
      llvm::cl::init("+ptx80")};
  PassOptions::Option<std::string> toolkit{
      *this, "toolkit",
      llvm::cl::desc("The CUDA toolkit's root, whose nvvm/libdevice the "
                     "device math links (default: $CUDA_ROOT, $CUDA_HOME, "
                     "$CUDA_PATH, else /usr/local/cuda)"),
      llvm::cl::init("")};
  PassOptions::Option<std::string> format{
      *this, "format",
      llvm::cl::desc("Device code in the module: isa (PTX), bin (cubin, "
                     "needs ptxas) or fatbin"),
      llvm::cl::init("isa")};
};

/// hybrid IR on tensors -> host LLVM dialect + device code (gpu.binary):
/// hybrid-fuse, gated_parallel expanded, one-shot bufferization into the
/// ops' memref form, hybrid-lower-to-loops with the parallel loops as
/// scf.parallel, linalg to parallel loops, every outermost parallel loop
/// split into blocks x threads (hybrid-gpu-tile-parallel-loops), mapped to
/// gpu.launch, buffers placed on the device (hybrid-gpu-memory), kernels
/// outlined and lowered with upstream's gpu-lower-to-nvvm-pipeline.
/// Fails on invalid options before building anything.
LogicalResult buildHybridGPUPipeline(OpPassManager &pm,
                                     const GPUPipelineOptions &options);

/// Adds what the pipelines need beyond the dialects' own registration: the
/// bufferization and convert-to-llvm interfaces of upstream dialects and the
/// LLVM IR translations. Tools that register all extensions already have
/// them; in-process compilers (the JIT, hybrid-compile) call this.
void registerPipelineDependencies(DialectRegistry &registry);

/// Registers --hybrid-cpu-pipeline and --hybrid-gpu-pipeline.
void registerHybridPipelines();

} // namespace mlir::hybrid

#endif // HYBRID_PIPELINES_PIPELINES_H
