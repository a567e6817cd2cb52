//===- HybridOps.td - Hybrid dialect operations ------------*- tablegen -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// The ops of the hybrid dialect. Their math is the canonical math of
// ../shared/SPEC.md section 4 (cited per op); docs/Rationale.md says why the
// dialect has these ops and not others.
//
//===----------------------------------------------------------------------===//

#ifndef HYBRID_DIALECT_HYBRID_IR_HYBRIDOPS_TD
#define HYBRID_DIALECT_HYBRID_IR_HYBRIDOPS_TD

include "hybrid/Dialect/Hybrid/IR/HybridDialect.td"
include "hybrid/Dialect/Hybrid/IR/HybridEnums.td"
include "hybrid/Dialect/Hybrid/IR/HybridInterfaces.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/RegionKindInterface.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

/// Traits shared by the destination-style ops. In the tensor form they are
/// pure; in the memref form (after bufferization) they read their inputs and
/// write their destinations, which getEffects reports per operand.
defvar HybridShapedOpTraits = [
  DeclareOpInterfaceMethods<MemoryEffectsOpInterface>,
  DeclareOpInterfaceMethods<ConditionallySpeculatable>,
  DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmResultNames"]>,
  DeclareOpInterfaceMethods<ReifyRankedShapedTypeOpInterface,
                            ["reifyResultShapes"]>
]<Trait>;

/// An operand of a destination-style hybrid op: a ranked tensor (the tensor
/// form, with results) or a memref (the memref form, after bufferization:
/// no results, the destinations are written in place). All operands of one
/// op are of one kind.
def Hybrid_Shaped : AnyTypeOf<[AnyRankedTensor, AnyMemRef],
                              "ranked tensor or memref">;

/// Per-sequence lengths of a variable-length batch: [B] integers.
def Hybrid_Lengths : AnyTypeOf<[1DTensorOf<[AnySignlessInteger, Index]>,
                                MemRefRankOf<[AnySignlessInteger, Index], [1]>],
                               "1-D tensor or memref of integers">;

/// The accessors of a destination-style op's results, which exist in the
/// tensor form only: null values in the memref form, whose destinations are
/// updated in place.
class Hybrid_ResultAccessors<string seq, bit hasState = 1> {
  code decl = "/// The per-position result (null in the memref form).\n"
    # "::mlir::Value get" # seq # "() { return getNumResults() ? "
    # "getOperation()->getResult(0) : ::mlir::Value(); }\n"
    # !if(hasState,
        "/// The state after the last position (null in the memref form).\n"
        # "::mlir::Value getFinalState() { return getNumResults() == 2 ? "
        # "getOperation()->getResult(1) : ::mlir::Value(); }\n", "");
}

/// Optional operands go through AttrSizedOperandSegments.
defvar HybridRecurrenceTraits =
    !listconcat(HybridShapedOpTraits, [
      AttrSizedOperandSegments,
      DeclareOpInterfaceMethods<DestinationStyleOpInterface>,
      DeclareOpInterfaceMethods<Hybrid_RecurrenceOpInterface>
    ]);

//===----------------------------------------------------------------------===//
// ssm_scan
//===----------------------------------------------------------------------===//

def Hybrid_SsmScanOp : Hybrid_Op<"ssm_scan", HybridRecurrenceTraits> {
  let summary = "Mamba-1 selective scan";
  let description = [{
    The selective scan of Mamba-1 (`selective_scan_ref`, SPEC.md 4.1.1). For
    every batch element `b`, channel `c` and state index `n`, with
    `g = c / (D / G)` the group of channel `c`:

    ```
    Δ[t,c]    = delta_softplus ? softplus(delta[t,c] + delta_bias[c])
                               : delta[t,c] + delta_bias[c]
    h[t,c,n]  = exp(Δ[t,c] · A[c,n]) · h[t-1,c,n] + Δ[t,c] · B[t,g,n] · u[t,c]
    y[t,c]    = Σ_n h[t,c,n] · C[t,g,n]  +  D[c] · u[t,c]
    y[t,c]    = y[t,c] · silu(z[t,c])                        (when z is given)
    h[-1]     = initial_state;  final_state = h[T-1]
    ```

    `softplus(x) = max(x, 0) + log1p(exp(-|x|))` (the stable form). `A` is
    the already-negated decay (`A = -exp(A_log)`), so `Δ·A <= 0` and every
    exponent is non-positive. `D`, `z` and `delta_bias` are optional and
    default to 0, "no gate" and 0. The D-skip uses `u` (the post-conv input).

    Shapes: `u`, `delta`, `z`: `[B, T, D]`; `A`: `[D, N]`; `B`, `C`:
    `[B, T, G, N]` with `D % G == 0`, or Mamba-1's `[B, T, N]` (one
    group, as `selective_scan_fn` takes them); `D`,
    `delta_bias`: `[D]`; `initial_state` and `final_state`: `[B, D, N]`, f32.
    The result `y` is `[B, T, D]` in the element type of `u`.

    `lengths` (optional, `[B]`, integers) makes the batch variable-length:
    sequence `b` is its first `clamp(lengths[b], 0, T)` positions. Later
    positions never touch the state and their outputs are zero; the final
    state is the state after the sequence's last position (the initial
    state for length 0).

    Destination style: `y` is written into `outs(...)` (not read) and the
    final state over `init(...)`, the initial state, which is read first
    (pass a zero-filled tensor to start from zeros); after bufferization a
    step can update its state in place.

    Example:

    ```mlir
    %y, %h = hybrid.ssm_scan u(%u : tensor<?x?x32xf32>)
        delta(%dt : tensor<?x?x32xf32>) A(%A : tensor<32x16xf32>)
        B(%B : tensor<?x?x1x16xf32>) C(%C : tensor<?x?x1x16xf32>)
        D(%D : tensor<32xf32>) z(%z : tensor<?x?x32xf32>)
        delta_bias(%db : tensor<32xf32>) init(%h0 : tensor<?x32x16xf32>)
        delta_softplus outs(%y0 : tensor<?x?x32xf32>)
        -> tensor<?x?x32xf32>, tensor<?x32x16xf32>
    ```
  }];
  let arguments = (ins
    Hybrid_Shaped:$u,
    Hybrid_Shaped:$delta,
    Hybrid_Shaped:$A,
    Hybrid_Shaped:$B,
    Hybrid_Shaped:$C,
    Optional<Hybrid_Shaped>:$D,
    Optional<Hybrid_Shaped>:$z,
    Optional<Hybrid_Shaped>:$delta_bias,
    Optional<Hybrid_Lengths>:$lengths,
    Hybrid_Shaped:$out,
    Hybrid_Shaped:$initial_state,
    UnitAttr:$delta_softplus
  );
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let assemblyFormat = [{
    `u` `(` $u `:` type($u) `)`
    `delta` `(` $delta `:` type($delta) `)`
    `A` `(` $A `:` type($A) `)`
    `B` `(` $B `:` type($B) `)`
    `C` `(` $C `:` type($C) `)`
    (`D` `(` $D^ `:` type($D) `)`)?
    (`z` `(` $z^ `:` type($z) `)`)?
    (`delta_bias` `(` $delta_bias^ `:` type($delta_bias) `)`)?
    `init` `(` $initial_state `:` type($initial_state) `)`
    (`lengths` `(` $lengths^ `:` type($lengths) `)`)?
    custom<ScanKeywords>($delta_softplus, $out, type($out))
    attr-dict (`->` type($results)^)?
  }];
  let extraClassDeclaration = Hybrid_ResultAccessors<"Y">.decl # [{
    /// True when B and C carry a group dimension ([B, T, G, N]); false for
    /// Mamba-1's [B, T, N].
    bool hasGroupedBC() {
      return ::llvm::cast<::mlir::ShapedType>(getB().getType())
                 .getRank() != 3;
    }
  }];
  let builders = [
    // Result types follow from the operands: y like u, final state
    // [batch, d_inner, d_state] in f32.
    OpBuilder<(ins "::mlir::Value":$u, "::mlir::Value":$delta, "::mlir::Value":$A, "::mlir::Value":$B, "::mlir::Value":$C,
      CArg<"::mlir::Value", "{}">:$D, CArg<"::mlir::Value", "{}">:$z, CArg<"::mlir::Value", "{}">:$delta_bias, CArg<"::mlir::Value", "{}">:$initial_state,
      CArg<"bool", "true">:$delta_softplus,
      CArg<"::mlir::Value", "{}">:$lengths,
      CArg<"::mlir::Value", "{}">:$out)>
  ];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// wkv
//===----------------------------------------------------------------------===//

def Hybrid_WkvOp : Hybrid_Op<"wkv", HybridRecurrenceTraits> {
  let summary = "RWKV time-mix (WKV) recurrence, RWKV-6 or RWKV-7";
  let description = [{
    The WKV recurrence of RWKV-6 (SPEC.md 4.2.2) or RWKV-7 (4.2.3), per batch
    element and head, with a matrix state `S ∈ R^{V×K}` (value rows, key
    columns; fla stores the transpose). `r' = scale · r` (`scale` defaults to
    1, as fla's RWKV layers pass). The decay operand is the *log* of the
    decay, `log_decay ≤ 0` (RWKV-6's raw `w` gives `log_decay = -exp(w)`);
    the decay is `ω = exp(log_decay)` per key channel and token.

    `rwkv6` (needs `bonus` = u `[H, K]`; reads the state before the update):
    ```
    o[t]  = S[t-1] · r'[t]  +  v[t] · Σ_k bonus[k] · k[t,k] · r'[t,k]
    S[t]  = S[t-1] · diag(ω[t]) + v[t] · k[t]ᵀ
    ```
    `rwkv7` (needs `a` and `b`, the generalised delta rule; reads after):
    ```
    S[t]  = S[t-1] · diag(ω[t]) + (S[t-1] · a[t]) · b[t]ᵀ + v[t] · k[t]ᵀ
    o[t]  = S[t] · r'[t]
    ```
    `S[-1] = initial_state`; `final_state = S[T-1]`.

    Shapes: `r`, `k`, `log_decay`, `a`, `b`: `[B, T, H, K]`; `v`:
    `[B, T, H, V]`; `bonus`: `[H, K]`; states `[B, H, V, K]` f32; result
    `o`: `[B, T, H, V]`.

    `lengths` (optional, `[B]`, integers) makes the batch variable-length:
    sequence `b` is its first `clamp(lengths[b], 0, T)` positions. Later
    positions never touch the state and their outputs are zero; the final
    state is the state after the sequence's last position (the initial
    state for length 0).

    Destination style: `y` is written into `outs(...)` (not read) and the
    final state over `init(...)`, the initial state, which is read first
    (pass a zero-filled tensor to start from zeros); after bufferization a
    step can update its state in place.

    Example:

    ```mlir
    %o, %s = hybrid.wkv rwkv6 r(%r : tensor<1x?x4x64xf32>)
        k(%k : tensor<1x?x4x64xf32>) v(%v : tensor<1x?x4x64xf32>)
        log_decay(%w : tensor<1x?x4x64xf32>) bonus(%u : tensor<4x64xf32>)
        init(%s0 : tensor<1x4x64x64xf32>) scale 0.125
        outs(%o0 : tensor<1x?x4x64xf32>)
        -> tensor<1x?x4x64xf32>, tensor<1x4x64x64xf32>
    ```
  }];
  let arguments = (ins
    Hybrid_WkvVariantAttr:$variant,
    Hybrid_Shaped:$r,
    Hybrid_Shaped:$k,
    Hybrid_Shaped:$v,
    Hybrid_Shaped:$log_decay,
    Optional<Hybrid_Shaped>:$bonus,
    Optional<Hybrid_Shaped>:$a,
    Optional<Hybrid_Shaped>:$b,
    Optional<Hybrid_Lengths>:$lengths,
    Hybrid_Shaped:$out,
    Hybrid_Shaped:$initial_state,
    DefaultValuedAttr<F32Attr, "1.0f">:$scale
  );
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let assemblyFormat = [{
    custom<WkvVariant>($variant)
    `r` `(` $r `:` type($r) `)`
    `k` `(` $k `:` type($k) `)`
    `v` `(` $v `:` type($v) `)`
    `log_decay` `(` $log_decay `:` type($log_decay) `)`
    (`bonus` `(` $bonus^ `:` type($bonus) `)`)?
    (`a` `(` $a^ `:` type($a) `)`)?
    (`b` `(` $b^ `:` type($b) `)`)?
    `init` `(` $initial_state `:` type($initial_state) `)`
    (`lengths` `(` $lengths^ `:` type($lengths) `)`)?
    custom<WkvKeywords>($scale, $out, type($out))
    attr-dict (`->` type($results)^)?
  }];
  let builders = [
    // Result types follow from the operands; a null destination is
    // created (an empty tensor, a zero-filled initial state).
    OpBuilder<(ins "::mlir::hybrid::WkvVariant":$variant, "::mlir::Value":$r, "::mlir::Value":$k,
      "::mlir::Value":$v, "::mlir::Value":$log_decay, CArg<"::mlir::Value", "{}">:$bonus, CArg<"::mlir::Value", "{}">:$a, CArg<"::mlir::Value", "{}">:$b,
      CArg<"::mlir::Value", "{}">:$initial_state, CArg<"float", "1.0f">:$scale,
      CArg<"::mlir::Value", "{}">:$lengths,
      CArg<"::mlir::Value", "{}">:$out)>
  ];
  let extraClassDeclaration = Hybrid_ResultAccessors<"O">.decl;
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// delta_rule
//===----------------------------------------------------------------------===//

def Hybrid_DeltaRuleOp : Hybrid_Op<"delta_rule", HybridRecurrenceTraits> {
  let summary = "DeltaNet delta rule; Gated DeltaNet with a log-decay gate";
  let description = [{
    The delta rule of DeltaNet (SPEC.md 4.3.1) and, when `log_decay` is
    given, of Gated DeltaNet (4.4.1), per batch element and value head, with
    a matrix state `S ∈ R^{V×K}` read out as `o = S q`:

    ```
    q'[t] = scale · q[t]                   (scale defaults to 1/sqrt(K))
    α[t]  = exp(log_decay[t])              (1 when log_decay is absent)
    S'    = α[t] · S[t-1]
    e[t]  = v[t] - S' · k[t]               (prediction error, per value row)
    S[t]  = S' + (β[t] ⊙ e[t]) · k[t]ᵀ
    o[t]  = S[t] · q'[t]                   (read-out after the update)
    S[-1] = initial_state; final_state = S[T-1]
    ```

    Activations the op can apply itself (what `hybrid-fuse` folds in):
    `beta_sigmoid` takes `beta` before its sigmoid (`β = σ(beta)`),
    `qk_l2norm` normalises `q` and `k` (below), and
    `decay_a_log`, `decay_bias` (`[Hv]`, both or neither, with `log_decay`)
    make `log_decay` Gated DeltaNet's raw `a`:
    `log α[t] = -exp(decay_a_log) · softplus(log_decay[t] + decay_bias)`.

    `qk_l2norm` L2-normalises `q` and `k` in the op, per position and head
    over the key dimension, as fla's `use_qk_l2norm_in_kernel`:
    `x̂ = x / sqrt(Σ_k x² + 1e-6)`, applied before the scale.

    `beta` is either one value per head, `[B, T, Hv]` (fla, canonical), or
    one value per value channel, `[B, T, Hv, V]` (the seed library); `β ⊙ e`
    broadcasts accordingly. The canonical layers L2-normalise `q` and `k`
    before the op, or let it do so with `qk_l2norm`.

    Grouped value heads: `q` and `k` have `Hk` heads, `v` has `Hv`, with
    `Hv % Hk == 0`; value head `j` reads q/k head `j / (Hv / Hk)` (the FLA
    and vLLM rule).

    Shapes: `q`, `k`: `[B, T, Hk, K]`; `v`: `[B, T, Hv, V]`; `log_decay`:
    `[B, T, Hv]`; states `[B, Hv, V, K]` f32; result `o`: `[B, T, Hv, V]`.

    Destination style: `y` is written into `outs(...)` (not read) and the
    final state over `init(...)`, the initial state, which is read first
    (pass a zero-filled tensor to start from zeros); after bufferization a
    step can update its state in place.

    Example (Gated DeltaNet, per-head beta):

    ```mlir
    %o, %s = hybrid.delta_rule q(%q : tensor<2x?x4x64xf32>)
        k(%k : tensor<2x?x4x64xf32>) v(%v : tensor<2x?x4x64xf32>)
        beta(%beta : tensor<2x?x4xf32>) log_decay(%g : tensor<2x?x4xf32>)
        init(%s0 : tensor<2x4x64x64xf32>) outs(%o0 : tensor<2x?x4x64xf32>)
        -> tensor<2x?x4x64xf32>, tensor<2x4x64x64xf32>
    ```
  }];
  let arguments = (ins
    Hybrid_Shaped:$q,
    Hybrid_Shaped:$k,
    Hybrid_Shaped:$v,
    Hybrid_Shaped:$beta,
    Optional<Hybrid_Shaped>:$log_decay,
    Optional<Hybrid_Shaped>:$decay_a_log,
    Optional<Hybrid_Shaped>:$decay_bias,
    Optional<Hybrid_Lengths>:$lengths,
    Hybrid_Shaped:$out,
    Hybrid_Shaped:$initial_state,
    OptionalAttr<F32Attr>:$scale,
    UnitAttr:$beta_sigmoid,
    UnitAttr:$qk_l2norm
  );
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let assemblyFormat = [{
    `q` `(` $q `:` type($q) `)`
    `k` `(` $k `:` type($k) `)`
    `v` `(` $v `:` type($v) `)`
    `beta` `(` $beta `:` type($beta) `)`
    (`log_decay` `(` $log_decay^ `:` type($log_decay) `)`)?
    (`decay_a_log` `(` $decay_a_log^ `:` type($decay_a_log) `)`)?
    (`decay_bias` `(` $decay_bias^ `:` type($decay_bias) `)`)?
    `init` `(` $initial_state `:` type($initial_state) `)`
    (`lengths` `(` $lengths^ `:` type($lengths) `)`)?
    custom<DeltaKeywords>($scale, $beta_sigmoid, $qk_l2norm, $out, type($out))
    attr-dict (`->` type($results)^)?
  }];
  let extraClassDeclaration = Hybrid_ResultAccessors<"O">.decl # [{
    /// True when the op has a decay gate (Gated DeltaNet).
    bool isGated() { return static_cast<bool>(getLogDecay()); }
    /// True when beta has one value per value channel.
    bool hasPerChannelBeta() {
      return ::llvm::cast<::mlir::ShapedType>(getBeta().getType())
                 .getRank() == 4;
    }
    /// The q scale in effect: the attribute, or 1/sqrt(K) when it is absent
    /// (K must then be static).
    float getEffectiveScale();
  }];
  let builders = [
    // Result types follow from the operands; a null destination is
    // created (an empty tensor, a zero-filled initial state).
    OpBuilder<(ins "::mlir::Value":$q, "::mlir::Value":$k, "::mlir::Value":$v, "::mlir::Value":$beta, CArg<"::mlir::Value", "{}">:$log_decay,
      CArg<"::mlir::Value", "{}">:$initial_state,
      CArg<"std::optional<float>", "std::nullopt">:$scale,
      CArg<"::mlir::Value", "{}">:$lengths,
      CArg<"::mlir::Value", "{}">:$out)>
  ];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// rg_lru
//===----------------------------------------------------------------------===//

def Hybrid_RgLruOp : Hybrid_Op<"rg_lru", HybridRecurrenceTraits> {
  let summary = "Griffin real-gated linear recurrent unit (RG-LRU)";
  let description = [{
    Griffin's RG-LRU (recurrentgemma `RGLRU`, SPEC.md 4.5.1), per batch
    element and channel. The gate operands are pre-activation (the outputs of
    the block-diagonal gate linears), `a_param` is Λ:

    ```
    gx[t]    = σ(gate_x[t]);   ga[t] = σ(gate_a[t])
    log_a[t] = -c · ga[t] · softplus(a_param)           (≤ 0; c defaults to 8)
    a[t]     = exp(log_a[t]);  m[t] = sqrt(-expm1(2 · log_a[t]))
    a[t] = 0, m[t] = 1                                  where reset[t]
    h[t]     = a[t] · h[t-1] + m[t] · gx[t] · x[t]
    h[-1]    = initial_state; final_state = h[T-1]
    ```

    The core form takes the gate math done: `x` is the gated input
    (`gx ⊙ x` above) and `log_a` `[B, T, L]` the log of the decay (≤ 0)
    instead of `gate_x`, `gate_a` and `a_param` (`c` is then unused):
    `h[t] = exp(log_a[t]) · h[t-1] + sqrt(-expm1(2 · log_a[t])) · x[t]`.

    `m = sqrt(-expm1(2 log a))` is the accurate form of `sqrt(1 - a²)`
    (SPEC.md 9.3). `reset` (`i1`, `[B, T]`, optional) marks segment starts:
    the canonical rule drops the carried state there, also when an
    initial state is given (SPEC.md 9.6). Without `reset` no position resets.

    Shapes: `x`, `gate_x`, `gate_a`: `[B, T, L]`; `a_param`: `[L]`;
    `reset`: `[B, T]` i1; states `[B, L]` f32; result `h`: `[B, T, L]`.

    `lengths` (optional, `[B]`, integers) makes the batch variable-length:
    sequence `b` is its first `clamp(lengths[b], 0, T)` positions. Later
    positions never touch the state and their outputs are zero; the final
    state is the state after the sequence's last position (the initial
    state for length 0).

    Destination style: `y` is written into `outs(...)` (not read) and the
    final state over `init(...)`, the initial state, which is read first
    (pass a zero-filled tensor to start from zeros); after bufferization a
    step can update its state in place.

    Example:

    ```mlir
    %h, %s = hybrid.rg_lru x(%x : tensor<1x?x256xf32>)
        gate_x(%gx : tensor<1x?x256xf32>) gate_a(%ga : tensor<1x?x256xf32>)
        a_param(%lambda : tensor<256xf32>) init(%h0 : tensor<1x256xf32>)
        outs(%y0 : tensor<1x?x256xf32>)
        -> tensor<1x?x256xf32>, tensor<1x256xf32>
    ```
  }];
  let arguments = (ins
    Hybrid_Shaped:$x,
    Optional<Hybrid_Shaped>:$gate_x,
    Optional<Hybrid_Shaped>:$gate_a,
    Optional<Hybrid_Shaped>:$a_param,
    Optional<Hybrid_Shaped>:$log_a,
    Optional<Hybrid_Shaped>:$reset,
    Optional<Hybrid_Lengths>:$lengths,
    Hybrid_Shaped:$out,
    Hybrid_Shaped:$initial_state,
    DefaultValuedAttr<F32Attr, "8.0f">:$c
  );
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let assemblyFormat = [{
    `x` `(` $x `:` type($x) `)`
    (`gate_x` `(` $gate_x^ `:` type($gate_x) `)`)?
    (`gate_a` `(` $gate_a^ `:` type($gate_a) `)`)?
    (`a_param` `(` $a_param^ `:` type($a_param) `)`)?
    (`log_a` `(` $log_a^ `:` type($log_a) `)`)?
    (`reset` `(` $reset^ `:` type($reset) `)`)?
    `init` `(` $initial_state `:` type($initial_state) `)`
    (`lengths` `(` $lengths^ `:` type($lengths) `)`)?
    custom<LruKeywords>($c, $out, type($out))
    attr-dict (`->` type($results)^)?
  }];
  let builders = [
    // Result types follow from the operands; a null destination is
    // created (an empty tensor, a zero-filled initial state).
    OpBuilder<(ins "::mlir::Value":$x, "::mlir::Value":$gate_x, "::mlir::Value":$gate_a, "::mlir::Value":$a_param,
      CArg<"::mlir::Value", "{}">:$reset, CArg<"::mlir::Value", "{}">:$initial_state, CArg<"float", "8.0f">:$c,
      CArg<"::mlir::Value", "{}">:$lengths,
      CArg<"::mlir::Value", "{}">:$out)>
  ];
  let extraClassDeclaration = Hybrid_ResultAccessors<"H">.decl # [{
    /// The core form (SPEC.md section 8): `x` is the already-gated input
    /// and `log_a` the log of the decay; result types follow.
    static RgLruOp createWithLogA(::mlir::OpBuilder &b, ::mlir::Location loc,
                                  ::mlir::Value xGated, ::mlir::Value logA,
                                  ::mlir::Value reset = {},
                                  ::mlir::Value initialState = {},
                                  ::mlir::Value lengths = {},
                                  ::mlir::Value out = {});
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// gru
//===----------------------------------------------------------------------===//

def Hybrid_GruOp : Hybrid_Op<"gru", HybridRecurrenceTraits> {
  let summary = "GRU recurrence (gate order r, z, n)";
  let description = [{
    The GRU recurrence of the `:gru` backbone (Axon / PyTorch `nn.GRU` cell,
    SPEC.md 4.6.1). The input projection is done outside the op, as one
    matmul over all tokens: `input_gates = x · W_i + b_i`, `[B, T, 3H]`,
    whose last dimension holds the gates in the order **r, z, n** (PyTorch's
    order; Axon's `{wir, wiz, win}` concatenated). The op runs the part that
    is sequential in time, with `W_h = hidden_weight` `[H, 3H]` (same gate
    order) and `b_h = hidden_bias` `[3H]` (optional, zero when absent):

    ```
    hh[t] = h[t-1] · W_h + b_h                                  ([3H])
    r[t]  = σ(input_gates[t, 0:H]   + hh[t, 0:H])
    z[t]  = σ(input_gates[t, H:2H]  + hh[t, H:2H])
    n[t]  = tanh(input_gates[t, 2H:3H] + r[t] ⊙ hh[t, 2H:3H])
    h[t]  = (1 - z[t]) ⊙ n[t] + z[t] ⊙ h[t-1]
    h[-1] = initial_state; final_state = h[T-1]
    ```

    Axon has only `b_hn`: pass `hidden_bias = [0, 0, b_hn]` (its `b_r`,
    `b_z` live in `input_gates`). PyTorch's `b_hh` maps unchanged.

    Shapes: `input_gates`: `[B, T, 3H]`; `hidden_weight`: `[H, 3H]`;
    `hidden_bias`: `[3H]`; states `[B, H]` f32; result `h`: `[B, T, H]`.

    `lengths` (optional, `[B]`, integers) makes the batch variable-length:
    sequence `b` is its first `clamp(lengths[b], 0, T)` positions. Later
    positions never touch the state and their outputs are zero; the final
    state is the state after the sequence's last position (the initial
    state for length 0).

    Destination style: `y` is written into `outs(...)` (not read) and the
    final state over `init(...)`, the initial state, which is read first
    (pass a zero-filled tensor to start from zeros); after bufferization a
    step can update its state in place.

    Example:

    ```mlir
    %h, %s = hybrid.gru input_gates(%xg : tensor<2x?x48xf32>)
        hidden_weight(%wh : tensor<16x48xf32>) hidden_bias(%bh : tensor<48xf32>)
        init(%h0 : tensor<2x16xf32>) outs(%y0 : tensor<2x?x16xf32>)
        -> tensor<2x?x16xf32>, tensor<2x16xf32>
    ```
  }];
  let arguments = (ins
    Hybrid_Shaped:$input_gates,
    Hybrid_Shaped:$hidden_weight,
    Optional<Hybrid_Shaped>:$hidden_bias,
    Optional<Hybrid_Lengths>:$lengths,
    Hybrid_Shaped:$out,
    Hybrid_Shaped:$initial_state
  );
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let assemblyFormat = [{
    `input_gates` `(` $input_gates `:` type($input_gates) `)`
    `hidden_weight` `(` $hidden_weight `:` type($hidden_weight) `)`
    (`hidden_bias` `(` $hidden_bias^ `:` type($hidden_bias) `)`)?
    `init` `(` $initial_state `:` type($initial_state) `)`
    (`lengths` `(` $lengths^ `:` type($lengths) `)`)?
    `outs` `(` $out `:` type($out) `)`
    attr-dict (`->` type($results)^)?
  }];
  let builders = [
    // Result types follow from the operands; a null destination is
    // created (an empty tensor, a zero-filled initial state).
    OpBuilder<(ins "::mlir::Value":$input_gates, "::mlir::Value":$hidden_weight, CArg<"::mlir::Value", "{}">:$hidden_bias,
      CArg<"::mlir::Value", "{}">:$initial_state,
      CArg<"::mlir::Value", "{}">:$lengths,
      CArg<"::mlir::Value", "{}">:$out)>
  ];
  let extraClassDeclaration = Hybrid_ResultAccessors<"H">.decl;
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// causal_conv1d
//===----------------------------------------------------------------------===//

def Hybrid_CausalConv1dOp : Hybrid_Op<"causal_conv1d", HybridRecurrenceTraits> {
  let summary = "Depthwise causal 1-D convolution with a carried tail";
  let description = [{
    The depthwise causal convolution in front of Mamba, Gated DeltaNet and
    Griffin recurrences (SPEC.md 3.5), width `K`, per batch element and
    channel `c`. Tap `K-1` multiplies the current token:

    ```
    y[t,c] = bias[c] + Σ_{j=0}^{K-1} weight[j,c] · x[t-(K-1)+j, c]
    y[t,c] = act(y[t,c])                      (act = none | silu)
    ```

    Inputs before the sequence (`t - (K-1) + j < 0`) come from
    `initial_state`, the previous call's last `K-1` inputs `[B, K-1, C]`,
    **oldest first** (zeros for a fresh sequence). `final_state` holds the last `K-1`
    inputs of the concatenation `[initial_state; x]`, so chaining calls over
    consecutive chunks gives the result of one call over the whole sequence.
    `bias` is optional (zero when absent).

    Layouts: PyTorch's `Conv1d.weight` `[C, 1, K]` and Axon's `[K, 1, C]`
    both reshape or transpose to `weight` `[K, C]`.

    Shapes: `x`: `[B, T, C]`; `weight`: `[K, C]`; `bias`: `[C]`; states
    `[B, K-1, C]` f32; result `y`: `[B, T, C]`.

    `lengths` (optional, `[B]`, integers) makes the batch variable-length:
    sequence `b` is its first `clamp(lengths[b], 0, T)` positions. Later
    positions never touch the state and their outputs are zero; the final
    state is the state after the sequence's last position (the initial
    state for length 0).

    Destination style: `y` is written into `outs(...)` (not read) and the
    final state over `init(...)`, the initial state, which is read first
    (pass a zero-filled tensor to start from zeros); after bufferization a
    step can update its state in place.

    Example:

    ```mlir
    %y, %tail = hybrid.causal_conv1d x(%x : tensor<1x?x64xf32>)
        weight(%w : tensor<4x64xf32>) bias(%b : tensor<64xf32>)
        init(%tail0 : tensor<1x3x64xf32>) activation silu
        outs(%y0 : tensor<1x?x64xf32>)
        -> tensor<1x?x64xf32>, tensor<1x3x64xf32>
    ```
  }];
  let arguments = (ins
    Hybrid_Shaped:$x,
    Hybrid_Shaped:$weight,
    Optional<Hybrid_Shaped>:$bias,
    Optional<Hybrid_Lengths>:$lengths,
    Hybrid_Shaped:$out,
    Hybrid_Shaped:$initial_state,
    DefaultValuedAttr<Hybrid_ActivationAttr, "::mlir::hybrid::Activation::none">:$activation
  );
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let assemblyFormat = [{
    `x` `(` $x `:` type($x) `)`
    `weight` `(` $weight `:` type($weight) `)`
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    `init` `(` $initial_state `:` type($initial_state) `)`
    (`lengths` `(` $lengths^ `:` type($lengths) `)`)?
    custom<ConvKeywords>($activation, $out, type($out))
    attr-dict (`->` type($results)^)?
  }];
  let builders = [
    // Result types follow from the operands; a null destination is
    // created (an empty tensor, a zero-filled initial state).
    OpBuilder<(ins "::mlir::Value":$x, "::mlir::Value":$weight, CArg<"::mlir::Value", "{}">:$bias, CArg<"::mlir::Value", "{}">:$initial_state,
      CArg<"::mlir::hybrid::Activation",
           "::mlir::hybrid::Activation::none">:$activation,
      CArg<"::mlir::Value", "{}">:$lengths,
      CArg<"::mlir::Value", "{}">:$out)>
  ];
  let extraClassDeclaration = Hybrid_ResultAccessors<"Y">.decl;
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// windowed_attention
//===----------------------------------------------------------------------===//

def Hybrid_WindowedAttentionOp
    : Hybrid_Op<"windowed_attention",
                !listconcat(HybridShapedOpTraits,
                            [DeclareOpInterfaceMethods<
                                 DestinationStyleOpInterface>])> {
  let summary = "Causal sliding-window multi-head attention with GQA";
  let description = [{
    Causal sliding-window attention (SPEC.md 4.7), per batch element and
    query head `h`, reading key/value head `g = h / (Hq / Hkv)` (grouped
    queries; `Hkv = 1` is multi-query, `Hkv = Hq` multi-head). `T` queries
    are aligned to the *end* of `S ≥ T` keys (query `i` sits at absolute
    position `p = S - T + i`; `S = T` for a plain forward pass, `S > T` when
    the keys include a cached prefix):

    ```
    q̂, k̂     = qk_norm ? (x - mean(x)) / sqrt(var(x) + 1e-6) : x   (over Dk)
    s[i,j]   = scale · q̂[i] · k̂[j]                      (scale: 1/sqrt(Dk))
    allowed  = j ≤ p  ∧  j > p - window                  (window keys, self included)
    o[i]     = Σ_{allowed j} softmax_j(s[i,j]) · v[j]
    ```

    The window follows the seed library (W keys: `p-W < j ≤ p`);
    recurrentgemma's "window W" keeps W+1 keys and is `window = W+1` here.
    Without `window` the attention is full causal attention (window = S).
    The optional `key_mask` (`i1`, `[B, S]`) excludes keys where it is
    false, on top of the window: the unfilled slots of a key cache, the
    padding of shorter sequences in a batch. A query that sees no key at
    all outputs zeros.
    `qk_norm` is the seed library's affine-free QK layer norm (population
    variance, epsilon 1e-6). Softmax subtracts the row maximum in f32.
    Projections (qkv and output) are not part of the op.

    Shapes: `q`: `[B, T, Hq, Dk]`; `k`: `[B, S, Hkv, Dk]`; `v`:
    `[B, S, Hkv, Dv]`; result `[B, T, Hq, Dv]`.

    Example (8 query heads over 2 KV heads, 512-key window):

    ```mlir
    %o = hybrid.windowed_attention q(%q : tensor<1x?x8x64xf32>)
        k(%k : tensor<1x?x2x64xf32>) v(%v : tensor<1x?x2x64xf32>)
        window 512 qk_norm outs(%o0 : tensor<1x?x8x64xf32>)
        -> tensor<1x?x8x64xf32>
    ```
  }];
  let arguments = (ins
    Hybrid_Shaped:$q,
    Hybrid_Shaped:$k,
    Hybrid_Shaped:$v,
    Optional<Hybrid_Shaped>:$key_mask,
    Hybrid_Shaped:$out,
    OptionalAttr<I64Attr>:$window,
    OptionalAttr<F32Attr>:$scale,
    UnitAttr:$qk_norm
  );
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let assemblyFormat = [{
    `q` `(` $q `:` type($q) `)`
    `k` `(` $k `:` type($k) `)`
    `v` `(` $v `:` type($v) `)`
    (`key_mask` `(` $key_mask^ `:` type($key_mask) `)`)?
    custom<AttentionKeywords>($window, $scale, $qk_norm, $out, type($out))
    attr-dict (`->` type($results)^)?
  }];
  let extraClassDeclaration = Hybrid_ResultAccessors<"O", 0>.decl # [{
    /// The score scale in effect: the attribute, or 1/sqrt(Dk) when it is
    /// absent (Dk must then be static).
    float getEffectiveScale();
  }];
  let builders = [
    // The result type follows from the operands; a null destination is
    // created (an empty tensor).
    OpBuilder<(ins "::mlir::Value":$q, "::mlir::Value":$k, "::mlir::Value":$v,
      CArg<"std::optional<int64_t>", "std::nullopt">:$window,
      CArg<"std::optional<float>", "std::nullopt">:$scale,
      CArg<"bool", "false">:$qk_norm,
      CArg<"::mlir::Value", "{}">:$key_mask,
      CArg<"::mlir::Value", "{}">:$out)>
  ];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// gated_parallel
//===----------------------------------------------------------------------===//

def Hybrid_GatedParallelOp : Hybrid_Op<"gated_parallel", [
    RecursiveMemoryEffects
  ]> {
  let summary = "Hymba-style block: a backbone beside attention, mixed by a gate";
  let description = [{
    Runs two branches on the same (already normalised) `input` and mixes
    them with a learned gate (SPEC.md 4.8.1, the seed library's parallel
    mode):

    ```
    s   = backbone(input)          first value yielded by `backbone`
    a   = attention(input)         first value yielded by `attention`
    out = gate ⊙ s + (1 - gate) ⊙ a
    ```

    `gate` is the activated gate, `σ(Dense(input))` for the seed library,
    with the shape of `out`. Each region has one block whose single argument
    receives `input`; it ends in `hybrid.yield` whose first operand is the
    branch output (the type of result 0). Further yielded values (a final
    recurrent state, a KV tail) become further results: the backbone's
    extras first, then the attention branch's. The branches are independent
    and may run concurrently; the regions are not isolated from above, so
    they read weights defined outside.

    Example:

    ```mlir
    %out, %state = hybrid.gated_parallel(%n, %g)
        : (tensor<1x?x64xf32>, tensor<1x?x64xf32>)
        -> (tensor<1x?x64xf32>, tensor<1x64xf32>)
      backbone {
      ^bb0(%x: tensor<1x?x64xf32>):
        %xg = ... : tensor<1x?x192xf32>
        %h, %s = hybrid.gru input_gates(%xg : tensor<1x?x192xf32>)
            hidden_weight(%wh : tensor<64x192xf32>) init(%h0 : tensor<1x64xf32>)
            outs(%y0 : tensor<1x?x64xf32>) -> tensor<1x?x64xf32>, tensor<1x64xf32>
        hybrid.yield %h, %s : tensor<1x?x64xf32>, tensor<1x64xf32>
      } attention {
      ^bb0(%x: tensor<1x?x64xf32>):
        ...
        hybrid.yield %a : tensor<1x?x64xf32>
      }
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$gate);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let regions = (region SizedRegion<1>:$backbone, SizedRegion<1>:$attention);
  let assemblyFormat = [{
    `(` $input `,` $gate `)` attr-dict `:` `(` type($input) `,` type($gate) `)`
    `->` `(` type($results) `)`
    `backbone` $backbone `attention` $attention
  }];
  let extraClassDeclaration = [{
    /// The mixed output (result 0).
    ::mlir::Value getOutput() { return getResult(0); }
    /// The terminator of a branch region.
    YieldOp getBackboneYield();
    YieldOp getAttentionYield();
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
}

def Hybrid_YieldOp : Hybrid_Op<"yield", [
    Pure, Terminator, HasParent<"GatedParallelOp">
  ]> {
  let summary = "Terminates a branch of hybrid.gated_parallel";
  let description = [{
    Yields the branch output (first operand) and any extra results of a
    `hybrid.gated_parallel` branch.

    ```mlir
    hybrid.yield %out, %state : tensor<1x?x64xf32>, tensor<1x64xf32>
    ```
  }];
  let arguments = (ins Variadic<AnyRankedTensor>:$values);
  let assemblyFormat = "attr-dict ($values^ `:` type($values))?";
}

//===----------------------------------------------------------------------===//
// Normalisation
//===----------------------------------------------------------------------===//

class Hybrid_NormOp<string mnemonic, list<Trait> traits = []>
    : Hybrid_Op<mnemonic,
                !listconcat(HybridShapedOpTraits,
                            [DeclareOpInterfaceMethods<
                                 DestinationStyleOpInterface>],
                            traits)> {
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let extraClassDeclaration = Hybrid_ResultAccessors<"Output", 0>.decl;
  let hasVerifier = 1;
}

def Hybrid_LayerNormOp : Hybrid_NormOp<"layer_norm", [AttrSizedOperandSegments]> {
  let summary = "Layer normalisation over the last dimension";
  let description = [{
    LayerNorm over the last dimension `d` (SPEC.md 3.1), population
    variance, computed in f32:

    ```
    y = (x - mean(x)) / sqrt(var(x) + epsilon) ⊙ weight + bias
    ```

    `weight` (γ) and `bias` (β) are `[d]` and optional (1 and 0 when
    absent); `epsilon` defaults to 1e-5. The result has the type of `x`.

    ```mlir
    %y = hybrid.layer_norm %x weight(%g : tensor<64xf32>)
        bias(%b : tensor<64xf32>) outs(%y0 : tensor<2x?x64xf32>)
        : tensor<2x?x64xf32> -> tensor<2x?x64xf32>
    ```
  }];
  let arguments = (ins
    Hybrid_Shaped:$input,
    Optional<Hybrid_Shaped>:$weight,
    Optional<Hybrid_Shaped>:$bias,
    Hybrid_Shaped:$out,
    DefaultValuedAttr<F32Attr, "1.0e-5f">:$epsilon
  );
  let assemblyFormat = [{
    $input
    (`weight` `(` $weight^ `:` type($weight) `)`)?
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    custom<NormKeywords>($epsilon, $out, type($out))
    attr-dict `:` type($input) (`->` type($results)^)?
  }];
  let builders = [
    // The result has the input's type; the destination is a tensor.empty.
    OpBuilder<(ins "::mlir::Value":$input, "::mlir::Value":$weight,
      "::mlir::Value":$bias, "float":$epsilon)>
  ];
}

def Hybrid_RmsNormOp : Hybrid_NormOp<"rms_norm"> {
  let summary = "RMS normalisation over the last dimension";
  let description = [{
    RMSNorm over the last dimension `d` (SPEC.md 3.2, the Mamba/fla form),
    computed in f32:

    ```
    y = x / sqrt(mean(x²) + epsilon) ⊙ weight
    ```

    `weight` is `[d]` and optional (1 when absent); recurrentgemma's
    `(1 + s)` scale is `weight = 1 + s`. `epsilon` defaults to 1e-5. The
    result has the type of `x`.

    ```mlir
    %y = hybrid.rms_norm %x weight(%w : tensor<64xf32>) epsilon 1.0e-6
        outs(%y0 : tensor<2x?x64xf32>) : tensor<2x?x64xf32> -> tensor<2x?x64xf32>
    ```
  }];
  let arguments = (ins
    Hybrid_Shaped:$input,
    Optional<Hybrid_Shaped>:$weight,
    Hybrid_Shaped:$out,
    DefaultValuedAttr<F32Attr, "1.0e-5f">:$epsilon
  );
  let assemblyFormat = [{
    $input
    (`weight` `(` $weight^ `:` type($weight) `)`)?
    custom<NormKeywords>($epsilon, $out, type($out))
    attr-dict `:` type($input) (`->` type($results)^)?
  }];
  let builders = [
    // The result has the input's type; the destination is a tensor.empty.
    OpBuilder<(ins "::mlir::Value":$input, "::mlir::Value":$weight,
      "float":$epsilon)>
  ];
}

#endif // HYBRID_DIALECT_HYBRID_IR_HYBRIDOPS_TD
