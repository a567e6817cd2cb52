//===- HybridDialect.cpp - Hybrid dialect registration ---------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Dialect/Hybrid/IR/HybridDialect.h"
#include "hybrid/Dialect/Hybrid/IR/HybridOps.h"

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/TilingInterface.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::hybrid;

#include "hybrid/Dialect/Hybrid/IR/HybridDialect.cpp.inc"
#include "hybrid/Dialect/Hybrid/IR/HybridEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "hybrid/Dialect/Hybrid/IR/HybridAttrs.cpp.inc"

void HybridDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "hybrid/Dialect/Hybrid/IR/HybridOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "hybrid/Dialect/Hybrid/IR/HybridAttrs.cpp.inc"
      >();
  // Implemented as external models (TilingInterfaceImpl.cpp): a context
  // without registerHybridExternalModels reports it instead of the ops
  // silently not being tileable.
  declarePromisedInterfaces<TilingInterface, SsmScanOp, WkvOp, DeltaRuleOp,
                            RgLruOp, GruOp, CausalConv1dOp,
                            WindowedAttentionOp, LayerNormOp, RmsNormOp>();
  declarePromisedInterfaces<bufferization::BufferizableOpInterface, SsmScanOp,
                            WkvOp, DeltaRuleOp, RgLruOp, GruOp, CausalConv1dOp,
                            WindowedAttentionOp, LayerNormOp, RmsNormOp>();
}
