//===- HybridOps.h - Hybrid dialect operations ------------------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//

#ifndef HYBRID_DIALECT_HYBRID_IR_HYBRIDOPS_H
#define HYBRID_DIALECT_HYBRID_IR_HYBRIDOPS_H

#include "hybrid/Dialect/Hybrid/IR/HybridDialect.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "hybrid/Dialect/Hybrid/IR/HybridEnums.h.inc"
#include "hybrid/Dialect/Hybrid/IR/HybridInterfaces.h.inc"

#define GET_ATTRDEF_CLASSES
#include "hybrid/Dialect/Hybrid/IR/HybridAttrs.h.inc"

#define GET_OP_CLASSES
#include "hybrid/Dialect/Hybrid/IR/HybridOps.h.inc"

namespace mlir::hybrid {

/// Whether `v`, seen through `tensor.extract_slice`s, is an argument of a
/// function's entry block that the function must not write: one not marked
/// `bufferization.writable = true` (hybrid-protect-arguments marks public
/// functions' tensor arguments read-only). A destination-style op whose
/// destination is such a value must write its result elsewhere; tiling and
/// lowering give it a fresh destination instead of copying the argument.
bool isReadOnlyFunctionArgument(Value v);

/// Verifies that a destination-style hybrid op is in one of its two forms:
/// every operand a tensor and one result per destination, of its type (the
/// tensor form), or every operand a memref and no results (the memref form,
/// which updates its destinations in place).
LogicalResult verifyTensorOrMemRefForm(Operation *op);

} // namespace mlir::hybrid

#endif // HYBRID_DIALECT_HYBRID_IR_HYBRIDOPS_H
