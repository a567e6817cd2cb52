//===- ModelSpec.cpp - Hybrid model specifications -------------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// Reading a spec: the JSON text is parsed with llvm::json, then scanned once
// more to find where each top-level key and array element starts (llvm::json
// keeps no positions). Keys are merged (defaults < preset < file < --set),
// checked one by one in file order, then checked against each other.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Frontend/ModelSpec.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/ConvertUTF.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace mlir::hybrid::frontend;
using llvm::StringRef;
namespace json = llvm::json;

//===----------------------------------------------------------------------===//
// Names
//===----------------------------------------------------------------------===//

namespace {
struct KindName {
  LayerKind kind;
  StringRef name;
  char letter;
};
constexpr KindName kKindNames[] = {
    {LayerKind::Attention, "attn", 'A'},
    {LayerKind::Mamba, "mamba", 'M'},
    {LayerKind::Gru, "gru", 'G'},
    {LayerKind::Rwkv, "rwkv", 'R'},
    {LayerKind::DeltaNet, "delta_net", 'D'},
    {LayerKind::GatedDeltaNet, "gated_delta_net", 'N'},
    {LayerKind::GriffinLru, "griffin_lru", 'L'},
    {LayerKind::Parallel, "parallel", 'P'},
};

/// Every key, in documentation order.
constexpr StringRef kKeys[] = {
    "embed_dim",       "hidden_size",
    "num_layers",      "backbone",
    "attention_every", "ratio",
    "schedule",        "mode",
    "state_size",      "expand_factor",
    "conv_size",       "num_heads",
    "head_dim",        "num_kv_heads",
    "window_size",     "use_sliding_window",
    "qk_layernorm",    "pre_norm",
    "dropout",         "seq_len",
    "chunked_attention", "memory_efficient_attention",
    "chunk_size",      "preset",
    "output",          "norm",
};
} // namespace

StringRef mlir::hybrid::frontend::layerKindName(LayerKind kind) {
  for (const KindName &k : kKindNames)
    if (k.kind == kind)
      return k.name;
  llvm_unreachable("unknown layer kind");
}

char mlir::hybrid::frontend::layerKindLetter(LayerKind kind) {
  for (const KindName &k : kKindNames)
    if (k.kind == kind)
      return k.letter;
  llvm_unreachable("unknown layer kind");
}

std::optional<LayerKind>
mlir::hybrid::frontend::parseLayerKind(StringRef name) {
  for (const KindName &k : kKindNames)
    if (k.name == name)
      return k.kind;
  return std::nullopt;
}

StringRef mlir::hybrid::frontend::modeName(Mode mode) {
  return mode == Mode::Interleaved ? "interleaved" : "parallel";
}

StringRef mlir::hybrid::frontend::presetName(Preset preset) {
  switch (preset) {
  case Preset::Jamba:
    return "jamba";
  case Preset::NemotronH:
    return "nemotron_h";
  case Preset::Parallel:
    return "parallel";
  case Preset::MinimalAttn:
    return "minimal_attn";
  }
  llvm_unreachable("unknown preset");
}

llvm::ArrayRef<StringRef> mlir::hybrid::frontend::specKeys() { return kKeys; }

llvm::ArrayRef<Preset> mlir::hybrid::frontend::allPresets() {
  static constexpr Preset presets[] = {Preset::Jamba, Preset::NemotronH,
                                       Preset::Parallel, Preset::MinimalAttn};
  return presets;
}

json::Object mlir::hybrid::frontend::specToJson(const ModelSpec &spec) {
  json::Object o;
  if (spec.embedDim > 0)
    o["embed_dim"] = spec.embedDim;
  o["hidden_size"] = spec.hiddenSize;
  o["num_layers"] = spec.numLayers;
  o["backbone"] = layerKindName(spec.backbone);
  if (spec.attentionEvery)
    o["attention_every"] = *spec.attentionEvery;
  if (spec.ratio)
    o["ratio"] = json::Array{spec.ratio->first, spec.ratio->second};
  if (spec.schedule) {
    json::Array schedule;
    for (LayerKind k : *spec.schedule)
      schedule.push_back(layerKindName(k));
    o["schedule"] = std::move(schedule);
  }
  o["mode"] = modeName(spec.mode);
  o["state_size"] = spec.stateSize;
  o["expand_factor"] = spec.expandFactor;
  o["conv_size"] = spec.convSize;
  o["num_heads"] = spec.numHeads;
  o["head_dim"] = spec.headDim;
  o["num_kv_heads"] = spec.numKvHeads;
  o["window_size"] = spec.windowSize;
  o["use_sliding_window"] = spec.useSlidingWindow;
  o["qk_layernorm"] = spec.qkLayernorm;
  o["pre_norm"] = spec.preNorm;
  o["dropout"] = spec.dropout;
  if (spec.seqLen)
    o["seq_len"] = *spec.seqLen;
  o["chunked_attention"] = spec.chunkedAttention;
  o["memory_efficient_attention"] = spec.memoryEfficientAttention;
  o["chunk_size"] = spec.chunkSize;
  if (spec.preset)
    o["preset"] = presetName(*spec.preset);
  o["output"] = spec.output == OutputKind::Sequence ? "sequence" : "last";
  o["norm"] = spec.norm == NormKind::RmsNorm ? "rms_norm" : "layer_norm";
  return o;
}

std::string SpecDiagnostic::str() const {
  std::string s;
  if (!location.empty())
    s += location + ": ";
  s += severity == Severity::Error ? "error: " : "note: ";
  return s + message;
}

//===----------------------------------------------------------------------===//
// Schedule resolution (SPEC.md 2.3)
//===----------------------------------------------------------------------===//

/// Elixir's round/1: half away from zero.
static int64_t roundHalfAway(double x) {
  return static_cast<int64_t>(x < 0 ? std::ceil(x - 0.5) : std::floor(x + 0.5));
}

std::vector<LayerKind> ModelSpec::resolveSchedule() const {
  if (mode == Mode::Parallel)
    return std::vector<LayerKind>(numLayers, LayerKind::Parallel);
  if (schedule)
    return *schedule;
  const int64_t L = numLayers;
  std::vector<LayerKind> layers(L, backbone);
  if (ratio) {
    auto [b, a] = *ratio;
    int64_t nAttn = roundHalfAway(static_cast<double>(L) * a / (a + b));
    nAttn = std::clamp<int64_t>(nAttn, 1, L);
    if (nAttn >= L)
      return std::vector<LayerKind>(L, LayerKind::Attention);
    double spacing = static_cast<double>(L) / nAttn;
    for (int64_t i = 0; i < nAttn; ++i) {
      int64_t pos = std::min<int64_t>(roundHalfAway((i + 1) * spacing) - 1, L - 1);
      layers[pos] = LayerKind::Attention;
    }
    return layers;
  }
  int64_t every = attentionEvery.value_or(4);
  for (int64_t i = 1; i <= L; ++i)
    if (i % every == 0)
      layers[i - 1] = LayerKind::Attention;
  return layers;
}

std::optional<int64_t> ModelSpec::attentionWindow() const {
  if (!useSlidingWindow)
    return std::nullopt;
  return windowSize;
}

//===----------------------------------------------------------------------===//
// Positions in the JSON text
//===----------------------------------------------------------------------===//

namespace {
/// Where a top-level key, its value and (for arrays) its elements start.
struct KeyPosition {
  std::string key;
  size_t keyOffset = 0;
  std::vector<size_t> elementOffsets;
};

/// Appends code point `cp` to `out` in UTF-8.
void appendUtf8(uint32_t cp, std::string &out) {
  char buf[UNI_MAX_UTF8_BYTES_PER_CODE_POINT];
  char *end = buf;
  if (llvm::ConvertCodePointToUTF8(cp, end))
    out.append(buf, end);
}

/// Reads the 4 hex digits of a \u escape at `text[i]`, or nullopt.
std::optional<uint32_t> hex4(StringRef text, size_t i) {
  if (i + 4 > text.size())
    return std::nullopt;
  uint32_t v = 0;
  for (size_t j = i; j < i + 4; ++j) {
    unsigned digit = llvm::hexDigitValue(text[j]);
    if (digit == ~0u)
      return std::nullopt;
    v = v * 16 + digit;
  }
  return v;
}

/// Decodes the JSON string literal whose opening quote is at `text[i]`, as
/// llvm::json does (escapes, \u with surrogate pairs; a lone surrogate
/// becomes U+FFFD). Leaves `i` on the closing quote.
std::string decodeString(StringRef text, size_t &i) {
  std::string value;
  for (++i; i < text.size() && text[i] != '"'; ++i) {
    if (text[i] != '\\' || i + 1 >= text.size()) {
      value += text[i];
      continue;
    }
    char e = text[++i];
    switch (e) {
    case 'b': value += '\b'; break;
    case 'f': value += '\f'; break;
    case 'n': value += '\n'; break;
    case 'r': value += '\r'; break;
    case 't': value += '\t'; break;
    case 'u': {
      std::optional<uint32_t> unit = hex4(text, i + 1);
      if (!unit) {
        value += e;
        break;
      }
      i += 4;
      uint32_t cp = *unit;
      if (cp >= 0xD800 && cp < 0xDC00) {
        std::optional<uint32_t> low;
        if (i + 2 < text.size() && text[i + 1] == '\\' && text[i + 2] == 'u')
          low = hex4(text, i + 3);
        if (low && *low >= 0xDC00 && *low < 0xE000) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (*low - 0xDC00);
          i += 6;
        } else {
          cp = 0xFFFD;
        }
      } else if (cp >= 0xDC00 && cp < 0xE000) {
        cp = 0xFFFD;
      }
      appendUtf8(cp, value);
      break;
    }
    default: // '"', '\\', '/'
      value += e;
      break;
    }
  }
  return value;
}

/// Scans valid JSON text (it was parsed already) for the positions of the
/// top-level object's keys and of the elements of top-level array values.
/// Keys are decoded as the JSON parser decodes them. Linear in the text.
std::vector<KeyPosition> scanTopLevelKeys(StringRef text) {
  std::vector<KeyPosition> keys;
  int depth = 0;
  bool expectKey = false;
  bool elementStart = false; // next token at depth 2 starts an array element
  bool inTopArray = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
      continue;
    if (inTopArray && depth == 2 && elementStart && c != ']') {
      keys.back().elementOffsets.push_back(i);
      elementStart = false;
    }
    if (c == '"') {
      size_t start = i;
      std::string value = decodeString(text, i);
      if (depth == 1 && expectKey) {
        keys.push_back({std::move(value), start, {}});
        expectKey = false;
      }
      continue;
    }
    switch (c) {
    case '{':
    case '[':
      ++depth;
      if (depth == 1)
        expectKey = c == '{';
      if (depth == 2 && c == '[' && !keys.empty()) {
        inTopArray = true;
        elementStart = true;
      }
      break;
    case '}':
    case ']':
      if (depth == 2)
        inTopArray = false;
      --depth;
      break;
    case ',':
      if (depth == 1)
        expectKey = true;
      if (depth == 2 && inTopArray)
        elementStart = true;
      break;
    default:
      break;
    }
  }
  return keys;
}

/// The deepest nesting of arrays and objects a spec may have. A spec is
/// flat (values are numbers, strings or lists of them); the bound keeps the
/// recursive JSON parser's stack small on hostile input.
constexpr int kMaxJsonDepth = 64;

/// The offset of the bracket that opens nesting level kMaxJsonDepth + 1,
/// or nullopt. Strings are skipped; the text need not be valid JSON.
std::optional<size_t> tooDeep(StringRef text) {
  int depth = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i)
        if (text[i] == '\\')
          ++i;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth)
        return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::nullopt;
}

/// 1-based line and column of offsets in a text, in O(log lines) each.
class LineTable {
public:
  explicit LineTable(StringRef text) : text(text) {
    starts.push_back(0);
    for (size_t i = 0; i < text.size(); ++i)
      if (text[i] == '\n')
        starts.push_back(i + 1);
  }
  std::pair<unsigned, unsigned> lineColumn(size_t offset) const {
    offset = std::min(offset, text.size());
    auto it = std::upper_bound(starts.begin(), starts.end(), offset);
    size_t line = it - starts.begin();
    return {static_cast<unsigned>(line),
            static_cast<unsigned>(offset - starts[line - 1] + 1)};
  }

private:
  StringRef text;
  std::vector<size_t> starts;
};

/// A key as it appears in messages: control and non-ASCII characters
/// escaped, so a hostile key cannot break the message's line.
std::string printable(StringRef key) {
  std::string out;
  llvm::raw_string_ostream os(out);
  llvm::printEscapedString(key.take_front(80), os);
  if (key.size() > 80)
    os << "...";
  return out;
}

/// Describes a JSON value for messages: its kind and a short rendering.
std::string describe(const json::Value &v) {
  std::string rendered;
  llvm::raw_string_ostream os(rendered);
  os << v;
  if (rendered.size() > 40)
    rendered = rendered.substr(0, 37) + "...";
  switch (v.kind()) {
  case json::Value::Null:
    return "null";
  case json::Value::Boolean:
    return "boolean " + rendered;
  case json::Value::Number:
    return "number " + rendered;
  case json::Value::String:
    return "string " + rendered;
  case json::Value::Array:
    return "array " + rendered;
  case json::Value::Object:
    return "object " + rendered;
  }
  return rendered;
}

/// One key=value entry to apply, with where it came from.
struct Entry {
  std::string key;
  json::Value value;
  std::string location;                  // for messages
  std::vector<std::string> elementLocations; // of array elements
};

/// Applies entries to a ModelSpec, collecting errors.
class SpecReader {
public:
  std::vector<SpecDiagnostic> errors;
  std::vector<SpecDiagnostic> notes;

  void error(const Entry &e, const llvm::Twine &msg) {
    errors.push_back({SpecDiagnostic::Severity::Error,
                      ("key '" + e.key + "': " + msg).str(), e.location});
  }
  void errorAt(const std::string &location, const llvm::Twine &msg) {
    errors.push_back(
        {SpecDiagnostic::Severity::Error, msg.str(), location});
  }
  void note(const std::string &location, const llvm::Twine &msg) {
    notes.push_back({SpecDiagnostic::Severity::Note, msg.str(), location});
  }

  std::optional<int64_t> integer(const Entry &e, int64_t min,
                                 int64_t max = limits::kMaxInteger,
                                 StringRef what = "") {
    std::optional<double> number = e.value.getAsNumber();
    std::optional<int64_t> i = e.value.getAsInteger();
    if (!number || (!i && std::trunc(*number) != *number)) {
      error(e, "expected " + (what.empty() ? StringRef("an integer") : what) +
                   ", got " + describe(e.value));
      return std::nullopt;
    }
    if (!i || *i < min) {
      error(e, llvm::formatv("expected an integer >= {0}, got {1}", min,
                             describe(e.value)));
      return std::nullopt;
    }
    if (*i > max) {
      error(e, llvm::formatv("{0} exceeds the limit {1} (docs/Frontend.md, "
                             "\"Limits\")",
                             *i, max));
      return std::nullopt;
    }
    return *i;
  }

  std::optional<bool> boolean(const Entry &e) {
    if (std::optional<bool> b = e.value.getAsBoolean())
      return *b;
    error(e, "expected true or false, got " + describe(e.value));
    return std::nullopt;
  }

  std::optional<StringRef> choice(const Entry &e,
                                  llvm::ArrayRef<StringRef> choices) {
    std::optional<StringRef> s = e.value.getAsString();
    if (s && llvm::is_contained(choices, *s))
      return *s;
    std::string list = llvm::join(
        llvm::map_range(choices, [](StringRef c) { return "\"" + c.str() + "\""; }),
        ", ");
    std::string hint;
    if (s)
      hint = didYouMean(*s, choices);
    error(e, "expected one of " + list + ", got " + describe(e.value) + hint);
    return std::nullopt;
  }

  std::optional<LayerKind> layerKind(const Entry &e, const json::Value &v,
                                     const std::string &location,
                                     bool allowAttention, StringRef what) {
    std::optional<StringRef> s = v.getAsString();
    SmallVectorStrings choices;
    for (const KindName &k : kKindNames)
      if (k.kind != LayerKind::Parallel &&
          (allowAttention || k.kind != LayerKind::Attention))
        choices.names.push_back(k.name);
    if (s) {
      std::optional<LayerKind> kind = parseLayerKind(*s);
      if (kind && llvm::is_contained(choices.names, *s))
        return kind;
    }
    std::string list = llvm::join(
        llvm::map_range(choices.names,
                        [](StringRef c) { return "\"" + c.str() + "\""; }),
        ", ");
    std::string hint = s ? didYouMean(*s, choices.names) : "";
    errorAt(location, "key '" + e.key + "': " + what + " must be one of " +
                          list + ", got " + describe(v) + hint);
    return std::nullopt;
  }

  static std::string didYouMean(StringRef got,
                                llvm::ArrayRef<StringRef> candidates) {
    StringRef best;
    unsigned bestDistance = ~0u;
    for (StringRef c : candidates) {
      unsigned d = got.edit_distance_insensitive(c);
      if (d < bestDistance) {
        bestDistance = d;
        best = c;
      }
    }
    // A long key typed without its suffix ("window" for "window_size").
    if (bestDistance > std::max<size_t>(2, got.size() / 3) &&
        got.size() >= 4)
      for (StringRef c : candidates)
        if (c.starts_with(got)) {
          best = c;
          bestDistance = 0;
          break;
        }
    if (best.empty() || bestDistance > std::max<size_t>(2, got.size() / 3))
      return "";
    return " (did you mean \"" + best.str() + "\"?)";
  }

private:
  struct SmallVectorStrings {
    std::vector<StringRef> names;
  };
};

/// The keys a preset sets (SPEC.md 2.3), as JSON.
json::Object presetKeysOf(Preset preset) {
  json::Object o{{"hidden_size", 256}, {"num_heads", 4},  {"head_dim", 64},
                 {"dropout", 0.1},     {"backbone", "mamba"}};
  switch (preset) {
  case Preset::NemotronH:
    o["mode"] = "interleaved";
    o["num_layers"] = 10;
    o["ratio"] = json::Array{9, 1};
    break;
  case Preset::Jamba:
    o["mode"] = "interleaved";
    o["num_layers"] = 6;
    o["attention_every"] = 3;
    break;
  case Preset::Parallel:
    o["mode"] = "parallel";
    o["num_layers"] = 6;
    break;
  case Preset::MinimalAttn:
    o["mode"] = "interleaved";
    o["num_layers"] = 12;
    o["ratio"] = json::Array{11, 1};
    break;
  }
  return o;
}

std::optional<Preset> parsePreset(StringRef name) {
  for (Preset p : {Preset::Jamba, Preset::NemotronH, Preset::Parallel,
                   Preset::MinimalAttn})
    if (presetName(p) == name)
      return p;
  return std::nullopt;
}

} // namespace

//===----------------------------------------------------------------------===//
// parseModelSpec
//===----------------------------------------------------------------------===//

/// At most this many errors are reported, then how many more there were
/// (as compilers do: a spec with 100,000 bad entries gets a short answer).
constexpr size_t kMaxReportedErrors = 20;

static llvm::Error toError(const std::vector<SpecDiagnostic> &errors) {
  std::string all;
  for (const SpecDiagnostic &d :
       llvm::ArrayRef(errors).take_front(kMaxReportedErrors)) {
    if (!all.empty())
      all += "\n";
    all += d.str();
  }
  if (errors.size() > kMaxReportedErrors)
    all += llvm::formatv("\nerror: {0} more errors not shown",
                         errors.size() - kMaxReportedErrors)
               .str();
  return llvm::createStringError(llvm::inconvertibleErrorCode(), all);
}

llvm::Expected<ModelSpec>
mlir::hybrid::frontend::parseModelSpec(const SpecSources &sources,
                                       std::vector<SpecDiagnostic> *notesOut) {
  SpecReader r;
  // 1. Collect entries in priority order: file, then --set.
  std::vector<Entry> fileEntries, setEntries;
  if (sources.jsonText) {
    StringRef text = *sources.jsonText;
    LineTable lines(text);
    if (std::optional<size_t> deep = tooDeep(text)) {
      auto [line, col] = lines.lineColumn(*deep);
      r.errorAt(llvm::formatv("{0}:{1}:{2}", sources.jsonName, line, col).str(),
                llvm::formatv("invalid spec: arrays and objects nested deeper "
                              "than {0} levels",
                              kMaxJsonDepth));
      return toError(r.errors);
    }
    llvm::Expected<json::Value> parsed = json::parse(text);
    if (!parsed) {
      std::string msg = llvm::toString(parsed.takeError());
      // llvm::json logs "[line:col, byte=N]: message".
      std::string location = sources.jsonName;
      size_t close = msg.find("]: ");
      if (msg.size() > 1 && msg[0] == '[' && close != std::string::npos) {
        StringRef pos = StringRef(msg).substr(1, close - 1);
        StringRef lineCol = pos.split(',').first;
        location += ":" + lineCol.str();
        msg = msg.substr(close + 3);
      }
      r.errorAt(location, "invalid JSON: " + msg);
      return toError(r.errors);
    }
    const json::Object *object = parsed->getAsObject();
    if (!object) {
      r.errorAt(sources.jsonName + ":1:1",
                "a model spec must be a JSON object of options, got " +
                    describe(*parsed));
      return toError(r.errors);
    }
    llvm::StringMap<std::string> seen;
    for (const KeyPosition &kp : scanTopLevelKeys(text)) {
      auto [line, col] = lines.lineColumn(kp.keyOffset);
      std::string location =
          llvm::formatv("{0}:{1}:{2}", sources.jsonName, line, col).str();
      if (auto [it, inserted] = seen.try_emplace(kp.key, location); !inserted) {
        r.errorAt(location, "key '" + printable(kp.key) +
                                "' appears twice (first at " + it->second +
                                ")");
        continue;
      }
      const json::Value *value = object->get(kp.key);
      if (!value) {
        // The scanner and the parser disagree on a key: never expected,
        // but a message is better than a crash.
        r.errorAt(location, "cannot read key '" + printable(kp.key) + "'");
        continue;
      }
      Entry e{kp.key, *value, location, {}};
      for (size_t off : kp.elementOffsets) {
        auto [l, c] = lines.lineColumn(off);
        e.elementLocations.push_back(
            llvm::formatv("{0}:{1}:{2}", sources.jsonName, l, c).str());
      }
      fileEntries.push_back(std::move(e));
    }
  }
  for (const std::string &kv : sources.overrides) {
    std::string location = "--set " + kv;
    auto [key, value] = StringRef(kv).split('=');
    if (!StringRef(kv).contains('=') || key.trim().empty()) {
      r.errorAt(location, "expected key=value");
      continue;
    }
    key = key.trim();
    value = value.trim();
    json::Value v = nullptr;
    if (llvm::Expected<json::Value> parsed = json::parse(value))
      v = std::move(*parsed);
    else {
      llvm::consumeError(parsed.takeError());
      v = value.str();
    }
    Entry e{key.str(), std::move(v), location, {}};
    if (e.value.getAsArray())
      e.elementLocations.assign(e.value.getAsArray()->size(), location);
    setEntries.push_back(std::move(e));
  }
  if (!r.errors.empty())
    return toError(r.errors);

  // 2. Unknown keys, with a suggestion.
  std::vector<Entry *> all;
  for (Entry &e : fileEntries)
    all.push_back(&e);
  for (Entry &e : setEntries)
    all.push_back(&e);
  // (Reported, then dropped, so the other keys are still checked.)
  llvm::erase_if(all, [&](Entry *e) {
    if (llvm::is_contained(specKeys(), StringRef(e->key)))
      return false;
    r.errorAt(e->location, "unknown key '" + printable(e->key) + "'" +
                               SpecReader::didYouMean(e->key, specKeys()));
    return true;
  });

  // 3. The preset: --preset, overridden by a "preset" key.
  std::optional<Preset> preset;
  std::string presetLocation = "--preset";
  Entry presetEntry{"preset", nullptr, presetLocation, {}};
  if (sources.preset)
    presetEntry.value = *sources.preset;
  for (Entry *e : all)
    if (e->key == "preset")
      presetEntry = *e;
  if (presetEntry.value.kind() != json::Value::Null) {
    if (std::optional<StringRef> name = r.choice(
            presetEntry, {"jamba", "nemotron_h", "parallel", "minimal_attn"}))
      preset = parsePreset(*name);
    if (!r.errors.empty())
      return toError(r.errors);
  }

  // 4. Effective entries: preset keys, overridden by file, overridden by
  //    --set. Later entries for the same key replace earlier ones.
  std::vector<Entry> effective;
  auto put = [&](Entry e) {
    for (Entry &old : effective)
      if (old.key == e.key) {
        old = std::move(e);
        return;
      }
    effective.push_back(std::move(e));
  };
  if (preset) {
    json::Object keys = presetKeysOf(*preset);
    for (StringRef key : specKeys())
      if (const json::Value *v = keys.get(key))
        put(Entry{key.str(), *v,
                  "preset '" + presetName(*preset).str() + "'",
                  {}});
  }
  for (Entry *e : all)
    if (e->key != "preset")
      put(*e);

  // 5. Each key on its own.
  ModelSpec spec;
  spec.preset = preset;
  bool haveEmbed = false, haveNumLayers = false, haveKvHeads = false;
  const Entry *scheduleEntry = nullptr, *ratioEntry = nullptr,
              *everyEntry = nullptr,
              *numLayersEntry = nullptr, *backboneEntry = nullptr;
  for (const Entry &e : effective) {
    StringRef k = e.key;
    auto setInt = [&](int64_t &field, int64_t min, int64_t max) {
      if (std::optional<int64_t> v = r.integer(e, min, max))
        field = *v;
    };
    auto setBool = [&](bool &field) {
      if (std::optional<bool> v = r.boolean(e))
        field = *v;
    };
    if (k == "embed_dim") {
      setInt(spec.embedDim, 1, limits::kMaxWidth);
      haveEmbed = true;
    } else if (k == "hidden_size") {
      setInt(spec.hiddenSize, 1, limits::kMaxWidth);
    } else if (k == "num_layers") {
      setInt(spec.numLayers, 1, limits::kMaxLayers);
      haveNumLayers = true;
      numLayersEntry = &e;
    } else if (k == "backbone") {
      backboneEntry = &e;
      if (std::optional<LayerKind> kind =
              r.layerKind(e, e.value, e.location, false, "the backbone"))
        spec.backbone = *kind;
    } else if (k == "attention_every") {
      everyEntry = &e;
      if (std::optional<int64_t> v = r.integer(e, 1, limits::kMaxLayers))
        spec.attentionEvery = *v;
    } else if (k == "ratio") {
      ratioEntry = &e;
      const json::Array *a = e.value.getAsArray();
      if (!a || a->size() != 2) {
        r.error(e, "expected [backbone, attention], two integers >= 1, got " +
                       describe(e.value));
        continue;
      }
      std::optional<int64_t> parts[2];
      for (int i = 0; i < 2; ++i) {
        Entry part{e.key, (*a)[i],
                   i < (int)e.elementLocations.size() ? e.elementLocations[i]
                                                      : e.location,
                   {}};
        std::optional<int64_t> v = (*a)[i].getAsInteger();
        if (v && *v > limits::kMaxLayers) {
          r.error(part, llvm::formatv("the {0} count {1} exceeds the limit "
                                      "{2} (docs/Frontend.md, \"Limits\")",
                                      i == 0 ? "backbone" : "attention", *v,
                                      limits::kMaxLayers));
          continue;
        }
        if (!v || *v < 1) {
          r.error(part, llvm::formatv(
                            "the {0} count must be an integer >= 1, got {1}{2}",
                            i == 0 ? "backbone" : "attention",
                            describe((*a)[i]),
                            v && *v == 0 ? " (a ratio with a zero term has no "
                                           "layers of that kind: use "
                                           "\"schedule\" or \"attention_every\")"
                                         : ""));
          continue;
        }
        parts[i] = v;
      }
      if (parts[0] && parts[1])
        spec.ratio = std::make_pair(*parts[0], *parts[1]);
    } else if (k == "schedule") {
      scheduleEntry = &e;
      const json::Array *a = e.value.getAsArray();
      if (!a) {
        r.error(e, "expected a list of layer names, got " + describe(e.value));
        continue;
      }
      if (a->empty()) {
        r.error(e, "the schedule is empty: a model needs at least one layer");
        continue;
      }
      if (static_cast<int64_t>(a->size()) > limits::kMaxLayers) {
        r.error(e, llvm::formatv("the schedule has {0} layers, more than the "
                                 "limit {1} (docs/Frontend.md, \"Limits\")",
                                 a->size(), limits::kMaxLayers));
        continue;
      }
      std::vector<LayerKind> layers;
      for (auto [i, v] : llvm::enumerate(*a)) {
        std::string where = i < e.elementLocations.size()
                                ? e.elementLocations[i]
                                : e.location;
        if (std::optional<LayerKind> kind = r.layerKind(
                e, v, where, true,
                llvm::formatv("entry {0}", i).str()))
          layers.push_back(*kind);
      }
      if (layers.size() == a->size())
        spec.schedule = std::move(layers);
    } else if (k == "mode") {
      if (std::optional<StringRef> m = r.choice(e, {"interleaved", "parallel"}))
        spec.mode = *m == "parallel" ? Mode::Parallel : Mode::Interleaved;
    } else if (k == "state_size") {
      setInt(spec.stateSize, 1, limits::kMaxStateSize);
    } else if (k == "expand_factor") {
      setInt(spec.expandFactor, 1, limits::kMaxExpandFactor);
    } else if (k == "conv_size") {
      setInt(spec.convSize, 1, limits::kMaxConvSize);
    } else if (k == "num_heads") {
      setInt(spec.numHeads, 1, limits::kMaxHeads);
    } else if (k == "head_dim") {
      setInt(spec.headDim, 1, limits::kMaxHeadDim);
    } else if (k == "num_kv_heads") {
      setInt(spec.numKvHeads, 1, limits::kMaxHeads);
      haveKvHeads = true;
    } else if (k == "window_size") {
      setInt(spec.windowSize, 1, limits::kMaxSeqLen);
    } else if (k == "use_sliding_window") {
      setBool(spec.useSlidingWindow);
    } else if (k == "qk_layernorm") {
      setBool(spec.qkLayernorm);
    } else if (k == "pre_norm") {
      setBool(spec.preNorm);
    } else if (k == "dropout") {
      std::optional<double> d = e.value.getAsNumber();
      if (!d || *d < 0.0 || *d >= 1.0)
        r.error(e, "expected a number in [0, 1), got " + describe(e.value));
      else
        spec.dropout = *d;
    } else if (k == "seq_len") {
      if (e.value.kind() == json::Value::Null)
        spec.seqLen.reset();
      else if (std::optional<int64_t> v = r.integer(e, 1, limits::kMaxSeqLen))
        spec.seqLen = *v;
    } else if (k == "chunked_attention") {
      setBool(spec.chunkedAttention);
    } else if (k == "memory_efficient_attention") {
      setBool(spec.memoryEfficientAttention);
    } else if (k == "chunk_size") {
      setInt(spec.chunkSize, 1, limits::kMaxSeqLen);
    } else if (k == "output") {
      if (std::optional<StringRef> o = r.choice(e, {"last", "sequence"}))
        spec.output =
            *o == "last" ? OutputKind::LastPosition : OutputKind::Sequence;
    } else if (k == "norm") {
      if (std::optional<StringRef> n = r.choice(e, {"layer_norm", "rms_norm"}))
        spec.norm = *n == "layer_norm" ? NormKind::LayerNorm : NormKind::RmsNorm;
    }
  }
  if (!haveEmbed)
    r.errorAt(sources.jsonText ? sources.jsonName : "",
              "missing required key 'embed_dim' (the width of each input "
              "token, e.g. \"embed_dim\": 256)");
  if (!haveKvHeads)
    spec.numKvHeads = spec.numHeads;
  if (!r.errors.empty())
    return toError(r.errors);

  // 6. Keys against each other.
  auto where = [](const Entry *e) { return e ? e->location : std::string(); };
  if (spec.mode == Mode::Parallel) {
    for (const Entry *e : {scheduleEntry, ratioEntry, everyEntry})
      if (e && !StringRef(e->location).starts_with("preset"))
        r.errorAt(e->location,
                  "key '" + e->key + "' conflicts with \"mode\": \"parallel\" " +
                      "(parallel mode runs the backbone beside attention in " +
                      "every layer; set \"mode\": \"interleaved\" to " +
                      "schedule layers)");
  } else {
    if (scheduleEntry) {
      for (const Entry *e : {ratioEntry, everyEntry})
        if (e)
          r.note(e->location, "key '" + e->key + "' is ignored: 'schedule' "
                              "takes priority");
      if (haveNumLayers && numLayersEntry &&
          !StringRef(numLayersEntry->location).starts_with("preset") &&
          spec.numLayers != (int64_t)spec.schedule->size())
        r.note(numLayersEntry->location,
               llvm::formatv("key 'num_layers' ({0}) is ignored: the "
                             "schedule has {1} layers",
                             spec.numLayers, spec.schedule->size()));
      if (backboneEntry && !StringRef(backboneEntry->location).starts_with("preset"))
        r.note(backboneEntry->location,
               "key 'backbone' is ignored: the schedule names every layer");
      spec.numLayers = spec.schedule->size();
    } else if (ratioEntry && everyEntry) {
      r.note(everyEntry->location,
             "key 'attention_every' is ignored: 'ratio' takes priority");
    }
  }
  auto findEntry = [&](StringRef key) -> const Entry * {
    for (const Entry &e : effective)
      if (e.key == key)
        return &e;
    return nullptr;
  };
  if (spec.numHeads % spec.numKvHeads != 0)
    r.errorAt(where(findEntry("num_kv_heads")),
              llvm::formatv("key 'num_kv_heads': {0} key/value heads must "
                            "divide the {1} query heads (num_heads)",
                            spec.numKvHeads, spec.numHeads));

  // Backbones that split hidden_size into num_heads heads.
  std::vector<LayerKind> layers = spec.resolveSchedule();
  auto uses = [&](LayerKind kind) {
    return llvm::is_contained(layers, kind) ||
           (spec.mode == Mode::Parallel && spec.backbone == kind);
  };
  for (LayerKind kind : {LayerKind::Rwkv, LayerKind::DeltaNet,
                         LayerKind::GatedDeltaNet, LayerKind::GriffinLru}) {
    if (!uses(kind) || spec.hiddenSize % spec.numHeads == 0)
      continue;
    r.errorAt(where(findEntry("num_heads")),
              llvm::formatv("key 'num_heads': {0} heads do not divide "
                            "hidden_size {1}, but the {2} backbone splits "
                            "hidden_size into num_heads heads",
                            spec.numHeads, spec.hiddenSize,
                            layerKindName(kind)));
    break;
  }
  if (!r.errors.empty())
    return toError(r.errors);
  if (notesOut)
    llvm::append_range(*notesOut, r.notes);
  return spec;
}

llvm::Expected<SpecSources> mlir::hybrid::frontend::specSourcesFromCommandLine(
    StringRef file, StringRef preset, llvm::ArrayRef<std::string> overrides) {
  SpecSources sources;
  if (!file.empty()) {
    auto buffer = llvm::MemoryBuffer::getFileOrSTDIN(file);
    if (!buffer)
      return llvm::createStringError(buffer.getError(), "cannot read '%s': %s",
                                     file.str().c_str(),
                                     buffer.getError().message().c_str());
    sources.jsonText = (*buffer)->getBuffer().str();
    sources.jsonName = file.str();
  }
  if (!preset.empty())
    sources.preset = preset.str();
  sources.overrides.assign(overrides.begin(), overrides.end());
  if (!sources.jsonText && !sources.preset && sources.overrides.empty())
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "no model given: pass a spec file, or --preset NAME and/or --set "
        "key=value (see --help)");
  return sources;
}

json::Object mlir::hybrid::frontend::presetOptions(Preset preset) {
  return presetKeysOf(preset);
}
