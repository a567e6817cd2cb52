//===- ModelSpecTest.cpp - Spec reading and schedule resolution -*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// Schedule resolution against every rule and rounding case of SPEC.md 2.3
// and every preset; spec errors (message, key, position).
//
//===----------------------------------------------------------------------===//

#include "hybrid/Frontend/ModelSpec.h"

#include <gtest/gtest.h>

using namespace mlir::hybrid::frontend;

namespace {

/// Parses `json` (plus --set overrides) and returns the spec or fails the
/// test with the error text.
ModelSpec parse(const std::string &json,
                std::vector<std::string> overrides = {}) {
  SpecSources sources;
  sources.jsonText = json;
  sources.jsonName = "spec.json";
  sources.overrides = std::move(overrides);
  llvm::Expected<ModelSpec> spec = parseModelSpec(sources);
  if (!spec) {
    ADD_FAILURE() << llvm::toString(spec.takeError());
    return ModelSpec();
  }
  return *spec;
}

/// The error text of a spec that must fail.
std::string parseError(const std::string &json,
                       std::vector<std::string> overrides = {}) {
  SpecSources sources;
  sources.jsonText = json;
  sources.jsonName = "spec.json";
  sources.overrides = std::move(overrides);
  llvm::Expected<ModelSpec> spec = parseModelSpec(sources);
  if (spec) {
    ADD_FAILURE() << "spec unexpectedly accepted: " << json;
    return "";
  }
  return llvm::toString(spec.takeError());
}

/// The layer pattern of a spec, one letter per layer.
std::string pattern(const ModelSpec &spec) {
  std::string s;
  for (LayerKind kind : spec.resolveSchedule())
    s += layerKindLetter(kind);
  return s;
}

std::string patternOf(const std::string &json) { return pattern(parse(json)); }

TEST(ScheduleTest, DefaultIsEveryFourthLayer) {
  EXPECT_EQ(patternOf(R"({"embed_dim": 8})"), "MMMAMM");
  EXPECT_EQ(patternOf(R"({"embed_dim": 8, "num_layers": 8})"), "MMMAMMMA");
}

TEST(ScheduleTest, AttentionEvery) {
  EXPECT_EQ(patternOf(R"({"embed_dim": 8, "attention_every": 3})"), "MMAMMA");
  EXPECT_EQ(patternOf(R"({"embed_dim": 8, "attention_every": 1,
                          "num_layers": 3})"),
            "AAA");
  // Larger than the stack: no attention at all.
  EXPECT_EQ(patternOf(R"({"embed_dim": 8, "attention_every": 7})"), "MMMMMM");
  EXPECT_EQ(patternOf(R"({"embed_dim": 8, "attention_every": 2,
                          "backbone": "gru", "num_layers": 5})"),
            "GAGAG");
}

TEST(ScheduleTest, RatioRoundsHalfAwayAndBiasesToTheEnd) {
  // SPEC.md 2.3 table.
  EXPECT_EQ(patternOf(R"({"embed_dim": 8, "ratio": [3, 1]})"), "MMAMMA");
  EXPECT_EQ(patternOf(R"({"embed_dim": 8, "ratio": [2, 1], "num_layers": 7})"),
            "MMMAMMA");
  EXPECT_EQ(patternOf(R"({"embed_dim": 8, "ratio": [1, 1], "num_layers": 5})"),
            "MAAMA");
  EXPECT_EQ(patternOf(R"({"embed_dim": 8, "ratio": [9, 1], "num_layers": 10})"),
            "MMMMMMMMMA");
  // n_attn rounds to 0 and is clamped to 1: the last layer.
  EXPECT_EQ(patternOf(R"({"embed_dim": 8, "ratio": [20, 1], "num_layers": 4})"),
            "MMMA");
  // n_attn >= L: every layer is attention.
  EXPECT_EQ(patternOf(R"({"embed_dim": 8, "ratio": [1, 5], "num_layers": 2})"),
            "AA");
  // 3 of 8 at spacing 8/3: positions round(2.67)-1=2, round(5.33)-1=4, 7.
  EXPECT_EQ(patternOf(R"({"embed_dim": 8, "ratio": [5, 3], "num_layers": 8})"),
            "MMAMAMMA");
}

TEST(ScheduleTest, PriorityScheduleRatioEvery) {
  EXPECT_EQ(patternOf(R"({"embed_dim": 8, "schedule": ["gru", "attn", "rwkv"],
                          "ratio": [1, 1], "attention_every": 1,
                          "num_layers": 9})"),
            "GAR");
  EXPECT_EQ(patternOf(R"({"embed_dim": 8, "ratio": [5, 1],
                          "attention_every": 2})"),
            "MMMMMA");
}

TEST(ScheduleTest, ScheduleMixesEveryBackbone) {
  ModelSpec spec = parse(R"({"embed_dim": 8, "schedule": ["attn", "mamba",
      "gru", "rwkv", "delta_net", "gated_delta_net", "griffin_lru"]})");
  EXPECT_EQ(pattern(spec), "AMGRDNL");
  EXPECT_EQ(spec.numLayers, 7);
}

TEST(ScheduleTest, Presets) {
  EXPECT_EQ(patternOf(R"({"embed_dim": 8, "preset": "jamba"})"), "MMAMMA");
  EXPECT_EQ(patternOf(R"({"embed_dim": 8, "preset": "nemotron_h"})"),
            "MMMMMMMMMA");
  EXPECT_EQ(patternOf(R"({"embed_dim": 8, "preset": "minimal_attn"})"),
            "MMMMMMMMMMMA");
  ModelSpec parallel = parse(R"({"embed_dim": 8, "preset": "parallel"})");
  EXPECT_EQ(pattern(parallel), "PPPPPP");
  EXPECT_EQ(parallel.mode, Mode::Parallel);
  for (const char *p : {"jamba", "nemotron_h", "parallel", "minimal_attn"}) {
    ModelSpec s = parse(std::string(R"({"embed_dim": 8, "preset": ")") + p +
                        "\"}");
    EXPECT_EQ(s.hiddenSize, 256) << p;
    EXPECT_EQ(s.numHeads, 4) << p;
    EXPECT_EQ(s.headDim, 64) << p;
    EXPECT_EQ(s.backbone, LayerKind::Mamba) << p;
  }
}

TEST(ScheduleTest, ExplicitKeysOverridePresets) {
  EXPECT_EQ(patternOf(R"({"embed_dim": 8, "preset": "jamba",
                          "num_layers": 9})"),
            "MMAMMAMMA");
  EXPECT_EQ(patternOf(R"({"embed_dim": 8, "preset": "nemotron_h",
                          "backbone": "gru"})"),
            "GGGGGGGGGA");
  ModelSpec s = parse(R"({"embed_dim": 8, "preset": "jamba",
                          "hidden_size": 64})");
  EXPECT_EQ(s.hiddenSize, 64);
  // --set overrides the file.
  EXPECT_EQ(pattern(parse(R"({"embed_dim": 8, "preset": "jamba"})",
                          {"attention_every=2"})),
            "MAMAMA");
}

TEST(SpecTest, Defaults) {
  ModelSpec s = parse(R"({"embed_dim": 8})");
  EXPECT_EQ(s.hiddenSize, 256);
  EXPECT_EQ(s.numLayers, 6);
  EXPECT_EQ(s.stateSize, 16);
  EXPECT_EQ(s.expandFactor, 2);
  EXPECT_EQ(s.convSize, 4);
  EXPECT_EQ(s.numHeads, 4);
  EXPECT_EQ(s.numKvHeads, 4);
  EXPECT_EQ(s.headDim, 64);
  EXPECT_EQ(s.windowSize, 60);
  EXPECT_TRUE(s.useSlidingWindow);
  EXPECT_TRUE(s.qkLayernorm);
  EXPECT_TRUE(s.preNorm);
  EXPECT_FALSE(s.seqLen);
  EXPECT_EQ(s.output, OutputKind::LastPosition);
  EXPECT_EQ(s.attentionWindow(), std::optional<int64_t>(60));
  EXPECT_EQ(s.dtRank(), 16);
  EXPECT_EQ(s.innerSize(), 512);
  ModelSpec full = parse(R"({"embed_dim": 8, "use_sliding_window": false,
                             "num_kv_heads": 2, "seq_len": 37})");
  EXPECT_FALSE(full.attentionWindow());
  EXPECT_EQ(full.numKvHeads, 2);
  EXPECT_EQ(full.seqLen, std::optional<int64_t>(37));
}

TEST(SpecErrorTest, UnknownKeySuggestsAndPointsAtTheKey) {
  std::string e = parseError("{\n  \"embed_dim\": 8,\n  \"window\": 32\n}");
  EXPECT_NE(e.find("spec.json:3:3: error: unknown key 'window' (did you mean "
                   "\"window_size\"?)"),
            std::string::npos)
      << e;
}

TEST(SpecErrorTest, WrongTypes) {
  EXPECT_NE(parseError(R"({"embed_dim": "8"})")
                .find("key 'embed_dim': expected an integer, got string \"8\""),
            std::string::npos);
  EXPECT_NE(parseError(R"({"embed_dim": 8, "pre_norm": "yes"})")
                .find("key 'pre_norm': expected true or false"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"embed_dim": 8, "schedule": "mamba"})")
                .find("key 'schedule': expected a list of layer names"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"embed_dim": 8, "ratio": [1, 2, 3]})")
                .find("key 'ratio': expected [backbone, attention]"),
            std::string::npos);
}

TEST(SpecErrorTest, OutOfRange) {
  EXPECT_NE(parseError(R"({"embed_dim": 0})")
                .find("key 'embed_dim': expected an integer >= 1, got number 0"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"embed_dim": 8, "ratio": [0, 1]})")
                .find("the backbone count must be an integer >= 1, got number 0"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"embed_dim": 8, "schedule": []})")
                .find("the schedule is empty"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"embed_dim": 8, "backbone": "delta_net",
                            "hidden_size": 30})")
                .find("4 heads do not divide hidden_size 30, but the "
                      "delta_net backbone"),
            std::string::npos);
  // Attention alone projects to num_heads * head_dim: any hidden size works.
  EXPECT_EQ(pattern(parse(R"({"embed_dim": 8, "hidden_size": 30,
                             "schedule": ["attn", "mamba", "gru"]})")),
            "AMG");
}

TEST(SpecErrorTest, UnknownNamesSuggest) {
  std::string e = parseError(R"({"embed_dim": 8, "schedule": ["mamba", "atn"]})");
  EXPECT_NE(e.find("spec.json:1:40: error: key 'schedule': entry 1 must be "
                   "one of"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("(did you mean \"attn\"?)"), std::string::npos) << e;
  EXPECT_NE(parseError(R"({"embed_dim": 8, "mode": "paralel"})")
                .find("did you mean \"parallel\""),
            std::string::npos);
  // "parallel" is a mode, not a backbone.
  EXPECT_NE(parseError(R"({"embed_dim": 8, "backbone": "parallel"})")
                .find("the backbone must be one of"),
            std::string::npos);
}

TEST(SpecErrorTest, EveryErrorIsReported) {
  std::string e = parseError(
      R"({"embed_dim": 8, "num_layer": 2, "num_heads": 0, "mode": "x"})");
  EXPECT_NE(e.find("unknown key 'num_layer'"), std::string::npos) << e;
  EXPECT_NE(e.find("key 'num_heads'"), std::string::npos) << e;
  EXPECT_NE(e.find("key 'mode'"), std::string::npos) << e;
}

TEST(SpecErrorTest, ConflictsRejectOrNote) {
  EXPECT_NE(parseError(R"({"embed_dim": 8, "mode": "parallel",
                           "attention_every": 2})")
                .find("key 'attention_every' conflicts with \"mode\": "
                      "\"parallel\""),
            std::string::npos);
  // A preset's own scheduling keys do not conflict with its mode.
  EXPECT_EQ(pattern(parse(R"({"embed_dim": 8, "preset": "nemotron_h",
                             "mode": "parallel"})")),
            "PPPPPPPPPP");
  SpecSources sources;
  sources.jsonText = R"({"embed_dim": 8, "ratio": [1, 1], "attention_every": 2})";
  std::vector<SpecDiagnostic> notes;
  ASSERT_TRUE(static_cast<bool>(parseModelSpec(sources, &notes)));
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].message.find("'attention_every' is ignored: 'ratio' "
                                  "takes priority"),
            std::string::npos);
}

TEST(SpecErrorTest, InvalidJsonHasItsPosition) {
  EXPECT_NE(parseError("{\n  \"embed_dim\": 8,,\n}").find("spec.json:2:18: "
                                                           "error: invalid "
                                                           "JSON"),
            std::string::npos);
  EXPECT_NE(parseError("[]").find("a model spec must be a JSON object"),
            std::string::npos);
  EXPECT_NE(parseError("{}").find("missing required key 'embed_dim'"),
            std::string::npos);
}

TEST(SpecErrorTest, SetOverridesAreCheckedToo) {
  EXPECT_NE(parseError(R"({"embed_dim": 8})", {"num_heads=zero"})
                .find("--set num_heads=zero: error: key 'num_heads': expected "
                      "an integer, got string \"zero\""),
            std::string::npos);
  EXPECT_NE(parseError(R"({"embed_dim": 8})", {"=3"})
                .find("expected key=value"),
            std::string::npos);
}

} // namespace
