//===- CompiledModel.cpp - A model spec compiled for this CPU --*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Execution/CompiledModel.h"

#include "hybrid/Dialect/Hybrid/Transforms/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::hybrid;
using namespace mlir::hybrid::frontend;

static llvm::Error error(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

static std::string shapeString(llvm::ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (auto [i, d] : llvm::enumerate(shape))
    s += (i ? ", " : "") + std::to_string(d);
  return s + "]";
}

/// Exports the functions of `module` and JIT-compiles `funcs` now.
static llvm::Expected<std::unique_ptr<JitModule>>
exportAndCompile(MLIRContext *context, ModuleOp module,
                 ArrayRef<StringRef> funcs,
                 const CPUPipelineOptions &options) {
  PassManager pm(context);
  pm.addPass(createHybridExportFunctions());
  if (failed(pm.run(module)))
    return error("exporting the model function failed");
  auto jit = JitModule::compile(module, options);
  if (!jit)
    return jit.takeError();
  for (StringRef func : funcs)
    if (llvm::Error e = (*jit)->materialize(func))
      return std::move(e);
  return std::move(*jit);
}

/// The weights must be `info`'s, in order, with its shapes.
static llvm::Error checkWeights(const std::vector<WeightInfo> &info,
                                const std::vector<HostTensor> &weights) {
  if (weights.size() != info.size())
    return error(llvm::formatv("expected {0} weight tensors, got {1}",
                               info.size(), weights.size()));
  for (auto [i, w] : llvm::zip(info, weights))
    if (w.shape != i.shape)
      return error("weight '" + i.name + "' must be " + shapeString(i.shape) +
                   ", got " + shapeString(w.shape));
  return llvm::Error::success();
}

/// [batch, hidden] or [batch, seq, hidden], as the spec's output says.
static std::vector<int64_t> outputShapeOf(const ModelSpec &spec,
                                          int64_t batch, int64_t seq) {
  if (spec.output == OutputKind::Sequence)
    return {batch, seq, spec.hiddenSize};
  return {batch, spec.hiddenSize};
}

llvm::Expected<std::unique_ptr<CompiledModel>>
CompiledModel::compile(const ModelSpec &spec,
                       const CPUPipelineOptions &options,
                       const BuildOptions &build) {
  std::unique_ptr<CompiledModel> model(new CompiledModel());
  DialectRegistry registry;
  registerFrontendDialects(registry);
  model->context = std::make_unique<MLIRContext>(registry);
  BuiltModel built =
      buildModel(model->context.get(), spec, "forward", build);
  model->modelSpec = spec;
  model->weightInfo = built.weights;
  auto jit = exportAndCompile(model->context.get(), *built.module,
                              {"forward"}, options);
  if (!jit)
    return jit.takeError();
  model->jit = std::move(*jit);
  return model;
}

std::vector<int64_t> CompiledModel::outputShape(int64_t batch,
                                                int64_t seq) const {
  return outputShapeOf(modelSpec, batch, seq);
}

llvm::Error CompiledModel::run(HostTensor &input,
                               std::vector<HostTensor> &weights,
                               HostTensor &output) {
  if (input.shape.size() != 3 || input.shape[2] != modelSpec.embedDim)
    return error("input must be [batch, seq, " +
                 std::to_string(modelSpec.embedDim) + "], got " +
                 shapeString(input.shape));
  if (input.shape[0] < 1 || input.shape[1] < 1)
    return error("input must have batch >= 1 and seq >= 1, got " +
                 shapeString(input.shape));
  if (modelSpec.seqLen && input.shape[1] != *modelSpec.seqLen)
    return error(llvm::formatv("the model was compiled for seq_len {0}, but "
                               "the input has {1} positions",
                               *modelSpec.seqLen, input.shape[1]));
  if (llvm::Error e = checkWeights(weightInfo, weights))
    return e;
  output = HostTensor(outputShape(input.shape[0], input.shape[1]));
  std::vector<HostTensor *> args{&input};
  for (HostTensor &w : weights)
    args.push_back(&w);
  args.push_back(&output);
  return jit->call("forward", args);
}

//===----------------------------------------------------------------------===//
// StatefulModel
//===----------------------------------------------------------------------===//

int64_t ModelState::bytes() const {
  int64_t n = 0;
  for (const HostTensor &t : tensors)
    n += t.numElements() * int64_t(sizeof(float));
  return n;
}

llvm::Expected<std::unique_ptr<StatefulModel>>
StatefulModel::compile(const ModelSpec &spec,
                       const CPUPipelineOptions &options,
                       const BuildOptions &build) {
  if (spec.seqLen)
    return error("a stateful model takes chunks of any length: the spec "
                 "must not fix seq_len");
  std::unique_ptr<StatefulModel> model(new StatefulModel());
  DialectRegistry registry;
  registerFrontendDialects(registry);
  model->context = std::make_unique<MLIRContext>(registry);
  llvm::Expected<BuiltModel> built =
      buildStatefulModel(model->context.get(), spec, "prefill", "step",
                         build);
  if (!built)
    return built.takeError();
  model->modelSpec = spec;
  model->weightInfo = built->weights;
  model->stateInfo = built->states;
  auto jit = exportAndCompile(model->context.get(), *built->module,
                              {"prefill", "step"}, options);
  if (!jit)
    return jit.takeError();
  model->jit = std::move(*jit);
  return model;
}

ModelState StatefulModel::newState(int64_t batch) const {
  ModelState state;
  state.owner = this;
  state.batch = batch;
  state.positions.assign(batch, 0);
  for (const WeightInfo &s : stateInfo) {
    std::vector<int64_t> shape{batch};
    shape.insert(shape.end(), s.shape.begin(), s.shape.end());
    state.tensors.emplace_back(std::move(shape));
  }
  return state;
}

llvm::Error StatefulModel::checkCall(const ModelState &state, int64_t batch,
                                     int64_t t,
                                     const std::vector<HostTensor> &weights,
                                     ArrayRef<int64_t> lengths) const {
  if (state.owner != this)
    return error("the state was not made by this model");
  if (batch != state.batch)
    return error(llvm::formatv("the state holds {0} sequences, but the input "
                               "has batch {1}",
                               state.batch, batch));
  if (t < 1)
    return error("input must have at least one position");
  if (!lengths.empty()) {
    if (static_cast<int64_t>(lengths.size()) != batch)
      return error(llvm::formatv("expected {0} lengths (one per sequence), "
                                 "got {1}",
                                 batch, lengths.size()));
    for (auto [b, n] : llvm::enumerate(lengths))
      if (n < 0 || n > t)
        return error(llvm::formatv("length {0} of sequence {1} is outside "
                                   "[0, {2}] (the chunk's positions)",
                                   n, b, t));
  }
  if (llvm::Error e = checkWeights(weightInfo, weights))
    return e;
  if (state.tensors.size() != stateInfo.size() ||
      static_cast<int64_t>(state.positions.size()) != state.batch)
    return error("the state has the wrong number of tensors");
  for (auto [info, st] : llvm::zip(stateInfo, state.tensors))
    if (st.shape.empty() || st.shape[0] != state.batch ||
        !llvm::equal(llvm::ArrayRef(st.shape).drop_front(), info.shape))
      return error("state '" + info.name + "' has shape " +
                   shapeString(st.shape) + ", which does not fit the model");
  return llvm::Error::success();
}

llvm::Error StatefulModel::invoke(StringRef func, ModelState &state,
                                  MemRefView input,
                                  std::vector<HostTensor> &weights,
                                  MemRefView output, int64_t t,
                                  ArrayRef<int64_t> lengths) {
  // The next state goes into scratch buffers (kept across calls: a decode
  // step allocates nothing but its output), swapped in only when the call
  // succeeded.
  if (scratch.batch != state.batch)
    scratch = newState(state.batch);
  if (lengths.empty())
    lengthsBuffer.assign(state.batch, t);
  else
    lengthsBuffer.assign(lengths.begin(), lengths.end());
  int64_t batch = state.batch;
  SmallVector<MemRefView> args{input,
                               MemRefView(lengthsBuffer.data(), batch)};
  args.reserve(3 + weights.size() + 2 * state.tensors.size());
  for (HostTensor &w : weights)
    args.emplace_back(w);
  for (HostTensor &st : state.tensors)
    args.emplace_back(st);
  args.push_back(output);
  for (HostTensor &st : scratch.tensors)
    args.emplace_back(st);
  if (llvm::Error e = jit->call(func, args))
    return e;
  std::swap(state.tensors, scratch.tensors);
  for (auto [pos, n] : llvm::zip(state.positions, lengthsBuffer))
    pos += n;
  return llvm::Error::success();
}

llvm::Error StatefulModel::prefill(ModelState &state, HostTensor &input,
                                   std::vector<HostTensor> &weights,
                                   HostTensor &output,
                                   ArrayRef<int64_t> lengths) {
  if (input.shape.size() != 3 || input.shape[2] != modelSpec.embedDim)
    return error("input must be [batch, T, " +
                 std::to_string(modelSpec.embedDim) + "], got " +
                 shapeString(input.shape));
  int64_t batch = input.shape[0], t = input.shape[1];
  if (llvm::Error e = checkCall(state, batch, t, weights, lengths))
    return e;
  std::vector<int64_t> outShape = outputShapeOf(modelSpec, batch, t);
  if (output.shape != outShape) // reused as is when it fits
    output = HostTensor(std::move(outShape));
  return invoke("prefill", state, input, weights, output, t, lengths);
}

llvm::Error StatefulModel::step(ModelState &state, HostTensor &x,
                                std::vector<HostTensor> &weights,
                                HostTensor &output,
                                ArrayRef<int64_t> active) {
  int64_t e = modelSpec.embedDim;
  bool ok = (x.shape.size() == 2 && x.shape[1] == e) ||
            (x.shape.size() == 3 && x.shape[1] == 1 && x.shape[2] == e);
  if (!ok)
    return error("a step's input must be [batch, " + std::to_string(e) +
                 "], got " + shapeString(x.shape));
  int64_t batch = x.shape[0];
  if (llvm::Error err = checkCall(state, batch, 1, weights, active))
    return err;
  std::vector<int64_t> outShape{batch, modelSpec.hiddenSize};
  if (output.shape != outShape)
    output = HostTensor(outShape);
  // The step function sees [batch, 1, ...] views of the same buffers.
  int64_t inShape[3] = {batch, 1, e};
  int64_t outShape3[3] = {batch, 1, modelSpec.hiddenSize};
  MemRefView out = modelSpec.output == OutputKind::Sequence
                       ? MemRefView(output.data.data(), outShape3)
                       : MemRefView(output);
  return invoke("step", state, MemRefView(x.data.data(), inShape), weights,
                out, 1, active);
}
