//===- HybridInterfaces.td - Hybrid op interfaces ----------*- tablegen -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// RecurrenceOpInterface: what passes need to know of every op that carries a
// state through time (the recurrences and the causal convolution), without
// a case per op.
//
//===----------------------------------------------------------------------===//

#ifndef HYBRID_DIALECT_HYBRID_IR_HYBRIDINTERFACES_TD
#define HYBRID_DIALECT_HYBRID_IR_HYBRIDINTERFACES_TD

include "mlir/IR/OpBase.td"

def Hybrid_RecurrenceOpInterface : OpInterface<"RecurrenceOpInterface"> {
  let cppNamespace = "::mlir::hybrid";
  let description = [{
    An op that runs a sequence through a state, one position after the
    other: `state[t] = f(state[t-1], inputs[t])`, `out[t] = g(...)`. Its
    per-step operands and its sequence result share the time dimension
    (dimension 1: `[B, T, ...]`); the state before the first position is an
    operand and the state after the last one is a result of the
    same type, so the op over `[t0, t1)` followed by the op over `[t1, t2)`
    fed with the first one's final state equals the op over `[t0, t2)`. An
    optional `lengths` operand (`[B]`) stops each sequence early.

    The ops are in destination style: the sequence result is written into
    the `outs` operand (never read) and the final state into the initial
    state (read first, then overwritten), so after bufferization a decode
    step can update its state in place.

    Passes that split time (`hybrid-chunk`), carry states across calls
    (the stateful form) or fuse around recurrences use this interface
    instead of a case per op.
  }];
  let methods = [
    InterfaceMethod<
      "The time dimension of the per-step operands and of the sequence result.",
      "int64_t", "getTimeDim", (ins), "", [{ return 1; }]>,
    InterfaceMethod<
      "The operands that hold one slice per position (time at getTimeDim()).",
      "::llvm::SmallVector<::mlir::OpOperand *>", "getPerStepOperands", (ins)>,
    InterfaceMethod<
      "The state before the first position, also the final state's "
      "destination.",
      "::mlir::OpOperand &", "getInitialStateMutable", (ins),
      [{ return $_op.getInitialStateMutable(); }]>,
    InterfaceMethod<
      "The destination of the sequence result (its contents are not read).",
      "::mlir::OpOperand &", "getOutMutable", (ins),
      [{ return $_op.getOutMutable(); }]>,
    InterfaceMethod<
      "The per-sequence lengths (empty when absent: every sequence is full).",
      "::mlir::MutableOperandRange", "getLengthsMutable", (ins),
      [{ return $_op.getLengthsMutable(); }]>,
    InterfaceMethod<
      "The per-position output (null in the memref form).",
      "::mlir::OpResult", "getSequenceResult", (ins), "",
      [{ return $_op->getNumResults() ? $_op->getResult(0) : ::mlir::OpResult(); }]>,
    InterfaceMethod<
      "The state after the last position (the initial state's type; null "
      "in the memref form, which updates the initial state in place).",
      "::mlir::OpResult", "getFinalStateResult", (ins), "",
      [{ return $_op->getNumResults() ? $_op->getResult(1) : ::mlir::OpResult(); }]>
  ];
  let extraSharedClassDeclaration = [{
    /// The initial state (the final state's destination).
    ::mlir::Value getInitialStateValue() {
      return $_op.getInitialStateMutable().get();
    }
    /// The lengths operand, or null.
    ::mlir::Value getLengthsValue() {
      ::mlir::MutableOperandRange r = $_op.getLengthsMutable();
      return r.empty() ? ::mlir::Value() : r[0].get();
    }
  }];
}

#endif // HYBRID_DIALECT_HYBRID_IR_HYBRIDINTERFACES_TD
