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

#endif // HYBRID_DIALECT_HYBRID_TRANSFORMS_PASSES_TD
