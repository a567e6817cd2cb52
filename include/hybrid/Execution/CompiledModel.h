//===- CompiledModel.h - A model spec compiled for this CPU -----*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// Frontend + hybrid-export-functions + --hybrid-cpu-pipeline + JIT: a model
// spec in, a callable forward pass out. Also the bridge to the reference
// model (the same spec, described to the reference's plain struct).
//
//===----------------------------------------------------------------------===//

#ifndef HYBRID_EXECUTION_COMPILEDMODEL_H
#define HYBRID_EXECUTION_COMPILEDMODEL_H

#include "hybrid/Execution/Jit.h"
#include "hybrid/Frontend/ModelBuilder.h"
#include "hybrid/Frontend/ModelSpec.h"
#include "hybrid/Reference/Model.h"

#include "mlir/IR/MLIRContext.h"

namespace mlir::hybrid {

class CompiledModel {
public:
  static llvm::Expected<std::unique_ptr<CompiledModel>>
  compile(const frontend::ModelSpec &spec,
          const CPUPipelineOptions &options = {});

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

/// The spec described to the reference model.
reference::ModelConfig referenceConfig(const frontend::ModelSpec &spec);

/// Weights by name, for the reference model.
reference::Weights namedWeights(const std::vector<frontend::WeightInfo> &info,
                                const std::vector<HostTensor> &weights);

} // namespace mlir::hybrid

#endif // HYBRID_EXECUTION_COMPILEDMODEL_H
