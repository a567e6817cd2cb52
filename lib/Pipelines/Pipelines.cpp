//===- Pipelines.cpp - Hybrid pass pipelines -------------------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Pipelines/Pipelines.h"

#include "hybrid/Dialect/Hybrid/IR/HybridDialect.h"
#include "hybrid/Dialect/Hybrid/IR/HybridExternalModels.h"

#include "hybrid/Conversion/Passes.h"
#include "hybrid/Dialect/Hybrid/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/Pipelines/Passes.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Dialect/Vector/Transforms/Passes.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FileSystem.h"
#include <cstdlib>
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Target/LLVMIR/LLVMTranslationInterface.h"

using namespace mlir;
using namespace mlir::hybrid;

/// Tensors -> buffers, shared by the CPU and GPU pipelines. A tile's output
/// is written straight into its slice of the whole output (no temporary per
/// tile). A caller's inputs are never written: a recurrence whose initial
/// state is an argument writes its final state elsewhere. hybrid-chunk
/// carries states through scf.for, where a chunk's final state may be a
/// fresh buffer.
static void addBufferization(OpPassManager &pm) {
  pm.addPass(createHybridProtectArguments());
  pm.addPass(bufferization::createEmptyTensorEliminationPass());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  bufferize.allowReturnAllocsFromLoops = true;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  bufferization::BufferDeallocationPipelineOptions dealloc;
  bufferization::buildBufferDeallocationPipeline(pm, dealloc);
}

void mlir::hybrid::buildHybridLevelPipeline(OpPassManager &pm,
                                            const CPUPipelineOptions &options) {
  if (options.fuse) {
    pm.addNestedPass<func::FuncOp>(createHybridFuse());
    pm.addPass(createCanonicalizerPass());
  }
  if (options.tile) {
    HybridTileOptions tile;
    tile.tileSizes.assign(options.tileSizes.begin(), options.tileSizes.end());
    // The ops whose lowering is a loop nest of its own. Convolutions and
    // norms lower to linalg, which hybrid-tile-and-vectorize tiles and
    // vectorizes at the top level of a function.
    tile.opNames = {"hybrid.ssm_scan", "hybrid.wkv", "hybrid.delta_rule",
                    "hybrid.rg_lru", "hybrid.gru",
                    "hybrid.windowed_attention"};
    tile.vectorWidth = options.vectorWidth;
    tile.rowTile = options.rowTile;
    tile.queryTile = options.queryLanes;
    tile.minTasks = options.minTasks;
    // Element-wise producers stay at the top level, where
    // hybrid-tile-and-vectorize vectorizes them.
    tile.fuseProducers = false;
    pm.addNestedPass<func::FuncOp>(createHybridTile(tile));
  }
  if (options.chunkSize > 0) {
    HybridChunkOptions chunk;
    chunk.chunkSize = options.chunkSize;
    // Measured (docs/Performance.md): time-blocking a tile of the selective
    // scan keeps its B/C rows and inputs in L1 across the tile's register
    // tiles (1.4-1.7x on one core); the matrix recurrences gain little.
    if (options.chunkOps.empty())
      chunk.opNames = {"hybrid.ssm_scan"};
    else if (!llvm::is_contained(options.chunkOps, "all"))
      chunk.opNames.assign(options.chunkOps.begin(), options.chunkOps.end());
    pm.addNestedPass<func::FuncOp>(createHybridChunk(chunk));
  }
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void mlir::hybrid::buildHybridCPUPipeline(OpPassManager &pm,
                                          const CPUPipelineOptions &options) {
  buildHybridLevelPipeline(pm, options);
  if (options.stopAfterHybrid)
    return;
  // hybrid -> scf.forall/scf.for over vectors, and linalg, on tensors; or,
  // with scalar-loops, only gated_parallel expanded (it has no memref
  // form) and the other hybrid ops bufferized below.
  ConvertHybridToSCFOptions lowering;
  lowering.vectorWidth = options.vectorWidth;
  lowering.rowTile = options.rowTile;
  lowering.queryLanes = options.queryLanes;
  if (options.scalarLoops)
    lowering.opNames = {"hybrid.gated_parallel"};
  pm.addPass(createConvertHybridToSCF(lowering));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  if (options.vectorizeLinalg) {
    // (Fuses elementwise ops itself, never into contractions.)
    HybridTileAndVectorizeOptions vectorize;
    vectorize.dynamicRows = options.dynamicRows;
    pm.addNestedPass<func::FuncOp>(createHybridTileAndVectorize(vectorize));
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
  }

  // Tensors -> buffers (hybrid ops still there take their memref form).
  addBufferization(pm);
  // The memref form of the hybrid ops (all of them with scalar-loops; else
  // those written in memref form) -> scalar loops, whose scratch buffers
  // come with their own deallocations.
  pm.addNestedPass<func::FuncOp>(createHybridLowerToLoops());
  // Deallocation clones a buffer a function returns but does not own (a
  // private layer function's state argument, updated in place): clone ->
  // alloc + copy.
  pm.addPass(createConvertBufferizationToMemRefPass());
  // Copies between strided views as loops, not calls of the C runner
  // utilities' memrefCopy (compiled code links nothing of MLIR's).
  pm.addNestedPass<func::FuncOp>(createHybridExpandStridedCopies());

  // linalg -> loops (parallel where the iterators are), math -> polynomials,
  // vector -> 1-D vectors and loops.
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  if (options.approximateMath)
    pm.addPass(createHybridApproximateMath());
  pm.addNestedPass<func::FuncOp>(vector::createLowerVectorMultiReductionPass());
  VectorTransferToSCFOptions vectorToSCF;
  vectorToSCF.enableFullUnroll(true);
  pm.addPass(createConvertVectorToSCFPass(vectorToSCF));
  pm.addNestedPass<func::FuncOp>(vector::createLowerVectorMaskPass());

  // Parallel loops -> OpenMP (or serial loops).
  pm.addNestedPass<func::FuncOp>(createForallToParallelLoopPass());
  if (options.openmp)
    pm.addPass(createConvertSCFToOpenMPPass());
  pm.addPass(createCanonicalizerPass());

  // Everything -> LLVM. memref (including the alloca scopes of the OpenMP
  // regions) before scf -> cf, which would split those scopes into blocks.
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  // Temporaries through _mlir_memref_to_llvm_alloc/free, which the runtime
  // defines with a per-thread cache of freed blocks (no system allocation
  // per call once the sizes have been seen).
  FinalizeMemRefToLLVMConversionPassOptions memrefToLLVM;
  memrefToLLVM.useGenericFunctions = true;
  pm.addPass(createFinalizeMemRefToLLVMConversionPass(memrefToLLVM));
  pm.addPass(createSCFToControlFlowPass());
  ConvertVectorToLLVMPassOptions vectorToLLVM;
  vectorToLLVM.vectorContractLowering = vector::VectorContractLowering::OuterProduct;
  pm.addPass(createConvertVectorToLLVMPass(vectorToLLVM));
  pm.addPass(createConvertMathToLLVMPass());
  if (options.openmp)
    pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createConvertToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  // (No canonicalization of the LLVM dialect: on large models it costs more
  // than the rest of the pipeline, and LLVM's own -O3 does the same work.)
}

/// Reports an invalid pipeline option (there is no context to emit a
/// diagnostic in while a pipeline is built).
static LogicalResult pipelineError(const Twine &message) {
  llvm::errs() << "error: hybrid-gpu-pipeline: " << message << "\n";
  return failure();
}

LogicalResult
mlir::hybrid::buildHybridGPUPipeline(OpPassManager &pm,
                                     const GPUPipelineOptions &options) {
  // Validated up front: LLVM aborts the process (not a diagnostic) on PTX
  // older than 8.0 for sm_90, and an unknown format fails late.
  StringRef features = options.features;
  unsigned ptx = 0;
  if (!features.consume_front("+ptx") || features.getAsInteger(10, ptx) ||
      ptx < 80)
    return pipelineError("features must be +ptxNN with NN >= 80, got '" +
                         options.features.getValue() + "'");
  StringRef chip = options.chip;
  unsigned sm = 0;
  if (!chip.consume_front("sm_") || chip.getAsInteger(10, sm) || sm < 50)
    return pipelineError("chip must be sm_NN (NN >= 50), got '" +
                         options.chip.getValue() + "'");
  if (!llvm::is_contained({"isa", "bin", "fatbin"}, options.format.getValue()))
    return pipelineError("format must be isa, bin or fatbin, got '" +
                         options.format.getValue() + "'");
  // Upstream's GPU lowering calls libdevice for math (exp, fma, sqrt, ...)
  // and its NVVM serializer links it from $CUDA_ROOT/nvvm/libdevice; the
  // toolkit option (default: $CUDA_ROOT, $CUDA_HOME, $CUDA_PATH, else
  // /usr/local/cuda) is checked and handed over through CUDA_ROOT.
  std::string toolkit = options.toolkit;
  if (toolkit.empty())
    for (const char *var : {"CUDA_ROOT", "CUDA_HOME", "CUDA_PATH"})
      if (const char *value = std::getenv(var); value && *value) {
        toolkit = value;
        break;
      }
  if (toolkit.empty())
    toolkit = "/usr/local/cuda";
  std::string libdevice = toolkit + "/nvvm/libdevice/libdevice.10.bc";
  if (!llvm::sys::fs::exists(libdevice))
    return pipelineError("no libdevice at '" + libdevice +
                         "' (the device math library of the CUDA toolkit); "
                         "set toolkit= or CUDA_HOME to the toolkit's root");
  ::setenv("CUDA_ROOT", toolkit.c_str(), /*overwrite=*/1);
  if (options.blockSize < 1 || options.blockSize > 1024)
    return pipelineError("block-size must be in [1, 1024], got " +
                         Twine(options.blockSize.getValue()));

  // Hybrid level: the folds; gated_parallel has no memref form.
  if (options.fuse) {
    pm.addNestedPass<func::FuncOp>(createHybridFuse());
    pm.addPass(createCanonicalizerPass());
  }
  ConvertHybridToSCFOptions expand;
  expand.opNames = {"hybrid.gated_parallel"};
  pm.addPass(createConvertHybridToSCF(expand));
  // Tensors -> buffers: the hybrid ops in their memref form.
  addBufferization(pm);
  pm.addPass(createConvertBufferizationToMemRefPass());
  // Loops: each op's parallel loops one scf.parallel (a thread per state
  // slice, the time loop inside), every copy and linalg op parallel loops.
  HybridLowerToLoopsOptions loops;
  loops.parallelLoops = true;
  pm.addNestedPass<func::FuncOp>(createHybridLowerToLoops(loops));
  HybridExpandStridedCopiesOptions copies;
  copies.all = true;
  pm.addNestedPass<func::FuncOp>(createHybridExpandStridedCopies(copies));
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  pm.addPass(createCanonicalizerPass());
  // Blocks x threads, then kernels.
  HybridGpuTileParallelLoopsOptions tile;
  tile.blockSize = options.blockSize;
  pm.addNestedPass<func::FuncOp>(createHybridGpuTileParallelLoops(tile));
  pm.addNestedPass<func::FuncOp>(createGpuMapParallelLoopsPass());
  pm.addPass(createConvertParallelLoopToGpuPass());
  pm.addPass(createHybridGpuMemory());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createGpuKernelOutliningPass());
  pm.addNestedPass<func::FuncOp>(createGpuAsyncRegionPass());
  gpu::GPUToNVVMPipelineOptions nvvm;
  nvvm.cubinChip = options.chip;
  nvvm.cubinFeatures = options.features;
  nvvm.cubinFormat = options.format;
  gpu::buildLowerToNVVMPassPipeline(pm, nvvm);
  return success();
}

namespace {
/// Translation of hybrid attributes left on LLVM-dialect functions (the
/// `hybrid.weight` names of exported arguments, which C headers and model
/// descriptors are made from): they have no LLVM IR counterpart and are
/// dropped, instead of each one being reported as unhandled.
struct HybridToLLVMIRTranslation : public LLVMTranslationDialectInterface {
  using LLVMTranslationDialectInterface::LLVMTranslationDialectInterface;
  LogicalResult
  convertParameterAttr(LLVM::LLVMFuncOp, int, NamedAttribute,
                       LLVM::ModuleTranslation &) const override {
    return success();
  }
  LogicalResult amendOperation(Operation *, ArrayRef<llvm::Instruction *>,
                               NamedAttribute,
                               LLVM::ModuleTranslation &) const override {
    return success();
  }
};
} // namespace

void mlir::hybrid::registerPipelineDependencies(DialectRegistry &registry) {
  // InitAllDialects also registers the external models (bufferization,
  // tiling, ...) that upstream dialects keep out of their own libraries.
  mlir::registerAllDialects(registry);
  registerAllExtensions(registry);
  // TilingInterface on hybrid ops (hybrid-tile).
  registerHybridExternalModels(registry);
  registry.insert<HybridDialect>();
  registry.addExtension(+[](MLIRContext *, HybridDialect *dialect) {
    dialect->addInterfaces<HybridToLLVMIRTranslation>();
  });
  registerAllToLLVMIRTranslations(registry);
}

void mlir::hybrid::registerHybridPipelines() {
  PassPipelineRegistration<CPUPipelineOptions>(
      "hybrid-cpu-pipeline",
      "Lower hybrid IR on tensors to the LLVM dialect for multi-core CPUs",
      buildHybridCPUPipeline);
  // (Registered by hand: PassPipelineRegistration drops a builder's
  // failure, and invalid options must fail the tool.)
  registerPassPipeline(
      "hybrid-gpu-pipeline",
      "Lower hybrid IR on tensors to host LLVM IR and NVVM device code (PTX)",
      [](OpPassManager &pm, StringRef text,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        GPUPipelineOptions options;
        if (failed(options.parseFromString(text)))
          return failure();
        return buildHybridGPUPipeline(pm, options);
      },
      [](function_ref<void(const detail::PassOptions &)> optHandler) {
        optHandler(GPUPipelineOptions());
      });
}
