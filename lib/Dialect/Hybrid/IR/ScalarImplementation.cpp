//===- ScalarImplementation.cpp - Hybrid ops as scalar loops ----*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// TilingInterface::generateScalarImplementation of the memref form of every
// destination-style hybrid op: the body of the innermost loop of the op's
// iteration domain (TilingInterfaceImpl.cpp's tables give the loops), so
// upstream `scf::lowerToLoopsUsingSCFForOp` turns the op into plain scalar
// loops (`hybrid-lower-to-loops`). This is the simplest correct program
// for each op, written from SPEC.md's equations: the form a GPU thread
// runs (one state slice, the time loop inside) and a second, independent
// lowering that the optimised `convert-hybrid-to-scf` is checked against.
//
// A recurrence's domain ends with its time loop, so for every parallel
// index the body runs for t = 0, 1, ... in order, and it updates the state
// slice of that index in place in the initial-state buffer (which is the
// final state's destination). Each body computes in f32, whatever the
// element type of its activations. Positions at or past a sequence's length
// write zeros and leave the state alone.
//
//===----------------------------------------------------------------------===//

#include "ScalarImplementation.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <limits>

using namespace mlir;
using namespace mlir::hybrid;

namespace {

/// Scalar f32 arithmetic and memref access at one insertion point.
struct Scalar {
  OpBuilder &b;
  Location loc;

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value f32(double v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }
  Value dim(Value mem, int64_t i) {
    return memref::DimOp::create(b, loc, mem, i);
  }

  /// mem[indices] as f32 (extended from f16/bf16).
  Value load(Value mem, ValueRange indices) {
    Value v = memref::LoadOp::create(b, loc, mem, indices);
    if (!v.getType().isF32() && isa<FloatType>(v.getType()))
      v = arith::ExtFOp::create(b, loc, b.getF32Type(), v);
    return v;
  }
  /// Stores the f32 `v` into mem[indices] (truncated to its element type).
  void store(Value v, Value mem, ValueRange indices) {
    Type elt = cast<MemRefType>(mem.getType()).getElementType();
    if (elt != v.getType())
      v = arith::TruncFOp::create(b, loc, elt, v);
    memref::StoreOp::create(b, loc, v, mem, indices);
  }

  Value add(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubFOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  Value div(Value x, Value y) { return arith::DivFOp::create(b, loc, x, y); }
  Value neg(Value x) { return arith::NegFOp::create(b, loc, x); }
  Value max(Value x, Value y) { return arith::MaximumFOp::create(b, loc, x, y); }
  Value exp(Value x) { return math::ExpOp::create(b, loc, x); }
  Value sqrt(Value x) { return math::SqrtOp::create(b, loc, x); }
  Value tanh(Value x) { return math::TanhOp::create(b, loc, x); }
  Value fma(Value x, Value y, Value acc) { return add(acc, mul(x, y)); }
  Value select(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, loc, c, x, y);
  }
  /// σ(x) = 1 / (1 + exp(-x)).
  Value sigmoid(Value x) { return div(f32(1.0), add(f32(1.0), exp(neg(x)))); }
  Value silu(Value x) { return mul(x, sigmoid(x)); }
  /// softplus(x) = max(x, 0) + log1p(exp(-|x|)), the stable form.
  Value softplus(Value x) {
    Value absX = math::AbsFOp::create(b, loc, x);
    Value tail = math::Log1pOp::create(b, loc, exp(neg(absX)));
    return add(max(x, f32(0.0)), tail);
  }

  Value addi(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value subi(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value muli(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value divi(Value x, Value y) { return arith::DivUIOp::create(b, loc, x, y); }
  Value lt(Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, x, y);
  }
  Value eq(Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, x, y);
  }

  /// for i in [lb, ub): body(i, carried) -> new carried; returns the last.
  SmallVector<Value>
  loop(Value lb, Value ub, ValueRange init,
       function_ref<SmallVector<Value>(Scalar &, Value, ValueRange)> body) {
    auto forOp = scf::ForOp::create(
        b, loc, lb, ub, idx(1), init,
        [&](OpBuilder &nb, Location nl, Value iv, ValueRange carried) {
          Scalar s{nb, nl};
          scf::YieldOp::create(nb, nl, body(s, iv, carried));
        });
    return SmallVector<Value>(forOp.getResults());
  }
  /// A loop that carries nothing.
  void loop(Value lb, Value ub, function_ref<void(Scalar &, Value)> body) {
    loop(lb, ub, {}, [&](Scalar &s, Value iv, ValueRange) {
      body(s, iv);
      return SmallVector<Value>{};
    });
  }
  /// Σ_{i in [0, n)} term(i).
  Value sum(Value n, function_ref<Value(Scalar &, Value)> term) {
    return loop(idx(0), n, {f32(0.0)},
                [&](Scalar &s, Value i, ValueRange acc) {
                  return SmallVector<Value>{s.add(acc[0], term(s, i))};
                })[0];
  }
  /// if (cond) then() else otherwise(); no results.
  void ifElse(Value cond, function_ref<void(Scalar &)> then,
              function_ref<void(Scalar &)> otherwise = {}) {
    auto build = [](function_ref<void(Scalar &)> fn) {
      return [fn](OpBuilder &nb, Location nl) {
        Scalar s{nb, nl};
        if (fn)
          fn(s);
        scf::YieldOp::create(nb, nl);
      };
    };
    if (otherwise)
      scf::IfOp::create(b, loc, cond, build(then), build(otherwise));
    else
      scf::IfOp::create(b, loc, cond, build(then));
  }

  /// An f32 scratch vector of dimension `dim` of `like`'s elements, for
  /// `body`, which runs inside the op's loops (`ivs` their induction
  /// variables, outermost first). The vector is allocated once per
  /// iteration of the parallel loops: around the outermost sequential
  /// (`scf.for`) loop of the nest, or, without one, in the innermost
  /// loop's body. It is a heap buffer: an alloca in a loop body would grow
  /// the stack on every iteration once lowered to LLVM, and upstream
  /// canonicalization may move allocas out of an `alloca_scope` into the
  /// loop body. (The GPU pipeline makes such buffers thread-private.)
  void withScratch(ValueRange ivs, Value like, int64_t dim,
                   function_ref<void(Scalar &, Value)> body) {
    auto type = MemRefType::get({ShapedType::kDynamic}, b.getF32Type());
    Operation *sequential = nullptr;
    for (Value iv : ivs) {
      Operation *owner = cast<BlockArgument>(iv).getOwner()->getParentOp();
      if (isa<scf::ForOp>(owner)) {
        sequential = owner;
        break;
      }
    }
    OpBuilder around(b.getContext());
    Operation *deallocBefore;
    if (sequential) {
      around.setInsertionPoint(sequential);
      deallocBefore = sequential->getNextNode();
    } else {
      Block *inner = cast<BlockArgument>(ivs.back()).getOwner();
      around.setInsertionPointToStart(inner);
      deallocBefore = inner->getTerminator();
    }
    Value n = memref::DimOp::create(around, loc, like, dim);
    Value scratch = memref::AllocOp::create(around, loc, type, ValueRange{n});
    around.setInsertionPoint(deallocBefore);
    memref::DeallocOp::create(around, loc, scratch);
    body(*this, scratch);
  }
};

/// Whether position `t` of sequence `bi` is inside its length (null: every
/// position is, there is no `lengths`).
Value activePosition(Scalar &s, Value lengths, Value bi, Value t) {
  if (!lengths)
    return {};
  Value len = memref::LoadOp::create(s.b, s.loc, lengths, ValueRange{bi});
  if (!len.getType().isIndex())
    len = arith::IndexCastOp::create(s.b, s.loc, s.b.getIndexType(), len);
  return s.lt(t, len);
}

/// Runs `step` where the position is active; elsewhere `inactive` writes
/// the zeros of the sequence output.
void guarded(Scalar &s, Value active, function_ref<void(Scalar &)> step,
             function_ref<void(Scalar &)> inactive) {
  if (!active) {
    step(s);
    return;
  }
  s.ifElse(active, step, inactive);
}

} // namespace

//===----------------------------------------------------------------------===//
// ssm_scan: (batch, channel, time)
//===----------------------------------------------------------------------===//

LogicalResult mlir::hybrid::detail::emitScalarImplementation(
    SsmScanOp op, OpBuilder &b, Location loc, ValueRange ivs) {
  Scalar s{b, loc};
  Value bi = ivs[0], c = ivs[1], t = ivs[2];
  Value out = op.getOut(), state = op.getInitialState();
  auto step = [&](Scalar &s) {
    Value u = s.load(op.getU(), {bi, t, c});
    Value dt = s.load(op.getDelta(), {bi, t, c});
    if (Value bias = op.getDeltaBias())
      dt = s.add(dt, s.load(bias, {c}));
    if (op.getDeltaSoftplus())
      dt = s.softplus(dt);
    Value dtU = s.mul(dt, u);
    // Channel c reads B/C group c / (D / G).
    SmallVector<Value> bcIndex{bi, t};
    if (op.hasGroupedBC()) {
      Value perGroup = s.divi(s.dim(op.getU(), 2), s.dim(op.getB(), 2));
      bcIndex.push_back(s.divi(c, perGroup));
    }
    Value y = s.sum(s.dim(op.getA(), 1), [&](Scalar &s, Value n) {
      SmallVector<Value> at(bcIndex);
      at.push_back(n);
      Value decay = s.exp(s.mul(dt, s.load(op.getA(), {c, n})));
      Value h = s.fma(decay, s.load(state, {bi, c, n}),
                      s.mul(dtU, s.load(op.getB(), at)));
      s.store(h, state, {bi, c, n});
      return s.mul(h, s.load(op.getC(), at));
    });
    if (Value d = op.getD())
      y = s.fma(s.load(d, {c}), u, y);
    if (Value z = op.getZ())
      y = s.mul(y, s.silu(s.load(z, {bi, t, c})));
    s.store(y, out, {bi, t, c});
  };
  guarded(s, activePosition(s, op.getLengths(), bi, t), step,
          [&](Scalar &s) { s.store(s.f32(0.0), out, {bi, t, c}); });
  return success();
}

//===----------------------------------------------------------------------===//
// wkv: (batch, head, value row, time)
//===----------------------------------------------------------------------===//

LogicalResult mlir::hybrid::detail::emitScalarImplementation(
    WkvOp op, OpBuilder &b, Location loc, ValueRange ivs) {
  Scalar s{b, loc};
  Value bi = ivs[0], h = ivs[1], i = ivs[2], t = ivs[3];
  Value out = op.getOut(), state = op.getInitialState();
  bool rwkv7 = op.getVariant() == WkvVariant::rwkv7;
  auto step = [&](Scalar &s) {
    Value scale = s.f32(op.getScale().convertToFloat());
    Value keys = s.dim(op.getR(), 3);
    Value vi = s.load(op.getV(), {bi, t, h, i});
    auto key = [&](Scalar &s, Value operand, Value k) {
      return s.load(operand, {bi, t, h, k});
    };
    auto decay = [&](Scalar &s, Value k) {
      return s.exp(key(s, op.getLogDecay(), k));
    };
    Value o;
    if (!rwkv7) {
      // o = S r' + v (Σ_k u_k k_k r'_k), with the state before the update.
      SmallVector<Value> acc = s.loop(
          s.idx(0), keys, {s.f32(0.0), s.f32(0.0)},
          [&](Scalar &s, Value k, ValueRange carried) {
            Value rk = s.mul(scale, key(s, op.getR(), k));
            Value kk = key(s, op.getK(), k);
            Value sik = s.load(state, {bi, h, i, k});
            Value read = s.fma(sik, rk, carried[0]);
            Value bonus = s.fma(s.mul(s.load(op.getBonus(), {h, k}), kk), rk,
                                carried[1]);
            s.store(s.fma(vi, kk, s.mul(sik, decay(s, k))), state,
                    {bi, h, i, k});
            return SmallVector<Value>{read, bonus};
          });
      o = s.fma(vi, acc[1], acc[0]);
    } else {
      // S = S diag(ω) + (S a) bᵀ + v kᵀ; o = S r'.
      Value sa = s.sum(keys, [&](Scalar &s, Value k) {
        return s.mul(s.load(state, {bi, h, i, k}), key(s, op.getA(), k));
      });
      o = s.sum(keys, [&](Scalar &s, Value k) {
        Value sik = s.mul(s.load(state, {bi, h, i, k}), decay(s, k));
        sik = s.fma(sa, key(s, op.getB(), k), sik);
        sik = s.fma(vi, key(s, op.getK(), k), sik);
        s.store(sik, state, {bi, h, i, k});
        return s.mul(sik, s.mul(scale, key(s, op.getR(), k)));
      });
    }
    s.store(o, out, {bi, t, h, i});
  };
  guarded(s, activePosition(s, op.getLengths(), bi, t), step,
          [&](Scalar &s) { s.store(s.f32(0.0), out, {bi, t, h, i}); });
  return success();
}

//===----------------------------------------------------------------------===//
// delta_rule: (batch, value head, value row, time)
//===----------------------------------------------------------------------===//

LogicalResult mlir::hybrid::detail::emitScalarImplementation(
    DeltaRuleOp op, OpBuilder &b, Location loc, ValueRange ivs) {
  Scalar s{b, loc};
  Value bi = ivs[0], hv = ivs[1], i = ivs[2], t = ivs[3];
  Value out = op.getOut(), state = op.getInitialState();
  auto step = [&](Scalar &s) {
    Value scale = s.f32(op.getEffectiveScale());
    Value keys = s.dim(op.getQ(), 3);
    // Value head hv reads q/k head hv / (Hv / Hk).
    Value perQk = s.divi(s.dim(op.getV(), 2), s.dim(op.getQ(), 2));
    Value hk = s.divi(hv, perQk);
    Value alpha = s.f32(1.0);
    if (Value logDecay = op.getLogDecay()) {
      Value g = s.load(logDecay, {bi, t, hv});
      if (Value aLog = op.getDecayALog())
        g = s.mul(s.neg(s.exp(s.load(aLog, {hv}))),
                  s.softplus(s.add(g, s.load(op.getDecayBias(), {hv}))));
      alpha = s.exp(g);
    }
    Value beta = op.hasPerChannelBeta()
                     ? s.load(op.getBeta(), {bi, t, hv, i})
                     : s.load(op.getBeta(), {bi, t, hv});
    if (op.getBetaSigmoid())
      beta = s.sigmoid(beta);
    // qk_l2norm: q and k divided by sqrt(Σx² + 1e-6).
    Value invQ = s.f32(1.0), invK = s.f32(1.0);
    if (op.getQkL2norm()) {
      auto inverseNorm = [&](Value x) {
        Value sq = s.sum(keys, [&](Scalar &s, Value k) {
          Value xk = s.load(x, {bi, t, hk, k});
          return s.mul(xk, xk);
        });
        return s.div(s.f32(1.0), s.sqrt(s.add(sq, s.f32(1e-6))));
      };
      invQ = inverseNorm(op.getQ());
      invK = inverseNorm(op.getK());
    }
    auto kAt = [&](Scalar &s, Value k) {
      return s.mul(invK, s.load(op.getK(), {bi, t, hk, k}));
    };
    Value sk = s.sum(keys, [&](Scalar &s, Value k) {
      return s.mul(s.load(state, {bi, hv, i, k}), kAt(s, k));
    });
    // e = v - (α S) k, and S = α S + β e kᵀ.
    Value error = s.sub(s.load(op.getV(), {bi, t, hv, i}), s.mul(alpha, sk));
    Value betaError = s.mul(beta, error);
    Value o = s.sum(keys, [&](Scalar &s, Value k) {
      Value sik = s.mul(alpha, s.load(state, {bi, hv, i, k}));
      sik = s.fma(betaError, kAt(s, k), sik);
      s.store(sik, state, {bi, hv, i, k});
      Value qk = s.mul(invQ, s.load(op.getQ(), {bi, t, hk, k}));
      return s.mul(sik, s.mul(scale, qk));
    });
    s.store(o, out, {bi, t, hv, i});
  };
  guarded(s, activePosition(s, op.getLengths(), bi, t), step,
          [&](Scalar &s) { s.store(s.f32(0.0), out, {bi, t, hv, i}); });
  return success();
}

//===----------------------------------------------------------------------===//
// rg_lru: (batch, channel, time)
//===----------------------------------------------------------------------===//

LogicalResult mlir::hybrid::detail::emitScalarImplementation(
    RgLruOp op, OpBuilder &b, Location loc, ValueRange ivs) {
  Scalar s{b, loc};
  Value bi = ivs[0], c = ivs[1], t = ivs[2];
  Value out = op.getOut(), state = op.getInitialState();
  auto step = [&](Scalar &s) {
    Value x = s.load(op.getX(), {bi, t, c});
    Value logA;
    if (Value given = op.getLogA()) {
      logA = s.load(given, {bi, t, c});
    } else {
      // log a = -c σ(gate_a) softplus(Λ); the input is gated by σ(gate_x).
      Value ga = s.sigmoid(s.load(op.getGateA(), {bi, t, c}));
      Value lambda = s.softplus(s.load(op.getAParam(), {c}));
      logA = s.neg(s.mul(s.f32(op.getC().convertToFloat()),
                         s.mul(ga, lambda)));
      x = s.mul(s.sigmoid(s.load(op.getGateX(), {bi, t, c})), x);
    }
    Value a = s.exp(logA);
    // m = sqrt(1 - a²), accurately: sqrt(-expm1(2 log a)).
    Value m = s.sqrt(
        s.neg(math::ExpM1Op::create(s.b, s.loc, s.mul(s.f32(2.0), logA))));
    if (Value reset = op.getReset()) {
      Value r = memref::LoadOp::create(s.b, s.loc, reset, ValueRange{bi, t});
      a = s.select(r, s.f32(0.0), a);
      m = s.select(r, s.f32(1.0), m);
    }
    Value hNew = s.fma(a, s.load(state, {bi, c}), s.mul(m, x));
    s.store(hNew, state, {bi, c});
    s.store(hNew, out, {bi, t, c});
  };
  guarded(s, activePosition(s, op.getLengths(), bi, t), step,
          [&](Scalar &s) { s.store(s.f32(0.0), out, {bi, t, c}); });
  return success();
}

//===----------------------------------------------------------------------===//
// gru: (batch, time)
//===----------------------------------------------------------------------===//

LogicalResult mlir::hybrid::detail::emitScalarImplementation(
    GruOp op, OpBuilder &b, Location loc, ValueRange ivs) {
  Scalar s{b, loc};
  Value bi = ivs[0], t = ivs[1];
  Value out = op.getOut(), state = op.getInitialState();
  Value hidden = s.dim(state, 1);
  auto step = [&](Scalar &s) {
    // Every new h_j reads all of h[t-1]: the new state goes to a scratch
    // vector first and replaces the state after the last j.
    s.withScratch(ivs, state, 1, [&](Scalar &s, Value scratch) {
      Value twoH = s.muli(hidden, s.idx(2));
      s.loop(s.idx(0), hidden, [&](Scalar &s, Value j) {
        Value jz = s.addi(j, hidden), jn = s.addi(j, twoH);
        SmallVector<Value> hh{s.f32(0.0), s.f32(0.0), s.f32(0.0)};
        if (Value bias = op.getHiddenBias())
          hh = {s.load(bias, {j}), s.load(bias, {jz}), s.load(bias, {jn})};
        // hh = h[t-1] · W_h + b_h, for the three gates of unit j.
        hh = s.loop(s.idx(0), hidden, hh,
                    [&](Scalar &s, Value k, ValueRange acc) {
                      Value hk = s.load(state, {bi, k});
                      Value w = op.getHiddenWeight();
                      return SmallVector<Value>{
                          s.fma(hk, s.load(w, {k, j}), acc[0]),
                          s.fma(hk, s.load(w, {k, jz}), acc[1]),
                          s.fma(hk, s.load(w, {k, jn}), acc[2])};
                    });
        Value gates = op.getInputGates();
        Value r = s.sigmoid(s.add(s.load(gates, {bi, t, j}), hh[0]));
        Value z = s.sigmoid(s.add(s.load(gates, {bi, t, jz}), hh[1]));
        Value n = s.tanh(s.fma(r, hh[2], s.load(gates, {bi, t, jn})));
        // h = (1 - z) n + z h[t-1] = n + z (h[t-1] - n).
        Value hNew = s.fma(z, s.sub(s.load(state, {bi, j}), n), n);
        memref::StoreOp::create(s.b, s.loc, hNew, scratch, ValueRange{j});
      });
      s.loop(s.idx(0), hidden, [&](Scalar &s, Value j) {
        Value hNew = s.load(scratch, {j});
        s.store(hNew, state, {bi, j});
        s.store(hNew, out, {bi, t, j});
      });
    });
  };
  guarded(s, activePosition(s, op.getLengths(), bi, t), step, [&](Scalar &s) {
    s.loop(s.idx(0), hidden,
           [&](Scalar &s, Value j) { s.store(s.f32(0.0), out, {bi, t, j}); });
  });
  return success();
}

//===----------------------------------------------------------------------===//
// causal_conv1d: (batch, channel, time)
//===----------------------------------------------------------------------===//

LogicalResult mlir::hybrid::detail::emitScalarImplementation(
    CausalConv1dOp op, OpBuilder &b, Location loc, ValueRange ivs) {
  Scalar s{b, loc};
  Value bi = ivs[0], c = ivs[1], t = ivs[2];
  Value out = op.getOut(), state = op.getInitialState();
  auto step = [&](Scalar &s) {
    Value tail = s.dim(state, 1);
    Value x = s.load(op.getX(), {bi, t, c});
    Value y = op.getBias() ? s.load(op.getBias(), {c}) : s.f32(0.0);
    // Taps 0 .. K-2 read the tail (the previous K-1 inputs, oldest first);
    // tap K-1 the current input.
    y = s.add(y, s.sum(tail, [&](Scalar &s, Value j) {
      return s.mul(s.load(op.getWeight(), {j, c}),
                   s.load(state, {bi, j, c}));
    }));
    y = s.fma(s.load(op.getWeight(), {tail, c}), x, y);
    if (op.getActivation() == Activation::silu)
      y = s.silu(y);
    s.store(y, out, {bi, t, c});
    // The tail drops its oldest input and appends x.
    s.loop(s.idx(1), tail, [&](Scalar &s, Value j) {
      s.store(s.load(state, {bi, j, c}), state, {bi, s.subi(j, s.idx(1)), c});
    });
    s.ifElse(s.lt(s.idx(0), tail), [&](Scalar &s) {
      s.store(x, state, {bi, s.subi(tail, s.idx(1)), c});
    });
  };
  guarded(s, activePosition(s, op.getLengths(), bi, t), step,
          [&](Scalar &s) { s.store(s.f32(0.0), out, {bi, t, c}); });
  return success();
}

//===----------------------------------------------------------------------===//
// windowed_attention: (batch, query head, query)
//===----------------------------------------------------------------------===//

/// The affine-free layer norm statistics (mean, 1/sqrt(var + 1e-6)) of
/// row[prefix..., 0:n].
static std::pair<Value, Value> qkNormStats(Scalar &s, Value row,
                                           ArrayRef<Value> prefix, Value n) {
  auto at = [&](Value d) {
    SmallVector<Value> index(prefix);
    index.push_back(d);
    return index;
  };
  Value count = arith::UIToFPOp::create(
      s.b, s.loc, s.b.getF32Type(),
      arith::IndexCastUIOp::create(s.b, s.loc, s.b.getI64Type(), n));
  Value mean = s.div(
      s.sum(n, [&](Scalar &s, Value d) { return s.load(row, at(d)); }), count);
  Value var = s.div(s.sum(n,
                          [&](Scalar &s, Value d) {
                            Value x = s.sub(s.load(row, at(d)), mean);
                            return s.mul(x, x);
                          }),
                    count);
  Value rstd = s.div(s.f32(1.0), s.sqrt(s.add(var, s.f32(1e-6))));
  return {mean, rstd};
}

LogicalResult mlir::hybrid::detail::emitScalarImplementation(
    WindowedAttentionOp op, OpBuilder &b, Location loc, ValueRange ivs) {
  Scalar s{b, loc};
  Value bi = ivs[0], h = ivs[1], i = ivs[2];
  Value q = op.getQ(), k = op.getK(), v = op.getV(), out = op.getOut();
  Value queries = s.dim(q, 1), keys = s.dim(k, 1);
  Value keyDim = s.dim(q, 3), valueDim = s.dim(v, 3);
  Value g = s.divi(h, s.divi(s.dim(q, 2), s.dim(k, 2)));
  // Query i sits at key position p = S - T + i and sees keys
  // (p - window, p].
  Value p = s.addi(s.subi(keys, queries), i);
  Value end = s.addi(p, s.idx(1));
  Value begin = s.idx(0);
  if (std::optional<int64_t> window = op.getWindow())
    begin = arith::MaxSIOp::create(s.b, s.loc, begin,
                                   s.subi(end, s.idx(*window)));
  Value scale = s.f32(op.getEffectiveScale());
  bool qkNorm = op.getQkNorm();
  std::pair<Value, Value> qStats;
  if (qkNorm)
    qStats = qkNormStats(s, q, {bi, i, h}, keyDim);
  s.withScratch(ivs, v, 3, [&](Scalar &s, Value acc) {
    s.loop(s.idx(0), valueDim, [&](Scalar &s, Value d) {
      memref::StoreOp::create(s.b, s.loc, s.f32(0.0), acc, ValueRange{d});
    });
    // Online softmax: the running maximum m and denominator l, the
    // accumulator rescaled by exp(m_old - m_new) whenever m grows.
    Value negInf = s.f32(-std::numeric_limits<double>::infinity());
    SmallVector<Value> ml = s.loop(
        begin, end, {negInf, s.f32(0.0)},
        [&](Scalar &s, Value j, ValueRange carried) -> SmallVector<Value> {
          auto attend = [&](Scalar &s) -> SmallVector<Value> {
            std::pair<Value, Value> kStats;
            if (qkNorm)
              kStats = qkNormStats(s, k, {bi, j, g}, keyDim);
            Value dot = s.sum(keyDim, [&](Scalar &s, Value d) {
              Value qd = s.load(q, {bi, i, h, d});
              Value kd = s.load(k, {bi, j, g, d});
              if (qkNorm) {
                qd = s.mul(s.sub(qd, qStats.first), qStats.second);
                kd = s.mul(s.sub(kd, kStats.first), kStats.second);
              }
              return s.mul(qd, kd);
            });
            Value score = s.mul(scale, dot);
            Value mNew = s.max(carried[0], score);
            Value correction = s.exp(s.sub(carried[0], mNew));
            Value weight = s.exp(s.sub(score, mNew));
            Value lNew = s.fma(carried[1], correction, weight);
            s.loop(s.idx(0), valueDim, [&](Scalar &s, Value d) {
              Value a = s.load(acc, {d});
              Value updated = s.fma(weight, s.load(v, {bi, j, g, d}),
                                    s.mul(a, correction));
              memref::StoreOp::create(s.b, s.loc, updated, acc,
                                      ValueRange{d});
            });
            return {mNew, lNew};
          };
          Value mask = op.getKeyMask();
          if (!mask)
            return attend(s);
          // A masked key leaves m, l and the accumulator as they are.
          Value allowed =
              memref::LoadOp::create(s.b, s.loc, mask, ValueRange{bi, j});
          auto ifOp = scf::IfOp::create(
              s.b, s.loc, allowed,
              [&](OpBuilder &nb, Location nl) {
                Scalar inner{nb, nl};
                scf::YieldOp::create(nb, nl, attend(inner));
              },
              [&](OpBuilder &nb, Location nl) {
                scf::YieldOp::create(nb, nl, carried);
              });
          return SmallVector<Value>(ifOp.getResults());
        });
    // A query that saw no key outputs zeros.
    Value seen = arith::CmpFOp::create(s.b, s.loc, arith::CmpFPredicate::OGT,
                                       ml[1], s.f32(0.0));
    Value inv = s.select(seen, s.div(s.f32(1.0), ml[1]), s.f32(0.0));
    s.loop(s.idx(0), valueDim, [&](Scalar &s, Value d) {
      s.store(s.mul(s.load(acc, {d}), inv), out, {bi, i, h, d});
    });
  });
  return success();
}

//===----------------------------------------------------------------------===//
// layer_norm, rms_norm: (rows..., features)
//===----------------------------------------------------------------------===//

/// The normalised dimension is the domain's last (reduction) loop. A row
/// needs its statistics before any element is written, so the whole row is
/// normalised at feature index 0 and the other indices do nothing.
static LogicalResult emitNorm(Value x, Value weight,
                              Value bias, Value out, float epsilon,
                              bool center, OpBuilder &b, Location loc,
                              ValueRange ivs) {
  Scalar s{b, loc};
  SmallVector<Value> row(ivs.drop_back());
  auto at = [&](Value f) {
    SmallVector<Value> index(row);
    index.push_back(f);
    return index;
  };
  int64_t rank = cast<MemRefType>(x.getType()).getRank();
  s.ifElse(s.eq(ivs.back(), s.idx(0)), [&](Scalar &s) {
    Value n = s.dim(x, rank - 1);
    Value count = arith::UIToFPOp::create(
        s.b, s.loc, s.b.getF32Type(),
        arith::IndexCastUIOp::create(s.b, s.loc, s.b.getI64Type(), n));
    Value mean = s.f32(0.0);
    if (center)
      mean = s.div(
          s.sum(n, [&](Scalar &s, Value f) { return s.load(x, at(f)); }),
          count);
    // Population variance about the mean (about 0 for RMSNorm).
    Value var = s.div(s.sum(n,
                            [&](Scalar &s, Value f) {
                              Value d = s.sub(s.load(x, at(f)), mean);
                              return s.mul(d, d);
                            }),
                      count);
    Value rstd = s.div(s.f32(1.0), s.sqrt(s.add(var, s.f32(epsilon))));
    s.loop(s.idx(0), n, [&](Scalar &s, Value f) {
      Value y = s.mul(s.sub(s.load(x, at(f)), mean), rstd);
      if (weight)
        y = s.mul(y, s.load(weight, {f}));
      if (bias)
        y = s.add(y, s.load(bias, {f}));
      s.store(y, out, at(f));
    });
  });
  return success();
}

LogicalResult mlir::hybrid::detail::emitScalarImplementation(
    LayerNormOp op, OpBuilder &b, Location loc, ValueRange ivs) {
  return emitNorm(op.getInput(), op.getWeight(), op.getBias(),
                  op.getOut(), op.getEpsilon().convertToFloat(),
                  /*center=*/true, b, loc, ivs);
}

LogicalResult mlir::hybrid::detail::emitScalarImplementation(
    RmsNormOp op, OpBuilder &b, Location loc, ValueRange ivs) {
  return emitNorm(op.getInput(), op.getWeight(), Value(), op.getOut(),
                  op.getEpsilon().convertToFloat(), /*center=*/false, b, loc,
                  ivs);
}
