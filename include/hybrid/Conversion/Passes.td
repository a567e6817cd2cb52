//===- Passes.td - Hybrid conversion passes ----------------*- tablegen -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//

#ifndef HYBRID_CONVERSION_PASSES_TD
#define HYBRID_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertHybridToSCF : Pass<"convert-hybrid-to-scf"> {
  let summary = "Lower hybrid ops to scf loops over vectors, and linalg";
  let description = [{
    Lowers every hybrid op on tensors:

    * recurrences (`ssm_scan`, `wkv`, `delta_rule`, `rg_lru`, `gru`) become
      an `scf.forall` over the independent dimensions (batch, heads, channel
      or value-row tiles) around an `scf.for` over time that carries the
      state; per-step work is `vector` ops on tiles of `vector-width` lanes,
      with masked transfers at ragged edges. The vector and row states
      (`ssm_scan`, `rg_lru`, `gru`) are carried in vector registers. A
      matrix state (`wkv`, `delta_rule`) is carried transposed, as a
      `[K x row-tile]` tensor of key rows whose lanes are value rows: every
      product with a key-sized vector (S·k, S·q, S·r, S·a) is a chain of
      vector FMAs down the key rows, every update one FMA per key row (an
      `scf.for` over keys reading and writing rows; 16 KB for 64 x 64, in
      L1);
    * `windowed_attention` becomes an `scf.forall` over (batch, head, block
      of `query-lanes` queries) with an online-softmax `scf.for` over the
      keys of the block's windows; the block's scaled queries and its
      accumulator are `[d x lanes]` tensors of rows, so scores are FMA
      chains and the softmax runs on vectors, keys outside a lane's window
      or masked get a score of -1e30. Fewer than 8 static queries (decode
      steps) run one query per task with a scalar online softmax;
    * `causal_conv1d`, `layer_norm`, `rms_norm` become `linalg.generic`;
    * `gated_parallel` is inlined and its outputs mixed by a
      `linalg.generic`.

    The `scf.forall` loops carry no mapping: the CPU pipeline turns them into
    OpenMP work-sharing loops, and the same structure maps to GPU blocks.
    An op that `hybrid-tile` already tiled sits in an `scf.forall` of its
    own: its task loops are then emitted as sequential `scf.for` loops
    inside the tile (no nested parallel regions). The pass is a dialect
    conversion with the hybrid dialect illegal; the patterns live in one
    file per op family (lib/Conversion/HybridToSCF/).
    Every state is f32; bf16/f16 activations are extended on load and
    truncated on store. Feature sizes that size vectors (d_state, key and
    value widths, head widths) must be static.

    Ops in memref form are left alone (`hybrid-lower-to-loops` lowers
    them after bufferization).
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect"
  ];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"8",
           "Lanes of the channel and row tiles of the recurrences">,
    Option<"rowTile", "row-tile", "int64_t", /*default=*/"64",
           "Value rows of a matrix state (wkv, delta_rule) one task updates, "
           "as vector lanes: the task keeps a keys x rows tile">,
    Option<"queryLanes", "query-lanes", "int64_t", /*default=*/"64",
           "Queries of windowed_attention one task processes, as vector "
           "lanes (blocked online softmax)">,
    ListOption<"opNames", "ops", "std::string",
               "The ops to lower (e.g. hybrid.gated_parallel, which must be "
               "expanded before bufferization); empty: every hybrid op">
  ];
}

#endif // HYBRID_CONVERSION_PASSES_TD
