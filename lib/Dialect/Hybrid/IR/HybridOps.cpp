//===- HybridOps.cpp - Hybrid dialect operations ---------------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// Verifiers and shape reification of the hybrid ops. Verification is driven
// by named dimensions ("batch", "seq", "d_inner", ...): every operand and
// result binds its static sizes to names, and the first disagreement is
// reported with both places that disagree.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Dialect/Hybrid/IR/HybridOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/StringMap.h"

#include <cmath>
#include <optional>

using namespace mlir;
using namespace mlir::hybrid;

//===----------------------------------------------------------------------===//
// Custom assembly directives
//===----------------------------------------------------------------------===//

/// Parses an enum spelled as a bare keyword, e.g. `rwkv6`.
template <typename AttrT>
static ParseResult parseEnumKeyword(OpAsmParser &parser, AttrT &attr,
                                    StringRef what) {
  SMLoc loc = parser.getCurrentLocation();
  StringRef keyword;
  if (parser.parseKeyword(&keyword))
    return failure();
  using EnumT = decltype(std::declval<AttrT>().getValue());
  std::optional<EnumT> value = symbolizeEnum<EnumT>(keyword);
  if (!value)
    return parser.emitError(loc) << "unknown " << what << " '" << keyword
                                 << "'";
  attr = AttrT::get(parser.getContext(), *value);
  return success();
}

/// `custom<WkvVariant>($variant)`: the variant as a bare keyword.
static ParseResult parseWkvVariant(OpAsmParser &parser, WkvVariantAttr &attr) {
  return parseEnumKeyword(parser, attr, "wkv variant (expected rwkv6 or rwkv7)");
}

static void printWkvVariant(OpAsmPrinter &printer, Operation *,
                            WkvVariantAttr attr) {
  printer << stringifyWkvVariant(attr.getValue());
}

//===----------------------------------------------------------------------===//
// Keyword lists: every op's attributes are bare keywords after its operands,
// in any order (`window 512 qk_norm`, `scale 0.25`, `epsilon 1.0e-06`)
//===----------------------------------------------------------------------===//

namespace {
/// One keyword of an op's keyword list, and what follows it.
struct Keyword {
  StringRef name;
  enum Kind { Flag, Float, Int, Act } kind;
  /// The value not printed (DefaultValuedAttr's default), if any.
  std::optional<double> defaultValue = std::nullopt;
};
} // namespace

/// `names` as "a, b or c".
static std::string listOf(ArrayRef<Keyword> spec) {
  std::string out;
  for (auto [i, k] : llvm::enumerate(spec)) {
    if (i)
      out += i + 1 == spec.size() ? " or " : ", ";
    out += "'" + k.name.str() + "'";
  }
  return out;
}

namespace {
/// The destination operand `outs(%d : type)` that ends every op's keyword
/// list (it may also stand among the keywords).
struct Destination {
  OpAsmParser::UnresolvedOperand &operand;
  Type &type;
};
} // namespace

/// Parses the keywords of `spec` and the destination `outs(%d : type)` in
/// any order into `values` (one slot per keyword, left null when absent) and
/// `dest`. A repeated keyword, an unknown one, an operand group written
/// after the keywords and a missing destination get errors that name them.
static ParseResult parseKeywords(OpAsmParser &parser, ArrayRef<Keyword> spec,
                                 MutableArrayRef<Attribute> values,
                                 ArrayRef<StringRef> operandGroups,
                                 Destination dest) {
  MLIRContext *ctx = parser.getContext();
  bool haveDest = false;
  // Once the destination is parsed, only words of this op continue the
  // list: in the memref form (no results, so no `->`) the next token may be
  // the next op's name.
  SmallVector<StringRef> known{"outs"};
  for (const Keyword &k : spec)
    known.push_back(k.name);
  llvm::append_range(known, operandGroups);
  while (true) {
    SMLoc loc = parser.getCurrentLocation();
    StringRef word;
    if (failed(haveDest ? parser.parseOptionalKeyword(&word, known)
                        : parser.parseOptionalKeyword(&word))) {
      if (!haveDest)
        return parser.emitError(loc)
               << "expected 'outs(%dest : type)', the destination of the "
                  "result";
      return success();
    }
    if (word == "outs") {
      if (haveDest)
        return parser.emitError(loc) << "'outs' appears twice";
      haveDest = true;
      if (parser.parseLParen() || parser.parseOperand(dest.operand) ||
          parser.parseColonType(dest.type) || parser.parseRParen())
        return failure();
      continue;
    }
    const Keyword *k = llvm::find_if(
        spec, [&](const Keyword &kw) { return kw.name == word; });
    if (k == spec.end()) {
      if (llvm::is_contained(operandGroups, word))
        return parser.emitError(loc)
               << "operand '" << word
               << "(...)' must come before the keywords ("
               << (spec.empty() ? std::string("none here") : listOf(spec))
               << ")";
      if (spec.empty())
        return parser.emitError(loc)
               << "unexpected keyword '" << word << "': this op takes none";
      return parser.emitError(loc) << "unknown keyword '" << word
                                   << "'; expected " << listOf(spec);
    }
    Attribute &slot = values[k - spec.begin()];
    if (slot)
      return parser.emitError(loc) << "keyword '" << word << "' appears twice";
    switch (k->kind) {
    case Keyword::Flag:
      slot = UnitAttr::get(ctx);
      break;
    case Keyword::Float: {
      // f32 semantics: decimal and hexadecimal (0x7F800000) literals.
      APFloat v(0.0f);
      if (parser.parseFloat(APFloat::IEEEsingle(), v))
        return parser.emitError(loc)
               << "keyword '" << word << "' needs a number after it";
      slot = FloatAttr::get(Float32Type::get(ctx), v);
      break;
    }
    case Keyword::Int: {
      int64_t v;
      if (parser.parseInteger(v))
        return parser.emitError(loc)
               << "keyword '" << word << "' needs an integer after it";
      slot = IntegerAttr::get(IntegerType::get(ctx, 64), v);
      break;
    }
    case Keyword::Act: {
      ActivationAttr act;
      if (parseEnumKeyword(parser, act, "activation (expected none or silu)"))
        return failure();
      slot = act;
      break;
    }
    }
  }
}

/// Prints the keywords whose values are set (and not their default),
/// separated by spaces (the directive is already preceded by one), then the
/// destination.
static void printKeywords(OpAsmPrinter &printer, ArrayRef<Keyword> spec,
                          ArrayRef<Attribute> values, Value dest,
                          Type destType) {
  bool first = true;
  auto name = [&](StringRef n) {
    printer << (first ? "" : " ") << n;
    first = false;
  };
  for (auto [k, v] : llvm::zip(spec, values)) {
    if (!v)
      continue;
    if (auto f = dyn_cast<FloatAttr>(v)) {
      // (Compared in f32: 1e-5 is not exactly an f32.)
      if (k.defaultValue &&
          static_cast<float>(f.getValueAsDouble()) ==
              static_cast<float>(*k.defaultValue))
        continue;
      name(k.name);
      printer << " ";
      printer.printFloat(f.getValue());
    } else if (auto i = dyn_cast<IntegerAttr>(v)) {
      name(k.name);
      printer << " " << i.getInt();
    } else if (auto a = dyn_cast<ActivationAttr>(v)) {
      if (a.getValue() == Activation::none)
        continue;
      name(k.name);
      printer << " " << stringifyActivation(a.getValue());
    } else {
      name(k.name);
    }
  }
  name("outs");
  printer << "(" << dest << " : " << destType << ")";
}

/// The typed slots of a parsed keyword list.
template <typename T>
static T slotAs(Attribute a) {
  return a ? cast<T>(a) : T();
}

static const Keyword kScanKeywords[] = {{"delta_softplus", Keyword::Flag}};
static const StringRef kScanGroups[] = {"D", "z", "delta_bias", "init",
                                        "lengths"};
static ParseResult parseScanKeywords(OpAsmParser &parser, UnitAttr &softplus,
                                     OpAsmParser::UnresolvedOperand &out,
                                     Type &outType) {
  Attribute v[1];
  if (parseKeywords(parser, kScanKeywords, v, kScanGroups, {out, outType}))
    return failure();
  softplus = slotAs<UnitAttr>(v[0]);
  return success();
}
static void printScanKeywords(OpAsmPrinter &printer, Operation *,
                              UnitAttr softplus, Value out, Type outType) {
  printKeywords(printer, kScanKeywords, {softplus}, out, outType);
}

static const Keyword kWkvKeywords[] = {{"scale", Keyword::Float, 1.0}};
static const StringRef kWkvGroups[] = {"bonus", "a", "b", "init", "lengths"};
static ParseResult parseWkvKeywords(OpAsmParser &parser, FloatAttr &scale,
                                    OpAsmParser::UnresolvedOperand &out,
                                    Type &outType) {
  Attribute v[1];
  if (parseKeywords(parser, kWkvKeywords, v, kWkvGroups, {out, outType}))
    return failure();
  scale = slotAs<FloatAttr>(v[0]);
  return success();
}
static void printWkvKeywords(OpAsmPrinter &printer, Operation *,
                             FloatAttr scale, Value out, Type outType) {
  printKeywords(printer, kWkvKeywords, {scale}, out, outType);
}

static const Keyword kDeltaKeywords[] = {{"scale", Keyword::Float},
                                         {"beta_sigmoid", Keyword::Flag},
                                         {"qk_l2norm", Keyword::Flag}};
static const StringRef kDeltaGroups[] = {"log_decay", "decay_a_log",
                                         "decay_bias", "init", "lengths"};
static ParseResult parseDeltaKeywords(OpAsmParser &parser, FloatAttr &scale,
                                      UnitAttr &betaSigmoid, UnitAttr &qkL2norm,
                                      OpAsmParser::UnresolvedOperand &out,
                                      Type &outType) {
  Attribute v[3];
  if (parseKeywords(parser, kDeltaKeywords, v, kDeltaGroups, {out, outType}))
    return failure();
  scale = slotAs<FloatAttr>(v[0]);
  betaSigmoid = slotAs<UnitAttr>(v[1]);
  qkL2norm = slotAs<UnitAttr>(v[2]);
  return success();
}
static void printDeltaKeywords(OpAsmPrinter &printer, Operation *,
                               FloatAttr scale, UnitAttr betaSigmoid,
                               UnitAttr qkL2norm, Value out, Type outType) {
  printKeywords(printer, kDeltaKeywords, {scale, betaSigmoid, qkL2norm}, out,
                outType);
}

static const Keyword kLruKeywords[] = {{"c", Keyword::Float, 8.0}};
static const StringRef kLruGroups[] = {"gate_x", "gate_a", "a_param", "log_a",
                                       "reset", "init", "lengths"};
static ParseResult parseLruKeywords(OpAsmParser &parser, FloatAttr &c,
                                    OpAsmParser::UnresolvedOperand &out,
                                    Type &outType) {
  Attribute v[1];
  if (parseKeywords(parser, kLruKeywords, v, kLruGroups, {out, outType}))
    return failure();
  c = slotAs<FloatAttr>(v[0]);
  return success();
}
static void printLruKeywords(OpAsmPrinter &printer, Operation *, FloatAttr c,
                             Value out, Type outType) {
  printKeywords(printer, kLruKeywords, {c}, out, outType);
}

static const Keyword kConvKeywords[] = {{"activation", Keyword::Act}};
static const StringRef kConvGroups[] = {"bias", "init", "lengths"};
static ParseResult parseConvKeywords(OpAsmParser &parser,
                                     ActivationAttr &activation,
                                     OpAsmParser::UnresolvedOperand &out,
                                     Type &outType) {
  Attribute v[1];
  if (parseKeywords(parser, kConvKeywords, v, kConvGroups, {out, outType}))
    return failure();
  activation = slotAs<ActivationAttr>(v[0]);
  return success();
}
static void printConvKeywords(OpAsmPrinter &printer, Operation *,
                              ActivationAttr activation, Value out,
                              Type outType) {
  printKeywords(printer, kConvKeywords, {activation}, out, outType);
}

static const Keyword kAttentionKeywords[] = {{"window", Keyword::Int},
                                             {"scale", Keyword::Float},
                                             {"qk_norm", Keyword::Flag}};
static const StringRef kAttentionGroups[] = {"key_mask"};
static ParseResult parseAttentionKeywords(OpAsmParser &parser,
                                          IntegerAttr &window, FloatAttr &scale,
                                          UnitAttr &qkNorm,
                                          OpAsmParser::UnresolvedOperand &out,
                                          Type &outType) {
  Attribute v[3];
  if (parseKeywords(parser, kAttentionKeywords, v, kAttentionGroups,
                    {out, outType}))
    return failure();
  window = slotAs<IntegerAttr>(v[0]);
  scale = slotAs<FloatAttr>(v[1]);
  qkNorm = slotAs<UnitAttr>(v[2]);
  return success();
}
static void printAttentionKeywords(OpAsmPrinter &printer, Operation *,
                                   IntegerAttr window, FloatAttr scale,
                                   UnitAttr qkNorm, Value out, Type outType) {
  printKeywords(printer, kAttentionKeywords, {window, scale, qkNorm}, out, outType);
}

static const Keyword kNormKeywords[] = {{"epsilon", Keyword::Float, 1.0e-5}};
static const StringRef kNormGroups[] = {"weight", "bias"};
static ParseResult parseNormKeywords(OpAsmParser &parser, FloatAttr &epsilon,
                                     OpAsmParser::UnresolvedOperand &out,
                                     Type &outType) {
  Attribute v[1];
  if (parseKeywords(parser, kNormKeywords, v, kNormGroups, {out, outType}))
    return failure();
  epsilon = slotAs<FloatAttr>(v[0]);
  return success();
}
static void printNormKeywords(OpAsmPrinter &printer, Operation *,
                              FloatAttr epsilon, Value out, Type outType) {
  printKeywords(printer, kNormKeywords, {epsilon}, out, outType);
}

#include "hybrid/Dialect/Hybrid/IR/HybridInterfaces.cpp.inc"

bool mlir::hybrid::isReadOnlyFunctionArgument(Value v) {
  while (auto slice = v.getDefiningOp<tensor::ExtractSliceOp>())
    v = slice.getSource();
  auto arg = dyn_cast<BlockArgument>(v);
  if (!arg)
    return false;
  auto fn = dyn_cast<FunctionOpInterface>(arg.getOwner()->getParentOp());
  if (!fn || arg.getOwner() != &fn.getFunctionBody().front())
    return false;
  auto writable = fn.getArgAttrOfType<BoolAttr>(
      arg.getArgNumber(),
      bufferization::BufferizationDialect::kWritableAttrName);
  return !writable || !writable.getValue();
}

#define GET_OP_CLASSES
#include "hybrid/Dialect/Hybrid/IR/HybridOps.cpp.inc"

//===----------------------------------------------------------------------===//
// RecurrenceOpInterface: the per-step operands of each op
//===----------------------------------------------------------------------===//

/// The operands among `values` (each a one-element or empty range of the
/// op's optional or required operands) that are present.
static SmallVector<OpOperand *>
presentOperands(std::initializer_list<MutableOperandRange> ranges) {
  SmallVector<OpOperand *> result;
  for (MutableOperandRange r : ranges)
    for (OpOperand &o : r)
      result.push_back(&o);
  return result;
}

SmallVector<OpOperand *> SsmScanOp::getPerStepOperands() {
  return presentOperands({getUMutable(), getDeltaMutable(), getBMutable(),
                          getCMutable(), getZMutable()});
}
SmallVector<OpOperand *> WkvOp::getPerStepOperands() {
  return presentOperands({getRMutable(), getKMutable(), getVMutable(),
                          getLogDecayMutable(), getAMutable(), getBMutable()});
}
SmallVector<OpOperand *> DeltaRuleOp::getPerStepOperands() {
  return presentOperands({getQMutable(), getKMutable(), getVMutable(),
                          getBetaMutable(), getLogDecayMutable()});
}
SmallVector<OpOperand *> RgLruOp::getPerStepOperands() {
  return presentOperands({getXMutable(), getGateXMutable(),
                          getGateAMutable(), getLogAMutable(),
                          getResetMutable()});
}
SmallVector<OpOperand *> GruOp::getPerStepOperands() {
  return presentOperands({getInputGatesMutable()});
}
SmallVector<OpOperand *> CausalConv1dOp::getPerStepOperands() {
  return presentOperands({getXMutable()});
}

//===----------------------------------------------------------------------===//
// DestinationStyleOpInterface: the destinations are the last operands
//===----------------------------------------------------------------------===//

/// Every op declares its destinations last in ODS: (outs, initial_state)
/// for a recurrence's (sequence, final_state), `outs` for the others. The
/// count is fixed per op, since the memref form has no results.
#define HYBRID_DESTINATIONS_ARE_LAST(OpTy, count)                              \
  MutableOperandRange OpTy::getDpsInitsMutable() {                             \
    Operation *op = getOperation();                                            \
    return MutableOperandRange(op, op->getNumOperands() - (count), (count));   \
  }
HYBRID_DESTINATIONS_ARE_LAST(SsmScanOp, 2)
HYBRID_DESTINATIONS_ARE_LAST(WkvOp, 2)
HYBRID_DESTINATIONS_ARE_LAST(DeltaRuleOp, 2)
HYBRID_DESTINATIONS_ARE_LAST(RgLruOp, 2)
HYBRID_DESTINATIONS_ARE_LAST(GruOp, 2)
HYBRID_DESTINATIONS_ARE_LAST(CausalConv1dOp, 2)
HYBRID_DESTINATIONS_ARE_LAST(WindowedAttentionOp, 1)
HYBRID_DESTINATIONS_ARE_LAST(LayerNormOp, 1)
HYBRID_DESTINATIONS_ARE_LAST(RmsNormOp, 1)
#undef HYBRID_DESTINATIONS_ARE_LAST

//===----------------------------------------------------------------------===//
// The tensor and memref forms: memory effects, speculation, verification
//===----------------------------------------------------------------------===//

/// The memref form reads every memref operand but the sequence destination
/// (`outs`, written only) and writes its destinations; the initial state is
/// read, then overwritten with the final state. The tensor form has no
/// effects.
static void
getHybridEffects(DestinationStyleOpInterface op,
                 SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
                     &effects) {
  if (op.hasPureTensorSemantics())
    return;
  // The first init is the sequence (or norm/attention) output: write-only.
  OpOperand *writeOnly = &*op.getDpsInitsMutable().begin();
  for (OpOperand &operand : op->getOpOperands()) {
    if (!isa<MemRefType>(operand.get().getType()))
      continue;
    if (&operand != writeOnly)
      effects.emplace_back(MemoryEffects::Read::get(), &operand, /*stage=*/0,
                           /*effectOnFullRegion=*/true,
                           SideEffects::DefaultResource::get());
    if (op.isDpsInit(&operand))
      effects.emplace_back(MemoryEffects::Write::get(), &operand, /*stage=*/1,
                           /*effectOnFullRegion=*/true,
                           SideEffects::DefaultResource::get());
  }
}

LogicalResult mlir::hybrid::verifyTensorOrMemRefForm(Operation *op) {
  auto dps = cast<DestinationStyleOpInterface>(op);
  bool tensors = false, memrefs = false;
  for (OpOperand &operand : op->getOpOperands()) {
    tensors |= isa<RankedTensorType>(operand.get().getType());
    memrefs |= isa<MemRefType>(operand.get().getType());
  }
  if (tensors && memrefs)
    return op->emitOpError()
           << "mixes tensor and memref operands: either every operand is a "
              "tensor (the tensor form, with results) or every operand is a "
              "memref (the memref form, without results)";
  int64_t inits = dps.getNumDpsInits();
  if (tensors && op->getNumResults() != inits)
    return op->emitOpError()
           << "has " << op->getNumResults() << " results, but its tensor form "
           << "has " << inits << " (one per destination)";
  if (memrefs && op->getNumResults() != 0)
    return op->emitOpError()
           << "has " << op->getNumResults() << " results, but its memref "
           << "form has none (its destinations are updated in place)";
  // That each result has its destination's type is the
  // DestinationStyleOpInterface's check, after the op's named checks.
  return success();
}

#define HYBRID_TWO_FORMS(OpTy, sequenceName)                                   \
  void OpTy::getEffects(                                                       \
      SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>      \
          &effects) {                                                          \
    getHybridEffects(*this, effects);                                          \
  }                                                                            \
  Speculation::Speculatability OpTy::getSpeculatability() {                    \
    return hasPureTensorSemantics() ? Speculation::Speculatable                \
                                    : Speculation::NotSpeculatable;            \
  }                                                                            \
  void OpTy::getAsmResultNames(OpAsmSetValueNameFn setName) {                  \
    static const char *const names[] = {sequenceName, "final_state"};         \
    for (auto [i, result] : llvm::enumerate(getResults()))                     \
      setName(result, names[i]);                                               \
  }
HYBRID_TWO_FORMS(SsmScanOp, "y")
HYBRID_TWO_FORMS(WkvOp, "o")
HYBRID_TWO_FORMS(DeltaRuleOp, "o")
HYBRID_TWO_FORMS(RgLruOp, "h")
HYBRID_TWO_FORMS(GruOp, "h")
HYBRID_TWO_FORMS(CausalConv1dOp, "y")
HYBRID_TWO_FORMS(WindowedAttentionOp, "o")
HYBRID_TWO_FORMS(LayerNormOp, "result")
HYBRID_TWO_FORMS(RmsNormOp, "result")
#undef HYBRID_TWO_FORMS

//===----------------------------------------------------------------------===//
// Verification helpers
//===----------------------------------------------------------------------===//

namespace {

/// Element types the ops accept for activations and parameters.
bool isComputeFloat(Type t) { return t.isF32() || t.isF16() || t.isBF16(); }

/// Checks the operands and results of one op against named dimensions.
///
/// Every check binds the static sizes of a tensor to dimension names; a
/// later tensor that disagrees on a name gets an error naming both tensors.
/// Once a check fails the others are skipped, so an op reports exactly one
/// (the first) problem. Optional operands are passed as null values and
/// skipped.
class OpChecker {
public:
  explicit OpChecker(Operation *op) : op(op) {}

  /// A sequence tensor (activation): float, and the same element type as
  /// every other activation of the op (the first one sets it).
  void activation(StringRef name, Value value, ArrayRef<StringRef> dims) {
    if (failedAlready || !value)
      return;
    auto type = cast<ShapedType>(value.getType());
    Type elt = type.getElementType();
    if (!isComputeFloat(elt)) {
      fail() << "'" << name << "' must have an f32, f16 or bf16 element type, got "
             << elt;
      return;
    }
    if (!activationType) {
      activationType = elt;
      activationName = name.str();
    } else if (elt != activationType) {
      fail() << "'" << name << "' has element type " << elt << ", but '"
             << activationName << "' has " << activationType
             << " (all activations of the op share one element type)";
      return;
    }
    shape(name, type, dims);
  }

  /// A parameter tensor: any accepted float type.
  void param(StringRef name, Value value, ArrayRef<StringRef> dims) {
    if (failedAlready || !value)
      return;
    auto type = cast<ShapedType>(value.getType());
    if (!isComputeFloat(type.getElementType())) {
      fail() << "'" << name << "' must have an f32, f16 or bf16 element type, got "
             << type.getElementType();
      return;
    }
    shape(name, type, dims);
  }

  /// A recurrent state: always f32.
  void state(StringRef name, Value value, ArrayRef<StringRef> dims) {
    if (failedAlready || !value)
      return;
    auto type = cast<ShapedType>(value.getType());
    if (!type.getElementType().isF32()) {
      fail() << "'" << name << "' must have element type f32 (states are f32), got "
             << type.getElementType();
      return;
    }
    shape(name, type, dims);
  }

  /// A boolean mask.
  void mask(StringRef name, Value value, ArrayRef<StringRef> dims) {
    if (failedAlready || !value)
      return;
    auto type = cast<ShapedType>(value.getType());
    if (!type.getElementType().isInteger(1)) {
      fail() << "'" << name << "' must have element type i1, got "
             << type.getElementType();
      return;
    }
    shape(name, type, dims);
  }

  /// Per-sequence lengths: rank 1 [batch], integer or index elements.
  void lengths(StringRef name, Value value) {
    if (failedAlready || !value)
      return;
    auto type = cast<ShapedType>(value.getType());
    if (!type.getElementType().isSignlessIntOrIndex()) {
      fail() << "'" << name << "' must have integer or index elements, got "
             << type.getElementType();
      return;
    }
    shape(name, type, {"batch"});
  }

  /// A float attribute that must be finite and strictly positive.
  void positive(StringRef name, std::optional<float> value) {
    if (failedAlready || !value)
      return;
    if (!std::isfinite(*value) || *value <= 0.0f)
      fail() << "'" << name << "' must be finite and positive, got " << *value;
  }

  /// The static size bound to `dim`, if any tensor had it static.
  std::optional<int64_t> lookup(StringRef dim) const {
    auto it = bound.find(dim);
    if (it == bound.end())
      return std::nullopt;
    return it->second.size;
  }

  /// Where `dim` was bound, as "'x' dim 2".
  std::string origin(StringRef dim) const {
    auto it = bound.find(dim);
    if (it == bound.end())
      return "?";
    return "'" + it->second.name + "' dim " + std::to_string(it->second.index);
  }

  bool ok() const { return !failedAlready; }

  /// Starts an error on the op; the checker is failed from then on.
  InFlightDiagnostic fail() {
    failedAlready = true;
    return op->emitOpError();
  }

  LogicalResult result() const { return failure(failedAlready); }

private:
  struct Binding {
    int64_t size;
    std::string name;
    unsigned index;
  };

  static std::string layout(ArrayRef<StringRef> dims) {
    std::string s = "[";
    for (auto [i, d] : llvm::enumerate(dims)) {
      if (i)
        s += ", ";
      s += d.empty() ? "*" : d.str();
    }
    return s + "]";
  }

  void shape(StringRef name, ShapedType type, ArrayRef<StringRef> dims) {
    if (type.getRank() != static_cast<int64_t>(dims.size())) {
      fail() << "'" << name << "' must have rank " << dims.size() << " "
             << layout(dims) << ", got " << type;
      return;
    }
    for (auto [i, dim] : llvm::enumerate(dims)) {
      // A static 0 leaves nothing to compute and no pass lowers it; the
      // one dimension that may be empty is a width-1 conv's tail.
      if (!type.isDynamicDim(i) && type.getDimSize(i) == 0 && dim != "tail") {
        fail() << "'" << name << "' dim " << i
               << (dim.empty() ? std::string()
                               : " (" + dim.str() + ")")
               << " is 0: hybrid ops need non-empty static dimensions";
        return;
      }
      if (dim.empty() || type.isDynamicDim(i))
        continue;
      int64_t size = type.getDimSize(i);
      auto [it, inserted] = bound.try_emplace(
          dim, Binding{size, name.str(), static_cast<unsigned>(i)});
      if (!inserted && it->second.size != size) {
        fail() << "'" << name << "' dim " << i << " (" << dim << ") is "
               << size << ", but '" << it->second.name << "' dim "
               << it->second.index << " (" << dim << ") is "
               << it->second.size;
        return;
      }
    }
  }

  Operation *op;
  bool failedAlready = false;
  Type activationType;
  std::string activationName;
  llvm::StringMap<Binding> bound;
};

/// Where one dimension of a result comes from: dimension `dim` of `value`,
/// plus `offset`.
struct DimSource {
  Value value;
  int64_t dim;
  int64_t offset = 0;
};

/// The sizes of `result` as OpFoldResults: static sizes as attributes,
/// dynamic ones from their source operands (tensor.dim, plus an offset).
SmallVector<OpFoldResult> reifySizes(OpBuilder &b, Location loc,
                                     RankedTensorType type,
                                     ArrayRef<DimSource> sources) {
  SmallVector<OpFoldResult> sizes;
  for (auto [i, src] : llvm::enumerate(sources)) {
    if (!type.isDynamicDim(i)) {
      sizes.push_back(b.getIndexAttr(type.getDimSize(i)));
      continue;
    }
    auto srcType = cast<RankedTensorType>(src.value.getType());
    if (!srcType.isDynamicDim(src.dim)) {
      sizes.push_back(
          b.getIndexAttr(srcType.getDimSize(src.dim) + src.offset));
      continue;
    }
    Value size = tensor::DimOp::create(b, loc, src.value, src.dim);
    if (src.offset != 0) {
      Value off = arith::ConstantIndexOp::create(b, loc, src.offset);
      size = arith::AddIOp::create(b, loc, size, off);
    }
    sizes.push_back(size);
  }
  return sizes;
}

/// Every dimension of `source`, in order.
SmallVector<DimSource> dimsOf(Value source) {
  SmallVector<DimSource> srcs;
  auto type = dyn_cast<RankedTensorType>(source.getType());
  for (int64_t i = 0, e = type ? type.getRank() : 0; i < e; ++i)
    srcs.push_back({source, i});
  return srcs;
}

/// A destination for a result of `type` (`tensor.empty`), its dynamic sizes
/// taken from `sources`: what the builders create when the caller passes
/// no destination.
Value emptyDestination(OpBuilder &b, Location loc, RankedTensorType type,
                       ArrayRef<DimSource> sources) {
  SmallVector<OpFoldResult> sizes;
  if (sources.size() == static_cast<size_t>(type.getRank()) &&
      llvm::all_of(sources, [](const DimSource &s) {
        auto t = dyn_cast<RankedTensorType>(s.value.getType());
        return t && s.dim < t.getRank();
      })) {
    sizes = reifySizes(b, loc, type, sources);
  } else {
    // A malformed operand: static sizes only (the verifier reports it).
    for (int64_t d : type.getShape())
      sizes.push_back(b.getIndexAttr(ShapedType::isDynamic(d) ? 0 : d));
  }
  Value empty = tensor::EmptyOp::create(b, loc, sizes, type.getElementType());
  if (empty.getType() != type)
    empty = tensor::CastOp::create(b, loc, type, empty);
  return empty;
}

/// A zero initial state of `type` (`linalg.fill` of a `tensor.empty`).
Value zeroState(OpBuilder &b, Location loc, RankedTensorType type,
                ArrayRef<DimSource> sources) {
  Value empty = emptyDestination(b, loc, type, sources);
  Value zero = arith::ConstantOp::create(
      b, loc, b.getZeroAttr(type.getElementType()));
  return linalg::FillOp::create(b, loc, ValueRange{zero}, ValueRange{empty})
      .getResult(0);
}

/// The destinations a convenience builder fills in when its caller passes
/// none: an empty tensor for the sequence result, a zero state.
struct Destinations {
  OpBuilder &b;
  Location loc;
  Destinations(OpBuilder &b, Location loc) : b(b), loc(loc) {}
  void sequence(Value &out, RankedTensorType type,
                ArrayRef<DimSource> sources) {
    if (!out)
      out = emptyDestination(b, loc, type, sources);
  }
  void state(Value &init, RankedTensorType type, ArrayRef<DimSource> sources) {
    if (!init)
      init = zeroState(b, loc, type, sources);
  }
};

/// The result shapes of a destination-style op: the sizes of its inits.
LogicalResult reifyFromInits(DestinationStyleOpInterface op, OpBuilder &b,
                             ReifiedRankedShapedTypeDims &shapes) {
  for (OpOperand &init : op.getDpsInitsMutable())
    if (isa<RankedTensorType>(init.get().getType()))
      shapes.push_back(tensor::getMixedSizes(b, op.getLoc(), init.get()));
  return success();
}

/// An optional F32 attribute as an optional float.
std::optional<float> toFloat(std::optional<llvm::APFloat> value) {
  if (!value)
    return std::nullopt;
  return value->convertToFloat();
}

/// The default 1/sqrt(K) scale, for a static K.
float inverseSqrtScale(Value keys) {
  auto type = cast<ShapedType>(keys.getType());
  return 1.0f / std::sqrt(static_cast<float>(type.getShape().back()));
}

/// Dimension `i` of a ranked tensor value, dynamic when the value is not a
/// tensor of sufficient rank (the verifier then reports the real problem).
int64_t dimOf(Value value, int64_t i) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || i >= type.getRank())
    return ShapedType::kDynamic;
  return type.getDimSize(i);
}

/// Element type of a tensor value (f32 when it is not a shaped value).
Type elementOf(Value value) {
  if (auto type = dyn_cast<ShapedType>(value.getType()))
    return type.getElementType();
  return Float32Type::get(value.getContext());
}

/// A tensor type built from (value, dim) pairs with `elt` elements.
RankedTensorType tensorOf(ArrayRef<std::pair<Value, int64_t>> dims, Type elt) {
  SmallVector<int64_t> shape;
  for (auto [v, i] : dims)
    shape.push_back(dimOf(v, i));
  return RankedTensorType::get(shape, elt);
}

/// The type of a sequence result: the shape of `like`, `elt` elements.
RankedTensorType sequenceLike(Value like, Type elt) {
  auto type = dyn_cast<RankedTensorType>(like.getType());
  if (!type)
    return RankedTensorType::get({ShapedType::kDynamic}, elt);
  return type.clone(elt);
}

} // namespace

//===----------------------------------------------------------------------===//
// SsmScanOp
//===----------------------------------------------------------------------===//

LogicalResult SsmScanOp::verify() {
  if (failed(verifyTensorOrMemRefForm(*this)))
    return failure();
  OpChecker c(*this);
  c.activation("u", getU(), {"batch", "seq", "d_inner"});
  c.activation("delta", getDelta(), {"batch", "seq", "d_inner"});
  c.param("A", getA(), {"d_inner", "d_state"});
  // B and C are [B, T, G, N], or Mamba-1's [B, T, N] (one group).
  if (hasGroupedBC()) {
    c.activation("B", getB(), {"batch", "seq", "groups", "d_state"});
    c.activation("C", getC(), {"batch", "seq", "groups", "d_state"});
  } else {
    c.activation("B", getB(), {"batch", "seq", "d_state"});
    c.activation("C", getC(), {"batch", "seq", "d_state"});
  }
  c.param("D", getD(), {"d_inner"});
  c.activation("z", getZ(), {"batch", "seq", "d_inner"});
  c.param("delta_bias", getDeltaBias(), {"d_inner"});
  c.state("initial_state", getInitialState(), {"batch", "d_inner", "d_state"});
  c.lengths("lengths", getLengths());
  c.activation("y", getOut(), {"batch", "seq", "d_inner"});
  c.state("final_state", getFinalState(), {"batch", "d_inner", "d_state"});
  if (!c.ok())
    return failure();
  std::optional<int64_t> channels = c.lookup("d_inner");
  std::optional<int64_t> groups = c.lookup("groups");
  if (channels && groups && *channels % *groups != 0)
    return emitOpError() << "the " << *groups << " groups of 'B' and 'C' must "
                         << "divide the " << *channels << " channels of 'u'";
  return success();
}

LogicalResult
SsmScanOp::reifyResultShapes(OpBuilder &b,
                             ReifiedRankedShapedTypeDims &shapes) {
  return reifyFromInits(*this, b, shapes);
}

void SsmScanOp::build(OpBuilder &b, OperationState &state, Value u,
                      Value delta, Value A, Value B, Value C, Value D, Value z,
                      Value deltaBias, Value initialState,
                      bool deltaSoftplus, Value lengths, Value out) {
  Destinations d(b, state.location);
  d.sequence(out, sequenceLike(u, elementOf(u)), dimsOf(u));
  d.state(initialState, tensorOf({{u, 0}, {u, 2}, {A, 1}}, b.getF32Type()),
          {{u, 0}, {u, 2}, {A, 1}});
  build(b, state, TypeRange{out.getType(), initialState.getType()}, u, delta, A, B, C, D,
        z, deltaBias, lengths, out, initialState, deltaSoftplus);
}

//===----------------------------------------------------------------------===//
// WkvOp
//===----------------------------------------------------------------------===//

LogicalResult WkvOp::verify() {
  if (failed(verifyTensorOrMemRefForm(*this)))
    return failure();
  OpChecker c(*this);
  c.activation("r", getR(), {"batch", "seq", "heads", "key_dim"});
  c.activation("k", getK(), {"batch", "seq", "heads", "key_dim"});
  c.activation("v", getV(), {"batch", "seq", "heads", "value_dim"});
  c.activation("log_decay", getLogDecay(),
               {"batch", "seq", "heads", "key_dim"});
  c.param("bonus", getBonus(), {"heads", "key_dim"});
  c.activation("a", getA(), {"batch", "seq", "heads", "key_dim"});
  c.activation("b", getB(), {"batch", "seq", "heads", "key_dim"});
  c.state("initial_state", getInitialState(),
          {"batch", "heads", "value_dim", "key_dim"});
  c.lengths("lengths", getLengths());
  c.activation("o", getOut(), {"batch", "seq", "heads", "value_dim"});
  c.state("final_state", getFinalState(),
          {"batch", "heads", "value_dim", "key_dim"});
  c.positive("scale", getScale().convertToFloat());
  if (!c.ok())
    return failure();
  switch (getVariant()) {
  case WkvVariant::rwkv6:
    if (!getBonus())
      return emitOpError("variant rwkv6 requires 'bonus' (u, [heads, key_dim])");
    if (getA() || getB())
      return emitOpError("variant rwkv6 does not take 'a' or 'b' (they "
                         "belong to rwkv7)");
    break;
  case WkvVariant::rwkv7:
    if (!getA() || !getB())
      return emitOpError("variant rwkv7 requires both 'a' and 'b'");
    if (getBonus())
      return emitOpError("variant rwkv7 does not take 'bonus' (it belongs to "
                         "rwkv6)");
    break;
  }
  return success();
}

LogicalResult WkvOp::reifyResultShapes(OpBuilder &b,
                                       ReifiedRankedShapedTypeDims &shapes) {
  return reifyFromInits(*this, b, shapes);
}

void WkvOp::build(OpBuilder &builder, OperationState &state,
                  WkvVariant variant, Value r, Value k, Value v,
                  Value logDecay, Value bonus, Value a, Value b,
                  Value initialState, float scale, Value lengths,
                  Value out) {
  Destinations d(builder, state.location);
  d.sequence(out,
             tensorOf({{r, 0}, {r, 1}, {r, 2}, {v, 3}}, elementOf(r)),
             {{r, 0}, {r, 1}, {r, 2}, {v, 3}});
  d.state(initialState,
          tensorOf({{r, 0}, {r, 2}, {v, 3}, {r, 3}}, builder.getF32Type()),
          {{r, 0}, {r, 2}, {v, 3}, {r, 3}});
  build(builder, state, TypeRange{out.getType(), initialState.getType()},
        WkvVariantAttr::get(builder.getContext(), variant), r, k, v,
        logDecay, bonus, a, b, lengths, out, initialState,
        builder.getF32FloatAttr(scale));
}

//===----------------------------------------------------------------------===//
// DeltaRuleOp
//===----------------------------------------------------------------------===//

float DeltaRuleOp::getEffectiveScale() {
  if (std::optional<float> s = toFloat(getScale()))
    return *s;
  return inverseSqrtScale(getK());
}

LogicalResult DeltaRuleOp::verify() {
  if (failed(verifyTensorOrMemRefForm(*this)))
    return failure();
  OpChecker c(*this);
  c.activation("q", getQ(), {"batch", "seq", "qk_heads", "key_dim"});
  c.activation("k", getK(), {"batch", "seq", "qk_heads", "key_dim"});
  c.activation("v", getV(), {"batch", "seq", "v_heads", "value_dim"});
  int64_t betaRank = cast<ShapedType>(getBeta().getType()).getRank();
  if (c.ok() && betaRank != 3 && betaRank != 4)
    return emitOpError()
           << "'beta' must have rank 3 [batch, seq, v_heads] (one value per "
              "head) or rank 4 [batch, seq, v_heads, value_dim] (one per "
              "value channel), got "
           << getBeta().getType();
  if (betaRank == 3)
    c.activation("beta", getBeta(), {"batch", "seq", "v_heads"});
  else
    c.activation("beta", getBeta(), {"batch", "seq", "v_heads", "value_dim"});
  c.activation("log_decay", getLogDecay(), {"batch", "seq", "v_heads"});
  if (static_cast<bool>(getDecayALog()) != static_cast<bool>(getDecayBias()))
    return emitOpError("'decay_a_log' and 'decay_bias' go together (Gated "
                       "DeltaNet's decay activation); one is missing");
  if (getDecayALog() && !getLogDecay())
    return emitOpError("'decay_a_log' and 'decay_bias' need 'log_decay' (the "
                       "raw decay input they activate)");
  c.param("decay_a_log", getDecayALog(), {"v_heads"});
  c.param("decay_bias", getDecayBias(), {"v_heads"});
  c.state("initial_state", getInitialState(),
          {"batch", "v_heads", "value_dim", "key_dim"});
  c.lengths("lengths", getLengths());
  c.activation("o", getOut(), {"batch", "seq", "v_heads", "value_dim"});
  c.state("final_state", getFinalState(),
          {"batch", "v_heads", "value_dim", "key_dim"});
  c.positive("scale", toFloat(getScale()));
  if (!c.ok())
    return failure();
  std::optional<int64_t> qkHeads = c.lookup("qk_heads");
  std::optional<int64_t> vHeads = c.lookup("v_heads");
  if (qkHeads && vHeads && *vHeads % *qkHeads != 0)
    return emitOpError() << "the " << *vHeads << " value heads must be a "
                         << "multiple of the " << *qkHeads << " q/k heads";
  if (!getScale() && !c.lookup("key_dim"))
    return emitOpError("needs an explicit 'scale' when the key dimension is "
                       "dynamic (the default is 1/sqrt(key_dim))");
  return success();
}

LogicalResult
DeltaRuleOp::reifyResultShapes(OpBuilder &b,
                               ReifiedRankedShapedTypeDims &shapes) {
  return reifyFromInits(*this, b, shapes);
}

void DeltaRuleOp::build(OpBuilder &b, OperationState &state, Value q,
                        Value k, Value v, Value beta, Value logDecay,
                        Value initialState, std::optional<float> scale,
                        Value lengths, Value out) {
  Destinations d(b, state.location);
  d.sequence(out, sequenceLike(v, elementOf(v)), dimsOf(v));
  d.state(initialState,
          tensorOf({{v, 0}, {v, 2}, {v, 3}, {k, 3}}, b.getF32Type()),
          {{v, 0}, {v, 2}, {v, 3}, {k, 3}});
  build(b, state, TypeRange{out.getType(), initialState.getType()}, q, k, v, beta,
        logDecay, /*decay_a_log=*/Value(), /*decay_bias=*/Value(), lengths,
        out, initialState, scale ? b.getF32FloatAttr(*scale) : FloatAttr(),
        /*beta_sigmoid=*/false);
}

//===----------------------------------------------------------------------===//
// RgLruOp
//===----------------------------------------------------------------------===//

LogicalResult RgLruOp::verify() {
  if (failed(verifyTensorOrMemRefForm(*this)))
    return failure();
  OpChecker c(*this);
  // Either the gated form (gate_x, gate_a, a_param) or the core form
  // (log_a).
  if (getLogA()) {
    for (auto [name, v] : {std::pair<StringRef, Value>{"gate_x", getGateX()},
                           {"gate_a", getGateA()},
                           {"a_param", getAParam()}})
      if (v)
        return emitOpError() << "takes either 'gate_x', 'gate_a' and "
                                "'a_param' (the gated form) or 'log_a' (the "
                                "core form), but has both 'log_a' and '"
                             << name << "'";
  } else {
    for (auto [name, v] : {std::pair<StringRef, Value>{"gate_x", getGateX()},
                           {"gate_a", getGateA()},
                           {"a_param", getAParam()}})
      if (!v)
        return emitOpError() << "needs 'gate_x', 'gate_a' and 'a_param' (the "
                                "gated form) or 'log_a' (the core form); '"
                             << name << "' is missing";
  }
  c.activation("x", getX(), {"batch", "seq", "width"});
  c.activation("gate_x", getGateX(), {"batch", "seq", "width"});
  c.activation("gate_a", getGateA(), {"batch", "seq", "width"});
  c.param("a_param", getAParam(), {"width"});
  c.activation("log_a", getLogA(), {"batch", "seq", "width"});
  c.mask("reset", getReset(), {"batch", "seq"});
  c.state("initial_state", getInitialState(), {"batch", "width"});
  c.lengths("lengths", getLengths());
  c.activation("h", getOut(), {"batch", "seq", "width"});
  c.state("final_state", getFinalState(), {"batch", "width"});
  c.positive("c", getC().convertToFloat());
  return c.result();
}

LogicalResult RgLruOp::reifyResultShapes(OpBuilder &b,
                                         ReifiedRankedShapedTypeDims &shapes) {
  return reifyFromInits(*this, b, shapes);
}

void RgLruOp::build(OpBuilder &b, OperationState &state, Value x,
                    Value gateX, Value gateA, Value aParam, Value reset,
                    Value initialState, float c, Value lengths,
                    Value out) {
  Destinations d(b, state.location);
  d.sequence(out, sequenceLike(x, elementOf(x)), dimsOf(x));
  d.state(initialState, tensorOf({{x, 0}, {x, 2}}, b.getF32Type()),
          {{x, 0}, {x, 2}});
  build(b, state, TypeRange{out.getType(), initialState.getType()}, x, gateX, gateA,
        aParam, /*log_a=*/Value(), reset, lengths, out, initialState,
        b.getF32FloatAttr(c));
}

RgLruOp RgLruOp::createWithLogA(OpBuilder &b, Location loc, Value xGated,
                                Value logA, Value reset, Value initialState,
                                Value lengths, Value out) {
  Destinations d(b, loc);
  d.sequence(out, sequenceLike(xGated, elementOf(xGated)), dimsOf(xGated));
  d.state(initialState, tensorOf({{xGated, 0}, {xGated, 2}}, b.getF32Type()),
          {{xGated, 0}, {xGated, 2}});
  return RgLruOp::create(b, loc, TypeRange{out.getType(), initialState.getType()},
                         xGated, Value(), Value(), Value(), logA, reset,
                         lengths, out, initialState, b.getF32FloatAttr(8.0f));
}

//===----------------------------------------------------------------------===//
// GruOp
//===----------------------------------------------------------------------===//

LogicalResult GruOp::verify() {
  if (failed(verifyTensorOrMemRefForm(*this)))
    return failure();
  OpChecker c(*this);
  c.activation("input_gates", getInputGates(), {"batch", "seq", "gates"});
  c.param("hidden_weight", getHiddenWeight(), {"hidden", "gates"});
  c.param("hidden_bias", getHiddenBias(), {"gates"});
  c.state("initial_state", getInitialState(), {"batch", "hidden"});
  c.lengths("lengths", getLengths());
  c.activation("h", getOut(), {"batch", "seq", "hidden"});
  c.state("final_state", getFinalState(), {"batch", "hidden"});
  if (!c.ok())
    return failure();
  std::optional<int64_t> hidden = c.lookup("hidden");
  std::optional<int64_t> gates = c.lookup("gates");
  if (gates && *gates % 3 != 0)
    return emitOpError() << c.origin("gates") << " (gates) is " << *gates
                         << ", which is not 3 x hidden (gate order r, z, n)";
  if (hidden && gates && *gates != 3 * *hidden)
    return emitOpError() << c.origin("gates") << " (gates) is " << *gates
                         << ", expected 3 x hidden = " << 3 * *hidden
                         << " (gate order r, z, n)";
  return success();
}

LogicalResult GruOp::reifyResultShapes(OpBuilder &b,
                                       ReifiedRankedShapedTypeDims &shapes) {
  return reifyFromInits(*this, b, shapes);
}

void GruOp::build(OpBuilder &b, OperationState &state, Value inputGates,
                  Value hiddenWeight, Value hiddenBias, Value initialState,
                  Value lengths, Value out) {
  Destinations d(b, state.location);
  d.sequence(out,
             tensorOf({{inputGates, 0}, {inputGates, 1}, {hiddenWeight, 0}},
                      elementOf(inputGates)),
             {{inputGates, 0}, {inputGates, 1}, {hiddenWeight, 0}});
  d.state(initialState,
          tensorOf({{inputGates, 0}, {hiddenWeight, 0}}, b.getF32Type()),
          {{inputGates, 0}, {hiddenWeight, 0}});
  build(b, state, TypeRange{out.getType(), initialState.getType()}, inputGates,
        hiddenWeight, hiddenBias, lengths, out, initialState);
}

//===----------------------------------------------------------------------===//
// CausalConv1dOp
//===----------------------------------------------------------------------===//

LogicalResult CausalConv1dOp::verify() {
  if (failed(verifyTensorOrMemRefForm(*this)))
    return failure();
  OpChecker c(*this);
  c.activation("x", getX(), {"batch", "seq", "channels"});
  c.param("weight", getWeight(), {"width", "channels"});
  c.param("bias", getBias(), {"channels"});
  c.state("initial_state", getInitialState(), {"batch", "tail", "channels"});
  c.lengths("lengths", getLengths());
  c.activation("y", getOut(), {"batch", "seq", "channels"});
  c.state("final_state", getFinalState(), {"batch", "tail", "channels"});
  if (!c.ok())
    return failure();
  std::optional<int64_t> width = c.lookup("width");
  std::optional<int64_t> tail = c.lookup("tail");
  if (width && tail && *tail != *width - 1)
    return emitOpError() << c.origin("tail") << " is " << *tail
                         << ", expected width - 1 = " << *width - 1
                         << " (the state holds the last width - 1 inputs)";
  return success();
}

LogicalResult
CausalConv1dOp::reifyResultShapes(OpBuilder &b,
                                  ReifiedRankedShapedTypeDims &shapes) {
  return reifyFromInits(*this, b, shapes);
}

void CausalConv1dOp::build(OpBuilder &b, OperationState &state, Value x,
                           Value weight, Value bias, Value initialState,
                           Activation activation, Value lengths,
                           Value out) {
  int64_t width = dimOf(weight, 0);
  int64_t tail = ShapedType::isDynamic(width) ? width : width - 1;
  auto stateType = RankedTensorType::get({dimOf(x, 0), tail, dimOf(x, 2)},
                                         b.getF32Type());
  Destinations d(b, state.location);
  d.sequence(out, sequenceLike(x, elementOf(x)), dimsOf(x));
  d.state(initialState, stateType, {{x, 0}, {weight, 0, -1}, {x, 2}});
  build(b, state, TypeRange{out.getType(), initialState.getType()}, x, weight, bias,
        lengths, out, initialState,
        ActivationAttr::get(b.getContext(), activation));
}

//===----------------------------------------------------------------------===//
// WindowedAttentionOp
//===----------------------------------------------------------------------===//

float WindowedAttentionOp::getEffectiveScale() {
  if (std::optional<float> s = toFloat(getScale()))
    return *s;
  return inverseSqrtScale(getQ());
}

LogicalResult WindowedAttentionOp::verify() {
  if (failed(verifyTensorOrMemRefForm(*this)))
    return failure();
  OpChecker c(*this);
  c.activation("q", getQ(), {"batch", "q_seq", "q_heads", "key_dim"});
  c.activation("k", getK(), {"batch", "kv_seq", "kv_heads", "key_dim"});
  c.activation("v", getV(), {"batch", "kv_seq", "kv_heads", "value_dim"});
  c.activation("o", getOut(), {"batch", "q_seq", "q_heads", "value_dim"});
  c.mask("key_mask", getKeyMask(), {"batch", "kv_seq"});
  c.positive("scale", toFloat(getScale()));
  if (!c.ok())
    return failure();
  std::optional<int64_t> qHeads = c.lookup("q_heads");
  std::optional<int64_t> kvHeads = c.lookup("kv_heads");
  if (qHeads && kvHeads && *qHeads % *kvHeads != 0)
    return emitOpError() << "the " << *qHeads << " query heads must be a "
                         << "multiple of the " << *kvHeads << " key/value heads";
  std::optional<int64_t> qSeq = c.lookup("q_seq");
  std::optional<int64_t> kvSeq = c.lookup("kv_seq");
  if (qSeq && kvSeq && *qSeq > *kvSeq)
    return emitOpError() << "'q' has " << *qSeq << " positions but 'k' only "
                         << *kvSeq << " (queries are aligned to the end of "
                         << "the keys, so kv_seq >= q_seq)";
  if (std::optional<int64_t> window = getWindow(); window && *window < 1)
    return emitOpError() << "'window' must be at least 1 (the number of keys "
                         << "each query sees, itself included), got "
                         << *window;
  if (!getScale() && !c.lookup("key_dim"))
    return emitOpError("needs an explicit 'scale' when the key dimension is "
                       "dynamic (the default is 1/sqrt(key_dim))");
  return success();
}

LogicalResult
WindowedAttentionOp::reifyResultShapes(OpBuilder &b,
                                       ReifiedRankedShapedTypeDims &shapes) {
  return reifyFromInits(*this, b, shapes);
}

void WindowedAttentionOp::build(OpBuilder &b, OperationState &state,
                                Value q, Value k, Value v,
                                std::optional<int64_t> window,
                                std::optional<float> scale, bool qkNorm,
                                Value keyMask, Value out) {
  Destinations d(b, state.location);
  d.sequence(out, tensorOf({{q, 0}, {q, 1}, {q, 2}, {v, 3}}, elementOf(q)),
             {{q, 0}, {q, 1}, {q, 2}, {v, 3}});
  build(b, state, TypeRange{out.getType()}, q, k, v, keyMask, out,
        window ? b.getI64IntegerAttr(*window) : IntegerAttr(),
        scale ? b.getF32FloatAttr(*scale) : FloatAttr(), qkNorm);
}

//===----------------------------------------------------------------------===//
// GatedParallelOp
//===----------------------------------------------------------------------===//

YieldOp GatedParallelOp::getBackboneYield() {
  return dyn_cast<YieldOp>(getBackbone().front().getTerminator());
}

YieldOp GatedParallelOp::getAttentionYield() {
  return dyn_cast<YieldOp>(getAttention().front().getTerminator());
}

LogicalResult GatedParallelOp::verify() {
  if (getNumResults() == 0)
    return emitOpError("must have at least one result (the mixed output)");
  auto out = dyn_cast<RankedTensorType>(getResult(0).getType());
  if (!isComputeFloat(out.getElementType()))
    return emitOpError() << "result 0 must have an f32, f16 or bf16 element "
                         << "type, got " << out.getElementType();
  if (getGate().getType() != out)
    return emitOpError() << "'gate' has type " << getGate().getType()
                         << ", but the mixed output (result 0) has " << out
                         << "; they must match";
  if (!isComputeFloat(getInput().getType().getElementType()))
    return emitOpError() << "'input' must have an f32, f16 or bf16 element "
                         << "type, got " << getInput().getType().getElementType();
  return success();
}

LogicalResult GatedParallelOp::verifyRegions() {
  Type output = getResult(0).getType();
  unsigned nextExtra = 1;
  for (auto [name, region] :
       {std::pair<StringRef, Region *>{"backbone", &getBackbone()},
        std::pair<StringRef, Region *>{"attention", &getAttention()}}) {
    Block &block = region->front();
    if (block.getNumArguments() != 1 ||
        block.getArgument(0).getType() != getInput().getType())
      return emitOpError() << "the " << name << " region must take exactly "
                           << "one argument of the input type "
                           << getInput().getType();
    auto yield = dyn_cast<YieldOp>(block.getTerminator());
    if (!yield)
      return emitOpError() << "the " << name
                           << " region must end in 'hybrid.yield'";
    if (yield.getNumOperands() == 0)
      return yield.emitOpError()
             << "must yield the " << name << " branch output first";
    if (yield.getOperand(0).getType() != output)
      return yield.emitOpError()
             << "yields a " << name << " output of type "
             << yield.getOperand(0).getType()
             << ", but the mixed output (result 0) has type " << output;
    for (Value extra : yield.getOperands().drop_front()) {
      if (nextExtra >= getNumResults())
        return emitOpError() << "has " << getNumResults() << " results, but "
                             << "its branches yield more extra values";
      if (extra.getType() != getResult(nextExtra).getType())
        return yield.emitOpError()
               << "yields an extra value of type " << extra.getType()
               << " for result " << nextExtra << " of type "
               << getResult(nextExtra).getType();
      ++nextExtra;
    }
  }
  if (nextExtra != getNumResults())
    return emitOpError() << "has " << getNumResults() << " results, but its "
                         << "branches yield " << nextExtra - 1
                         << " extra values (expected 1 + extras)";
  return success();
}

//===----------------------------------------------------------------------===//
// LayerNormOp / RmsNormOp
//===----------------------------------------------------------------------===//

/// Shared verification of the normalisation ops: the affine parameters are
/// vectors over the last dimension and the result has the input's type.
static LogicalResult verifyNorm(Operation *op, Value input, Value weight,
                                Value bias, float epsilon, Value result) {
  auto type = cast<ShapedType>(input.getType());
  OpChecker c(op);
  if (type.getRank() == 0)
    return op->emitOpError("'input' must have rank >= 1 (the last dimension "
                           "is normalised), got a 0-d tensor");
  SmallVector<StringRef> dims(type.getRank(), "");
  dims.back() = "features";
  c.activation("input", input, dims);
  c.param("weight", weight, {"features"});
  c.param("bias", bias, {"features"});
  c.positive("epsilon", epsilon);
  if (!c.ok())
    return failure();
  // Memref forms may differ in layout (a strided view of a bigger buffer).
  auto resultType = cast<ShapedType>(result.getType());
  bool same = isa<RankedTensorType>(type)
                  ? resultType == type
                  : resultType.getShape() == type.getShape() &&
                        resultType.getElementType() == type.getElementType();
  if (!same)
    return op->emitOpError() << "destination ('outs') type " << result.getType()
                             << " must equal the input type " << type;
  return success();
}

LogicalResult LayerNormOp::verify() {
  if (failed(verifyTensorOrMemRefForm(*this)))
    return failure();
  return verifyNorm(*this, getInput(), getWeight(), getBias(),
                    getEpsilon().convertToFloat(), getOut());
}

LogicalResult
LayerNormOp::reifyResultShapes(OpBuilder &b,
                               ReifiedRankedShapedTypeDims &shapes) {
  return reifyFromInits(*this, b, shapes);
}

LogicalResult RmsNormOp::verify() {
  if (failed(verifyTensorOrMemRefForm(*this)))
    return failure();
  return verifyNorm(*this, getInput(), getWeight(), Value(),
                    getEpsilon().convertToFloat(), getOut());
}

LogicalResult RmsNormOp::reifyResultShapes(OpBuilder &b,
                                           ReifiedRankedShapedTypeDims &shapes) {
  return reifyFromInits(*this, b, shapes);
}

void LayerNormOp::build(OpBuilder &b, OperationState &state, Value input,
                        Value weight, Value bias, float epsilon) {
  auto type = cast<RankedTensorType>(input.getType());
  Value out = emptyDestination(b, state.location, type, dimsOf(input));
  build(b, state, TypeRange{type}, input, weight, bias, out, b.getF32FloatAttr(epsilon));
}

void RmsNormOp::build(OpBuilder &b, OperationState &state, Value input,
                      Value weight, float epsilon) {
  auto type = cast<RankedTensorType>(input.getType());
  Value out = emptyDestination(b, state.location, type, dimsOf(input));
  build(b, state, TypeRange{type}, input, weight, out, b.getF32FloatAttr(epsilon));
}
