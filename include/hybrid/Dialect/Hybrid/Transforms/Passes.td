//===- Passes.td - Hybrid transformation passes ------------*- tablegen -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//

#ifndef HYBRID_DIALECT_HYBRID_TRANSFORMS_PASSES_TD
#define HYBRID_DIALECT_HYBRID_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def HybridApproximateMath : Pass<"hybrid-approximate-math"> {
  let summary = "Replace transcendental math ops with vectorizable polynomials";
  let description = [{
    Rewrites `math.exp`, `math.log1p`, `math.tanh`, `math.erf`, ... on f32
    scalars and vectors into the polynomial approximations of upstream's
    `populateMathPolynomialApproximationPatterns` (arith and bit
    manipulation only), so that vector math stays in vector registers
    instead of becoming one libm call per lane. The approximations are
    accurate to a few ulp in f32; docs/Numerics.md states the tolerances the
    tests use.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def HybridExportFunctions : Pass<"hybrid-export-functions", "::mlir::ModuleOp"> {
  let summary = "Give public functions a C ABI with caller-owned outputs";
  let description = [{
    For every public function with a body: each tensor result becomes a
    trailing memref argument that receives it
    (`bufferization.materialize_in_destination ... restrict writable`), the
    function returns nothing, and it gets `llvm.emit_c_interface`, so it is
    callable from C as `_mlir_ciface_<name>(descriptor *args...)` with every
    argument, outputs included, a strided memref descriptor. Outputs are
    named `output<i>` in the `hybrid.weight` argument attribute. Callers own
    every buffer: the compiled code allocates only its temporaries.
  }];
  let dependentDialects = [
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def HybridExpandStridedCopies : Pass<"hybrid-expand-strided-copies"> {
  let summary = "Turn memref copies between strided buffers into linalg.copy";
  let description = [{
    `memref.copy` between two contiguous buffers becomes a `memcpy` in the
    LLVM lowering; between strided views (a tile of a state, a column slice
    of an output) it becomes a call of `memrefCopy`, a generic function of
    MLIR's C runner utilities that walks any rank element by element. A
    compiled model should not need that library (a shared library must load
    on its own) and the copy is better compiled for its shapes: this pass
    rewrites every `memref.copy` whose source or target is not contiguous
    into a `linalg.copy` of the same buffers, which the rest of the pipeline
    lowers to loops like any other linalg op. Copies between contiguous
    buffers are left to the `memcpy` lowering.

    ```mlir
    memref.copy %tile, %slice : memref<4x8xf32> to memref<4x8xf32, strided<[64, 1], offset: ?>>
    // becomes
    linalg.copy ins(%tile : memref<4x8xf32>)
                outs(%slice : memref<4x8xf32, strided<[64, 1], offset: ?>>)
    ```

    With `all`, every copy becomes a `linalg.copy` (the GPU pipeline maps
    them to threads like every other loop).
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
  let options = [
    Option<"all", "all", "bool", /*default=*/"false",
           "Expand every memref.copy, contiguous ones included">
  ];
}

def HybridGpuTileParallelLoops
    : Pass<"hybrid-gpu-tile-parallel-loops", "::mlir::func::FuncOp"> {
  let summary = "Split each outermost scf.parallel into GPU blocks and threads";
  let description = [{
    Tiles the last dimension of every outermost `scf.parallel` by
    `block-size` (upstream `scf::tileParallelLoop`, static inner bounds
    guarded by `scf.if`), so `gpu-map-parallel-loops` maps the outer loop to
    blocks and the inner one to the threads of a block. The last dimension
    is the one with consecutive memory: channels of a scan, value rows of a
    matrix state, queries of attention, output features of a projection.
    A recurrence's time loop stays inside its thread.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect"];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"128",
           "Threads per block along the last parallel dimension">
  ];
}

def HybridGpuMemory : Pass<"hybrid-gpu-memory", "::mlir::ModuleOp"> {
  let summary = "Place the buffers of a mapped program on the GPU";
  let description = [{
    Runs after the parallel loops became `gpu.launch` ops. A model function
    of the GPU target takes device buffers (weights uploaded once,
    activations and states in device memory), so:

    * inside a kernel, a `memref.alloc` of static size (a thread's state
      tile or scratch vector) becomes a thread-private `memref.alloca` and
      its `memref.dealloc` goes; a dynamically sized one is an error, since
      a kernel cannot allocate device memory;
    * on the host side, `memref.alloc`/`memref.dealloc` become
      `gpu.alloc`/`gpu.dealloc` (device memory), and a `memref.copy`
      between contiguous buffers a `gpu.memcpy` (device to device); a
      strided copy left on the host is an error (run
      `hybrid-expand-strided-copies{all}` before mapping).

    A `memref.load` or `memref.store` left on the host (a loop that was not
    mapped) is an error: the host cannot read device memory.

    `gpu-async-region` then makes them asynchronous on the kernels' stream.
  }];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect",
    "::mlir::memref::MemRefDialect"
  ];
}

def HybridProtectArguments
    : Pass<"hybrid-protect-arguments", "::mlir::ModuleOp"> {
  let summary = "Make the tensor arguments of public functions read-only "
                "for bufferization";
  let description = [{
    The hybrid ops are in destination style, and a recurrence writes its
    final state over its initial state. When that initial state is an
    argument of the function, one-shot bufferization would update the
    caller's buffer in place (function arguments are writable by default).
    This pass marks every tensor argument of every public function that
    does not say otherwise `bufferization.writable = false`, so that such
    ops bufferize out of place and a caller's inputs are never modified.

    An argument the caller donates keeps an explicit
    `bufferization.writable = true` (for example a decode state that is
    meant to be updated in place); private functions are left alone, since
    one-shot bufferization sees all of their callers.

    ```mlir
    func.func @step(%x: tensor<1x1x64xf32>, %h: tensor<1x64x16xf32>)
    // becomes
    func.func @step(%x: tensor<1x1x64xf32> {bufferization.writable = false},
                    %h: tensor<1x64x16xf32> {bufferization.writable = false})
    ```
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect"];
}

def HybridTileAndVectorize
    : Pass<"hybrid-tile-and-vectorize", "::mlir::func::FuncOp"> {
  let summary = "Tile the top-level linalg ops into parallel tiles and vectorize";
  let description = [{
    First fuses elementwise producers into elementwise consumers (never into
    contractions, where they would be recomputed for every output column).
    Then, for every linalg op at the top level of a function (projections,
    elementwise gates, norms, the causal convolution's taps): moves the
    innermost parallel loop after the reductions when a reduction is
    innermost (a projection `(b, t, o, i)` becomes `(b, t, i, o)`), tiles its
    parallel loops with `scf.forall` (the last two parallel dimensions by
    `rows` x `cols`, the others by 1), fuses a `linalg.fill` that
    initialises its destination into each tile, tiles its reduction loops
    with `scf.for` by `reduction`, and vectorizes the tile with upstream
    `linalg::vectorize`. Static sizes get tiles that divide them. A dynamic
    second-to-last parallel dimension (a projection's tokens, with a
    dynamic sequence length) is tiled by `dynamic-rows` (default 1: tiles
    of 1) and, when that is more than 1, each tile versioned:
    `scf.if` the tile is full, the op on operands cast to the static size
    (vectorized, each weight row reused for `rows` tokens), else the op
    tiled by 1 along that dimension (the last, partial tile). Other dynamic
    dimensions are tiled by 1. (Larger token tiles are faster but compile
    slower: docs/Performance.md.)
    A projection tile is then `x[k]` broadcast times the rows `W[k, cols]`
    (contiguous reads), summed over `k` in `cols` vector lanes: multiply-adds
    without horizontal sums. (It is deliberately not folded into
    `vector.contract`: with the broadcast hidden in a transfer_read, the
    contract lowering unrolls it into a dot product and a horizontal sum per
    column, five times slower on whole models.) Leading unit dimensions are
    cast away. Ops the vectorizer does not support are left to the
    loop lowering. Uses upstream `TilingInterface` tiling and fusion
    (`scf::tileConsumerAndFuseProducersUsingSCF`).
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect"
  ];
  let options = [
    Option<"rows", "rows", "int64_t", /*default=*/"8",
           "Tile of the second-to-last parallel dimension">,
    Option<"cols", "cols", "int64_t", /*default=*/"32",
           "Tile of the last parallel dimension">,
    Option<"reduction", "reduction", "int64_t", /*default=*/"16",
           "Tile of each reduction dimension">,
    Option<"dynamicRows", "dynamic-rows", "int64_t", /*default=*/"1",
           "Tile of a dynamic second-to-last parallel dimension (versioned: "
           "full tiles static, the remainder by 1; 1 = tiles of 1)">
  ];
}

//===----------------------------------------------------------------------===//
// The hybrid-level passes: fuse -> tile -> chunk, before any lowering
//===----------------------------------------------------------------------===//

def HybridFuse : Pass<"hybrid-fuse", "::mlir::func::FuncOp"> {
  let summary = "Fold the element-wise math around recurrences into the ops";
  let description = [{
    Folds into the hybrid ops what a model writes around them with
    `linalg.generic` element-wise ops (on IR written naturally, not only on
    the frontend's output), so one kernel does in registers what would
    otherwise be extra passes over memory:

    * `ssm_scan`: the discretisation `delta = softplus(dt + bias)` becomes
      `delta_bias` + `delta_softplus`; `y + D * u` becomes the `D` skip;
      `y * silu(z)` becomes the `z` gate (after the skip, as the op applies
      them);
    * `causal_conv1d`: `silu(conv(x))` becomes `activation silu`.

    A fold fires only when it is exact: the producer (or consumer) is an
    all-parallel `linalg.generic` with identity maps on the sequence
    operands and a broadcast `[C]` map on per-channel parameters, whose body
    is recognised as the expected math (`softplus` as `log1p(exp(x))`,
    `log(1 + exp(x))` or the stable `max(x, 0) + log1p(exp(-|x|))`;
    `silu` as `x * sigmoid(x)`, `x / (1 + exp(-x))` or
    `x * (1 / (1 + exp(-x)))`), shapes and element types agree, the op does
    not already have what is folded, and the folded intermediate value has
    no other use. Everything else is left alone.
  }];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def HybridTile : Pass<"hybrid-tile", "::mlir::func::FuncOp"> {
  let summary = "Tile the parallel loops of hybrid ops into scf.forall";
  let description = [{
    Tiles the parallel loops (batch, heads, channels, value rows, queries)
    of every hybrid op that implements `TilingInterface` with upstream
    `scf::tileConsumerAndFuseProducersUsingSCF` into an `scf.forall` whose
    body is the same hybrid op on slices. Time is never tiled (splitting it
    is `hybrid-chunk`'s job). The result is target-neutral: the CPU lowering
    turns each tile into vector code, a GPU mapping can map the `scf.forall`
    to blocks.

    Tile sizes come, in order of precedence, from the op's
    `hybrid.tile_sizes` attribute (`array<i64: ...>`, one per parallel loop,
    0 = not tiled), the `tile-sizes` option (applied to every op), or the
    cost model (docs/Passes.md): batch 1; channel tiles a multiple of the
    target's vector width and value-row tiles a multiple of `row-tile`,
    sized so that a batch element has at least `min-tasks` tiles; query
    tiles of at most `query-tile` queries; grouped dimensions (ssm_scan's
    B/C groups, grouped q/k or K/V heads) never straddle a group.

    With `fuse-producers`, element-wise `linalg.generic` producers whose
    only user is the op are computed inside each tile.
  }];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
  let options = [
    ListOption<"tileSizes", "tile-sizes", "int64_t",
               "Tile sizes of the parallel loops of every op, outermost "
               "first (0: not tiled; an op takes as many as it has "
               "parallel loops, missing ones are 0); empty: the cost "
               "model">,
    ListOption<"opNames", "ops", "std::string",
               "The ops to tile (e.g. hybrid.ssm_scan); empty: every "
               "tileable hybrid op">,
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"0",
           "f32 lanes of the target's vectors for the cost model (0: the "
           "host's)">,
    Option<"rowTile", "row-tile", "int64_t", /*default=*/"64",
           "Value rows of a matrix state the lowering updates at once">,
    Option<"minTasks", "min-tasks", "int64_t", /*default=*/"8",
           "Tiles per batch element the cost model aims for (parallelism)">,
    Option<"queryTile", "query-tile", "int64_t", /*default=*/"32",
           "Largest query tile of windowed_attention">,
    Option<"fuseProducers", "fuse-producers", "bool", /*default=*/"true",
           "Compute single-use element-wise linalg producers inside the "
           "tiles">
  ];
}

def HybridChunk : Pass<"hybrid-chunk", "::mlir::func::FuncOp"> {
  let summary = "Split the time loop of recurrences into chunks";
  let description = [{
    Splits every recurrence (an op with `RecurrenceOpInterface`) over a
    sequence of `T` positions into an `scf.for` over chunks of
    `chunk-size` positions that carries the state from one chunk to the
    next: chunk `c` runs the same op on positions `[c·L, min((c+1)·L, T))`
    from the state the previous chunk ended in (the op's initial state, or
    zeros, for the first), and its outputs are inserted at the chunk's
    positions. With `lengths`, chunk `c` processes
    `clamp(lengths - c·L, 0, chunk length)` positions of each sequence.
    This is exact for every recurrence (the state is the whole carry), and
    it is where the chunked (matrix) forms of the recurrences will plug in:
    a chunk is a unit whose inner algebra a later rewrite may change.

    Ops with a static length of at most `chunk-size` are left alone, and so
    are ops without `RecurrenceOpInterface`. `chunk-size=0` does nothing.
    The ops inside a chunk loop carry the unit attribute `hybrid.chunk`, so
    running the pass again does not split them again.
  }];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
  let options = [
    Option<"chunkSize", "chunk-size", "int64_t", /*default=*/"64",
           "Positions per chunk (0: no chunking)">,
    ListOption<"opNames", "ops", "std::string",
               "The ops to chunk (e.g. hybrid.ssm_scan); empty: every "
               "recurrence">
  ];
}

def HybridLowerToLoops : Pass<"hybrid-lower-to-loops", "::mlir::func::FuncOp"> {
  let summary = "Lower the memref form of hybrid ops to scalar loops";
  let description = [{
    Replaces every destination-style hybrid op in memref form (what one-shot
    bufferization makes of the tensor form) by one `scf.for` per loop of its
    iteration domain around the op's scalar implementation
    (`TilingInterface::generateScalarImplementation`, through upstream
    `scf::lowerToLoopsUsingSCFForOp`): parallel loops first, the time loop
    of a recurrence innermost, the state updated in place in the initial
    state's buffer. It is the simplest correct lowering of every op, as
    upstream's `convert-linalg-to-loops` is for Linalg: the form a GPU
    thread runs, and an independent check of `convert-hybrid-to-scf`'s
    optimised loops (`hybrid-cpu-pipeline{scalar-loops=true}` runs a whole
    model through it).

    Tensor-form ops are left alone (bufferize first); a `gated_parallel`
    must have been expanded before bufferization.

    With `parallel-loops`, the op's leading parallel loops become one
    multi-dimensional `scf.parallel` (the sequential ones stay `scf.for`
    inside it), so a GPU mapping gives each (batch, channel) or (batch,
    head, value row) its own thread with the time loop inside.
  }];
  let options = [
    Option<"parallelLoops", "parallel-loops", "bool", /*default=*/"false",
           "Emit the parallel loops of the iteration domain as one "
           "scf.parallel (for GPU mapping) instead of scf.for">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect"
  ];
}

#endif // HYBRID_DIALECT_HYBRID_TRANSFORMS_PASSES_TD
