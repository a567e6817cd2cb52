//===- Reference.h - Reference implementation of the hybrid ops -*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// A straightforward implementation of every hybrid op, written from the
// equations of SPEC.md section 4 for clarity, not speed: plain loops in
// double precision, one time step after another. It shares no code with the
// compiler's lowering, so it can check it. Shapes are those of the ops
// (docs/Dialect.md); optional operands are null pointers; outputs are
// resized by the callee.
//
//===----------------------------------------------------------------------===//

#ifndef HYBRID_REFERENCE_REFERENCE_H
#define HYBRID_REFERENCE_REFERENCE_H

#include "hybrid/Support/HostTensor.h"

namespace mlir::hybrid::reference {

/// Mamba-1 selective scan. u, delta, z [B,T,D]; A [D,N]; B, C [B,T,G,N];
/// D, deltaBias [D]; h0 [B,D,N]. Outputs y [B,T,D], hT [B,D,N].
void ssmScan(const HostTensor &u, const HostTensor &delta, const HostTensor &A,
             const HostTensor &B, const HostTensor &C, const HostTensor *D,
             const HostTensor *z, const HostTensor *deltaBias,
             const HostTensor *h0, bool deltaSoftplus, HostTensor &y,
             HostTensor &hT);

/// RWKV-6 WKV. r, k, logDecay [B,T,H,K]; v [B,T,H,V]; bonus [H,K];
/// s0 [B,H,V,K]. Outputs o [B,T,H,V], sT [B,H,V,K].
void wkv6(const HostTensor &r, const HostTensor &k, const HostTensor &v,
          const HostTensor &logDecay, const HostTensor &bonus,
          const HostTensor *s0, double scale, HostTensor &o, HostTensor &sT);

/// RWKV-7 WKV (generalised delta rule). a, b [B,T,H,K].
void wkv7(const HostTensor &r, const HostTensor &k, const HostTensor &v,
          const HostTensor &logDecay, const HostTensor &a,
          const HostTensor &b, const HostTensor *s0, double scale,
          HostTensor &o, HostTensor &sT);

/// (Gated) delta rule. q, k [B,T,Hk,K]; v [B,T,Hv,V]; beta [B,T,Hv] or
/// [B,T,Hv,V]; logDecay [B,T,Hv]; s0 [B,Hv,V,K].
void deltaRule(const HostTensor &q, const HostTensor &k, const HostTensor &v,
               const HostTensor &beta, const HostTensor *logDecay,
               const HostTensor *s0, double scale, HostTensor &o,
               HostTensor &sT);

/// RG-LRU. x, gateX, gateA [B,T,L]; aParam [L]; reset [B,T] (nonzero =
/// reset); h0 [B,L].
void rgLru(const HostTensor &x, const HostTensor &gateX,
           const HostTensor &gateA, const HostTensor &aParam,
           const HostTensor *reset, const HostTensor *h0, double c,
           HostTensor &h, HostTensor &hT);

/// GRU. inputGates [B,T,3H] (r, z, n); hiddenWeight [H,3H]; hiddenBias [3H];
/// h0 [B,H].
void gru(const HostTensor &inputGates, const HostTensor &hiddenWeight,
         const HostTensor *hiddenBias, const HostTensor *h0, HostTensor &h,
         HostTensor &hT);

/// Depthwise causal conv. x [B,T,C]; weight [K,C]; bias [C];
/// state0 [B,K-1,C] (oldest first). Outputs y [B,T,C], stateT [B,K-1,C].
void causalConv1d(const HostTensor &x, const HostTensor &weight,
                  const HostTensor *bias, const HostTensor *state0, bool silu,
                  HostTensor &y, HostTensor &stateT);

/// Causal sliding-window attention. q [B,T,Hq,Dk]; k [B,S,Hkv,Dk];
/// v [B,S,Hkv,Dv]; window 0 = full causal; keyMask [B,S] (nonzero = key
/// valid), optional. A query with no valid key outputs zeros.
void windowedAttention(const HostTensor &q, const HostTensor &k,
                       const HostTensor &v, int64_t window, double scale,
                       bool qkNorm, HostTensor &o,
                       const HostTensor *keyMask = nullptr);

/// LayerNorm / RMSNorm over the last dimension.
void layerNorm(const HostTensor &x, const HostTensor *weight,
               const HostTensor *bias, double eps, HostTensor &y);
void rmsNorm(const HostTensor &x, const HostTensor *weight, double eps,
             HostTensor &y);

} // namespace mlir::hybrid::reference

#endif // HYBRID_REFERENCE_REFERENCE_H
