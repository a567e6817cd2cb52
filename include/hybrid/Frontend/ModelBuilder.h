//===- ModelBuilder.h - Model spec to hybrid IR ------------------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// Lowers a validated ModelSpec into a func.func in the hybrid dialect
// (plus linalg, tensor, arith and math for projections and elementwise
// work); deep models call one private function per layer kind
// (BuildOptions). Weights are function arguments named by the `hybrid.weight`
// argument attribute (docs/Frontend.md lists the names and layouts). While
// it builds, the emitter also accounts what the model costs: FLOPs per token
// and state bytes per sequence, layer by layer.
//
//===----------------------------------------------------------------------===//

#ifndef HYBRID_FRONTEND_MODELBUILDER_H
#define HYBRID_FRONTEND_MODELBUILDER_H

#include "hybrid/Frontend/ModelSpec.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <string>
#include <vector>

namespace mlir {
class DialectRegistry;
namespace func {
class FuncOp;
} // namespace func
} // namespace mlir

namespace mlir::hybrid::frontend {

/// The name of the function argument attribute that names a weight.
constexpr llvm::StringLiteral kWeightAttrName = "hybrid.weight";

/// One weight tensor the model takes.
struct WeightInfo {
  std::string name;
  std::vector<int64_t> shape;
  int64_t numElements() const;
};

/// What one layer costs, accounted while its IR is built.
struct LayerCost {
  LayerKind kind;
  /// Parameters (elements) of the layer's weights.
  int64_t params = 0;
  /// FLOPs per token of the matmuls and recurrences (2 per multiply-add),
  /// attention scores excluded (they depend on the position).
  int64_t flopsPerToken = 0;
  /// FLOPs per token per attended key (4 * q_heads * head_dim for scores and
  /// the weighted sum); multiply by the mean number of keys a token sees.
  int64_t flopsPerKey = 0;
  /// Recurrent state bytes per sequence (f32): scan/WKV/delta/LRU/GRU states
  /// and causal-conv tails.
  int64_t stateBytes = 0;
  /// K/V cache bytes per cached position (f32) and the window that bounds
  /// the cached positions (0: unbounded, full causal attention).
  int64_t kvBytesPerPosition = 0;
  int64_t kvWindow = 0;
};

/// The built model: the module, its weights in argument order (after the
/// input), and the cost of every layer plus the model-level weights.
struct BuiltModel {
  OwningOpRef<ModuleOp> module;
  std::vector<WeightInfo> weights;
  /// Stateful models: the per-sequence states, in argument order after the
  /// weights and in result order after the output. Shapes exclude the
  /// leading batch dimension.
  std::vector<WeightInfo> states;
  std::vector<LayerCost> layers;
  /// Parameters and FLOPs per token outside the layers (input projection,
  /// final norm).
  int64_t otherParams = 0;
  int64_t otherFlopsPerToken = 0;
};

/// How layers become functions.
enum class LayerSharing {
  /// Share when the model is deep (more than kShareLayersAbove layers).
  Auto,
  /// One private function per layer kind, called once per layer with that
  /// layer's weights and states: the compiler sees each kind once, so
  /// compile time and memory grow with the number of kinds, not of layers.
  Always,
  /// Every layer inline in the model function (cross-layer fusion).
  Never,
};

/// Auto shares layer functions above this many layers (docs/Frontend.md,
/// "Deep models": inline layers compile superlinearly in depth).
constexpr int64_t kShareLayersAbove = 16;

/// Options of the IR builder (not of the model: both forms compute the same
/// function).
struct BuildOptions {
  LayerSharing layers = LayerSharing::Auto;
};

/// Dialects the built IR uses (hybrid, func, linalg, tensor, arith, math).
void registerFrontendDialects(DialectRegistry &registry);

/// Builds `spec` as a function `funcName` taking the input
/// `[batch, seq, embed_dim]` and the weights, returning `[batch, hidden]`
/// (last position) or `[batch, seq, hidden]` (whole sequence). The context
/// must have the dialects of registerFrontendDialects loaded or loadable.
BuiltModel buildModel(MLIRContext *context, const ModelSpec &spec,
                      llvm::StringRef funcName = "forward",
                      const BuildOptions &options = {});

/// Builds the stateful form of `spec`: `funcName(input, lengths, weights...,
/// states...) -> (output, states...)` where the states are every layer's recurrent
/// state, conv tail, token-shift tail, and for attention a K/V cache of the
/// window's last `window - 1` positions plus their validity (f32 0/1). Called
/// on consecutive chunks of a sequence (a chunk of 1 is a decode step), it
/// computes what the stateless model computes on the whole sequence; zero
/// states start a sequence. Needs a sliding window (a full-causal cache
/// would grow with the sequence): fails with a message otherwise.
///
/// `lengths` ([batch], i64) makes the batch variable-length: sequence b
/// consumes only the chunk's first clamp(lengths[b], 0, T) positions; the
/// others change neither its state nor its output (zero there; with a
/// last-position output, its last consumed position, zero if none).
///
/// With `stepFuncName`, the module also holds `stepFuncName`, the same
/// function specialised to chunks of one position (a decode step; lengths
/// of 0 or 1 say which sequences advance).
llvm::Expected<BuiltModel> buildStatefulModel(MLIRContext *context,
                                              const ModelSpec &spec,
                                              llvm::StringRef funcName =
                                                  "prefill",
                                              llvm::StringRef stepFuncName =
                                                  {},
                                              const BuildOptions &options =
                                                  {});

/// The weights of a function built by buildModel, read back from its
/// `hybrid.weight` argument attributes.
std::vector<WeightInfo> getModelWeights(func::FuncOp func);

} // namespace mlir::hybrid::frontend

#endif // HYBRID_FRONTEND_MODELBUILDER_H
