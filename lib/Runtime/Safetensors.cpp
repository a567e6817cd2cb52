//===- Safetensors.cpp - Weights from safetensors files ---------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// A minimal JSON reader for safetensors headers (objects, arrays, strings
// with escapes, numbers as doubles), bounded in depth, and the model
// constructors that read weights from safetensors bytes or files.
//
//===----------------------------------------------------------------------===//

#include "RuntimeInternal.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>

using namespace hybrid::runtime;

namespace {

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

/// The weights of `desc` from the safetensors bytes [data, data + size);
/// messages start with `where`.
hybrid_status createFromSafetensors(const hybrid_model_desc *desc,
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

  std::vector<Buffer<float>> owned;
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
    owned.push_back(std::move(tensor));
  }
  return createOwningModel(desc, std::move(owned), model);
}

} // namespace

extern "C" hybrid_status
hybrid_model_create_from_file(const hybrid_model_desc *desc, const char *path,
                              hybrid_model **model) {
  if (hybrid_status s = checkDescriptor(desc, model))
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
  if (hybrid_status s = checkDescriptor(desc, model))
    return s;
  if (!data && size)
    return fail(HYBRID_INVALID_ARGUMENT, "data must not be null");
  return createFromSafetensors(desc, static_cast<const char *>(data), size,
                               "safetensors in memory: ", model);
}
