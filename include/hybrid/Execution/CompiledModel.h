//===- CompiledModel.h - A model spec compiled for this CPU -----*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// Frontend + hybrid-export-functions + --hybrid-cpu-pipeline + JIT: a model
// spec in, a callable forward pass out.
//
//===----------------------------------------------------------------------===//

#ifndef HYBRID_EXECUTION_COMPILEDMODEL_H
#define HYBRID_EXECUTION_COMPILEDMODEL_H

#include "hybrid/Execution/Jit.h"
#include "hybrid/Frontend/ModelBuilder.h"
#include "hybrid/Frontend/ModelSpec.h"
#include "hybrid/Support/HostTensor.h"

#include "mlir/IR/MLIRContext.h"

namespace mlir::hybrid {

class CompiledModel {
public:
  static llvm::Expected<std::unique_ptr<CompiledModel>>
  compile(const frontend::ModelSpec &spec,
          const CPUPipelineOptions &options = {},
          const frontend::BuildOptions &build = {});

  const frontend::ModelSpec &spec() const { return modelSpec; }
  /// The weights the model takes, in argument order.
  const std::vector<frontend::WeightInfo> &weights() const { return weightInfo; }
  /// [batch, hidden] or [batch, seq, hidden].
  std::vector<int64_t> outputShape(int64_t batch, int64_t seq) const;

  /// Runs the forward pass. `input` is [batch, seq, embed_dim] (seq must
  /// equal the spec's static seq_len if it has one); `weights` follow
  /// weights(); `output` is resized. Checks every shape first.
  llvm::Error run(HostTensor &input, std::vector<HostTensor> &weights,
                  HostTensor &output);

private:
  CompiledModel() = default;
  std::unique_ptr<MLIRContext> context;
  std::unique_ptr<JitModule> jit;
  frontend::ModelSpec modelSpec;
  std::vector<frontend::WeightInfo> weightInfo;
};

/// The state of a batch of sequences of one StatefulModel: every layer's
/// recurrent state, conv and token-shift tails, and the attention windows'
/// K/V caches. A value: copying it is a snapshot, assigning it back a
/// restore (prefix caching, rolling back speculative tokens).
struct ModelState {
  /// The model that made it (states of another model are rejected).
  const void *owner = nullptr;
  int64_t batch = 0;
  /// Positions each sequence consumed so far.
  std::vector<int64_t> positions;
  std::vector<HostTensor> tensors;
  /// Bytes of the state tensors (f32).
  int64_t bytes() const;
};

/// A model spec compiled in its stateful form (buildStatefulModel): called
/// on consecutive chunks of the sequences of a batch, each call continues
/// from the state the previous one left; a chunk of one position is a
/// decode step. Needs a sliding window.
class StatefulModel {
public:
  static llvm::Expected<std::unique_ptr<StatefulModel>>
  compile(const frontend::ModelSpec &spec,
          const CPUPipelineOptions &options = {},
          const frontend::BuildOptions &build = {});

  const frontend::ModelSpec &spec() const { return modelSpec; }
  const std::vector<frontend::WeightInfo> &weights() const {
    return weightInfo;
  }
  /// The per-sequence state tensors (shapes without the batch dimension).
  const std::vector<frontend::WeightInfo> &states() const { return stateInfo; }

  /// A fresh (zero) state for `batch` sequences.
  ModelState newState(int64_t batch) const;

  /// Runs `input` [batch, T, embed_dim] (T >= 1) from `state` and advances
  /// it. `output` is [batch, hidden] (each sequence's last position) or
  /// [batch, T, hidden], as the spec says. `lengths` (empty: all T) makes
  /// the batch variable-length: sequence b consumes the first lengths[b]
  /// positions (0 <= lengths[b] <= T); its other positions change nothing
  /// and their outputs are zero. Checks every shape, length and the state
  /// first; on any error the state is unchanged.
  llvm::Error prefill(ModelState &state, HostTensor &input,
                      std::vector<HostTensor> &weights, HostTensor &output,
                      llvm::ArrayRef<int64_t> lengths = {});

  /// One decode step: `x` [batch, embed_dim] (or [batch, 1, embed_dim]),
  /// through the function compiled for chunks of one position. `output` is
  /// [batch, hidden]. `active` (empty: all) says which sequences advance
  /// (1) and which keep their state (0, zero output).
  llvm::Error step(ModelState &state, HostTensor &x,
                   std::vector<HostTensor> &weights, HostTensor &output,
                   llvm::ArrayRef<int64_t> active = {});

private:
  StatefulModel() = default;
  std::unique_ptr<MLIRContext> context;
  std::unique_ptr<JitModule> jit;
  frontend::ModelSpec modelSpec;
  std::vector<frontend::WeightInfo> weightInfo, stateInfo;
  /// Checks the state, the weights and the lengths of a call.
  llvm::Error checkCall(const ModelState &state, int64_t batch, int64_t t,
                        const std::vector<HostTensor> &weights,
                        llvm::ArrayRef<int64_t> lengths) const;
  /// Calls `func` and swaps the new state in.
  llvm::Error invoke(llvm::StringRef func, ModelState &state, MemRefView input,
                     std::vector<HostTensor> &weights, MemRefView output,
                     int64_t t, llvm::ArrayRef<int64_t> lengths);
  /// Output states of the last call (swapped with the state's tensors).
  ModelState scratch;
  /// Lengths of the last call (all T when the caller gave none).
  std::vector<int64_t> lengthsBuffer;
};

} // namespace mlir::hybrid

#endif // HYBRID_EXECUTION_COMPILEDMODEL_H
