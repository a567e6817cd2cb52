"""The seed library's builder API (HybridBuilder), computed by Hybrid's C++
frontend (`hybrid-compile --describe`, `--list-presets`): one
implementation of schedules, parameter counts and presets, not a second one
in Python."""

import functools
import json

from . import _tools

__all__ = ["preset", "recommended_defaults", "resolve_schedule",
           "describe_schedule", "layer_pattern", "param_count",
           "output_size", "describe", "spec"]


def _from_json(options):
    """JSON values as the seed spells them: `ratio` a tuple."""
    out = dict(options)
    if isinstance(out.get("ratio"), list):
        out["ratio"] = tuple(out["ratio"])
    return out


@functools.lru_cache(maxsize=None)
def _presets():
    return json.loads(_tools.run(["--list-presets"]))


def preset(name):
    """The options a preset sets (`jamba`, `nemotron_h`, `parallel`,
    `minimal_attn`), as a dict to extend: `build(**preset("jamba"),
    embed_dim=256)`."""
    name = str(name).lstrip(":")
    presets = _presets()["presets"]
    if name not in presets:
        from .errors import SpecError
        raise SpecError(f"unknown preset '{name}' (one of "
                        f"{', '.join(sorted(presets))})", key="preset")
    return _from_json(presets[name])


def recommended_defaults():
    """Every option's default value (embed_dim has none: it is required)."""
    return _from_json(_presets()["defaults"])


def _summary(options):
    opts = dict(options)
    # Schedules and counts do not depend on the input width: a placeholder
    # when the caller does not give one.
    opts.setdefault("embed_dim", opts.get("hidden_size", 256))
    source, args = _tools.spec_args(opts)
    return json.loads(_tools.run(args + ["--describe", "--format=json"],
                                 source))


def describe(spec=None, **options):
    """What `hybrid-compile --describe --format=json` reports: schedule,
    layer pattern, parameters, state and KV-cache bytes, FLOPs per token.
    `spec` may be a spec file path; keyword options otherwise."""
    if spec is not None:
        source, args = _tools.spec_args(spec)
        return json.loads(_tools.run(args + ["--describe", "--format=json"],
                                     source))
    return _summary(options)


def spec(spec=None, **options):
    """The effective spec (defaults, preset, file, options), every key."""
    if spec is None:
        spec = options
    source, args = _tools.spec_args(spec)
    return _from_json(json.loads(_tools.run(args + ["--emit=spec"], source)))


def resolve_schedule(**options):
    """The layer schedule: `schedule` > `ratio` > `attention_every` >
    every 4th layer ("mamba", "attn", ...)."""
    return list(_summary(options)["schedule"])


def describe_schedule(**options):
    """{schedule, num_backbone, num_attention, backbone_pct, mode}, as the
    seed's describe_schedule."""
    s = _summary(options)
    return {"schedule": list(s["schedule"]),
            "num_backbone": s["num_backbone"],
            "num_attention": s["num_attention"],
            "backbone_pct": float(s["backbone_pct"]),
            "mode": s["mode"]}


def layer_pattern(**options):
    """One letter per layer: "MMMA..." (M mamba, A attn, G gru, R rwkv, D
    delta_net, N gated_delta_net, L griffin_lru, P parallel)."""
    return _summary(options)["layer_pattern"]


def param_count(**options):
    """The exact number of parameters (the sum of every weight tensor)."""
    return _summary(options)["param_count"]


def output_size(**options):
    """The width of the model's output: hidden_size."""
    return _summary(options)["output_size"]
