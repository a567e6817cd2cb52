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
    `linalg::vectorize` (masked where a dynamic size leaves a partial tile).
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
           "Tile of each reduction dimension">
  ];
}

#endif // HYBRID_DIALECT_HYBRID_TRANSFORMS_PASSES_TD
