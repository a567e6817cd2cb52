"""The seed library's builder API, with the seed's documented examples."""

import pytest

import hybrid


def test_describe_schedule_seed_example():
    # HybridBuilder.describe_schedule(num_layers: 10, ratio: {9, 1})
    assert hybrid.describe_schedule(num_layers=10, ratio=(9, 1)) == {
        "schedule": ["mamba"] * 9 + ["attn"],
        "num_backbone": 9,
        "num_attention": 1,
        "backbone_pct": 90.0,
        "mode": "interleaved",
    }


def test_resolve_schedule_seed_examples():
    assert hybrid.resolve_schedule(schedule=["mamba", "mamba", "attn"]) == \
        ["mamba", "mamba", "attn"]
    assert hybrid.resolve_schedule(num_layers=10, ratio=(9, 1),
                                   backbone="mamba") == ["mamba"] * 9 + ["attn"]
    assert hybrid.resolve_schedule(num_layers=6, attention_every=3,
                                   backbone="gru") == \
        ["gru", "gru", "attn", "gru", "gru", "attn"]
    # The seed's atoms are accepted with their colon.
    assert hybrid.resolve_schedule(schedule=[":gru", ":attn"]) == \
        ["gru", "attn"]


def test_schedule_priority_and_modes():
    # schedule > ratio > attention_every > every 4th layer
    assert hybrid.resolve_schedule(schedule=["rwkv", "attn"], ratio=(1, 1),
                                   attention_every=2) == ["rwkv", "attn"]
    assert hybrid.layer_pattern(num_layers=8) == "MMMAMMMA"
    assert hybrid.describe_schedule(num_layers=3, mode="parallel")["mode"] \
        == "parallel"
    assert hybrid.layer_pattern(num_layers=3, mode="parallel") == "PPP"


def test_presets_and_defaults():
    assert hybrid.preset("nemotron_h")["ratio"] == (9, 1)
    assert hybrid.preset(":jamba")["attention_every"] == 3
    assert hybrid.preset("parallel")["mode"] == "parallel"
    defaults = hybrid.recommended_defaults()
    assert defaults["hidden_size"] == 256 and defaults["num_layers"] == 6
    assert defaults["window_size"] == 60 and "embed_dim" not in defaults
    # HybridBuilder.build(HybridBuilder.preset(:nemotron_h) ++ [embed_dim: 256])
    opts = dict(hybrid.preset("nemotron_h"), embed_dim=256)
    assert hybrid.layer_pattern(**opts) == "MMMMMMMMMA"
    with pytest.raises(hybrid.SpecError, match="unknown preset 'mamba3'"):
        hybrid.preset("mamba3")


def test_counts_come_from_the_frontend():
    d = hybrid.describe(embed_dim=64, hidden_size=64, num_layers=4)
    assert hybrid.param_count(embed_dim=64, hidden_size=64, num_layers=4) \
        == d["param_count"] > 0
    assert hybrid.output_size(embed_dim=32, hidden_size=48) == 48
    spec = hybrid.spec(embed_dim=32, preset="jamba")
    assert spec["preset"] == "jamba" and spec["embed_dim"] == 32
