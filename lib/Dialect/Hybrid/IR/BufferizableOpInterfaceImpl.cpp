//===- BufferizableOpInterfaceImpl.cpp - Bufferizing hybrid ops -*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// BufferizableOpInterface external models, so one-shot bufferization turns
// the tensor form of a destination-style hybrid op into its memref form:
// the same op on buffers, without results, writing its destinations in
// place. As for upstream Linalg, every destination is equivalent to its
// result, so a decode step whose initial state is a writable buffer updates
// that buffer, and the analysis inserts a copy only where the initial state
// is read again later.
//
// What each operand does to memory:
//   * inputs are read, never written;
//   * the sequence destination (`outs`) is written, never read (its
//     contents are irrelevant), so bufferizing it into a fresh allocation
//     needs no copy;
//   * the initial state is read first and then overwritten with the final
//     state.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Dialect/Hybrid/IR/HybridExternalModels.h"
#include "hybrid/Dialect/Hybrid/IR/HybridOps.h"

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/IR/DstBufferizableOpInterfaceImpl.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace mlir::bufferization;
using namespace mlir::hybrid;

namespace {

template <typename OpTy>
struct HybridBufferizationModel
    : public DstBufferizableOpInterfaceExternalModel<
          HybridBufferizationModel<OpTy>, OpTy> {
  /// Every operand is read except the first destination, the sequence (or
  /// normalised, or attention) output, which is only written.
  bool bufferizesToMemoryRead(Operation *op, OpOperand &operand,
                              const AnalysisState &) const {
    auto dps = cast<DestinationStyleOpInterface>(op);
    return &operand != &*dps.getDpsInitsMutable().begin();
  }

  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    auto dps = cast<DestinationStyleOpInterface>(op);
    if (dps.hasPureBufferSemantics())
      return success();
    if (!dps.hasPureTensorSemantics())
      return op->emitOpError(
          "cannot bufferize an op that mixes tensor and memref operands");
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPoint(op);
    SmallVector<Value> operands;
    for (OpOperand &operand : op->getOpOperands()) {
      FailureOr<Value> buffer =
          getBuffer(rewriter, operand.get(), options, state);
      if (failed(buffer))
        return failure();
      operands.push_back(*buffer);
    }
    // The same op (its attributes and properties, operand segments
    // included) on the buffers, with no results.
    OperationState newState(op->getLoc(), op->getName(), operands,
                            TypeRange{}, op->getAttrs());
    rewriter.create(newState);
    SmallVector<Value> replacements;
    for (OpOperand &init : dps.getDpsInitsMutable())
      replacements.push_back(operands[init.getOperandNumber()]);
    replaceOpWithBufferizedValues(rewriter, op, replacements);
    return success();
  }
};

template <typename... Ops>
void attachAll(MLIRContext *ctx) {
  (Ops::template attachInterface<HybridBufferizationModel<Ops>>(*ctx), ...);
}

} // namespace

void mlir::hybrid::registerBufferizableOpInterfaceExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, HybridDialect *) {
    attachAll<SsmScanOp, WkvOp, DeltaRuleOp, RgLruOp, GruOp, CausalConv1dOp,
              WindowedAttentionOp, LayerNormOp, RmsNormOp>(ctx);
  });
}
