//===- Hybrid.td - Hybrid dialect umbrella -----------------*- tablegen -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// Umbrella file: every TableGen backend for the dialect runs on this file.
//
//===----------------------------------------------------------------------===//

#ifndef HYBRID_DIALECT_HYBRID_IR_HYBRID_TD
#define HYBRID_DIALECT_HYBRID_IR_HYBRID_TD

include "hybrid/Dialect/Hybrid/IR/HybridDialect.td"
include "hybrid/Dialect/Hybrid/IR/HybridEnums.td"
include "hybrid/Dialect/Hybrid/IR/HybridInterfaces.td"
include "hybrid/Dialect/Hybrid/IR/HybridOps.td"

#endif // HYBRID_DIALECT_HYBRID_IR_HYBRID_TD
