//===- Runtime.cpp - C API of compiled Hybrid models -----------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// The small runtime an application links beside a compiled model: weights
// from safetensors files or caller buffers, argument checking, the memref
// descriptors of the compiled forward function, and `memrefCopy` (the one
// helper MLIR-generated code calls). Plain C++17, no MLIR, no LLVM.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Runtime/hybrid_runtime.h"

#include <csetjmp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

/// OpenMP's, when the program has an OpenMP runtime (compiled models with
/// OpenMP do); null otherwise.
extern "C" int omp_in_parallel(void) __attribute__((weak));

namespace {

thread_local std::string lastError;

hybrid_status fail(hybrid_status status, const std::string &message) {
  lastError = message;
  return status;
}

/// A heap array of trivially copyable T whose allocation can fail: the
/// runtime reports HYBRID_OUT_OF_MEMORY instead of aborting (it is built
/// without exceptions, so std::vector's allocation failure would abort).
template <typename T> class Buffer {
public:
  Buffer() = default;
  Buffer(const Buffer &) = delete;
  Buffer &operator=(const Buffer &) = delete;
  Buffer(Buffer &&o) noexcept : ptr(o.ptr), count(o.count) {
    o.ptr = nullptr;
    o.count = 0;
  }
  Buffer &operator=(Buffer &&o) noexcept {
    std::swap(ptr, o.ptr);
    std::swap(count, o.count);
    return *this;
  }
  ~Buffer() { std::free(ptr); }
  /// Zero-filled storage for n values; false when it cannot be had.
  bool allocate(size_t n) {
    std::free(ptr);
    count = 0;
    ptr = static_cast<T *>(std::calloc(n ? n : 1, sizeof(T)));
    if (!ptr)
      return false;
    count = n;
    return true;
  }
  T *data() { return ptr; }
  const T *data() const { return ptr; }
  size_t size() const { return count; }
  T *begin() { return ptr; }
  T *end() { return ptr + count; }
  const T *begin() const { return ptr; }
  const T *end() const { return ptr + count; }
  T &operator[](size_t i) { return ptr[i]; }
  const T &operator[](size_t i) const { return ptr[i]; }
  void swap(Buffer &o) {
    std::swap(ptr, o.ptr);
    std::swap(count, o.count);
  }

private:
  T *ptr = nullptr;
  size_t count = 0;
};

/// The product of n values, or false when it overflows `limit` (by default
/// what a signed 64-bit size can hold) or a value is negative.
bool checkedProduct(const int64_t *values, size_t n, size_t &out,
                    size_t limit = size_t(INT64_MAX)) {
  size_t p = 1;
  for (size_t i = 0; i < n; ++i) {
    if (values[i] < 0 ||
        __builtin_mul_overflow(p, static_cast<size_t>(values[i]), &p) ||
        p > limit)
      return false;
  }
  out = p;
  return true;
}

std::string shapeString(const int64_t *shape, int64_t rank) {
  std::string s = "[";
  for (int64_t i = 0; i < rank; ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

//===----------------------------------------------------------------------===//
// A minimal JSON reader for safetensors headers
//===----------------------------------------------------------------------===//

struct Json {
  enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
  double number = 0;
  std::string string;
  std::vector<Json> array;
  std::map<std::string, Json> object;
};

class JsonParser {
public:
  explicit JsonParser(const std::string &t) : text(t) {}

  bool parse(Json &out) {
    if (!value(out, 0))
      return false;
    skip();
    return pos == text.size();
  }
  std::string error() const {
    return "invalid JSON header at byte " + std::to_string(pos);
  }

private:
  void skip() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\n' ||
                                 text[pos] == '\t' || text[pos] == '\r'))
      ++pos;
  }
  bool literal(const char *word) {
    size_t n = std::strlen(word);
    if (text.compare(pos, n, word) != 0)
      return false;
    pos += n;
    return true;
  }
  bool stringValue(std::string &out) {
    if (pos >= text.size() || text[pos] != '"')
      return false;
    ++pos;
    while (pos < text.size() && text[pos] != '"') {
      char c = text[pos++];
      if (c == '\\') {
        if (pos >= text.size())
          return false;
        char e = text[pos++];
        switch (e) {
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          // A code unit; names are compared as UTF-8, so encode it (a
          // surrogate pair is not combined: such names fail to match).
          if (pos + 4 > text.size())
            return false;
          unsigned cp = 0;
          for (int j = 0; j < 4; ++j) {
            char h = text[pos++];
            unsigned digit = h >= '0' && h <= '9'   ? h - '0'
                             : h >= 'a' && h <= 'f' ? h - 'a' + 10
                             : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                                    : 16;
            if (digit == 16)
              return false;
            cp = cp * 16 + digit;
          }
          if (cp < 0x80) {
            out += static_cast<char>(cp);
          } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
          } else {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
          }
          break;
        }
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        default:
          return false;
        }
      } else {
        out += c;
      }
    }
    if (pos >= text.size())
      return false;
    ++pos;
    return true;
  }
  bool value(Json &out, int depth) {
    if (depth > 16)
      return false;
    skip();
    if (pos >= text.size())
      return false;
    char c = text[pos];
    if (c == '{') {
      out.kind = Json::Object;
      ++pos;
      skip();
      if (pos < text.size() && text[pos] == '}') {
        ++pos;
        return true;
      }
      while (true) {
        skip();
        std::string key;
        if (!stringValue(key))
          return false;
        skip();
        if (pos >= text.size() || text[pos] != ':')
          return false;
        ++pos;
        if (!value(out.object[key], depth + 1))
          return false;
        skip();
        if (pos < text.size() && text[pos] == ',') {
          ++pos;
          continue;
        }
        if (pos < text.size() && text[pos] == '}') {
          ++pos;
          return true;
        }
        return false;
      }
    }
    if (c == '[') {
      out.kind = Json::Array;
      ++pos;
      skip();
      if (pos < text.size() && text[pos] == ']') {
        ++pos;
        return true;
      }
      while (true) {
        out.array.emplace_back();
        if (!value(out.array.back(), depth + 1))
          return false;
        skip();
        if (pos < text.size() && text[pos] == ',') {
          ++pos;
          continue;
        }
        if (pos < text.size() && text[pos] == ']') {
          ++pos;
          return true;
        }
        return false;
      }
    }
    if (c == '"') {
      out.kind = Json::String;
      return stringValue(out.string);
    }
    if (literal("true") || literal("false")) {
      out.kind = Json::Bool;
      return true;
    }
    if (literal("null"))
      return true;
    size_t start = pos;
    while (pos < text.size() &&
           (std::strchr("+-.eE", text[pos]) || (text[pos] >= '0' && text[pos] <= '9')))
      ++pos;
    if (pos == start)
      return false;
    out.kind = Json::Number;
    out.number = std::strtod(text.substr(start, pos - start).c_str(), nullptr);
    return true;
  }

  const std::string &text;
  size_t pos = 0;
};

} // namespace

struct hybrid_model {
  const hybrid_model_desc *desc = nullptr;
  /// Weights read from a file (owned), or empty.
  std::vector<Buffer<float>> owned;
  /// One pointer per weight, owned or caller's.
  std::vector<const float *> weights;
};

extern "C" const char *hybrid_last_error(void) { return lastError.c_str(); }

static hybrid_status checkDesc(const hybrid_model_desc *desc,
                               hybrid_model **model) {
  if (!desc || !model)
    return fail(HYBRID_INVALID_ARGUMENT,
                "hybrid_model_create: desc and model must not be null");
  if (!desc->forward || desc->num_weights < 0 ||
      (desc->num_weights > 0 && !desc->weights))
    return fail(HYBRID_INVALID_ARGUMENT,
                "hybrid_model_create: malformed model descriptor");
  return HYBRID_OK;
}

extern "C" hybrid_status
hybrid_model_create_from_buffers(const hybrid_model_desc *desc,
                                 const float *const *buffers,
                                 size_t num_buffers, hybrid_model **model) {
  if (hybrid_status s = checkDesc(desc, model))
    return s;
  if (num_buffers != static_cast<size_t>(desc->num_weights))
    return fail(HYBRID_INVALID_ARGUMENT,
                "model '" + std::string(desc->name) + "' takes " +
                    std::to_string(desc->num_weights) + " weight buffers, got " +
                    std::to_string(num_buffers));
  if (num_buffers && !buffers)
    return fail(HYBRID_INVALID_ARGUMENT, "buffers must not be null");
  for (size_t i = 0; i < num_buffers; ++i)
    if (!buffers[i])
      return fail(HYBRID_INVALID_ARGUMENT,
                  "weight buffer " + std::to_string(i) + " ('" +
                      desc->weights[i].name + "') is null");
  auto *m = new (std::nothrow) hybrid_model();
  if (!m)
    return fail(HYBRID_OUT_OF_MEMORY, "out of memory");
  m->desc = desc;
  m->weights.assign(buffers, buffers + num_buffers);
  *model = m;
  return HYBRID_OK;
}

static hybrid_status createFromSafetensors(const hybrid_model_desc *desc,
                                           const char *data, size_t size,
                                           const std::string &where,
                                           hybrid_model **model);

extern "C" hybrid_status
hybrid_model_create_from_file(const hybrid_model_desc *desc, const char *path,
                              hybrid_model **model) {
  if (hybrid_status s = checkDesc(desc, model))
    return s;
  if (!path)
    return fail(HYBRID_INVALID_ARGUMENT, "path must not be null");
  std::FILE *f = std::fopen(path, "rb");
  if (!f)
    return fail(HYBRID_IO_ERROR, std::string("cannot open '") + path + "': " +
                                     std::strerror(errno));
  std::string where = std::string("'") + path + "': ";
  // The whole file, read into a buffer whose allocation may fail.
  Buffer<char> bytes;
  long fileSize = -1;
  if (std::fseek(f, 0, SEEK_END) == 0)
    fileSize = std::ftell(f);
  if (fileSize < 0 || std::fseek(f, 0, SEEK_SET) != 0) {
    std::fclose(f);
    return fail(HYBRID_IO_ERROR, where + "cannot determine the file's size");
  }
  if (!bytes.allocate(static_cast<size_t>(fileSize))) {
    std::fclose(f);
    return fail(HYBRID_OUT_OF_MEMORY,
                where + "out of memory reading " + std::to_string(fileSize) +
                    " bytes");
  }
  size_t read = std::fread(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  if (read != bytes.size())
    return fail(HYBRID_IO_ERROR, where + "read " + std::to_string(read) +
                                     " of " + std::to_string(bytes.size()) +
                                     " bytes");
  return createFromSafetensors(desc, bytes.data(), bytes.size(), where,
                               model);
}

extern "C" hybrid_status
hybrid_model_create_from_memory(const hybrid_model_desc *desc,
                                const void *data, size_t size,
                                hybrid_model **model) {
  if (hybrid_status s = checkDesc(desc, model))
    return s;
  if (!data && size)
    return fail(HYBRID_INVALID_ARGUMENT, "data must not be null");
  return createFromSafetensors(desc, static_cast<const char *>(data), size,
                               "safetensors in memory: ", model);
}

/// The weights of `desc` from the safetensors bytes [data, data + size);
/// messages start with `where`.
static hybrid_status createFromSafetensors(const hybrid_model_desc *desc,
                                           const char *data, size_t size,
                                           const std::string &where,
                                           hybrid_model **model) {
  if (size < 8)
    return fail(HYBRID_IO_ERROR, where + "truncated: no safetensors header");
  uint64_t headerSize = 0;
  for (int i = 7; i >= 0; --i)
    headerSize = (headerSize << 8) | static_cast<unsigned char>(data[i]);
  if (headerSize > size - 8)
    return fail(HYBRID_IO_ERROR,
                where + "truncated: the header says " +
                    std::to_string(headerSize) + " bytes, the file has " +
                    std::to_string(size - 8) + " after the size");
  std::string header(data + 8, headerSize);
  Json root;
  JsonParser parser(header);
  if (!parser.parse(root) || root.kind != Json::Object)
    return fail(HYBRID_IO_ERROR, where + parser.error());
  size_t dataStart = 8 + headerSize;
  size_t dataSize = size - dataStart;

  std::unique_ptr<hybrid_model> m(new (std::nothrow) hybrid_model());
  if (!m)
    return fail(HYBRID_OUT_OF_MEMORY, "out of memory");
  m->desc = desc;
  for (int32_t i = 0; i < desc->num_weights; ++i) {
    const hybrid_weight_info &w = desc->weights[i];
    auto it = root.object.find(w.name);
    if (it == root.object.end())
      return fail(HYBRID_MISSING_WEIGHT,
                  where + "missing tensor '" + w.name + "' " +
                      shapeString(w.shape, w.rank));
    const Json &t = it->second;
    auto dtype = t.object.find("dtype");
    auto shape = t.object.find("shape");
    auto offsets = t.object.find("data_offsets");
    if (t.kind != Json::Object || dtype == t.object.end() ||
        shape == t.object.end() || offsets == t.object.end() ||
        offsets->second.array.size() != 2)
      return fail(HYBRID_IO_ERROR,
                  where + "tensor '" + w.name + "' has a malformed entry");
    if (dtype->second.string != "F32")
      return fail(HYBRID_SHAPE_MISMATCH,
                  where + "tensor '" + w.name + "' has dtype " +
                      dtype->second.string + ", expected F32");
    // Dims and offsets are JSON numbers (doubles): only non-negative
    // integers below 2^53 (exact in a double, no overflow in int64) are
    // sizes; anything else is a corrupt header.
    auto isSize = [](const Json &v) {
      return v.kind == Json::Number && v.number >= 0 &&
             v.number < 9007199254740992.0 &&
             v.number == static_cast<double>(static_cast<int64_t>(v.number));
    };
    std::vector<int64_t> got;
    for (const Json &d : shape->second.array) {
      if (!isSize(d))
        return fail(HYBRID_IO_ERROR, where + "tensor '" + w.name +
                                         "' has a shape entry that is not a "
                                         "non-negative integer below 2^53");
      got.push_back(static_cast<int64_t>(d.number));
    }
    std::vector<int64_t> want(w.shape, w.shape + w.rank);
    if (got != want)
      return fail(HYBRID_SHAPE_MISMATCH,
                  where + "tensor '" + w.name + "' has shape " +
                      shapeString(got.data(), got.size()) + ", expected " +
                      shapeString(w.shape, w.rank));
    size_t elements = 0, tensorBytes = 0;
    if (!checkedProduct(want.data(), want.size(), elements) ||
        __builtin_mul_overflow(elements, sizeof(float), &tensorBytes))
      return fail(HYBRID_SHAPE_MISMATCH,
                  where + "tensor '" + w.name + "' is too large");
    const Json &beginJson = offsets->second.array[0];
    const Json &endJson = offsets->second.array[1];
    if (!isSize(beginJson) || !isSize(endJson))
      return fail(HYBRID_IO_ERROR, where + "tensor '" + w.name +
                                       "' has data offsets that are not "
                                       "non-negative integers below 2^53");
    auto begin = static_cast<uint64_t>(beginJson.number);
    auto end = static_cast<uint64_t>(endJson.number);
    if (end < begin || end > dataSize || end - begin != tensorBytes)
      return fail(HYBRID_IO_ERROR,
                  where + "tensor '" + w.name + "' has data offsets [" +
                      std::to_string(begin) + ", " + std::to_string(end) +
                      "], but needs " + std::to_string(tensorBytes) +
                      " bytes within the " + std::to_string(dataSize) +
                      "-byte data section (truncated file?)");
    Buffer<float> tensor;
    if (!tensor.allocate(elements))
      return fail(HYBRID_OUT_OF_MEMORY, where + "out of memory for tensor '" +
                                            w.name + "'");
    std::memcpy(tensor.data(), data + dataStart + begin, tensorBytes);
    m->owned.push_back(std::move(tensor));
  }
  for (auto &v : m->owned)
    m->weights.push_back(v.data());
  *model = m.release();
  return HYBRID_OK;
}

extern "C" hybrid_status hybrid_model_output_shape(const hybrid_model *model,
                                                   int64_t batch,
                                                   int64_t seq_len,
                                                   int64_t shape[3],
                                                   int32_t *rank) {
  if (!model || !shape || !rank)
    return fail(HYBRID_INVALID_ARGUMENT,
                "hybrid_model_output_shape: null argument");
  if (batch < 1 || seq_len < 1)
    return fail(HYBRID_INVALID_ARGUMENT,
                "batch and seq_len must be >= 1, got " +
                    std::to_string(batch) + " and " + std::to_string(seq_len));
  const hybrid_model_desc *d = model->desc;
  shape[0] = batch;
  if (d->sequence_output) {
    shape[1] = seq_len;
    shape[2] = d->hidden_size;
    *rank = 3;
  } else {
    shape[1] = d->hidden_size;
    shape[2] = 0;
    *rank = 2;
  }
  return HYBRID_OK;
}

namespace {
/// A strided memref descriptor {allocated, aligned, offset, sizes, strides}
/// of a dense row-major buffer.
std::vector<int64_t> descriptor(const void *data, const int64_t *shape,
                                int64_t rank) {
  std::vector<int64_t> d;
  auto p = reinterpret_cast<int64_t>(data);
  d.push_back(p);
  d.push_back(p);
  d.push_back(0);
  d.insert(d.end(), shape, shape + rank);
  std::vector<int64_t> strides(rank, 1);
  for (int64_t i = rank - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  d.insert(d.end(), strides.begin(), strides.end());
  return d;
}
} // namespace

/// The output shape of (batch, seq_len), and whether `capacity` floats
/// hold it.
static hybrid_status outputFits(const hybrid_model *model, int64_t batch,
                                int64_t seqLen, size_t capacity,
                                int64_t shape[3], int32_t *rank) {
  if (hybrid_status s =
          hybrid_model_output_shape(model, batch, seqLen, shape, rank))
    return s;
  // Bytes of the output and the input must be representable (the compiled
  // code indexes them with int64 strides).
  size_t needed = 0, inputFloats = 0;
  int64_t inShape[3] = {batch, seqLen, model->desc->embed_dim};
  if (!checkedProduct(shape, *rank, needed, size_t(INT64_MAX) / 4) ||
      !checkedProduct(inShape, 3, inputFloats, size_t(INT64_MAX) / 4))
    return fail(HYBRID_INVALID_ARGUMENT,
                "batch " + std::to_string(batch) + " x seq_len " +
                    std::to_string(seqLen) +
                    " is too large: the input or output size overflows");
  if (capacity < needed)
    return fail(HYBRID_INVALID_ARGUMENT,
                "the output needs " + std::to_string(needed) +
                    " floats, the buffer holds " + std::to_string(capacity));
  return HYBRID_OK;
}

extern "C" hybrid_status hybrid_model_forward(const hybrid_model *model,
                                              const float *input,
                                              int64_t batch, int64_t seq_len,
                                              float *output,
                                              size_t output_capacity) {
  if (!model || !input || !output)
    return fail(HYBRID_INVALID_ARGUMENT,
                "hybrid_model_forward: model, input and output must not be "
                "null");
  int64_t shape[3];
  int32_t rank;
  if (hybrid_status s =
          outputFits(model, batch, seq_len, output_capacity, shape, &rank))
    return s;
  const hybrid_model_desc *d = model->desc;
  if (d->seq_len && seq_len != d->seq_len)
    return fail(HYBRID_SHAPE_MISMATCH,
                "model '" + std::string(d->name) + "' was compiled for " +
                    "seq_len " + std::to_string(d->seq_len) + ", got " +
                    std::to_string(seq_len));
  std::vector<std::vector<int64_t>> descs;
  int64_t inShape[3] = {batch, seq_len, d->embed_dim};
  descs.push_back(descriptor(input, inShape, 3));
  for (int32_t i = 0; i < d->num_weights; ++i)
    descs.push_back(descriptor(model->weights[i], d->weights[i].shape,
                               d->weights[i].rank));
  descs.push_back(descriptor(output, shape, rank));
  std::vector<void *> args;
  for (auto &v : descs)
    args.push_back(v.data());
  return hybrid_invoke_guarded(d->forward, args.data());
}

extern "C" hybrid_status hybrid_model_weight(const hybrid_model *model,
                                             int32_t index,
                                             const float **data) {
  if (!model || !data)
    return fail(HYBRID_INVALID_ARGUMENT, "hybrid_model_weight: null argument");
  if (index < 0 || index >= model->desc->num_weights)
    return fail(HYBRID_INVALID_ARGUMENT,
                "weight index " + std::to_string(index) + " out of range [0, " +
                    std::to_string(model->desc->num_weights) + ")");
  *data = model->weights[index];
  return HYBRID_OK;
}

extern "C" void hybrid_model_destroy(hybrid_model *model) { delete model; }

//===----------------------------------------------------------------------===//
// Stateful inference
//===----------------------------------------------------------------------===//

struct hybrid_state {
  const hybrid_model *model = nullptr;
  int64_t batch = 0;
  Buffer<int64_t> positions;
  /// Where each state tensor starts in a buffer (elements).
  std::vector<size_t> offsets;
  /// The current state and the buffer the next one is written to; swapped
  /// after each successful call.
  Buffer<float> current, next;
  /// Lengths when the caller gives none.
  Buffer<int64_t> allLengths;
  /// Argument descriptors, rewritten in place by each call: input, lengths,
  /// weights, states, output, next states. Shapes of the state tensors.
  std::vector<std::vector<int64_t>> descs;
  std::vector<void *> args;
  std::vector<std::vector<int64_t>> stateShapes;
};

namespace {
/// Writes a descriptor of a dense row-major buffer into `d` (whose size is
/// 3 + 2 * rank already).
void setDescriptor(std::vector<int64_t> &d, const void *data,
                   const int64_t *shape, int64_t rank) {
  auto p = reinterpret_cast<int64_t>(data);
  d[0] = d[1] = p;
  d[2] = 0;
  int64_t stride = 1;
  for (int64_t i = rank - 1; i >= 0; --i) {
    d[3 + i] = shape[i];
    d[3 + rank + i] = stride;
    stride *= shape[i];
  }
}

hybrid_status checkStateful(const hybrid_model *model, const char *what) {
  if (!model)
    return fail(HYBRID_INVALID_ARGUMENT,
                std::string(what) + ": model must not be null");
  const hybrid_model_desc *d = model->desc;
  if (d->num_states <= 0 || !d->states || !d->prefill || !d->step)
    return fail(HYBRID_BAD_STATE,
                "model '" + std::string(d->name) +
                    "' was compiled without its stateful form "
                    "(hybrid-compile --stateful)");
  return HYBRID_OK;
}

size_t stateElements(const hybrid_weight_info &info) {
  size_t n = 1;
  for (int32_t i = 0; i < info.rank; ++i)
    n *= info.shape[i];
  return n;
}

/// Floats of every state of `batch` sequences, or false on overflow (the
/// bytes of both buffers a state keeps must fit in int64).
bool stateFloats(const hybrid_model_desc *d, int64_t batch, size_t &total) {
  size_t perSequence = 0;
  for (int32_t i = 0; i < d->num_states; ++i)
    perSequence += stateElements(d->states[i]);
  return !__builtin_mul_overflow(perSequence, static_cast<size_t>(batch),
                                 &total) &&
         total <= size_t(INT64_MAX) / (2 * sizeof(float));
}

/// The state must be `model`'s, for `batch` sequences.
hybrid_status checkState(const hybrid_model *model, const hybrid_state *state,
                         int64_t batch) {
  if (!state)
    return fail(HYBRID_INVALID_ARGUMENT, "state must not be null");
  if (state->model != model)
    return fail(HYBRID_BAD_STATE, "the state was made for another model");
  if (batch != state->batch)
    return fail(HYBRID_BAD_STATE,
                "the state holds " + std::to_string(state->batch) +
                    " sequences, but the input has batch " +
                    std::to_string(batch));
  return HYBRID_OK;
}

/// Runs `fn` on the state: fills the descriptors, calls, swaps. A failed
/// call leaves the state as it was.
hybrid_status runStateful(hybrid_forward_fn fn, hybrid_state *st, const float *input,
                 const int64_t *inShape, const int64_t *lengths,
                 float *output, const int64_t *outShape, int32_t outRank) {
  const hybrid_model_desc *d = st->model->desc;
  size_t k = 0;
  setDescriptor(st->descs[k++], input, inShape, 3);
  setDescriptor(st->descs[k++], lengths, &st->batch, 1);
  k += d->num_weights; // weights: set once at creation
  for (int32_t i = 0; i < d->num_states; ++i)
    setDescriptor(st->descs[k++], st->current.data() + st->offsets[i],
                  st->stateShapes[i].data(), d->states[i].rank + 1);
  st->descs[k].resize(3 + 2 * outRank);
  setDescriptor(st->descs[k++], output, outShape, outRank);
  for (int32_t i = 0; i < d->num_states; ++i)
    setDescriptor(st->descs[k++], st->next.data() + st->offsets[i],
                  st->stateShapes[i].data(), d->states[i].rank + 1);
  for (size_t i = 0; i < st->descs.size(); ++i)
    st->args[i] = st->descs[i].data();
  if (hybrid_status s = hybrid_invoke_guarded(fn, st->args.data()))
    return s;
  st->current.swap(st->next);
  for (int64_t b = 0; b < st->batch; ++b)
    st->positions[b] += lengths[b];
  return HYBRID_OK;
}

/// lengths: null (all `max`) or `batch` values in [0, max].
hybrid_status checkLengths(hybrid_state *st, const int64_t *&lengths,
                           int64_t max, const char *what) {
  if (!lengths) {
    std::fill(st->allLengths.begin(), st->allLengths.end(), max);
    lengths = st->allLengths.data();
    return HYBRID_OK;
  }
  for (int64_t b = 0; b < st->batch; ++b)
    if (lengths[b] < 0 || lengths[b] > max)
      return fail(HYBRID_INVALID_ARGUMENT,
                  std::string(what) + " " + std::to_string(lengths[b]) +
                      " of sequence " + std::to_string(b) +
                      " is outside [0, " + std::to_string(max) + "]");
  return HYBRID_OK;
}
} // namespace

extern "C" hybrid_status hybrid_state_size(const hybrid_model *model,
                                           int64_t batch, size_t *bytes) {
  if (hybrid_status s = checkStateful(model, "hybrid_state_size"))
    return s;
  if (!bytes || batch < 1)
    return fail(HYBRID_INVALID_ARGUMENT,
                "hybrid_state_size: batch must be >= 1 and bytes not null");
  size_t n = 0;
  if (!stateFloats(model->desc, batch, n))
    return fail(HYBRID_INVALID_ARGUMENT,
                "hybrid_state_size: the state of batch " +
                    std::to_string(batch) + " is too large to represent");
  *bytes = n * sizeof(float);
  return HYBRID_OK;
}

extern "C" hybrid_status hybrid_state_create(const hybrid_model *model,
                                             int64_t batch,
                                             hybrid_state **state) {
  if (hybrid_status s = checkStateful(model, "hybrid_state_create"))
    return s;
  if (!state || batch < 1)
    return fail(HYBRID_INVALID_ARGUMENT,
                "hybrid_state_create: batch must be >= 1 and state not null");
  const hybrid_model_desc *d = model->desc;
  std::unique_ptr<hybrid_state> st(new (std::nothrow) hybrid_state());
  if (!st)
    return fail(HYBRID_OUT_OF_MEMORY, "out of memory");
  size_t total = 0;
  if (!stateFloats(d, batch, total))
    return fail(HYBRID_INVALID_ARGUMENT,
                "hybrid_state_create: the state of batch " +
                    std::to_string(batch) + " is too large to represent");
  // The buffers that grow with the batch may not be had: a status, not an
  // abort.
  if (!st->positions.allocate(batch) || !st->allLengths.allocate(batch) ||
      !st->current.allocate(total) || !st->next.allocate(total))
    return fail(HYBRID_OUT_OF_MEMORY,
                "hybrid_state_create: out of memory for the state of batch " +
                    std::to_string(batch) + " (" +
                    std::to_string(2 * total * sizeof(float)) + " bytes)");
  {
    st->model = model;
    st->batch = batch;
    size_t offset = 0;
    for (int32_t i = 0; i < d->num_states; ++i) {
      st->offsets.push_back(offset);
      offset += stateElements(d->states[i]) * batch;
      std::vector<int64_t> shape{batch};
      shape.insert(shape.end(), d->states[i].shape,
                   d->states[i].shape + d->states[i].rank);
      st->stateShapes.push_back(std::move(shape));
    }
    // input, lengths, weights, states, output (sized per call), next states.
    st->descs.emplace_back(3 + 2 * 3);
    st->descs.emplace_back(3 + 2 * 1);
    for (int32_t i = 0; i < d->num_weights; ++i)
      st->descs.push_back(descriptor(model->weights[i], d->weights[i].shape,
                                     d->weights[i].rank));
    for (int32_t i = 0; i < d->num_states; ++i)
      st->descs.emplace_back(3 + 2 * (d->states[i].rank + 1));
    st->descs.emplace_back(3 + 2 * 3);
    for (int32_t i = 0; i < d->num_states; ++i)
      st->descs.emplace_back(3 + 2 * (d->states[i].rank + 1));
    st->args.resize(st->descs.size());
  }
  *state = st.release();
  return HYBRID_OK;
}

extern "C" hybrid_status hybrid_state_reset(hybrid_state *state) {
  if (!state)
    return fail(HYBRID_INVALID_ARGUMENT, "state must not be null");
  std::fill(state->current.begin(), state->current.end(), 0.0f);
  std::fill(state->positions.begin(), state->positions.end(), 0);
  return HYBRID_OK;
}

extern "C" hybrid_status hybrid_state_copy(const hybrid_state *src,
                                           hybrid_state *dst) {
  if (!src || !dst)
    return fail(HYBRID_INVALID_ARGUMENT, "hybrid_state_copy: null state");
  if (src->model != dst->model || src->batch != dst->batch)
    return fail(HYBRID_BAD_STATE,
                "hybrid_state_copy: the states belong to different models "
                "or batch sizes");
  if (src != dst) {
    std::copy(src->current.begin(), src->current.end(), dst->current.begin());
    std::copy(src->positions.begin(), src->positions.end(),
              dst->positions.begin());
  }
  return HYBRID_OK;
}

extern "C" hybrid_status hybrid_state_positions(const hybrid_state *state,
                                                int64_t *positions,
                                                size_t capacity) {
  if (!state || !positions)
    return fail(HYBRID_INVALID_ARGUMENT,
                "hybrid_state_positions: null argument");
  if (capacity < static_cast<size_t>(state->batch))
    return fail(HYBRID_INVALID_ARGUMENT,
                "hybrid_state_positions: " + std::to_string(state->batch) +
                    " values do not fit in " + std::to_string(capacity));
  std::copy(state->positions.begin(), state->positions.end(), positions);
  return HYBRID_OK;
}

extern "C" void hybrid_state_destroy(hybrid_state *state) { delete state; }

extern "C" hybrid_status hybrid_prefill(const hybrid_model *model,
                                        hybrid_state *state,
                                        const float *input, int64_t batch,
                                        int64_t seq_len,
                                        const int64_t *lengths, float *output,
                                        size_t output_capacity) {
  if (hybrid_status s = checkStateful(model, "hybrid_prefill"))
    return s;
  if (hybrid_status s = checkState(model, state, batch))
    return s;
  if (!input || !output)
    return fail(HYBRID_INVALID_ARGUMENT,
                "hybrid_prefill: input and output must not be null");
  int64_t shape[3];
  int32_t rank;
  if (hybrid_status s =
          outputFits(model, batch, seq_len, output_capacity, shape, &rank))
    return s;
  if (hybrid_status s = checkLengths(state, lengths, seq_len, "length"))
    return s;
  int64_t inShape[3] = {batch, seq_len, model->desc->embed_dim};
  return runStateful(model->desc->prefill, state, input, inShape, lengths,
                     output, shape, rank);
}

extern "C" hybrid_status hybrid_step(const hybrid_model *model,
                                     hybrid_state *state, const float *x,
                                     int64_t batch, const int64_t *active,
                                     float *output, size_t output_capacity) {
  if (hybrid_status s = checkStateful(model, "hybrid_step"))
    return s;
  if (hybrid_status s = checkState(model, state, batch))
    return s;
  if (!x || !output)
    return fail(HYBRID_INVALID_ARGUMENT,
                "hybrid_step: x and output must not be null");
  const hybrid_model_desc *d = model->desc;
  int64_t shape[3];
  int32_t rank;
  if (hybrid_status s =
          outputFits(model, batch, 1, output_capacity, shape, &rank))
    return s;
  if (hybrid_status s = checkLengths(state, active, 1, "active flag"))
    return s;
  int64_t inShape[3] = {batch, 1, d->embed_dim};
  // [batch, 1, hidden] for a sequence output, [batch, hidden] otherwise:
  // the same floats.
  int64_t seqShape[3] = {batch, 1, d->hidden_size};
  int64_t lastShape[2] = {batch, d->hidden_size};
  if (d->sequence_output)
    return runStateful(d->step, state, x, inShape, active, output, seqShape,
                       3);
  return runStateful(d->step, state, x, inShape, active, output, lastShape, 2);
}

//===----------------------------------------------------------------------===//
// Allocation of the compiled code's temporaries
//
// The CPU pipeline lowers memref.alloc/dealloc to MLIR's generic allocation
// functions (`use-generic-functions`). They are defined here, so every
// buffer the compiled code allocates goes through a per-thread cache of
// freed blocks in power-of-two size classes: a decode step allocates the
// same sizes on every call, so after the first call it takes no memory from
// the system. Blocks are 64-byte aligned; the 16 bytes before a block say
// where its allocation starts and its class (-1: not cached: alignments
// above 64, sizes above the largest class). Each thread keeps at most 64
// blocks per class and 256 MiB in all; what does not fit is freed.
//===----------------------------------------------------------------------===//

namespace {
constexpr size_t kLine = 64;
constexpr int kMinClass = 6, kMaxClass = 30;
constexpr size_t kMaxBlocksPerClass = 64;
constexpr size_t kMaxCachedBytes = size_t(256) << 20;

struct CallGuard;

/// The header before every block (inside its first 64 bytes): where the
/// allocation starts, its size class, and the links of the guarded call
/// that allocated it (null when none did).
struct BlockInfo {
  void *base;
  int64_t sizeClass;
  CallGuard *owner;
  BlockInfo *prev, *next;
};
static_assert(sizeof(BlockInfo) <= kLine, "the header fits the first line");

BlockInfo *infoOf(void *ptr) { return static_cast<BlockInfo *>(ptr) - 1; }

/// A call into compiled code whose allocation failure unwinds to the caller
/// (hybrid_invoke_guarded): the blocks the calling thread allocates during
/// the call are linked here, so a failed call frees them all.
struct CallGuard {
  std::jmp_buf env;
  std::mutex mutex; // frees may come from other threads
  BlockInfo *blocks = nullptr;
  uint64_t failedBytes = 0;
};
thread_local CallGuard *activeGuard = nullptr;

void link(CallGuard *g, BlockInfo *info) {
  std::lock_guard<std::mutex> lock(g->mutex);
  info->owner = g;
  info->prev = nullptr;
  info->next = g->blocks;
  if (g->blocks)
    g->blocks->prev = info;
  g->blocks = info;
}

void unlink(BlockInfo *info) {
  CallGuard *g = info->owner;
  if (!g)
    return;
  std::lock_guard<std::mutex> lock(g->mutex);
  if (info->prev)
    info->prev->next = info->next;
  else
    g->blocks = info->next;
  if (info->next)
    info->next->prev = info->prev;
  info->owner = nullptr;
}

struct BlockCache {
  std::vector<void *> blocks[kMaxClass + 1];
  size_t bytes = 0;
  void release() {
    for (auto &list : blocks) {
      for (void *base : list)
        std::free(base);
      list.clear();
    }
    bytes = 0;
  }
  ~BlockCache() { release(); }
};
thread_local BlockCache blockCache;

int sizeClassOf(size_t size) {
  int c = kMinClass;
  while (c <= kMaxClass && (size_t(1) << c) < size)
    ++c;
  return c;
}

/// aligned_alloc, retried once after returning this thread's cached blocks
/// to the system.
void *systemAlloc(size_t alignment, size_t bytes) {
  if (void *p = std::aligned_alloc(alignment, bytes))
    return p;
  blockCache.release();
  return std::aligned_alloc(alignment, bytes);
}

void *allocateBlock(size_t size, size_t alignment) {
  int c = sizeClassOf(size);
  void *ptr = nullptr;
  if (alignment <= kLine && c <= kMaxClass) {
    std::vector<void *> &list = blockCache.blocks[c];
    void *base;
    if (!list.empty()) {
      base = list.back();
      list.pop_back();
      blockCache.bytes -= size_t(1) << c;
    } else {
      base = systemAlloc(kLine, kLine + (size_t(1) << c));
      if (!base)
        return nullptr;
    }
    ptr = static_cast<char *>(base) + kLine;
    *infoOf(ptr) = {base, c, nullptr, nullptr, nullptr};
  } else {
    // Not cached: a header of one alignment unit, at least 64 bytes.
    size_t header = alignment > kLine ? alignment : kLine;
    if (size > SIZE_MAX - 2 * header || (alignment & (alignment - 1)))
      return nullptr;
    size_t total = (header + size + header - 1) / header * header;
    void *base = systemAlloc(header, total);
    if (!base)
      return nullptr;
    ptr = static_cast<char *>(base) + header;
    *infoOf(ptr) = {base, -1, nullptr, nullptr, nullptr};
  }
  if (activeGuard)
    link(activeGuard, infoOf(ptr));
  return ptr;
}

void freeBlock(void *ptr) {
  if (!ptr)
    return;
  unlink(infoOf(ptr));
  BlockInfo info = *infoOf(ptr);
  if (info.sizeClass >= kMinClass && info.sizeClass <= kMaxClass) {
    size_t bytes = size_t(1) << info.sizeClass;
    std::vector<void *> &list = blockCache.blocks[info.sizeClass];
    if (list.size() < kMaxBlocksPerClass &&
        blockCache.bytes + bytes <= kMaxCachedBytes) {
      list.push_back(info.base);
      blockCache.bytes += bytes;
      return;
    }
  }
  std::free(info.base);
}

/// The compiled code could not allocate `size` bytes. Inside a guarded call
/// on the calling thread (and outside an OpenMP parallel region, which a
/// jump must not leave), unwinds to hybrid_invoke_guarded. Otherwise there
/// is no way to report it to the caller: says so and aborts, rather than
/// letting the compiled code write through a null pointer.
[[noreturn]] void allocationFailed(uint64_t size) {
  CallGuard *g = activeGuard;
  if (g && !(omp_in_parallel && omp_in_parallel())) {
    g->failedBytes = size;
    std::longjmp(g->env, 1);
  }
  std::fprintf(stderr,
               "hybrid runtime: out of memory: compiled code could not "
               "allocate %llu bytes %s\n",
               static_cast<unsigned long long>(size),
               g ? "inside a parallel region" : "outside a guarded call");
  std::abort();
}
} // namespace

extern "C" hybrid_status hybrid_invoke_guarded(void (*fn)(void **),
                                               void **args) {
  CallGuard guard;
  CallGuard *outer = activeGuard;
  activeGuard = &guard;
  if (setjmp(guard.env) == 0) {
    fn(args);
    activeGuard = outer;
    // What the call still holds (nothing, for functions that return no
    // buffers) stays allocated, but no longer belongs to a call.
    std::lock_guard<std::mutex> lock(guard.mutex);
    for (BlockInfo *b = guard.blocks; b; b = b->next)
      b->owner = nullptr;
    return HYBRID_OK;
  }
  activeGuard = outer;
  // Free every block the failed call allocated and did not free.
  std::vector<void *> bases;
  {
    std::lock_guard<std::mutex> lock(guard.mutex);
    for (BlockInfo *b = guard.blocks; b; b = b->next)
      bases.push_back(b->base);
    guard.blocks = nullptr;
  }
  for (void *base : bases)
    std::free(base);
  return fail(HYBRID_OUT_OF_MEMORY,
              "out of memory: the compiled model could not allocate " +
                  std::to_string(guard.failedBytes) +
                  " bytes (the call changed nothing and freed what it had "
                  "allocated)");
}

extern "C" void *_mlir_memref_to_llvm_alloc(uint64_t size) {
  if (void *p = allocateBlock(size, kLine))
    return p;
  allocationFailed(size);
}

extern "C" void *_mlir_memref_to_llvm_aligned_alloc(uint64_t alignment,
                                                    uint64_t size) {
  if (void *p = allocateBlock(size, alignment))
    return p;
  allocationFailed(size);
}

extern "C" void _mlir_memref_to_llvm_free(void *ptr) { freeBlock(ptr); }

//===----------------------------------------------------------------------===//
// memrefCopy: called by MLIR-generated code for copies between buffers of
// different layouts (the same contract as MLIR's c_runner_utils).
//===----------------------------------------------------------------------===//

namespace {
struct UnrankedMemRef {
  int64_t rank;
  void *descriptor;
};
} // namespace

extern "C" void memrefCopy(int64_t elemSize, UnrankedMemRef *src,
                           UnrankedMemRef *dst) {
  int64_t rank = src->rank;
  auto *s = static_cast<int64_t *>(src->descriptor);
  auto *d = static_cast<int64_t *>(dst->descriptor);
  char *sBase = reinterpret_cast<char *>(s[1]) + s[2] * elemSize;
  char *dBase = reinterpret_cast<char *>(d[1]) + d[2] * elemSize;
  const int64_t *sizes = s + 3, *sStrides = s + 3 + rank,
                *dStrides = d + 3 + rank;
  int64_t total = 1;
  for (int64_t i = 0; i < rank; ++i)
    total *= sizes[i];
  if (total == 0)
    return;
  // The trailing dimensions that are contiguous in both buffers form one
  // block, copied with one memcpy; the others are walked.
  int64_t outer = rank, block = 1;
  while (outer > 0 && sStrides[outer - 1] == block &&
         dStrides[outer - 1] == block) {
    block *= sizes[outer - 1];
    --outer;
  }
  size_t bytes = static_cast<size_t>(block * elemSize);
  if (outer == 0) {
    std::memcpy(dBase, sBase, bytes);
    return;
  }
  // Odometer over the outer dimensions (no allocation up to rank 16).
  int64_t small[16] = {0};
  std::vector<int64_t> large;
  int64_t *index = small;
  if (outer > 16) {
    large.assign(outer, 0);
    index = large.data();
  }
  int64_t so = 0, dof = 0;
  for (int64_t n = 0, blocks = total / block; n < blocks; ++n) {
    std::memcpy(dBase + dof * elemSize, sBase + so * elemSize, bytes);
    for (int64_t i = outer - 1; i >= 0; --i) {
      so += sStrides[i];
      dof += dStrides[i];
      if (++index[i] < sizes[i])
        break;
      so -= sStrides[i] * sizes[i];
      dof -= dStrides[i] * sizes[i];
      index[i] = 0;
    }
  }
}
