//===- Jit.h - Compile hybrid IR and run it in-process ----------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// Lowers a module with --hybrid-cpu-pipeline and runs its functions through
// MLIR's ExecutionEngine (ORC JIT, host CPU, libomp loaded). Functions are
// called through their C interface (`llvm.emit_c_interface`) with every
// argument a strided memref descriptor; results are written into output
// arguments (bufferization.materialize_in_destination), so any number of
// outputs of any rank works.
//
//===----------------------------------------------------------------------===//

#ifndef HYBRID_EXECUTION_JIT_H
#define HYBRID_EXECUTION_JIT_H

#include "hybrid/Pipelines/Pipelines.h"
#include "hybrid/Support/HostTensor.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace mlir {
class ExecutionEngine;
} // namespace mlir

namespace mlir::hybrid {

/// A row-major buffer passed as a memref argument (any element type).
struct MemRefView {
  void *data;
  llvm::ArrayRef<int64_t> shape;
  MemRefView(void *data, llvm::ArrayRef<int64_t> shape)
      : data(data), shape(shape) {}
  MemRefView(HostTensor &t) : data(t.data.data()), shape(t.shape) {}
};

/// A compiled module.
class JitModule {
public:
  /// Lowers `module` (consumed) with the CPU pipeline and JIT-compiles it.
  static llvm::Expected<std::unique_ptr<JitModule>>
  compile(ModuleOp module, const CPUPipelineOptions &options = {});
  ~JitModule();

  /// Calls `func` (which must have `llvm.emit_c_interface`) with every
  /// argument a memref over the given tensors, in order; outputs are
  /// arguments like inputs.
  llvm::Error call(llvm::StringRef func, llvm::ArrayRef<HostTensor *> args);
  llvm::Error call(llvm::StringRef func, llvm::ArrayRef<MemRefView> args);

  /// Generates the machine code of `func` now (the JIT otherwise does it at
  /// the first call).
  llvm::Error materialize(llvm::StringRef func);

private:
  explicit JitModule(std::unique_ptr<ExecutionEngine> engine);
  std::unique_ptr<ExecutionEngine> engine;
};

/// Adds `llvm.emit_c_interface` to every public function of `module`.
void emitCInterfaces(ModuleOp module);

} // namespace mlir::hybrid

#endif // HYBRID_EXECUTION_JIT_H
