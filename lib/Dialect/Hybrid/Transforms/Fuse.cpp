//===- Fuse.cpp - hybrid-fuse: fold element-wise math into ops -*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// Folds the element-wise math a model writes around its recurrences (as
// linalg.generic ops with arith/math bodies) into the hybrid ops that can
// do it in registers. Each pattern recognises one piece of math in a
// generic's body by walking the yielded value back to the block arguments;
// see the pass description (Passes.td) for the forms recognised and the
// conditions under which a fold is legal.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Dialect/Hybrid/Transforms/Passes.h"
#include "hybrid/Dialect/Hybrid/Transforms/Transforms.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::hybrid {
#define GEN_PASS_DEF_HYBRIDFUSE
#include "hybrid/Dialect/Hybrid/Transforms/Passes.h.inc"
} // namespace mlir::hybrid

using namespace mlir;
using namespace mlir::hybrid;

namespace {

//===----------------------------------------------------------------------===//
// Recognising math in a generic's body
//===----------------------------------------------------------------------===//

/// The op defining `v` if it is an `OpTy`.
template <typename OpTy>
OpTy def(Value v) {
  return v ? v.getDefiningOp<OpTy>() : OpTy();
}

/// `v` is the float constant `c`.
bool isFloat(Value v, double c) {
  FloatAttr attr;
  return v && matchPattern(v, m_Constant(&attr)) &&
         attr.getValueAsDouble() == c;
}

/// -x as negf(x), 0 - x or x * -1.
Value matchNeg(Value v) {
  if (auto n = def<arith::NegFOp>(v))
    return n.getOperand();
  if (auto s = def<arith::SubFOp>(v); s && isFloat(s.getLhs(), 0.0))
    return s.getRhs();
  if (auto m = def<arith::MulFOp>(v)) {
    if (isFloat(m.getRhs(), -1.0))
      return m.getLhs();
    if (isFloat(m.getLhs(), -1.0))
      return m.getRhs();
  }
  return {};
}

/// 1 + e (either order): returns e.
Value matchOnePlus(Value v) {
  auto a = def<arith::AddFOp>(v);
  if (!a)
    return {};
  if (isFloat(a.getLhs(), 1.0))
    return a.getRhs();
  if (isFloat(a.getRhs(), 1.0))
    return a.getLhs();
  return {};
}

/// x in 1 + exp(-x).
Value matchOnePlusExpNeg(Value v) {
  auto e = def<math::ExpOp>(matchOnePlus(v));
  return e ? matchNeg(e.getOperand()) : Value();
}

/// sigmoid(x) as 1 / (1 + exp(-x)).
Value matchSigmoid(Value v) {
  auto d = def<arith::DivFOp>(v);
  if (!d || !isFloat(d.getLhs(), 1.0))
    return {};
  return matchOnePlusExpNeg(d.getRhs());
}

/// silu(x) as x * sigmoid(x) (either order) or x / (1 + exp(-x)).
Value matchSilu(Value v) {
  if (auto m = def<arith::MulFOp>(v)) {
    if (Value x = matchSigmoid(m.getRhs()); x && x == m.getLhs())
      return x;
    if (Value x = matchSigmoid(m.getLhs()); x && x == m.getRhs())
      return x;
  }
  if (auto d = def<arith::DivFOp>(v)) {
    if (Value x = matchOnePlusExpNeg(d.getRhs()); x && x == d.getLhs())
      return x;
  }
  return {};
}

/// softplus(x) as log1p(exp(x)), log(1 + exp(x)), or the stable
/// max(x, 0) + log1p(exp(-|x|)) (either order of the sum).
Value matchSoftplus(Value v) {
  if (auto l = def<math::Log1pOp>(v))
    if (auto e = def<math::ExpOp>(l.getOperand()))
      return e.getOperand();
  if (auto l = def<math::LogOp>(v))
    if (auto e = def<math::ExpOp>(matchOnePlus(l.getOperand())))
      return e.getOperand();
  if (auto a = def<arith::AddFOp>(v)) {
    for (auto [mx, lg] : {std::pair(a.getLhs(), a.getRhs()),
                          std::pair(a.getRhs(), a.getLhs())}) {
      Value x;
      if (auto m = def<arith::MaximumFOp>(mx)) {
        if (isFloat(m.getRhs(), 0.0))
          x = m.getLhs();
        else if (isFloat(m.getLhs(), 0.0))
          x = m.getRhs();
      } else if (auto m = def<arith::MaxNumFOp>(mx)) {
        if (isFloat(m.getRhs(), 0.0))
          x = m.getLhs();
        else if (isFloat(m.getLhs(), 0.0))
          x = m.getRhs();
      }
      if (!x)
        continue;
      auto l = def<math::Log1pOp>(lg);
      auto e = l ? def<math::ExpOp>(l.getOperand()) : math::ExpOp();
      auto abs = e ? def<math::AbsFOp>(matchNeg(e.getOperand())) : math::AbsFOp();
      if (abs && abs.getOperand() == x)
        return x;
    }
  }
  return {};
}

/// The input index of block argument `v` of `generic`'s body, or -1.
int64_t inputIndex(linalg::GenericOp generic, Value v) {
  auto arg = dyn_cast_if_present<BlockArgument>(v);
  if (!arg || arg.getOwner() != generic.getBody() ||
      arg.getArgNumber() >= generic.getNumDpsInputs())
    return -1;
  return arg.getArgNumber();
}

/// The yielded value of a single-result, all-parallel, f32 generic whose
/// output map is the identity; null otherwise.
Value elementwiseBody(linalg::GenericOp generic) {
  if (generic.getNumDpsInits() != 1 || generic.getNumResults() != 1 ||
      generic.getNumReductionLoops() != 0 ||
      !generic.getMatchingIndexingMap(generic.getDpsInitOperand(0))
           .isIdentity() ||
      !generic.hasPureTensorSemantics())
    return {};
  if (!getElementTypeOrSelf(generic.getResult(0).getType()).isF32())
    return {};
  auto yield = cast<linalg::YieldOp>(generic.getBody()->getTerminator());
  return yield.getOperand(0);
}

/// Input `i` of `generic` is read with the identity map and has the type of
/// `like`.
bool isIdentityInput(linalg::GenericOp generic, int64_t i, Value like) {
  OpOperand *operand = generic.getDpsInputOperand(i);
  return generic.getMatchingIndexingMap(operand).isIdentity() &&
         operand->get().getType() == like.getType();
}

/// Input `i` of `generic` is a per-channel vector [C] read as (..., c) ->
/// (c) over a rank-r iteration space, with the f32 type `vectorType`
/// expects (the op's per-channel operand shape).
bool isChannelInput(linalg::GenericOp generic, int64_t i) {
  OpOperand *operand = generic.getDpsInputOperand(i);
  AffineMap map = generic.getMatchingIndexingMap(operand);
  unsigned r = map.getNumDims();
  auto type = cast<RankedTensorType>(operand->get().getType());
  return map.getNumResults() == 1 &&
         map.getResult(0) == getAffineDimExpr(r - 1, map.getContext()) &&
         type.getRank() == 1 && type.getElementType().isF32();
}

/// For a binary op `bin` of `generic`'s body whose operands are two block
/// arguments, in either order: one read element-wise with the type of
/// `like`, the other a per-channel vector. Returns (element-wise input,
/// per-channel input), or nulls.
template <typename BinOp>
std::pair<Value, Value> matchWithChannel(linalg::GenericOp generic, Value bin,
                                         Value like) {
  auto op = def<BinOp>(bin);
  if (!op)
    return {};
  int64_t a = inputIndex(generic, op.getLhs());
  int64_t b = inputIndex(generic, op.getRhs());
  if (a < 0 || b < 0)
    return {};
  if (!isIdentityInput(generic, a, like))
    std::swap(a, b);
  if (!isIdentityInput(generic, a, like) || !isChannelInput(generic, b))
    return {};
  return {generic.getDpsInputOperand(a)->get(),
          generic.getDpsInputOperand(b)->get()};
}

/// `v` is defined before `op` (so `op` may use it).
bool dominates(Value v, Operation *op) {
  return DominanceInfo(op).properlyDominates(v, op);
}

//===----------------------------------------------------------------------===//
// ssm_scan
//===----------------------------------------------------------------------===//

/// delta = softplus(dt + bias) (or softplus(dt)) -> delta(dt)
/// delta_bias(bias) delta_softplus.
struct FuseScanDiscretisation : OpRewritePattern<SsmScanOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SsmScanOp scan,
                                PatternRewriter &rw) const override {
    if (!scan.hasPureTensorSemantics())
      return rw.notifyMatchFailure(scan, "memref form");
    if (scan.getDeltaSoftplus() || scan.getDeltaBias())
      return rw.notifyMatchFailure(scan, "already discretised in the op");
    auto generic = scan.getDelta().getDefiningOp<linalg::GenericOp>();
    if (!generic || !scan.getDelta().hasOneUse())
      return rw.notifyMatchFailure(scan, "delta is not a single-use generic");
    Value x = matchSoftplus(elementwiseBody(generic));
    if (!x)
      return rw.notifyMatchFailure(scan, "delta is not softplus(...)");
    Value dt, bias;
    if (int64_t i = inputIndex(generic, x); i >= 0) {
      if (!isIdentityInput(generic, i, scan.getDelta()))
        return rw.notifyMatchFailure(scan, "dt is not read element-wise");
      dt = generic.getDpsInputOperand(i)->get();
    } else {
      std::tie(dt, bias) =
          matchWithChannel<arith::AddFOp>(generic, x, scan.getDelta());
      if (!dt)
        return rw.notifyMatchFailure(scan, "not softplus(dt[b,t,c] + bias[c])");
    }
    rw.modifyOpInPlace(scan, [&] {
      scan.getDeltaMutable().assign(dt);
      if (bias)
        scan.getDeltaBiasMutable().assign(bias);
      scan.setDeltaSoftplus(true);
    });
    return success();
  }
};

/// delta(dt + bias) with the softplus in the op already (delta_softplus, no
/// delta_bias) -> delta(dt) delta_bias(bias).
struct FuseScanDeltaBias : OpRewritePattern<SsmScanOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SsmScanOp scan,
                                PatternRewriter &rw) const override {
    if (!scan.hasPureTensorSemantics())
      return rw.notifyMatchFailure(scan, "memref form");
    if (scan.getDeltaBias())
      return rw.notifyMatchFailure(scan, "has a delta bias already");
    auto generic = scan.getDelta().getDefiningOp<linalg::GenericOp>();
    if (!generic || !scan.getDelta().hasOneUse())
      return rw.notifyMatchFailure(scan, "delta is not a single-use generic");
    auto [dtMatch, biasMatch] = matchWithChannel<arith::AddFOp>(
        generic, elementwiseBody(generic), scan.getDelta());
    Value dt = dtMatch, bias = biasMatch;
    if (!dt)
      return rw.notifyMatchFailure(scan, "not dt[b,t,c] + bias[c]");
    // Without the softplus in the op, delta = dt + bias is the same either
    // way; with it, softplus(dt + bias) is what the op computes.
    rw.modifyOpInPlace(scan, [&] {
      scan.getDeltaMutable().assign(dt);
      scan.getDeltaBiasMutable().assign(bias);
    });
    return success();
  }
};

/// The single-use generic consuming result `y` of `op`, with its yielded
/// value; null when there is none.
std::pair<linalg::GenericOp, Value> soleElementwiseUser(Value y) {
  if (!y.hasOneUse())
    return {};
  auto generic = dyn_cast<linalg::GenericOp>(*y.getUsers().begin());
  if (!generic || generic.getNumDpsInputs() < 1 ||
      llvm::any_of(generic.getDpsInits(), [&](Value v) { return v == y; }))
    return {};
  Value body = elementwiseBody(generic);
  if (!body || generic.getResult(0).getType() != y.getType())
    return {};
  return {generic, body};
}

/// True when `v` is the block argument that reads `scan`'s y element-wise.
bool isScanOutput(linalg::GenericOp generic, Value v, SsmScanOp scan) {
  int64_t i = inputIndex(generic, v);
  return i >= 0 && generic.getDpsInputOperand(i)->get() == scan.getY() &&
         isIdentityInput(generic, i, scan.getY());
}

/// D in `expr` = y + D * u (any order; u the scan's own input, D a
/// per-channel vector defined before the scan); null otherwise.
Value matchSkip(linalg::GenericOp generic, Value expr, SsmScanOp scan) {
  auto add = def<arith::AddFOp>(expr);
  if (!add)
    return {};
  for (auto [yv, prod] : {std::pair(add.getLhs(), add.getRhs()),
                          std::pair(add.getRhs(), add.getLhs())}) {
    if (!isScanOutput(generic, yv, scan))
      continue;
    auto [u, d] = matchWithChannel<arith::MulFOp>(generic, prod, scan.getU());
    if (u && u == scan.getU() && dominates(d, scan))
      return d;
  }
  return {};
}

/// y + D * u -> D(D) (u the scan's own input).
struct FuseScanSkip : OpRewritePattern<SsmScanOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SsmScanOp scan,
                                PatternRewriter &rw) const override {
    if (!scan.hasPureTensorSemantics())
      return rw.notifyMatchFailure(scan, "memref form");
    if (scan.getD() || scan.getZ())
      return rw.notifyMatchFailure(scan, "has a skip or a gate already");
    auto [generic, body] = soleElementwiseUser(scan.getY());
    if (!generic)
      return rw.notifyMatchFailure(scan, "y has no single element-wise user");
    Value d = matchSkip(generic, body, scan);
    if (!d)
      return rw.notifyMatchFailure(scan, "not y + D * u with the scan's u");
    rw.modifyOpInPlace(scan, [&] { scan.getDMutable().assign(d); });
    rw.replaceOp(generic, scan.getY());
    return success();
  }
};

/// y * silu(z) -> z(z); (y + D * u) * silu(z) -> D(D) z(z).
struct FuseScanGate : OpRewritePattern<SsmScanOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SsmScanOp scan,
                                PatternRewriter &rw) const override {
    if (!scan.hasPureTensorSemantics())
      return rw.notifyMatchFailure(scan, "memref form");
    if (scan.getZ())
      return rw.notifyMatchFailure(scan, "has a gate already");
    auto [generic, body] = soleElementwiseUser(scan.getY());
    if (!generic)
      return rw.notifyMatchFailure(scan, "y has no single element-wise user");
    auto mul = def<arith::MulFOp>(body);
    if (!mul)
      return rw.notifyMatchFailure(scan, "not y * silu(z)");
    for (auto [yv, gate] : {std::pair(mul.getLhs(), mul.getRhs()),
                            std::pair(mul.getRhs(), mul.getLhs())}) {
      Value d;
      if (!isScanOutput(generic, yv, scan)) {
        d = scan.getD() ? Value() : matchSkip(generic, yv, scan);
        if (!d)
          continue;
      }
      int64_t zi = inputIndex(generic, matchSilu(gate));
      if (zi < 0)
        continue;
      Value z = generic.getDpsInputOperand(zi)->get();
      if (!isIdentityInput(generic, zi, scan.getU()) || !dominates(z, scan))
        continue;
      rw.modifyOpInPlace(scan, [&] {
        if (d)
          scan.getDMutable().assign(d);
        scan.getZMutable().assign(z);
      });
      rw.replaceOp(generic, scan.getY());
      return success();
    }
    return rw.notifyMatchFailure(scan, "not y * silu(z) or (y + D u) * silu(z)");
  }
};

//===----------------------------------------------------------------------===//
// causal_conv1d
//===----------------------------------------------------------------------===//

/// silu(conv(x)) -> conv(x) activation silu.
struct FuseConvActivation : OpRewritePattern<CausalConv1dOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CausalConv1dOp conv,
                                PatternRewriter &rw) const override {
    if (!conv.hasPureTensorSemantics())
      return rw.notifyMatchFailure(conv, "memref form");
    if (conv.getActivation() != Activation::none)
      return rw.notifyMatchFailure(conv, "has an activation already");
    auto [generic, body] = soleElementwiseUser(conv.getY());
    if (!generic || generic.getNumDpsInputs() != 1)
      return rw.notifyMatchFailure(conv, "y has no single unary user");
    if (inputIndex(generic, matchSilu(body)) != 0 ||
        !isIdentityInput(generic, 0, conv.getY()))
      return rw.notifyMatchFailure(conv, "the user is not silu(y)");
    rw.modifyOpInPlace(conv, [&] { conv.setActivation(Activation::silu); });
    rw.replaceOp(generic, conv.getY());
    return success();
  }
};

//===----------------------------------------------------------------------===//
// rg_lru
//===----------------------------------------------------------------------===//

/// The factors of a product tree of arith.mulf (in any association).
void productFactors(Value v, SmallVectorImpl<Value> &factors) {
  if (auto m = def<arith::MulFOp>(v)) {
    productFactors(m.getLhs(), factors);
    productFactors(m.getRhs(), factors);
    return;
  }
  factors.push_back(v);
}

/// The core form's gate math folded into the gated form:
///   x     = sigmoid(gate_x) * x_raw
///   log_a = -c * sigmoid(gate_a) * softplus(a_param)
/// -> rg_lru x(x_raw) gate_x(gate_x) gate_a(gate_a) a_param(a_param) c.
struct FuseLruGates : OpRewritePattern<RgLruOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RgLruOp lru,
                                PatternRewriter &rw) const override {
    if (!lru.hasPureTensorSemantics())
      return rw.notifyMatchFailure(lru, "memref form");
    if (!lru.getLogA())
      return rw.notifyMatchFailure(lru, "already in the gated form");
    auto xGen = lru.getX().getDefiningOp<linalg::GenericOp>();
    auto aGen = lru.getLogA().getDefiningOp<linalg::GenericOp>();
    if (!xGen || !aGen || !lru.getX().hasOneUse() ||
        !lru.getLogA().hasOneUse())
      return rw.notifyMatchFailure(lru, "x or log_a is not a single-use generic");
    // x = sigmoid(gx) * x_raw.
    Value gateX, raw;
    {
      SmallVector<Value> f;
      productFactors(elementwiseBody(xGen), f);
      if (f.size() != 2)
        return rw.notifyMatchFailure(lru, "x is not sigmoid(gate_x) * x");
      for (int i = 0; i < 2 && !gateX; ++i) {
        int64_t g = inputIndex(xGen, matchSigmoid(f[i]));
        int64_t r = inputIndex(xGen, f[1 - i]);
        if (g < 0 || r < 0 || !isIdentityInput(xGen, g, lru.getX()) ||
            !isIdentityInput(xGen, r, lru.getX()))
          continue;
        gateX = xGen.getDpsInputOperand(g)->get();
        raw = xGen.getDpsInputOperand(r)->get();
      }
      if (!gateX)
        return rw.notifyMatchFailure(lru, "x is not sigmoid(gate_x) * x");
    }
    // log_a = k * sigmoid(ga) * softplus(lam), k = -c < 0.
    Value gateA, aParam;
    double c = 0.0;
    {
      SmallVector<Value> f;
      productFactors(elementwiseBody(aGen), f);
      if (f.size() != 3)
        return rw.notifyMatchFailure(lru, "log_a is not -c sigmoid(gate_a) softplus(a_param)");
      for (Value v : f) {
        FloatAttr k;
        if (matchPattern(v, m_Constant(&k))) {
          c = -k.getValueAsDouble();
          continue;
        }
        if (int64_t g = inputIndex(aGen, matchSigmoid(v));
            g >= 0 && isIdentityInput(aGen, g, lru.getX())) {
          gateA = aGen.getDpsInputOperand(g)->get();
          continue;
        }
        if (int64_t l = inputIndex(aGen, matchSoftplus(v));
            l >= 0 && isChannelInput(aGen, l)) {
          aParam = aGen.getDpsInputOperand(l)->get();
          continue;
        }
      }
      if (!gateA || !aParam || !(c > 0.0))
        return rw.notifyMatchFailure(lru, "log_a is not -c sigmoid(gate_a) softplus(a_param)");
    }
    rw.modifyOpInPlace(lru, [&] {
      lru.getXMutable().assign(raw);
      lru.getLogAMutable().clear();
      lru.getGateXMutable().assign(gateX);
      lru.getGateAMutable().assign(gateA);
      lru.getAParamMutable().assign(aParam);
      lru.setCAttr(rw.getF32FloatAttr(static_cast<float>(c)));
    });
    return success();
  }
};

//===----------------------------------------------------------------------===//
// delta_rule
//===----------------------------------------------------------------------===//

/// beta = sigmoid(b) -> beta(b) beta_sigmoid.
struct FuseDeltaBetaSigmoid : OpRewritePattern<DeltaRuleOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DeltaRuleOp op,
                                PatternRewriter &rw) const override {
    if (!op.hasPureTensorSemantics())
      return rw.notifyMatchFailure(op, "memref form");
    if (op.getBetaSigmoid())
      return rw.notifyMatchFailure(op, "applies beta's sigmoid already");
    auto generic = op.getBeta().getDefiningOp<linalg::GenericOp>();
    if (!generic || !op.getBeta().hasOneUse())
      return rw.notifyMatchFailure(op, "beta is not a single-use generic");
    int64_t i = inputIndex(generic, matchSigmoid(elementwiseBody(generic)));
    if (i < 0 || !isIdentityInput(generic, i, op.getBeta()))
      return rw.notifyMatchFailure(op, "beta is not sigmoid(b)");
    Value raw = generic.getDpsInputOperand(i)->get();
    rw.modifyOpInPlace(op, [&] {
      op.getBetaMutable().assign(raw);
      op.setBetaSigmoid(true);
    });
    return success();
  }
};

/// log_decay = -exp(A_log[h]) * softplus(a + dt_bias[h]) -> log_decay(a)
/// decay_a_log(A_log) decay_bias(dt_bias).
struct FuseDeltaDecay : OpRewritePattern<DeltaRuleOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DeltaRuleOp op,
                                PatternRewriter &rw) const override {
    if (!op.hasPureTensorSemantics())
      return rw.notifyMatchFailure(op, "memref form");
    if (!op.getLogDecay() || op.getDecayALog())
      return rw.notifyMatchFailure(op, "no raw decay to activate");
    auto generic = op.getLogDecay().getDefiningOp<linalg::GenericOp>();
    if (!generic || !op.getLogDecay().hasOneUse())
      return rw.notifyMatchFailure(op, "log_decay is not a single-use generic");
    // -(exp(A) * sp), (-exp(A)) * sp or sp * (-exp(A)).
    Value body = elementwiseBody(generic);
    SmallVector<Value> factors;
    if (Value inner = matchNeg(body)) {
      productFactors(inner, factors);
    } else {
      productFactors(body, factors);
      bool negated = false;
      for (Value &f : factors) {
        if (Value n = matchNeg(f); n && def<math::ExpOp>(n)) {
          f = n;
          negated = true;
          break;
        }
      }
      if (!negated)
        factors.clear();
    }
    if (factors.size() != 2)
      return rw.notifyMatchFailure(op, "log_decay is not -exp(A) softplus(a + b)");
    Value aLog, raw, bias;
    for (Value f : factors) {
      if (auto e = def<math::ExpOp>(f)) {
        int64_t i = inputIndex(generic, e.getOperand());
        if (i >= 0 && isChannelInput(generic, i))
          aLog = generic.getDpsInputOperand(i)->get();
        continue;
      }
      if (auto [x, b] = matchWithChannel<arith::AddFOp>(
              generic, matchSoftplus(f), op.getLogDecay());
          x) {
        raw = x;
        bias = b;
      }
    }
    if (!aLog || !raw || !bias)
      return rw.notifyMatchFailure(op, "log_decay is not -exp(A) softplus(a + b)");
    rw.modifyOpInPlace(op, [&] {
      op.getLogDecayMutable().assign(raw);
      op.getDecayALogMutable().assign(aLog);
      op.getDecayBiasMutable().assign(bias);
    });
    return success();
  }
};

/// Every use of `v` is an operand of `op`.
bool onlyUsedBy(Value v, Operation *op) {
  return llvm::all_of(v.getUsers(), [&](Operation *u) { return u == op; });
}

/// `v` is the float constant `c` up to f32 rounding.
bool isNearly(Value v, double c) {
  FloatAttr attr;
  return v && matchPattern(v, m_Constant(&attr)) &&
         std::abs(attr.getValueAsDouble() - c) <= 1e-6 * std::abs(c);
}

/// s + 1e-6 (either order): returns s.
Value matchPlusL2Epsilon(Value v) {
  auto a = def<arith::AddFOp>(v);
  if (!a)
    return {};
  if (isNearly(a.getRhs(), 1e-6))
    return a.getLhs();
  if (isNearly(a.getLhs(), 1e-6))
    return a.getRhs();
  return {};
}

/// The sum of squares over the last dimension written as a linalg.generic
/// (parallel loops, then one reduction; body acc + x * x in either order)
/// into a zero-filled destination: returns x.
Value matchSumOfSquares(Value v) {
  auto generic = def<linalg::GenericOp>(v);
  if (!generic || generic.getNumDpsInputs() != 1 ||
      generic.getNumDpsInits() != 1 || generic.getNumReductionLoops() != 1 ||
      !generic.hasPureTensorSemantics())
    return {};
  unsigned rank = generic.getNumLoops();
  SmallVector<utils::IteratorType> iters = generic.getIteratorTypesArray();
  if (iters.back() != utils::IteratorType::reduction)
    return {};
  OpOperand *in = generic.getDpsInputOperand(0);
  OpOperand *init = generic.getDpsInitOperand(0);
  AffineMap dropLast = AffineMap::getMultiDimIdentityMap(rank, v.getContext())
                           .getMajorSubMap(rank - 1);
  if (!generic.getMatchingIndexingMap(in).isIdentity() ||
      generic.getMatchingIndexingMap(init) != dropLast)
    return {};
  auto fill = init->get().getDefiningOp<linalg::FillOp>();
  if (!fill || !isFloat(fill.getInputs()[0], 0.0))
    return {};
  Block *body = generic.getBody();
  auto add = def<arith::AddFOp>(body->getTerminator()->getOperand(0));
  if (!add)
    return {};
  Value acc = body->getArgument(1), x = body->getArgument(0);
  for (auto [a, m] : {std::pair(add.getLhs(), add.getRhs()),
                      std::pair(add.getRhs(), add.getLhs())}) {
    auto mul = def<arith::MulFOp>(m);
    if (a == acc && mul && mul.getLhs() == x && mul.getRhs() == x)
      return in->get();
  }
  return {};
}

/// The L2 normalisation over the last dimension that delta_rule's
/// `qk_l2norm` applies, x / sqrt(Σx² + 1e-6), as a model writes it:
///  * the frontend's form: rms_norm(x, epsilon 1e-6/n) (no weight) times
///    1/sqrt(n) in a generic;
///  * in linalg: Σx² as a reduction generic, then a generic computing
///    x * rsqrt(s + 1e-6), x / sqrt(s + 1e-6) or x * (1 / sqrt(s + 1e-6)).
/// Returns x; null when `v` is not such a normalisation, or its
/// intermediates have uses other than `user`.
Value matchL2Normalized(Value v, Operation *user) {
  auto generic = def<linalg::GenericOp>(v);
  if (!generic || !onlyUsedBy(v, user))
    return {};
  Value body = elementwiseBody(generic);
  auto type = dyn_cast<RankedTensorType>(v.getType());
  if (!body || !type || type.isDynamicDim(type.getRank() - 1))
    return {};
  double n = static_cast<double>(type.getShape().back());
  // rms_norm(x, 1e-6 / n) * (1 / sqrt(n)).
  if (auto m = def<arith::MulFOp>(body)) {
    for (auto [a, c] : {std::pair(m.getLhs(), m.getRhs()),
                        std::pair(m.getRhs(), m.getLhs())}) {
      int64_t i = inputIndex(generic, a);
      if (i < 0 || !isNearly(c, 1.0 / std::sqrt(n)) ||
          !isIdentityInput(generic, i, v))
        continue;
      Value r = generic.getDpsInputOperand(i)->get();
      auto rms = r.getDefiningOp<RmsNormOp>();
      if (rms && !rms.getWeight() && r.hasOneUse() &&
          std::abs(rms.getEpsilon().convertToDouble() * n - 1e-6) <= 1e-12)
        return rms.getInput();
    }
  }
  // x * rsqrt(s + eps), x * (1 / sqrt(s + eps)) or x / sqrt(s + eps).
  Value xArg, sumArg;
  if (auto m = def<arith::MulFOp>(body)) {
    for (auto [a, r] : {std::pair(m.getLhs(), m.getRhs()),
                        std::pair(m.getRhs(), m.getLhs())}) {
      if (auto rs = def<math::RsqrtOp>(r)) {
        xArg = a;
        sumArg = matchPlusL2Epsilon(rs.getOperand());
      } else if (auto d = def<arith::DivFOp>(r); d && isFloat(d.getLhs(), 1.0)) {
        if (auto sq = def<math::SqrtOp>(d.getRhs())) {
          xArg = a;
          sumArg = matchPlusL2Epsilon(sq.getOperand());
        }
      }
      if (sumArg)
        break;
    }
  } else if (auto d = def<arith::DivFOp>(body)) {
    if (auto sq = def<math::SqrtOp>(d.getRhs())) {
      xArg = d.getLhs();
      sumArg = matchPlusL2Epsilon(sq.getOperand());
    }
  }
  int64_t xi = inputIndex(generic, xArg), si = inputIndex(generic, sumArg);
  if (xi < 0 || si < 0 || !isIdentityInput(generic, xi, v))
    return {};
  unsigned rank = generic.getNumLoops();
  OpOperand *sum = generic.getDpsInputOperand(si);
  if (generic.getMatchingIndexingMap(sum) !=
          AffineMap::getMultiDimIdentityMap(rank, v.getContext())
              .getMajorSubMap(rank - 1) ||
      !sum->get().hasOneUse())
    return {};
  Value x = generic.getDpsInputOperand(xi)->get();
  return matchSumOfSquares(sum->get()) == x ? x : Value();
}

/// q = l2norm(q_raw), k = l2norm(k_raw) -> q(q_raw) k(k_raw) qk_l2norm.
/// Both or neither: the op's flag normalises both.
struct FuseDeltaQkL2Norm : OpRewritePattern<DeltaRuleOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DeltaRuleOp op,
                                PatternRewriter &rw) const override {
    if (!op.hasPureTensorSemantics())
      return rw.notifyMatchFailure(op, "memref form");
    if (op.getQkL2norm())
      return rw.notifyMatchFailure(op, "normalises q and k already");
    Value q = matchL2Normalized(op.getQ(), op);
    Value k = matchL2Normalized(op.getK(), op);
    if (!q || !k)
      return rw.notifyMatchFailure(op, "q and k are not both L2-normalised");
    rw.modifyOpInPlace(op, [&] {
      op.getQMutable().assign(q);
      op.getKMutable().assign(k);
      op.setQkL2norm(true);
    });
    return success();
  }
};

//===----------------------------------------------------------------------===//
// gated_parallel: the Hymba mixing
//===----------------------------------------------------------------------===//

/// The gated mix g * s + (1 - g) * a, in the forms a model writes it:
/// g*s + (1-g)*a (any order of the sums and products) or a + g*(s - a).
/// Returns the block arguments (g, s, a), or nulls.
std::tuple<Value, Value, Value> matchGatedMix(Value body) {
  auto add = def<arith::AddFOp>(body);
  if (!add)
    return {};
  for (auto [l, r] : {std::pair(add.getLhs(), add.getRhs()),
                      std::pair(add.getRhs(), add.getLhs())}) {
    // a + g * (s - a).
    if (auto m = def<arith::MulFOp>(r)) {
      for (auto [g, d] : {std::pair(m.getLhs(), m.getRhs()),
                          std::pair(m.getRhs(), m.getLhs())}) {
        auto sub = def<arith::SubFOp>(d);
        if (sub && sub.getRhs() == l)
          return {g, sub.getLhs(), l};
      }
    }
    // g * s + (1 - g) * a.
    auto ms = def<arith::MulFOp>(l), ma = def<arith::MulFOp>(r);
    if (!ms || !ma)
      continue;
    for (auto [g, sv] : {std::pair(ms.getLhs(), ms.getRhs()),
                         std::pair(ms.getRhs(), ms.getLhs())}) {
      for (auto [oneMinus, av] : {std::pair(ma.getLhs(), ma.getRhs()),
                                  std::pair(ma.getRhs(), ma.getLhs())}) {
        auto sub = def<arith::SubFOp>(oneMinus);
        if (sub && isFloat(sub.getLhs(), 1.0) && sub.getRhs() == g)
          return {g, sv, av};
      }
    }
  }
  return {};
}

/// A branch of a Hymba block: the ops (in block order) that compute `root`
/// and nothing else needed outside it, and the values they compute that
/// are used after the mix (final states): extra results.
struct Branch {
  SmallVector<Operation *> ops;
  SmallVector<Value> escaping;
};

/// The ops of `root`'s backward slice within `block` that are not in
/// `shared` (the other branch's and the gate's slices). Fails when one of
/// them has memory effects, or a value of them is used outside the branch
/// before `mix` or is not a tensor.
FailureOr<Branch> collectBranch(Value root, Block *block,
                                const llvm::SetVector<Operation *> &slice,
                                const llvm::SetVector<Operation *> &shared,
                                Operation *mix) {
  Branch branch;
  llvm::SmallPtrSet<Operation *, 16> members;
  for (Operation *op : slice)
    if (!shared.contains(op))
      members.insert(op);
  for (Operation &op : *block) {
    if (!members.contains(&op))
      continue;
    if (!isMemoryEffectFree(&op))
      return failure();
    branch.ops.push_back(&op);
    for (Value result : op.getResults()) {
      bool escapes = false;
      for (OpOperand &use : result.getUses()) {
        Operation *user = block->findAncestorOpInBlock(*use.getOwner());
        if (user == mix || (user && members.contains(user)))
          continue;
        // A use outside the branch must come after the mix, which the
        // extra result replaces it with.
        if (!user || !mix->isBeforeInBlock(user) ||
            !isa<RankedTensorType>(result.getType()))
          return failure();
        escapes = true;
      }
      if (escapes && result != root)
        branch.escaping.push_back(result);
    }
  }
  if (branch.ops.empty())
    return failure();
  return branch;
}

/// out = g * s + (1 - g) * a, where s and a are computed by two branches
/// from one input -> hybrid.gated_parallel(input, g) with the branches as
/// its regions (their final states as extra results).
struct FuseParallelMix : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(linalg::GenericOp mix,
                                PatternRewriter &rw) const override {
    Value body = elementwiseBody(mix);
    if (!body || mix.getNumDpsInputs() != 3 ||
        mix->getParentOfType<GatedParallelOp>())
      return rw.notifyMatchFailure(mix, "not a three-input element-wise op");
    auto [gArg, sArg, aArg] = matchGatedMix(body);
    int64_t gi = inputIndex(mix, gArg), si = inputIndex(mix, sArg),
            ai = inputIndex(mix, aArg);
    Value out = mix.getResult(0);
    if (gi < 0 || si < 0 || ai < 0 || !isIdentityInput(mix, gi, out) ||
        !isIdentityInput(mix, si, out) || !isIdentityInput(mix, ai, out))
      return rw.notifyMatchFailure(mix, "not g * s + (1 - g) * a");
    Value g = mix.getDpsInputOperand(gi)->get();
    Value sv = mix.getDpsInputOperand(si)->get();
    Value av = mix.getDpsInputOperand(ai)->get();
    Block *block = mix->getBlock();
    if (sv == av || !sv.hasOneUse() || !av.hasOneUse() ||
        !sv.getDefiningOp() || !av.getDefiningOp() ||
        sv.getDefiningOp()->getBlock() != block ||
        av.getDefiningOp()->getBlock() != block)
      return rw.notifyMatchFailure(mix, "the branch outputs are not two "
                                        "single-use values of this block");
    BackwardSliceOptions options;
    options.inclusive = true;
    options.filter = [&](Operation *op) { return op->getBlock() == block; };
    llvm::SetVector<Operation *> sSlice, aSlice, gSlice;
    if (failed(getBackwardSlice(sv, &sSlice, options)) ||
        failed(getBackwardSlice(av, &aSlice, options)))
      return failure();
    if (Operation *gDef = g.getDefiningOp();
        gDef && gDef->getBlock() == block &&
        failed(getBackwardSlice(g, &gSlice, options)))
      return failure();
    llvm::SetVector<Operation *> notS(aSlice.begin(), aSlice.end());
    notS.insert(gSlice.begin(), gSlice.end());
    llvm::SetVector<Operation *> notA(sSlice.begin(), sSlice.end());
    notA.insert(gSlice.begin(), gSlice.end());
    FailureOr<Branch> sb = collectBranch(sv, block, sSlice, notS, mix);
    FailureOr<Branch> ab = collectBranch(av, block, aSlice, notA, mix);
    if (failed(sb) || failed(ab))
      return rw.notifyMatchFailure(
          mix, "a branch has effects, no ops of its own, or values used "
               "before the mix");
    // The input: a value both branches read from outside themselves.
    llvm::SmallPtrSet<Operation *, 16> inS(sb->ops.begin(), sb->ops.end());
    llvm::SmallPtrSet<Operation *, 16> inA(ab->ops.begin(), ab->ops.end());
    // The values a branch's ops (and the ops nested in them) read that are
    // defined outside the branch, in order.
    auto readsFromOutside = [&](ArrayRef<Operation *> ops,
                                const llvm::SmallPtrSet<Operation *, 16> &own,
                                llvm::SetVector<Value> &values) {
      auto inside = [&](Value v) {
        Operation *d = v.getDefiningOp();
        if (!d)
          d = cast<BlockArgument>(v).getOwner()->getParentOp();
        Operation *top = d ? block->findAncestorOpInBlock(*d) : nullptr;
        return top && own.contains(top);
      };
      for (Operation *op : ops)
        op->walk([&](Operation *nested) {
          for (Value v : nested->getOperands())
            if (!inside(v))
              values.insert(v);
        });
    };
    llvm::SetVector<Value> sReads, aReads;
    readsFromOutside(sb->ops, inS, sReads);
    readsFromOutside(ab->ops, inA, aReads);
    Value input;
    for (Value v : sReads)
      if (aReads.contains(v) && isa<RankedTensorType>(v.getType()) &&
          isa<FloatType>(cast<RankedTensorType>(v.getType()).getElementType()) &&
          !matchPattern(v, m_Constant())) {
        input = v;
        break;
      }
    if (!input)
      return rw.notifyMatchFailure(mix, "the branches read no common input");

    SmallVector<Type> types{out.getType()};
    for (Value e : sb->escaping)
      types.push_back(e.getType());
    for (Value e : ab->escaping)
      types.push_back(e.getType());
    rw.setInsertionPoint(mix);
    auto par = GatedParallelOp::create(rw, mix.getLoc(), types, input, g);
    for (auto [region, branch, root] :
         {std::tuple(&par.getBackbone(), &*sb, sv),
          std::tuple(&par.getAttention(), &*ab, av)}) {
      Block *regionBlock = rw.createBlock(region, {}, {input.getType()},
                                          {mix.getLoc()});
      for (Operation *op : branch->ops) {
        rw.moveOpBefore(op, regionBlock, regionBlock->end());
        rw.modifyOpInPlace(op, [&] {
          op->walk([&](Operation *nested) {
            for (OpOperand &operand : nested->getOpOperands())
              if (operand.get() == input)
                operand.set(regionBlock->getArgument(0));
          });
        });
      }
      SmallVector<Value> yielded{root};
      llvm::append_range(yielded, branch->escaping);
      rw.setInsertionPointToEnd(regionBlock);
      YieldOp::create(rw, mix.getLoc(), yielded);
    }
    unsigned next = 1;
    for (Value e : llvm::concat<Value>(sb->escaping, ab->escaping))
      rw.replaceUsesWithIf(e, par.getResult(next++), [&](OpOperand &use) {
        return !par->isAncestor(use.getOwner());
      });
    rw.replaceOp(mix, par.getResult(0));
    return success();
  }
};

struct HybridFusePass : hybrid::impl::HybridFuseBase<HybridFusePass> {
  using Base::Base;

  void runOnOperation() override {
    FrozenRewritePatternSet patterns = [&] {
      RewritePatternSet set(&getContext());
      populateHybridFusePatterns(set);
      // Shape queries are not uses: `tensor.dim` of a producer's result
      // becomes `tensor.dim` of its destination (a destination-style op's
      // builder asks its first operand for the sizes of its destinations).
      tensor::DimOp::getCanonicalizationPatterns(set, &getContext());
      return FrozenRewritePatternSet(std::move(set));
    }();
    // The folds first, on the generics as written (a gate's operand may be
    // the output of another element-wise op, e.g. a bias add).
    if (failed(applyPatternsGreedily(getOperation(), patterns)))
      return signalPassFailure();
    // Then merge what is still a chain of element-wise generics (dt + bias,
    // then softplus) into one body, as the folds expect, and fold again.
    // Only into element-wise consumers, only single-use producers.
    {
      RewritePatternSet fusion(&getContext());
      linalg::populateElementwiseOpsFusionPatterns(
          fusion, [](OpOperand *operand) {
            auto consumer = dyn_cast<linalg::LinalgOp>(operand->getOwner());
            return consumer && consumer.getNumReductionLoops() == 0 &&
                   operand->get().getDefiningOp<linalg::GenericOp>() &&
                   operand->get().hasOneUse();
          });
      if (failed(applyPatternsGreedily(getOperation(), std::move(fusion))))
        return signalPassFailure();
    }
    if (failed(applyPatternsGreedily(getOperation(), patterns)))
      return signalPassFailure();
  }
};

} // namespace

void mlir::hybrid::populateHybridFusePatterns(RewritePatternSet &patterns) {
  // The skip is folded before the gate (the op applies D, then the gate).
  patterns.add<FuseScanSkip>(patterns.getContext(), /*benefit=*/2);
  patterns.add<FuseScanDiscretisation, FuseScanDeltaBias, FuseScanGate,
               FuseConvActivation, FuseLruGates, FuseDeltaBetaSigmoid,
               FuseDeltaDecay, FuseDeltaQkL2Norm, FuseParallelMix>(
      patterns.getContext());
}
