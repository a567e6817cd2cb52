//===- Aot.h - Ahead-of-time compilation to objects and headers -*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// What hybrid-compile --target=cpu does after the pipeline: the model
// descriptor and forward trampoline of the C runtime API (in the LLVM
// dialect), translation to LLVM IR, host code generation, and the plain C
// header an application includes.
//
//===----------------------------------------------------------------------===//

#ifndef HYBRID_EXECUTION_AOT_H
#define HYBRID_EXECUTION_AOT_H

#include "hybrid/Frontend/ModelBuilder.h"
#include "hybrid/Frontend/ModelSpec.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <functional>
#include <memory>

namespace llvm {
class TargetMachine;
} // namespace llvm

namespace mlir::hybrid {

/// Adds, to a module already lowered to the LLVM dialect, the model
/// descriptor `<name>_model` (a hybrid_model_desc, see hybrid_runtime.h)
/// and the trampoline `<name>_forward(void **descriptors)` it points to,
/// which calls the exported `forwardFunc`. With `states` (the stateful
/// form's, from buildStatefulModel), the module also holds the exported
/// `prefill` and `step` functions, and the descriptor lists the states and
/// points to their trampolines. Only `<name>_model` is meant to be exported
/// (internalizeSymbols).
LogicalResult addModelDescriptor(ModuleOp module, llvm::StringRef name,
                                 llvm::StringRef forwardFunc,
                                 const frontend::ModelSpec &spec,
                                 llvm::ArrayRef<frontend::WeightInfo> weights,
                                 llvm::ArrayRef<frontend::WeightInfo> states =
                                     {});

/// Gives every function and global an LLVM-dialect module defines internal
/// linkage, except those named in `exported`: a model artifact exports only
/// names that carry its model name, so several models (and an application
/// with its own `forward`) link into one program. Declarations stay
/// external.
void internalizeSymbols(ModuleOp module, llvm::ArrayRef<std::string> exported);

/// For a compiled .mlir module (LLVM dialect, after hybrid-export-functions):
/// renames each C entry point `_mlir_ciface_<f>` to `<prefix>_<f>` and
/// internalizes everything else. Returns the exported names.
FailureOr<std::vector<std::string>> exportFunctionsAs(ModuleOp module,
                                                      llvm::StringRef prefix);

/// LLVM's -O3 module pipeline for `tm` (null: the host's defaults), minus
/// CalledValuePropagation: it only annotates indirect calls (compiled
/// models make none) and is quadratic in the pointer arguments of a call
/// graph, 91% of a 256-layer model's LLVM time (docs/Frontend.md, "Deep
/// models").
std::function<llvm::Error(llvm::Module *)>
makeHostOptimizer(llvm::TargetMachine *tm);

/// Translates an LLVM-dialect module to LLVM IR for the host (triple, data
/// layout, PIC) and optimizes it (makeHostOptimizer).
llvm::Expected<std::unique_ptr<llvm::Module>>
translateForHost(ModuleOp module, llvm::LLVMContext &context);

enum class HostOutput { Assembly, Object };

/// Host code generation of `module` (from translateForHost).
llvm::Error emitHostCode(llvm::Module &module, HostOutput kind,
                         llvm::raw_pwrite_stream &os);

/// Links an object file into a shared library (clang-22 + lld, with libomp).
llvm::Error linkSharedLibrary(llvm::StringRef object, llvm::StringRef output);

/// The C header of a compiled model: includes hybrid_runtime.h, declares
/// `<name>_model`, documents the input, output and weights.
void writeModelHeader(llvm::raw_ostream &os, llvm::StringRef name,
                      const frontend::ModelSpec &spec,
                      llvm::ArrayRef<frontend::WeightInfo> weights,
                      llvm::ArrayRef<frontend::WeightInfo> states = {});

/// The C header of a compiled .mlir module (after hybrid-export-functions):
/// one `<name>_<f>` declaration per exported function, with a descriptor
/// struct per (rank, element type) of its buffers, scalars by value, the
/// arguments named by their `hybrid.weight` attributes (hybrid-compile sets
/// them from the source's SSA names), and a comment listing which are
/// inputs and which outputs, with their shapes. Fails on an argument C
/// cannot express (unranked buffers, vectors, complex numbers).
LogicalResult writeFunctionsHeader(llvm::raw_ostream &os,
                                   llvm::StringRef name, ModuleOp exported);

} // namespace mlir::hybrid

#endif // HYBRID_EXECUTION_AOT_H
