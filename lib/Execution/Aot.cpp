//===- Aot.cpp - Ahead-of-time compilation to objects and headers -*- C++ -*-=//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Execution/Aot.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/Builders.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/PassInstrumentation.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"

using namespace mlir;
using namespace mlir::hybrid;
using namespace mlir::hybrid::frontend;

#ifndef HYBRID_LLVM_LIB_DIR
#define HYBRID_LLVM_LIB_DIR "/usr/lib/llvm-22/lib"
#endif
#ifndef HYBRID_LLVM_TOOLS_DIR
#define HYBRID_LLVM_TOOLS_DIR "/usr/lib/llvm-22/bin"
#endif

static llvm::Error error(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

//===----------------------------------------------------------------------===//
// Model descriptor (LLVM dialect)
//===----------------------------------------------------------------------===//

namespace {
/// Builds constant globals in the LLVM dialect.
struct GlobalBuilder {
  OpBuilder &b;
  Location loc;
  ModuleOp module;
  unsigned counter = 0;

  Type ptr() { return LLVM::LLVMPointerType::get(b.getContext()); }

  LLVM::GlobalOp string(StringRef prefix, StringRef value) {
    std::string data = value.str();
    data.push_back('\0');
    auto type = LLVM::LLVMArrayType::get(b.getI8Type(), data.size());
    return LLVM::GlobalOp::create(
        b, loc, type, /*isConstant=*/true, LLVM::Linkage::Internal,
        (prefix + "_str" + std::to_string(counter++)).str(),
        b.getStringAttr(data));
  }

  LLVM::GlobalOp i64Array(StringRef prefix, ArrayRef<int64_t> values) {
    auto type = LLVM::LLVMArrayType::get(b.getI64Type(),
                                         std::max<size_t>(values.size(), 1));
    SmallVector<int64_t> padded(values.begin(), values.end());
    if (padded.empty())
      padded.push_back(0);
    auto attr = DenseIntElementsAttr::get(
        RankedTensorType::get({int64_t(padded.size())}, b.getI64Type()),
        padded);
    return LLVM::GlobalOp::create(
        b, loc, type, true, LLVM::Linkage::Internal,
        (prefix + "_shape" + std::to_string(counter++)).str(), attr);
  }
};
} // namespace

/// `void <name>_<func>(void **descriptors)`: calls `_mlir_ciface_<func>`
/// with the descriptors, which must number `numArgs`.
static FailureOr<LLVM::LLVMFuncOp> addTrampoline(OpBuilder &b, ModuleOp module,
                                                 StringRef name, StringRef func,
                                                 unsigned numArgs,
                                                 StringRef expected) {
  MLIRContext *ctx = module.getContext();
  Location loc = module.getLoc();
  std::string cifaceName = ("_mlir_ciface_" + func).str();
  auto ciface = module.lookupSymbol<LLVM::LLVMFuncOp>(cifaceName);
  if (!ciface)
    return module.emitError("no " + cifaceName +
                            ": the model was not exported "
                            "(hybrid-export-functions)");
  if (ciface.getNumArguments() != numArgs)
    return module.emitError() << cifaceName << " takes "
                              << ciface.getNumArguments()
                              << " arguments, expected " << expected;
  Type ptr = LLVM::LLVMPointerType::get(ctx);
  auto type = LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), {ptr});
  auto trampoline =
      LLVM::LLVMFuncOp::create(b, loc, (name + "_" + func).str(), type);
  OpBuilder::InsertionGuard guard(b);
  Block *entry = trampoline.addEntryBlock(b);
  b.setInsertionPointToStart(entry);
  SmallVector<Value> args;
  for (unsigned i = 0; i < numArgs; ++i) {
    Value slot = LLVM::GEPOp::create(b, loc, ptr, ptr, entry->getArgument(0),
                                     ArrayRef<LLVM::GEPArg>{int32_t(i)});
    args.push_back(LLVM::LoadOp::create(b, loc, ptr, slot));
  }
  LLVM::CallOp::create(b, loc, ciface, args);
  LLVM::ReturnOp::create(b, loc, ValueRange{});
  return trampoline;
}

/// A constant array of hybrid_weight_info {name, rank, shape} named
/// `<name>_<what>`; null when `tensors` is empty.
static LLVM::GlobalOp addInfoArray(OpBuilder &b, GlobalBuilder &g,
                                   StringRef name, StringRef what,
                                   ArrayRef<WeightInfo> tensors) {
  if (tensors.empty())
    return {};
  MLIRContext *ctx = b.getContext();
  Location loc = g.loc;
  Type ptr = g.ptr();
  SmallVector<LLVM::GlobalOp> names, shapes;
  for (const WeightInfo &w : tensors) {
    names.push_back(g.string(name, w.name));
    shapes.push_back(g.i64Array(name, w.shape));
  }
  auto infoType =
      LLVM::LLVMStructType::getLiteral(ctx, {ptr, b.getI32Type(), ptr});
  auto arrayType = LLVM::LLVMArrayType::get(infoType, tensors.size());
  auto array = LLVM::GlobalOp::create(b, loc, arrayType, true,
                                      LLVM::Linkage::Internal,
                                      (name + "_" + what).str(), Attribute());
  OpBuilder::InsertionGuard guard(b);
  Block *init = b.createBlock(&array.getInitializerRegion());
  b.setInsertionPointToStart(init);
  Value value = LLVM::UndefOp::create(b, loc, arrayType);
  for (auto [i, w] : llvm::enumerate(tensors)) {
    Value info = LLVM::UndefOp::create(b, loc, infoType);
    info = LLVM::InsertValueOp::create(
        b, loc, info, LLVM::AddressOfOp::create(b, loc, names[i]), int64_t(0));
    info = LLVM::InsertValueOp::create(
        b, loc, info,
        LLVM::ConstantOp::create(b, loc, b.getI32Type(),
                                 b.getI32IntegerAttr(w.shape.size())),
        1);
    info = LLVM::InsertValueOp::create(
        b, loc, info, LLVM::AddressOfOp::create(b, loc, shapes[i]), int64_t(2));
    value = LLVM::InsertValueOp::create(b, loc, value, info, int64_t(i));
  }
  LLVM::ReturnOp::create(b, loc, value);
  return array;
}

LogicalResult
mlir::hybrid::addModelDescriptor(ModuleOp module, StringRef name,
                                 const ModelSpec &spec,
                                 ArrayRef<WeightInfo> weights,
                                 ArrayRef<WeightInfo> states) {
  MLIRContext *ctx = module.getContext();
  OpBuilder b(ctx);
  Location loc = module.getLoc();
  b.setInsertionPointToEnd(module.getBody());
  GlobalBuilder g{b, loc, module};
  Type ptr = g.ptr();

  std::string forwardArgs =
      "input + " + std::to_string(weights.size()) + " weights + output";
  FailureOr<LLVM::LLVMFuncOp> forward = addTrampoline(
      b, module, name, "forward", weights.size() + 2, forwardArgs);
  if (failed(forward))
    return failure();
  // The stateful functions: (input, lengths, weights..., states...,
  // output, next states...).
  FailureOr<LLVM::LLVMFuncOp> prefill, step;
  if (!states.empty()) {
    unsigned n = 3 + weights.size() + 2 * states.size();
    std::string expected = "input + lengths + " +
                           std::to_string(weights.size()) + " weights + " +
                           std::to_string(states.size()) +
                           " states + output + " +
                           std::to_string(states.size()) + " next states";
    prefill = addTrampoline(b, module, name, "prefill", n, expected);
    step = addTrampoline(b, module, name, "step", n, expected);
    if (failed(prefill) || failed(step))
      return failure();
  }
  LLVM::GlobalOp weightArray = addInfoArray(b, g, name, "weights", weights);
  LLVM::GlobalOp stateArray = addInfoArray(b, g, name, "states", states);

  // The descriptor (hybrid_model_desc): {name, embed_dim, hidden_size,
  // seq_len, sequence_output, num_weights, weights, forward, num_states,
  // states, prefill, step}.
  LLVM::GlobalOp modelName = g.string(name, name);
  Type i64 = b.getI64Type(), i32 = b.getI32Type();
  auto descType = LLVM::LLVMStructType::getLiteral(
      ctx, {ptr, i64, i64, i64, i32, i32, ptr, ptr, i32, ptr, ptr, ptr});
  auto desc = LLVM::GlobalOp::create(b, loc, descType, true,
                                     LLVM::Linkage::External,
                                     (name + "_model").str(), Attribute());
  OpBuilder::InsertionGuard guard(b);
  Block *init = b.createBlock(&desc.getInitializerRegion());
  b.setInsertionPointToStart(init);
  auto cst = [&](Type t, int64_t v) -> Value {
    return LLVM::ConstantOp::create(b, loc, t, b.getIntegerAttr(t, v));
  };
  auto addressOf = [&](Operation *symbol) -> Value {
    if (!symbol)
      return LLVM::ZeroOp::create(b, loc, ptr);
    if (auto global = dyn_cast<LLVM::GlobalOp>(symbol))
      return LLVM::AddressOfOp::create(b, loc, global);
    return LLVM::AddressOfOp::create(b, loc, cast<LLVM::LLVMFuncOp>(symbol));
  };
  SmallVector<Value> fields{
      addressOf(modelName),
      cst(i64, spec.embedDim),
      cst(i64, spec.hiddenSize),
      cst(i64, spec.seqLen.value_or(0)),
      cst(i32, spec.output == OutputKind::Sequence ? 1 : 0),
      cst(i32, weights.size()),
      addressOf(weightArray),
      addressOf(*forward),
      cst(i32, states.size()),
      addressOf(stateArray),
      addressOf(states.empty() ? nullptr : prefill->getOperation()),
      addressOf(states.empty() ? nullptr : step->getOperation())};
  Value d = LLVM::UndefOp::create(b, loc, descType);
  for (auto [i, f] : llvm::enumerate(fields))
    d = LLVM::InsertValueOp::create(b, loc, d, f, int64_t(i));
  LLVM::ReturnOp::create(b, loc, d);
  return success();
}

//===----------------------------------------------------------------------===//
// LLVM IR and host code
//===----------------------------------------------------------------------===//

/// Weak definitions of the allocation functions the compiled code calls
/// (`_mlir_memref_to_llvm_alloc`, `_aligned_alloc`, `_free`) on top of
/// malloc, aligned_alloc and free. The runtime's strong definitions (a
/// cache of freed blocks) replace them wherever the runtime is linked in or
/// visible to the dynamic linker; a shared library loaded by a program that
/// does not export them still works, without the cache.
static void addAllocationFallbacks(llvm::Module &m) {
  llvm::LLVMContext &ctx = m.getContext();
  auto define = [&](StringRef name, StringRef libc) {
    llvm::Function *fn = m.getFunction(name);
    if (!fn || !fn->isDeclaration())
      return;
    llvm::FunctionCallee target = m.getOrInsertFunction(
        libc, fn->getFunctionType());
    fn->setLinkage(llvm::GlobalValue::WeakAnyLinkage);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", fn));
    SmallVector<llvm::Value *> args;
    for (llvm::Argument &a : fn->args())
      args.push_back(&a);
    llvm::CallInst *call = b.CreateCall(target, args);
    if (fn->getReturnType()->isVoidTy())
      b.CreateRetVoid();
    else
      b.CreateRet(call);
  };
  define("_mlir_memref_to_llvm_alloc", "malloc");
  define("_mlir_memref_to_llvm_aligned_alloc", "aligned_alloc");
  define("_mlir_memref_to_llvm_free", "free");
}

static llvm::Expected<std::unique_ptr<llvm::TargetMachine>> hostMachine() {
  static bool initialized = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    return true;
  }();
  (void)initialized;
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder)
    return builder.takeError();
  builder->setRelocationModel(llvm::Reloc::PIC_);
  builder->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  return builder->createTargetMachine();
}

std::function<llvm::Error(llvm::Module *)>
mlir::hybrid::makeHostOptimizer(llvm::TargetMachine *tm) {
  return [tm](llvm::Module *m) -> llvm::Error {
    llvm::PassInstrumentationCallbacks callbacks;
    callbacks.registerShouldRunOptionalPassCallback(
        [](llvm::StringRef pass, llvm::Any) {
          return pass != "CalledValuePropagationPass";
        });
    llvm::PipelineTuningOptions tuning;
    tuning.LoopUnrolling = true;
    tuning.LoopInterleaving = true;
    tuning.LoopVectorization = true;
    tuning.SLPVectorization = true;
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PassBuilder pb(tm, tuning, std::nullopt, &callbacks);
    pb.registerModuleAnalyses(mam);
    pb.registerCGSCCAnalyses(cgam);
    pb.registerFunctionAnalyses(fam);
    pb.registerLoopAnalyses(lam);
    pb.crossRegisterProxies(lam, fam, cgam, mam);
    llvm::ModulePassManager mpm =
        pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
    mpm.run(*m, mam);
    return llvm::Error::success();
  };
}

llvm::Expected<std::unique_ptr<llvm::Module>>
mlir::hybrid::translateForHost(ModuleOp module, llvm::LLVMContext &context) {
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, context, "hybrid");
  if (!llvmModule)
    return error("translation to LLVM IR failed");
  auto tm = hostMachine();
  if (!tm)
    return tm.takeError();
  ExecutionEngine::setupTargetTripleAndDataLayout(llvmModule.get(), tm->get());
  addAllocationFallbacks(*llvmModule);
  auto optimize = makeHostOptimizer(tm->get());
  if (llvm::Error e = optimize(llvmModule.get()))
    return std::move(e);
  return llvmModule;
}

llvm::Error mlir::hybrid::emitHostCode(llvm::Module &module, HostOutput kind,
                                       llvm::raw_pwrite_stream &os) {
  auto tm = hostMachine();
  if (!tm)
    return tm.takeError();
  llvm::legacy::PassManager pm;
  auto type = kind == HostOutput::Object ? llvm::CodeGenFileType::ObjectFile
                                         : llvm::CodeGenFileType::AssemblyFile;
  if ((*tm)->addPassesToEmitFile(pm, os, nullptr, type))
    return error("the host target cannot emit this file type");
  pm.run(module);
  return llvm::Error::success();
}

llvm::Error mlir::hybrid::linkSharedLibrary(StringRef object,
                                            StringRef output) {
  std::string clang = HYBRID_LLVM_TOOLS_DIR "/clang";
  if (!llvm::sys::fs::can_execute(clang))
    return error("cannot link a shared library: " + clang + " not found "
                 "(install clang-22)");
  std::string libDir = HYBRID_LLVM_LIB_DIR;
  SmallVector<std::string> args{clang,        "-shared",
                                "-fuse-ld=lld", object.str(),
                                "-o",         output.str(),
                                "-L" + libDir, "-lomp",
                                "-Wl,-rpath," + libDir};
  SmallVector<StringRef> refs(args.begin(), args.end());
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(clang, refs, std::nullopt, {}, 0, 0,
                                     &message);
  if (rc != 0)
    return error("linking " + output + " failed (" + clang + " exited " +
                 std::to_string(rc) + ")" +
                 (message.empty() ? "" : ": " + message));
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Headers
//===----------------------------------------------------------------------===//

static std::string guard(StringRef name) {
  std::string g;
  for (char c : name)
    g += std::isalnum(static_cast<unsigned char>(c)) ? std::toupper(c) : '_';
  return g + "_H";
}

void mlir::hybrid::writeModelHeader(llvm::raw_ostream &os, StringRef name,
                                    const ModelSpec &spec,
                                    ArrayRef<WeightInfo> weights,
                                    ArrayRef<WeightInfo> states) {
  std::string schedule;
  for (LayerKind k : spec.resolveSchedule())
    schedule += layerKindLetter(k);
  int64_t params = 0;
  for (const WeightInfo &w : weights)
    params += w.numElements();
  os << "/* " << name << ".h: generated by hybrid-compile. Do not edit.\n"
     << " *\n"
     << " * Model '" << name << "': " << modeName(spec.mode) << ", layers "
     << schedule << ", hidden " << spec.hiddenSize << ", " << params
     << " parameters.\n"
     << " * Input  [batch, " << (spec.seqLen ? std::to_string(*spec.seqLen)
                                              : std::string("seq"))
     << ", " << spec.embedDim << "] f32\n"
     << " * Output [batch, "
     << (spec.output == OutputKind::Sequence ? "seq, " : "")
     << spec.hiddenSize << "] f32\n"
     << " *\n"
     << " *   hybrid_model *m;\n"
     << " *   hybrid_model_create_from_file(&" << name
     << "_model, \"weights.safetensors\", &m);\n"
     << " *   hybrid_model_forward(m, input, batch, seq, output, capacity);\n"
     << " *   hybrid_model_destroy(m);\n"
     << " *\n";
  if (!states.empty()) {
    int64_t bytes = 0;
    for (const WeightInfo &st : states)
      bytes += 4 * st.numElements();
    os << " * Stateful inference (" << states.size() << " state tensors, "
       << bytes << " bytes per sequence):\n"
       << " *   hybrid_state *s;\n"
       << " *   hybrid_state_create(m, batch, &s);\n"
       << " *   hybrid_prefill(m, s, prompt, batch, T, lengths, out, cap);\n"
       << " *   hybrid_step(m, s, token, batch, NULL, out, cap);\n"
       << " *   hybrid_state_destroy(s);\n"
       << " *\n";
  }
  os
     << " * Link: the model object or library, libhybrid_runtime, libomp.\n"
     << " *\n"
     << " * Weights (f32, row-major; linear weights [in, out]), in order:\n";
  for (const WeightInfo &w : weights) {
    os << " *   " << w.name << " [";
    for (size_t i = 0; i < w.shape.size(); ++i)
      os << (i ? ", " : "") << w.shape[i];
    os << "]\n";
  }
  os << " */\n"
     << "#ifndef " << guard(name) << "\n#define " << guard(name) << "\n\n"
     << "#include \"hybrid/Runtime/hybrid_runtime.h\"\n\n"
     << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
     << "#define " << guard(name).substr(0, guard(name).size() - 2)
     << "_NUM_WEIGHTS " << weights.size() << "\n\n"
     << "/** The model: pass it to hybrid_model_create_from_file or "
        "hybrid_model_create_from_buffers. */\n"
     << "extern const hybrid_model_desc " << name << "_model;\n\n"
     << "#ifdef __cplusplus\n}\n#endif\n\n#endif\n";
}

void mlir::hybrid::writeFunctionsHeader(llvm::raw_ostream &os,
                                        StringRef name, ModuleOp exported) {
  os << "/* " << name << ".h: generated by hybrid-compile. Do not edit.\n"
     << " *\n"
     << " * Every argument is a strided memref descriptor passed by pointer:\n"
     << " * {allocated, aligned, offset, sizes[rank], strides[rank]}; outputs\n"
     << " * are trailing arguments the caller allocates.\n */\n"
     << "#ifndef " << guard(name) << "\n#define " << guard(name) << "\n\n"
     << "#include <stdint.h>\n\n"
     << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
  std::set<int64_t> ranks;
  for (auto fn : exported.getOps<func::FuncOp>())
    for (Type t : fn.getArgumentTypes())
      if (auto s = dyn_cast<ShapedType>(t))
        ranks.insert(s.getRank());
  for (int64_t r : ranks)
    os << "typedef struct { float *allocated; float *aligned; int64_t offset;"
       << (r ? " int64_t sizes[" + std::to_string(r) + "]; int64_t strides[" +
                   std::to_string(r) + "];"
             : std::string())
       << " } hybrid_memref_" << r << "d;\n";
  os << "\n";
  for (auto fn : exported.getOps<func::FuncOp>()) {
    if (!fn.isPublic() || fn.isExternal())
      continue;
    os << "void _mlir_ciface_" << fn.getName() << "(";
    for (auto [i, t] : llvm::enumerate(fn.getArgumentTypes())) {
      auto s = dyn_cast<ShapedType>(t);
      os << (i ? ", " : "") << "hybrid_memref_" << (s ? s.getRank() : 0)
         << "d *arg" << i;
    }
    os << ");\n";
  }
  os << "\n#ifdef __cplusplus\n}\n#endif\n\n#endif\n";
}
