//===- Jit.cpp - Compile hybrid IR and run it in-process -------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Execution/Jit.h"
#include "hybrid/Execution/Aot.h"
#include "hybrid/Runtime/hybrid_runtime.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ExecutionEngine/Orc/Core.h"
#include "llvm/ExecutionEngine/Orc/Mangling.h"
#include "llvm/Support/TargetSelect.h"

// The runtime's allocation functions for compiled code (lib/Runtime).
extern "C" void *_mlir_memref_to_llvm_alloc(uint64_t size);
extern "C" void *_mlir_memref_to_llvm_aligned_alloc(uint64_t alignment,
                                                    uint64_t size);
extern "C" void _mlir_memref_to_llvm_free(void *ptr);

using namespace mlir;
using namespace mlir::hybrid;

#ifndef HYBRID_LLVM_LIB_DIR
#define HYBRID_LLVM_LIB_DIR "/usr/lib/llvm-22/lib"
#endif

void mlir::hybrid::emitCInterfaces(ModuleOp module) {
  for (auto fn : module.getOps<func::FuncOp>())
    if (fn.isPublic() && !fn.isExternal())
      fn->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                  UnitAttr::get(module.getContext()));
}

JitModule::JitModule(std::unique_ptr<ExecutionEngine> e)
    : engine(std::move(e)) {}
JitModule::~JitModule() = default;

llvm::Expected<std::unique_ptr<JitModule>>
JitModule::compile(ModuleOp module, const CPUPipelineOptions &options) {
  static bool initialized = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    return true;
  }();
  (void)initialized;
  MLIRContext *ctx = module.getContext();
  DialectRegistry registry;
  registerPipelineDependencies(registry);
  ctx->appendDialectRegistry(registry);

  std::string diagnostics;
  llvm::raw_string_ostream os(diagnostics);
  ScopedDiagnosticHandler handler(ctx, [&](Diagnostic &d) {
    os << d.getLocation() << ": " << d.str() << "\n";
    return success();
  });
  PassManager pm(ctx);
  buildHybridCPUPipeline(pm, options);
  if (failed(pm.run(module)))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "lowering failed:\n" + diagnostics);

  ExecutionEngineOptions engineOptions;
  auto transformer = makeHostOptimizer(nullptr);
  engineOptions.transformer = transformer;
  std::string omp = std::string(HYBRID_LLVM_LIB_DIR) + "/libomp.so";
  std::string utils =
      std::string(HYBRID_LLVM_LIB_DIR) + "/libmlir_c_runner_utils.so";
  SmallVector<StringRef> libs{utils};
  if (options.openmp)
    libs.push_back(omp);
  engineOptions.sharedLibPaths = libs;
  auto engine = ExecutionEngine::create(module, engineOptions);
  if (!engine)
    return engine.takeError();
  // The compiled code's allocation functions: the runtime's caching ones.
  (*engine)->registerSymbols([](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap symbols;
    auto add = [&](const char *name, void *fn) {
      symbols[interner(name)] = {llvm::orc::ExecutorAddr::fromPtr(fn),
                                 llvm::JITSymbolFlags::Exported};
    };
    add("_mlir_memref_to_llvm_alloc",
        reinterpret_cast<void *>(&_mlir_memref_to_llvm_alloc));
    add("_mlir_memref_to_llvm_aligned_alloc",
        reinterpret_cast<void *>(&_mlir_memref_to_llvm_aligned_alloc));
    add("_mlir_memref_to_llvm_free",
        reinterpret_cast<void *>(&_mlir_memref_to_llvm_free));
    return symbols;
  });
  return std::unique_ptr<JitModule>(new JitModule(std::move(*engine)));
}

llvm::Error JitModule::materialize(llvm::StringRef func) {
  auto fn = engine->lookupPacked(("_mlir_ciface_" + func).str());
  if (!fn)
    return fn.takeError();
  return llvm::Error::success();
}

llvm::Error JitModule::call(llvm::StringRef func,
                            llvm::ArrayRef<HostTensor *> args) {
  SmallVector<MemRefView> views;
  for (HostTensor *t : args)
    views.emplace_back(*t);
  return call(func, views);
}

llvm::Error JitModule::call(llvm::StringRef func,
                            llvm::ArrayRef<MemRefView> args) {
  // One strided memref descriptor per argument:
  // {allocated, aligned, offset, sizes[rank], strides[rank]}.
  std::vector<std::vector<int64_t>> descriptors;
  descriptors.reserve(args.size());
  for (const MemRefView &t : args) {
    std::vector<int64_t> d;
    auto ptr = reinterpret_cast<int64_t>(t.data);
    d.push_back(ptr);
    d.push_back(ptr);
    d.push_back(0);
    d.insert(d.end(), t.shape.begin(), t.shape.end());
    std::vector<int64_t> strides(t.shape.size(), 1);
    for (int64_t i = static_cast<int64_t>(t.shape.size()) - 2; i >= 0; --i)
      strides[i] = strides[i + 1] * t.shape[i + 1];
    d.insert(d.end(), strides.begin(), strides.end());
    descriptors.push_back(std::move(d));
  }
  std::vector<void *> pointers;
  for (auto &d : descriptors)
    pointers.push_back(d.data());
  SmallVector<void *> packed;
  for (void *&p : pointers)
    packed.push_back(&p);
  auto fn = engine->lookupPacked(("_mlir_ciface_" + func).str());
  if (!fn)
    return fn.takeError();
  // Through the runtime, so that the compiled code running out of memory
  // is an error, not a crash.
  if (hybrid_invoke_guarded(*fn, packed.data()) != HYBRID_OK)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   hybrid_last_error());
  return llvm::Error::success();
}
