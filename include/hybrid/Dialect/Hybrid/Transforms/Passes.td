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

#endif // HYBRID_DIALECT_HYBRID_TRANSFORMS_PASSES_TD
