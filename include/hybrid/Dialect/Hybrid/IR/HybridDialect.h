//===- HybridDialect.h - Hybrid dialect declaration -------------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//

#ifndef HYBRID_DIALECT_HYBRID_IR_HYBRIDDIALECT_H
#define HYBRID_DIALECT_HYBRID_IR_HYBRIDDIALECT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dialect.h"

#include "hybrid/Dialect/Hybrid/IR/HybridDialect.h.inc"

#endif // HYBRID_DIALECT_HYBRID_IR_HYBRIDDIALECT_H
