//===- Chunk.cpp - hybrid-chunk: split recurrences in time -----*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// A recurrence over [0, T) equals the same recurrence over [0, L) followed
// by the one over [L, 2L) started from the first one's final state, and so
// on. This pass writes that as
//
//   %s0 = initial state (or zeros)
//   scf.for %c0 = 0 to T step L iter_args(%s = %s0, %y = empty) {
//     %len = min(L, T - %c0)
//     %o, %s' = <op> on the per-step operands sliced to [%c0, %c0 + %len)
//                    init(%s) [lengths(clamp(lengths - %c0, 0, %len))]
//     %y' = insert %o into %y at position %c0
//     yield %s', %y'
//   }
//
// for any op with RecurrenceOpInterface: the interface names the per-step
// operands, the state operand and results, and the lengths.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Dialect/Hybrid/Transforms/Passes.h"
#include "hybrid/Dialect/Hybrid/Transforms/Transforms.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"

namespace mlir::hybrid {
#define GEN_PASS_DEF_HYBRIDCHUNK
#include "hybrid/Dialect/Hybrid/Transforms/Passes.h.inc"
} // namespace mlir::hybrid

using namespace mlir;
using namespace mlir::hybrid;

/// clamp(lengths - start, 0, len) element-wise, in the lengths' type.
static Value chunkLengths(OpBuilder &b, Location loc, Value lengths,
                          Value start, Value len) {
  auto type = cast<RankedTensorType>(lengths.getType());
  Type elt = type.getElementType();
  auto cast = [&](Value idx) -> Value {
    if (elt.isIndex())
      return idx;
    return arith::IndexCastOp::create(b, loc, elt, idx);
  };
  Value s = cast(start), n = cast(len);
  Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(elt));
  Value init = tensor::EmptyOp::create(
      b, loc, tensor::getMixedSizes(b, loc, lengths), elt);
  SmallVector<AffineMap> maps(2, b.getMultiDimIdentityMap(1));
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, ValueRange{lengths}, ValueRange{init},
             maps, SmallVector<utils::IteratorType>{utils::IteratorType::parallel},
             [&](OpBuilder &nb, Location nl, ValueRange a) {
               Value rest = arith::SubIOp::create(nb, nl, a[0], s);
               Value v = arith::MinSIOp::create(nb, nl, rest, n);
               v = arith::MaxSIOp::create(nb, nl, v, zero);
               linalg::YieldOp::create(nb, nl, v);
             })
      .getResult(0);
}

FailureOr<scf::ForOp> mlir::hybrid::chunkRecurrence(RewriterBase &rw,
                                                    RecurrenceOpInterface op,
                                                    int64_t chunkSize) {
  Operation *o = op.getOperation();
  Location loc = o->getLoc();
  if (chunkSize <= 0)
    return rw.notifyMatchFailure(o, "chunk size must be positive");
  SmallVector<OpOperand *> steps = op.getPerStepOperands();
  if (steps.empty())
    return rw.notifyMatchFailure(o, "no per-step operand");
  int64_t timeDim = op.getTimeDim();
  Value first = steps.front()->get();
  int64_t staticT = cast<RankedTensorType>(first.getType()).getDimSize(timeDim);
  if (!ShapedType::isDynamic(staticT) && staticT <= chunkSize)
    return rw.notifyMatchFailure(o, "sequence fits in one chunk");

  rw.setInsertionPoint(o);
  ReifiedRankedShapedTypeDims shapes;
  if (failed(reifyResultShapes(rw, o, shapes)))
    return rw.notifyMatchFailure(o, "result shapes cannot be reified");
  OpResult seqRes = op.getSequenceResult(), stateRes = op.getFinalStateResult();
  auto seqType = cast<RankedTensorType>(seqRes.getType());
  auto stateType = cast<RankedTensorType>(stateRes.getType());
  SmallVector<OpFoldResult> seqSizes = shapes[seqRes.getResultNumber()];

  // The loop carries the state (starting from the op's initial state, its
  // destination) and the sequence destination, which each chunk writes a
  // slice of.
  Value state0 = op.getInitialStateValue();
  Value yInit = op.getOutMutable().get();
  Value total = getValueOrCreateConstantIndexOp(
      rw, loc, tensor::getMixedSize(rw, loc, first, timeDim));
  Value zeroIdx = arith::ConstantIndexOp::create(rw, loc, 0);
  Value step = arith::ConstantIndexOp::create(rw, loc, chunkSize);

  // (The body is built after the loop exists: affine folding looks at the
  // induction variable's owner.)
  auto loop = scf::ForOp::create(rw, loc, zeroIdx, total, step,
                                 ValueRange{state0, yInit});
  {
    OpBuilder::InsertionGuard guard(rw);
    rw.setInsertionPointToStart(loop.getBody());
    OpBuilder &b = rw;
    Location l = loc;
    Value c0 = loop.getInductionVar();
    ValueRange it = loop.getRegionIterArgs();
    {
        AffineExpr s0, s1;
        bindSymbols(b.getContext(), s0, s1);
        OpFoldResult lenOF = affine::makeComposedFoldedAffineMin(
            b, l,
            AffineMap::get(0, 2, {getAffineConstantExpr(chunkSize, b.getContext()),
                                  s0 - s1},
                           b.getContext()),
            {total, c0});
        Value len = getValueOrCreateConstantIndexOp(b, l, lenOF);
        // The chunk's operands first, then the chunk (it uses them).
        SmallVector<std::pair<unsigned, Value>> slices;
        for (OpOperand *operand : steps) {
          Value v = operand->get();
          auto type = cast<RankedTensorType>(v.getType());
          SmallVector<OpFoldResult> off(type.getRank(), b.getIndexAttr(0));
          SmallVector<OpFoldResult> sz = tensor::getMixedSizes(b, l, v);
          SmallVector<OpFoldResult> strides(type.getRank(), b.getIndexAttr(1));
          off[timeDim] = c0;
          sz[timeDim] = lenOF;
          slices.push_back({operand->getOperandNumber(),
                            tensor::ExtractSliceOp::create(b, l, v, off, sz,
                                                           strides)});
        }
        Value lengths = op.getLengthsValue();
        if (lengths)
          lengths = chunkLengths(b, l, lengths, c0, len);
        SmallVector<OpFoldResult> ySizes = seqSizes;
        ySizes[timeDim] = lenOF;
        SmallVector<OpFoldResult> yOff(seqType.getRank(), b.getIndexAttr(0));
        yOff[timeDim] = c0;
        SmallVector<OpFoldResult> yStrides(seqType.getRank(),
                                           b.getIndexAttr(1));
        Value yDest =
            tensor::ExtractSliceOp::create(b, l, it[1], yOff, ySizes, yStrides);
        Operation *chunk = b.clone(*o);
        auto rec = cast<RecurrenceOpInterface>(chunk);
        for (auto [number, slice] : slices)
          chunk->setOperand(number, slice);
        // Operands past the per-step ones shift when an optional operand is
        // added: set the state and lengths after the slices.
        if (lengths)
          rec.getLengthsMutable().assign(lengths);
        rec.getInitialStateMutable().set(it[0]);
        rec.getOutMutable().set(yDest);
        // Destination style: results take their destinations' types.
        chunk->getResult(seqRes.getResultNumber()).setType(yDest.getType());
        chunk->getResult(stateRes.getResultNumber()).setType(stateType);
        Value y = tensor::InsertSliceOp::create(
            b, l, chunk->getResult(seqRes.getResultNumber()), it[1], yOff,
            ySizes, yStrides);
        scf::YieldOp::create(
            b, l, ValueRange{chunk->getResult(stateRes.getResultNumber()), y});
    }
  }
  SmallVector<Value> results(o->getNumResults());
  results[stateRes.getResultNumber()] = loop.getResult(0);
  Value y = loop.getResult(1);
  if (y.getType() != seqType)
    y = tensor::CastOp::create(rw, loc, seqType, y);
  results[seqRes.getResultNumber()] = y;
  rw.replaceOp(o, results);
  return loop;
}

namespace {

struct HybridChunkPass : hybrid::impl::HybridChunkBase<HybridChunkPass> {
  using Base::Base;

  void runOnOperation() override {
    if (chunkSize < 0) {
      getOperation()->emitError("hybrid-chunk: chunk-size must be >= 0, got ")
          << chunkSize;
      return signalPassFailure();
    }
    if (chunkSize == 0)
      return;
    SmallVector<RecurrenceOpInterface> ops;
    getOperation()->walk([&](RecurrenceOpInterface op) {
      // Chunks carry tensors; the memref form is left alone.
      if (!cast<DestinationStyleOpInterface>(op.getOperation())
               .hasPureTensorSemantics())
        return;
      // Chunks of an earlier run are not split again.
      if (op->getParentOfType<scf::ForOp>() &&
          op->hasAttr("hybrid.chunk"))
        return;
      if (!opNames.empty() &&
          !llvm::is_contained(opNames, op->getName().getStringRef().str()))
        return;
      ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (RecurrenceOpInterface op : ops) {
      FailureOr<scf::ForOp> loop = chunkRecurrence(rewriter, op, chunkSize);
      if (failed(loop))
        continue;
      loop->walk([&](RecurrenceOpInterface inner) {
        inner->setAttr("hybrid.chunk", rewriter.getUnitAttr());
      });
    }
  }
};

} // namespace
