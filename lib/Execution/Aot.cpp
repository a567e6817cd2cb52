//===- Aot.cpp - Ahead-of-time compilation to objects and headers -*- C++ -*-=//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Execution/Aot.h"
#include "hybrid/Runtime/hybrid_runtime.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/Builders.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/StringSet.h"
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
                                                 StringRef expected,
                                                 StringRef role = {}) {
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
      LLVM::LLVMFuncOp::create(b, loc, (name + "_" + (role.empty() ? func : role)).str(), type);
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
                                 StringRef forwardFunc, const ModelSpec &spec,
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
      b, module, name, forwardFunc, weights.size() + 2, forwardArgs,
      "forward");
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

  // The descriptor (hybrid_model_desc): {magic, abi_version, name,
  // embed_dim, hidden_size, seq_len, sequence_output, num_weights, weights,
  // forward, num_states, states, prefill, step}.
  LLVM::GlobalOp modelName = g.string(name, name);
  Type i64 = b.getI64Type(), i32 = b.getI32Type();
  auto descType = LLVM::LLVMStructType::getLiteral(
      ctx, {i32, i32, ptr, i64, i64, i64, i32, i32, ptr, ptr, i32, ptr, ptr,
            ptr});
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
      cst(i32, HYBRID_MODEL_MAGIC),
      cst(i32, HYBRID_ABI_VERSION),
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
// Exported symbols
//===----------------------------------------------------------------------===//

void mlir::hybrid::internalizeSymbols(ModuleOp module,
                                      ArrayRef<std::string> exported) {
  llvm::StringSet<> keep;
  for (const std::string &name : exported)
    keep.insert(name);
  MLIRContext *ctx = module.getContext();
  auto internal = LLVM::LinkageAttr::get(ctx, LLVM::Linkage::Internal);
  for (Operation &op : module.getBody()->getOperations()) {
    if (auto fn = dyn_cast<LLVM::LLVMFuncOp>(op)) {
      if (!fn.isExternal() && !keep.contains(fn.getSymName()))
        fn.setLinkageAttr(internal);
    } else if (auto global = dyn_cast<LLVM::GlobalOp>(op)) {
      bool defined = global.getValueOrNull() ||
                     !global.getInitializerRegion().empty();
      if (defined && !keep.contains(global.getSymName()))
        global.setLinkageAttr(internal);
    }
  }
}

FailureOr<std::vector<std::string>>
mlir::hybrid::exportFunctionsAs(ModuleOp module, StringRef prefix) {
  std::vector<std::string> exported;
  SmallVector<std::pair<LLVM::LLVMFuncOp, std::string>> renames;
  constexpr StringLiteral cifacePrefix = "_mlir_ciface_";
  for (auto fn : module.getOps<LLVM::LLVMFuncOp>()) {
    if (fn.isExternal() || !fn.getSymName().starts_with(cifacePrefix))
      continue;
    std::string name =
        (prefix + "_" + fn.getSymName().drop_front(cifacePrefix.size())).str();
    if (Operation *clash = module.lookupSymbol(name); clash && clash != fn)
      return fn.emitError() << "cannot export '" << fn.getSymName()
                            << "' as '" << name
                            << "': the module already defines that symbol "
                               "(choose another --model-name)";
    renames.emplace_back(fn, name);
  }
  for (auto &[fn, name] : renames) {
    if (failed(SymbolTable::replaceAllSymbolUses(
            fn, StringAttr::get(module.getContext(), name), module)))
      return fn.emitError("cannot rename ") << fn.getSymName();
    fn.setSymName(name);
    exported.push_back(name);
  }
  internalizeSymbols(module, exported);
  return exported;
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

namespace {
/// How one argument of an exported function appears in C.
struct CArgument {
  std::string name;
  /// The C parameter type: `hybrid_memref_3d *`, `int64_t`, ...
  std::string type;
  std::string shape; // "[1, ?, 3] f32"
  bool output = false;
};

/// The C type of an element or scalar: (type, suffix of the descriptor's
/// name). i1 is a byte in memory (uint8_t) and a bool by value.
std::optional<std::pair<std::string, std::string>> cType(Type t,
                                                         bool inMemory) {
  if (t.isF32())
    return std::make_pair(std::string("float"), std::string());
  if (t.isF64())
    return std::make_pair(std::string("double"), std::string("_f64"));
  if (t.isF16() || t.isBF16())
    return std::make_pair(std::string("uint16_t"),
                          t.isF16() ? std::string("_f16")
                                    : std::string("_bf16"));
  if (t.isIndex())
    return std::make_pair(std::string("int64_t"), std::string("_index"));
  if (auto i = dyn_cast<IntegerType>(t)) {
    unsigned w = i.getWidth();
    if (w == 1)
      return std::make_pair(std::string(inMemory ? "uint8_t" : "bool"),
                            std::string("_i1"));
    if (w == 8 || w == 16 || w == 32 || w == 64)
      return std::make_pair(
          std::string(i.isUnsigned() ? "uint" : "int") + std::to_string(w) +
              "_t",
          (i.isUnsigned() ? "_ui" : "_i") + std::to_string(w));
  }
  return std::nullopt;
}

bool isCKeyword(StringRef name) {
  static const char *const keywords[] = {
      "auto",     "bool",   "break",    "case",     "char",    "class",
      "const",    "continue", "default", "delete",  "do",      "double",
      "else",     "enum",   "extern",   "false",    "float",   "for",
      "goto",     "if",     "inline",   "int",      "long",    "new",
      "operator", "private", "public",  "register", "restrict", "return",
      "short",    "signed", "sizeof",   "static",   "struct",  "switch",
      "template", "this",   "true",     "typedef",  "union",   "unsigned",
      "void",     "volatile", "while"};
  return llvm::is_contained(keywords, name);
}

/// `name` as a C identifier, unique among `used`.
std::string cIdentifier(StringRef name, unsigned index,
                        llvm::StringSet<> &used) {
  std::string id;
  for (char c : name)
    id += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  if (id.empty() || std::isdigit(static_cast<unsigned char>(id[0])))
    id = "arg" + std::to_string(index);
  if (isCKeyword(id))
    id += "_";
  std::string unique = id;
  for (unsigned n = 2; used.contains(unique); ++n)
    unique = id + "_" + std::to_string(n);
  used.insert(unique);
  return unique;
}

std::string shapeString(ArrayRef<int64_t> shape, StringRef element) {
  std::string s = "[";
  for (auto [i, d] : llvm::enumerate(shape))
    s += (i ? ", " : "") +
         (ShapedType::isDynamic(d) ? std::string("?") : std::to_string(d));
  return s + "] " + element.str();
}
} // namespace

LogicalResult mlir::hybrid::writeFunctionsHeader(llvm::raw_ostream &os,
                                                 StringRef name,
                                                 ModuleOp exported) {
  // Describe every exported function first: an argument C cannot express
  // is an error, not a header that does not compile.
  struct CFunction {
    std::string symbol;
    std::string irName;
    std::vector<CArgument> args;
  };
  std::vector<CFunction> functions;
  std::set<std::tuple<int64_t, std::string, std::string>> descriptors;
  bool needsBool = false;
  for (auto fn : exported.getOps<func::FuncOp>()) {
    if (!fn.isPublic() || fn.isExternal())
      continue;
    CFunction cfn{(name + "_" + fn.getName()).str(), fn.getName().str(), {}};
    llvm::StringSet<> used;
    for (auto [i, t] : llvm::enumerate(fn.getArgumentTypes())) {
      CArgument arg;
      auto label = fn.getArgAttrOfType<StringAttr>(i, "hybrid.weight");
      arg.name = cIdentifier(label ? label.getValue() : StringRef(), i, used);
      arg.output = label && isa<BaseMemRefType>(t) &&
                   label.getValue().starts_with("output");
      if (auto shaped = dyn_cast<ShapedType>(t)) {
        if (!shaped.hasRank())
          return fn.emitError()
                 << "argument " << i << " (" << t
                 << ") is unranked: a C header can only declare ranked "
                    "buffers";
        auto element = cType(shaped.getElementType(), /*inMemory=*/true);
        if (!element)
          return fn.emitError()
                 << "argument " << i << " has element type "
                 << shaped.getElementType() << ", which has no C type";
        std::string elementName;
        llvm::raw_string_ostream(elementName) << shaped.getElementType();
        descriptors.insert(
            {shaped.getRank(), element->second, element->first});
        arg.type = "hybrid_memref_" + std::to_string(shaped.getRank()) + "d" +
                   element->second + " *";
        arg.shape = shapeString(shaped.getShape(), elementName);
      } else {
        auto scalar = cType(t, /*inMemory=*/false);
        if (!scalar)
          return fn.emitError() << "argument " << i << " has type " << t
                                << ", which has no C type";
        needsBool |= scalar->first == "bool";
        arg.type = scalar->first + " ";
        llvm::raw_string_ostream(arg.shape) << t << " (by value)";
      }
      cfn.args.push_back(std::move(arg));
    }
    functions.push_back(std::move(cfn));
  }

  os << "/* " << name << ".h: generated by hybrid-compile. Do not edit.\n"
     << " *\n"
     << " * Each buffer argument is a memref descriptor passed by pointer:\n"
     << " * {allocated, aligned, offset, sizes[rank], strides[rank]}. The\n"
     << " * buffers must be contiguous and row-major, starting at `aligned`:\n"
     << " * the compiled code reads the sizes, and takes offset 0 and\n"
     << " * row-major strides whatever the descriptor says. The caller owns\n"
     << " * every buffer; outputs are the trailing arguments the call writes.\n"
     << " * Link the object or shared library (and libomp for parallel code).\n"
     << " */\n"
     << "#ifndef " << guard(name) << "\n#define " << guard(name) << "\n\n"
     << "#include <stdint.h>\n";
  if (needsBool)
    os << "#ifndef __cplusplus\n#include <stdbool.h>\n#endif\n";
  os << "\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
  for (auto &[rank, suffix, element] : descriptors) {
    std::string tag = "hybrid_memref_" + std::to_string(rank) + "d" + suffix;
    std::string macro = "HYBRID_MEMREF_" + std::to_string(rank) + "D" +
                        llvm::StringRef(suffix).upper() + "_DEFINED";
    os << "#ifndef " << macro << "\n#define " << macro << "\n"
       << "typedef struct " << tag << " {\n"
       << "  " << element << " *allocated;\n"
       << "  " << element << " *aligned;\n"
       << "  int64_t offset;\n";
    if (rank)
      os << "  int64_t sizes[" << rank << "];\n"
         << "  int64_t strides[" << rank << "];\n";
    os << "} " << tag << ";\n#endif\n\n";
  }
  for (const CFunction &fn : functions) {
    os << "/** @" << fn.irName << "\n";
    for (const CArgument &a : fn.args)
      os << " *   " << (a.output ? "out " : "in  ") << a.name << " "
         << a.shape << "\n";
    os << " */\n"
       << "void " << fn.symbol << "(";
    for (auto [i, a] : llvm::enumerate(fn.args))
      os << (i ? ", " : "") << a.type << a.name;
    if (fn.args.empty())
      os << "void";
    os << ");\n\n";
  }
  os << "#ifdef __cplusplus\n}\n#endif\n\n#endif\n";
  return success();
}
