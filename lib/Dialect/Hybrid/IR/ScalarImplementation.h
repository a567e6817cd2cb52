//===- ScalarImplementation.h - Hybrid ops as scalar loops ------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// The bodies of TilingInterface::generateScalarImplementation, one per op
// (ScalarImplementation.cpp), for the memref form: `ivs` index the op's
// iteration domain, as TilingInterfaceImpl.cpp's tables define it.
//
//===----------------------------------------------------------------------===//

#ifndef HYBRID_LIB_DIALECT_HYBRID_IR_SCALARIMPLEMENTATION_H
#define HYBRID_LIB_DIALECT_HYBRID_IR_SCALARIMPLEMENTATION_H

#include "hybrid/Dialect/Hybrid/IR/HybridOps.h"

namespace mlir::hybrid::detail {

LogicalResult emitScalarImplementation(SsmScanOp op, OpBuilder &b,
                                       Location loc, ValueRange ivs);
LogicalResult emitScalarImplementation(WkvOp op, OpBuilder &b, Location loc,
                                       ValueRange ivs);
LogicalResult emitScalarImplementation(DeltaRuleOp op, OpBuilder &b,
                                       Location loc, ValueRange ivs);
LogicalResult emitScalarImplementation(RgLruOp op, OpBuilder &b, Location loc,
                                       ValueRange ivs);
LogicalResult emitScalarImplementation(GruOp op, OpBuilder &b, Location loc,
                                       ValueRange ivs);
LogicalResult emitScalarImplementation(CausalConv1dOp op, OpBuilder &b,
                                       Location loc, ValueRange ivs);
LogicalResult emitScalarImplementation(WindowedAttentionOp op, OpBuilder &b,
                                       Location loc, ValueRange ivs);
LogicalResult emitScalarImplementation(LayerNormOp op, OpBuilder &b,
                                       Location loc, ValueRange ivs);
LogicalResult emitScalarImplementation(RmsNormOp op, OpBuilder &b,
                                       Location loc, ValueRange ivs);

} // namespace mlir::hybrid::detail

#endif // HYBRID_LIB_DIALECT_HYBRID_IR_SCALARIMPLEMENTATION_H
