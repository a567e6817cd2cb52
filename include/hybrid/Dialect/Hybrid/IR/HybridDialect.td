//===- HybridDialect.td - Hybrid dialect definition --------*- tablegen -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//

#ifndef HYBRID_DIALECT_HYBRID_IR_HYBRIDDIALECT_TD
#define HYBRID_DIALECT_HYBRID_IR_HYBRIDDIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def Hybrid_Dialect : Dialect {
  let name = "hybrid";
  let cppNamespace = "::mlir::hybrid";
  let summary = "Recurrences, windowed attention and blocks of hybrid sequence models.";
  let description = [{
    The `hybrid` dialect models the layers that hybrid sequence models
    (Jamba, Zamba, Hymba, Nemotron-H, Samba, Griffin) are built from: the
    recurrent backbones (Mamba-1 selective scan, RWKV-6/7 WKV, DeltaNet and
    Gated DeltaNet, Griffin's RG-LRU, GRU), causal sliding-window attention,
    the depthwise causal convolution in front of most recurrences, and the
    Hymba-style block that runs a backbone beside attention and mixes them
    with a learned gate.

    Conventions shared by every op:

    * Operands and results are ranked tensors. Sequences are laid out
      batch-major, `[B, T, ...]`; `B` and `T` may be dynamic, and so may any
      other dimension, but every dimension two operands share must agree
      wherever both are static.
    * Activations may be `f32`, `f16` or `bf16` (all activations of one op
      share one element type, and the sequence result has it too);
      parameters may be any of those three. Every op computes and
      accumulates in `f32`, and every recurrent state is `f32`.
    * Every recurrence takes an initial state and returns its final state,
      so decode, chunked prefill and prefix caching can carry state across
      calls.
    * The ops are in destination style (`DestinationStyleOpInterface`):
      every result has a destination operand of its type. The sequence
      result's destination (`outs(...)`) is only written; a recurrence's
      final state is written into its initial state (`init(...)`), which
      is read first, as a linalg reduction reads its `outs`. After
      bufferization a decode step can therefore update its state in place.
    * The ops carry the projections' *outputs*, not the projections: dense
      layers stay in `linalg`, where upstream tiling and fusion act on them.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect"
  ];
  let useDefaultAttributePrinterParser = 1;
}

class Hybrid_Op<string mnemonic, list<Trait> traits = []>
    : Op<Hybrid_Dialect, mnemonic, traits>;

#endif // HYBRID_DIALECT_HYBRID_IR_HYBRIDDIALECT_TD
