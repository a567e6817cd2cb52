// Round trip of every hybrid op, in the custom form and in the generic form.
// RUN: hybrid-opt %s | hybrid-opt | FileCheck %s
// RUN: hybrid-opt %s --mlir-print-op-generic | hybrid-opt | FileCheck %s
// RUN: hybrid-opt %s --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// CHECK-LABEL: func.func @ssm_scan_full
// CHECK: hybrid.ssm_scan u(%{{.*}} : tensor<2x?x24xf32>) delta(%{{.*}} : tensor<2x?x24xf32>) A(%{{.*}} : tensor<24x16xf32>) B(%{{.*}} : tensor<2x?x1x16xf32>) C(%{{.*}} : tensor<2x?x1x16xf32>) D(%{{.*}} : tensor<24xf32>) z(%{{.*}} : tensor<2x?x24xf32>) delta_bias(%{{.*}} : tensor<24xf32>) init(%{{.*}} : tensor<2x24x16xf32>) delta_softplus outs(%{{.*}} : tensor<2x?x24xf32>) -> tensor<2x?x24xf32>, tensor<2x24x16xf32>
// GENERIC-LABEL: sym_name = "ssm_scan_full"
// GENERIC: "hybrid.ssm_scan"({{.*}}) <{delta_softplus, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1>}>
func.func @ssm_scan_full(%u: tensor<2x?x24xf32>, %dt: tensor<2x?x24xf32>,
    %A: tensor<24x16xf32>, %B: tensor<2x?x1x16xf32>, %C: tensor<2x?x1x16xf32>,
    %D: tensor<24xf32>, %z: tensor<2x?x24xf32>, %db: tensor<24xf32>,
    %h0: tensor<2x24x16xf32>, %y_out: tensor<2x?x24xf32>) -> (tensor<2x?x24xf32>, tensor<2x24x16xf32>) {
  %y, %h = hybrid.ssm_scan u(%u : tensor<2x?x24xf32>)
      delta(%dt : tensor<2x?x24xf32>) A(%A : tensor<24x16xf32>)
      B(%B : tensor<2x?x1x16xf32>) C(%C : tensor<2x?x1x16xf32>)
      D(%D : tensor<24xf32>) z(%z : tensor<2x?x24xf32>)
      delta_bias(%db : tensor<24xf32>) init(%h0 : tensor<2x24x16xf32>)
      delta_softplus outs(%y_out : tensor<2x?x24xf32>) -> tensor<2x?x24xf32>, tensor<2x24x16xf32>
  return %y, %h : tensor<2x?x24xf32>, tensor<2x24x16xf32>
}

// Minimal form, grouped B/C, bf16 activations with f32 parameters, all
// dimensions dynamic.
// CHECK-LABEL: func.func @ssm_scan_minimal
// CHECK: hybrid.ssm_scan u(%{{.*}} : tensor<?x?x?xbf16>) delta(%{{.*}} : tensor<?x?x?xbf16>) A(%{{.*}} : tensor<?x?xf32>) B(%{{.*}} : tensor<?x?x4x?xbf16>) C(%{{.*}} : tensor<?x?x4x?xbf16>) init(%{{.*}} : tensor<?x?x?xf32>) outs(%{{.*}} : tensor<?x?x?xbf16>) -> tensor<?x?x?xbf16>, tensor<?x?x?xf32>
// CHECK-NOT: delta_softplus
func.func @ssm_scan_minimal(%u: tensor<?x?x?xbf16>, %A: tensor<?x?xf32>,
    %B: tensor<?x?x4x?xbf16>, %h_init: tensor<?x?x?xf32>, %y_out: tensor<?x?x?xbf16>) -> tensor<?x?x?xbf16> {
  %y, %h = hybrid.ssm_scan u(%u : tensor<?x?x?xbf16>) delta(%u : tensor<?x?x?xbf16>)
      A(%A : tensor<?x?xf32>) B(%B : tensor<?x?x4x?xbf16>) C(%B : tensor<?x?x4x?xbf16>) init(%h_init : tensor<?x?x?xf32>) outs(%y_out : tensor<?x?x?xbf16>)
      -> tensor<?x?x?xbf16>, tensor<?x?x?xf32>
  return %y : tensor<?x?x?xbf16>
}

// CHECK-LABEL: func.func @wkv6
// CHECK: hybrid.wkv rwkv6 r(%{{.*}} : tensor<1x?x4x64xf32>) k(%{{.*}} : tensor<1x?x4x64xf32>) v(%{{.*}} : tensor<1x?x4x32xf32>) log_decay(%{{.*}} : tensor<1x?x4x64xf32>) bonus(%{{.*}} : tensor<4x64xf32>) init(%{{.*}} : tensor<1x4x32x64xf32>) outs(%{{.*}} : tensor<1x?x4x32xf32>) -> tensor<1x?x4x32xf32>, tensor<1x4x32x64xf32>
// GENERIC-LABEL: sym_name = "wkv6"
// GENERIC: "hybrid.wkv"({{.*}}) <{operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 0, 0, 1, 1>, scale = 1.000000e+00 : f32, variant = #hybrid<wkv_variant rwkv6>}>
func.func @wkv6(%r: tensor<1x?x4x64xf32>, %v: tensor<1x?x4x32xf32>,
    %u: tensor<4x64xf32>, %s0: tensor<1x4x32x64xf32>, %o_out: tensor<1x?x4x32xf32>) -> tensor<1x?x4x32xf32> {
  %o, %s = hybrid.wkv rwkv6 r(%r : tensor<1x?x4x64xf32>) k(%r : tensor<1x?x4x64xf32>)
      v(%v : tensor<1x?x4x32xf32>) log_decay(%r : tensor<1x?x4x64xf32>)
      bonus(%u : tensor<4x64xf32>) init(%s0 : tensor<1x4x32x64xf32>) outs(%o_out : tensor<1x?x4x32xf32>)
      -> tensor<1x?x4x32xf32>, tensor<1x4x32x64xf32>
  return %o : tensor<1x?x4x32xf32>
}

// CHECK-LABEL: func.func @wkv7
// CHECK: hybrid.wkv rwkv7 r(%{{.*}} : tensor<2x5x2x8xf16>) k(%{{.*}} : tensor<2x5x2x8xf16>) v(%{{.*}} : tensor<2x5x2x8xf16>) log_decay(%{{.*}} : tensor<2x5x2x8xf16>) a(%{{.*}} : tensor<2x5x2x8xf16>) b(%{{.*}} : tensor<2x5x2x8xf16>) init(%{{.*}} : tensor<2x2x8x8xf32>) scale 5.000000e-01 outs(%{{.*}} : tensor<2x5x2x8xf16>) -> tensor<2x5x2x8xf16>, tensor<2x2x8x8xf32>
func.func @wkv7(%x: tensor<2x5x2x8xf16>, %s_init: tensor<2x2x8x8xf32>, %o_out: tensor<2x5x2x8xf16>) -> tensor<2x5x2x8xf16> {
  %o, %s = hybrid.wkv rwkv7 r(%x : tensor<2x5x2x8xf16>) k(%x : tensor<2x5x2x8xf16>)
      v(%x : tensor<2x5x2x8xf16>) log_decay(%x : tensor<2x5x2x8xf16>)
      a(%x : tensor<2x5x2x8xf16>) b(%x : tensor<2x5x2x8xf16>) init(%s_init : tensor<2x2x8x8xf32>) scale 0.5 outs(%o_out : tensor<2x5x2x8xf16>)
      -> tensor<2x5x2x8xf16>, tensor<2x2x8x8xf32>
  return %o : tensor<2x5x2x8xf16>
}

// CHECK-LABEL: func.func @delta_rule
// CHECK: hybrid.delta_rule q(%{{.*}} : tensor<2x?x4x16xf32>) k(%{{.*}} : tensor<2x?x4x16xf32>) v(%{{.*}} : tensor<2x?x4x32xf32>) beta(%{{.*}} : tensor<2x?x4xf32>) init(%{{.*}} : tensor<2x4x32x16xf32>) outs(%{{.*}} : tensor<2x?x4x32xf32>) -> tensor<2x?x4x32xf32>, tensor<2x4x32x16xf32>
func.func @delta_rule(%q: tensor<2x?x4x16xf32>, %v: tensor<2x?x4x32xf32>,
    %beta: tensor<2x?x4xf32>, %s_init: tensor<2x4x32x16xf32>, %o_out: tensor<2x?x4x32xf32>) -> tensor<2x?x4x32xf32> {
  %o, %s = hybrid.delta_rule q(%q : tensor<2x?x4x16xf32>) k(%q : tensor<2x?x4x16xf32>)
      v(%v : tensor<2x?x4x32xf32>) beta(%beta : tensor<2x?x4xf32>) init(%s_init : tensor<2x4x32x16xf32>) outs(%o_out : tensor<2x?x4x32xf32>)
      -> tensor<2x?x4x32xf32>, tensor<2x4x32x16xf32>
  return %o : tensor<2x?x4x32xf32>
}

// Gated, per-value-channel beta, grouped value heads (8 value heads over 2
// q/k heads), an initial state and an explicit scale.
// CHECK-LABEL: func.func @gated_delta_rule
// CHECK: hybrid.delta_rule q(%{{.*}} : tensor<1x7x2x16xf32>) k(%{{.*}} : tensor<1x7x2x16xf32>) v(%{{.*}} : tensor<1x7x8x32xf32>) beta(%{{.*}} : tensor<1x7x8x32xf32>) log_decay(%{{.*}} : tensor<1x7x8xf32>) init(%{{.*}} : tensor<1x8x32x16xf32>) scale 2.500000e-01 outs(%{{.*}} : tensor<1x7x8x32xf32>) -> tensor<1x7x8x32xf32>, tensor<1x8x32x16xf32>
// GENERIC-LABEL: sym_name = "gated_delta_rule"
// CHECK: hybrid.delta_rule {{.*}} log_decay(%{{.*}} : tensor<1x7x8xf32>) decay_a_log(%{{.*}} : tensor<8xf32>) decay_bias(%{{.*}} : tensor<8xf32>) init(%{{.*}} : tensor<1x8x32x16xf32>) scale 2.500000e-01 beta_sigmoid outs(%{{.*}} : tensor<1x7x8x32xf32>) -> tensor<1x7x8x32xf32>, tensor<1x8x32x16xf32>
// GENERIC: "hybrid.delta_rule"({{.*}}) <{operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 0, 0, 1, 1>, scale = 2.500000e-01 : f32}>
func.func @gated_delta_rule(%q: tensor<1x7x2x16xf32>, %v: tensor<1x7x8x32xf32>,
    %g: tensor<1x7x8xf32>, %s0: tensor<1x8x32x16xf32>, %o_out: tensor<1x7x8x32xf32>, %s2_init: tensor<1x8x32x16xf32>, %o2_out: tensor<1x7x8x32xf32>) -> tensor<1x8x32x16xf32> {
  %o, %s = hybrid.delta_rule q(%q : tensor<1x7x2x16xf32>) k(%q : tensor<1x7x2x16xf32>)
      v(%v : tensor<1x7x8x32xf32>) beta(%v : tensor<1x7x8x32xf32>)
      log_decay(%g : tensor<1x7x8xf32>) init(%s0 : tensor<1x8x32x16xf32>)
      scale 0.25 outs(%o_out : tensor<1x7x8x32xf32>) -> tensor<1x7x8x32xf32>, tensor<1x8x32x16xf32>
  // Beta's sigmoid and the decay activation applied by the op (keywords in
  // any order).
  %A = tensor.empty() : tensor<8xf32>
  %o2, %s2 = hybrid.delta_rule q(%q : tensor<1x7x2x16xf32>) k(%q : tensor<1x7x2x16xf32>)
      v(%v : tensor<1x7x8x32xf32>) beta(%v : tensor<1x7x8x32xf32>)
      log_decay(%g : tensor<1x7x8xf32>) decay_a_log(%A : tensor<8xf32>) decay_bias(%A : tensor<8xf32>) init(%s2_init : tensor<1x8x32x16xf32>)
      beta_sigmoid scale 0.25 outs(%o2_out : tensor<1x7x8x32xf32>) -> tensor<1x7x8x32xf32>, tensor<1x8x32x16xf32>
  return %s : tensor<1x8x32x16xf32>
}

// CHECK-LABEL: func.func @rg_lru
// CHECK: hybrid.rg_lru x(%{{.*}} : tensor<3x?x10xf32>) gate_x(%{{.*}} : tensor<3x?x10xf32>) gate_a(%{{.*}} : tensor<3x?x10xf32>) a_param(%{{.*}} : tensor<10xf32>) reset(%{{.*}} : tensor<3x?xi1>) init(%{{.*}} : tensor<3x10xf32>) outs(%{{.*}} : tensor<3x?x10xf32>) -> tensor<3x?x10xf32>, tensor<3x10xf32>
// CHECK: hybrid.rg_lru {{.*}} c 4.000000e+00 outs(%{{.*}} : tensor<3x?x10xf32>) -> tensor<3x?x10xf32>, tensor<3x10xf32>
// CHECK: hybrid.rg_lru x(%{{.*}} : tensor<3x?x10xf32>) log_a(%{{.*}} : tensor<3x?x10xf32>) init(%{{.*}} : tensor<3x10xf32>) outs(%{{.*}} : tensor<3x?x10xf32>) -> tensor<3x?x10xf32>, tensor<3x10xf32>
// GENERIC-LABEL: sym_name = "rg_lru"
// GENERIC: "hybrid.rg_lru"({{.*}}) <{c = 8.000000e+00 : f32, operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 1, 0, 1, 1>}>
func.func @rg_lru(%x: tensor<3x?x10xf32>, %l: tensor<10xf32>, %reset: tensor<3x?xi1>,
    %h0: tensor<3x10xf32>, %h_out: tensor<3x?x10xf32>, %s2_init: tensor<3x10xf32>, %h2_out: tensor<3x?x10xf32>, %h3_out: tensor<3x?x10xf32>) -> tensor<3x10xf32> {
  %h, %s = hybrid.rg_lru x(%x : tensor<3x?x10xf32>) gate_x(%x : tensor<3x?x10xf32>)
      gate_a(%x : tensor<3x?x10xf32>) a_param(%l : tensor<10xf32>)
      reset(%reset : tensor<3x?xi1>) init(%h0 : tensor<3x10xf32>) outs(%h_out : tensor<3x?x10xf32>)
      -> tensor<3x?x10xf32>, tensor<3x10xf32>
  %h2, %s2 = hybrid.rg_lru x(%x : tensor<3x?x10xf32>) gate_x(%x : tensor<3x?x10xf32>)
      gate_a(%x : tensor<3x?x10xf32>) a_param(%l : tensor<10xf32>) init(%s2_init : tensor<3x10xf32>) c 4.0 outs(%h2_out : tensor<3x?x10xf32>)
      -> tensor<3x?x10xf32>, tensor<3x10xf32>
  // The core form: x already gated, log_a given.
  %h3, %s3 = hybrid.rg_lru x(%x : tensor<3x?x10xf32>) log_a(%x : tensor<3x?x10xf32>) init(%h0 : tensor<3x10xf32>) outs(%h3_out : tensor<3x?x10xf32>)
      -> tensor<3x?x10xf32>, tensor<3x10xf32>
  return %s2 : tensor<3x10xf32>
}

// CHECK-LABEL: func.func @gru
// CHECK: hybrid.gru input_gates(%{{.*}} : tensor<2x?x48xf32>) hidden_weight(%{{.*}} : tensor<16x48xf32>) hidden_bias(%{{.*}} : tensor<48xf32>) init(%{{.*}} : tensor<2x16xf32>) outs(%{{.*}} : tensor<2x?x16xf32>) -> tensor<2x?x16xf32>, tensor<2x16xf32>
// CHECK: hybrid.gru input_gates(%{{.*}} : tensor<2x?x48xf32>) hidden_weight(%{{.*}} : tensor<16x48xf32>) init(%{{.*}} : tensor<2x16xf32>) outs(%{{.*}} : tensor<2x?x16xf32>) -> tensor<2x?x16xf32>, tensor<2x16xf32>
func.func @gru(%xg: tensor<2x?x48xf32>, %wh: tensor<16x48xf32>, %bh: tensor<48xf32>,
    %h0: tensor<2x16xf32>, %h_out: tensor<2x?x16xf32>, %s2_init: tensor<2x16xf32>, %h2_out: tensor<2x?x16xf32>) -> tensor<2x?x16xf32> {
  %h, %s = hybrid.gru input_gates(%xg : tensor<2x?x48xf32>)
      hidden_weight(%wh : tensor<16x48xf32>) hidden_bias(%bh : tensor<48xf32>)
      init(%h0 : tensor<2x16xf32>) outs(%h_out : tensor<2x?x16xf32>) -> tensor<2x?x16xf32>, tensor<2x16xf32>
  %h2, %s2 = hybrid.gru input_gates(%xg : tensor<2x?x48xf32>)
      hidden_weight(%wh : tensor<16x48xf32>) init(%s2_init : tensor<2x16xf32>) outs(%h2_out : tensor<2x?x16xf32>) -> tensor<2x?x16xf32>, tensor<2x16xf32>
  return %h2 : tensor<2x?x16xf32>
}

// CHECK-LABEL: func.func @lengths
// CHECK: hybrid.gru input_gates(%{{.*}} : tensor<?x?x48xf32>) hidden_weight(%{{.*}} : tensor<16x48xf32>) init(%{{.*}} : tensor<?x16xf32>) lengths(%{{.*}} : tensor<?xi64>) outs(%{{.*}} : tensor<?x?x16xf32>) -> tensor<?x?x16xf32>, tensor<?x16xf32>
// CHECK: hybrid.causal_conv1d x(%{{.*}} : tensor<?x?x16xf32>) weight(%{{.*}} : tensor<4x16xf32>) init(%{{.*}} : tensor<?x3x16xf32>) lengths(%{{.*}} : tensor<?xi64>) activation silu
// GENERIC-LABEL: sym_name = "lengths"
// GENERIC: "hybrid.gru"({{.*}}) <{operandSegmentSizes = array<i32: 1, 1, 0, 1, 1, 1>}>
func.func @lengths(%xg: tensor<?x?x48xf32>, %wh: tensor<16x48xf32>, %w: tensor<4x16xf32>,
    %tail: tensor<?x3x16xf32>, %n: tensor<?xi64>, %s_init: tensor<?x16xf32>, %h_out: tensor<?x?x16xf32>, %y_out: tensor<?x?x16xf32>) -> tensor<?x?x16xf32> {
  %h, %s = hybrid.gru input_gates(%xg : tensor<?x?x48xf32>)
      hidden_weight(%wh : tensor<16x48xf32>) init(%s_init : tensor<?x16xf32>) lengths(%n : tensor<?xi64>) outs(%h_out : tensor<?x?x16xf32>)
      -> tensor<?x?x16xf32>, tensor<?x16xf32>
  %y, %t = hybrid.causal_conv1d x(%h : tensor<?x?x16xf32>) weight(%w : tensor<4x16xf32>)
      init(%tail : tensor<?x3x16xf32>) lengths(%n : tensor<?xi64>) activation silu outs(%y_out : tensor<?x?x16xf32>)
      -> tensor<?x?x16xf32>, tensor<?x3x16xf32>
  return %y : tensor<?x?x16xf32>
}

// CHECK-LABEL: func.func @causal_conv1d
// CHECK: hybrid.causal_conv1d x(%{{.*}} : tensor<1x?x64xf32>) weight(%{{.*}} : tensor<4x64xf32>) bias(%{{.*}} : tensor<64xf32>) init(%{{.*}} : tensor<1x3x64xf32>) activation silu outs(%{{.*}} : tensor<1x?x64xf32>) -> tensor<1x?x64xf32>, tensor<1x3x64xf32>
// CHECK: hybrid.causal_conv1d x(%{{.*}} : tensor<1x?x64xf32>) weight(%{{.*}} : tensor<4x64xf32>) init(%{{.*}} : tensor<1x3x64xf32>) outs(%{{.*}} : tensor<1x?x64xf32>) -> tensor<1x?x64xf32>, tensor<1x3x64xf32>
// GENERIC-LABEL: sym_name = "causal_conv1d"
// GENERIC: "hybrid.causal_conv1d"({{.*}}) <{activation = #hybrid<activation silu>, operandSegmentSizes = array<i32: 1, 1, 1, 0, 1, 1>}>
func.func @causal_conv1d(%x: tensor<1x?x64xf32>, %w: tensor<4x64xf32>,
    %b: tensor<64xf32>, %tail: tensor<1x3x64xf32>, %y_out: tensor<1x?x64xf32>, %t2_init: tensor<1x3x64xf32>, %y2_out: tensor<1x?x64xf32>) -> tensor<1x?x64xf32> {
  %y, %t = hybrid.causal_conv1d x(%x : tensor<1x?x64xf32>) weight(%w : tensor<4x64xf32>)
      bias(%b : tensor<64xf32>) init(%tail : tensor<1x3x64xf32>) activation silu outs(%y_out : tensor<1x?x64xf32>)
      -> tensor<1x?x64xf32>, tensor<1x3x64xf32>
  %y2, %t2 = hybrid.causal_conv1d x(%y : tensor<1x?x64xf32>) weight(%w : tensor<4x64xf32>) init(%t2_init : tensor<1x3x64xf32>)
      activation none outs(%y2_out : tensor<1x?x64xf32>) -> tensor<1x?x64xf32>, tensor<1x3x64xf32>
  return %y2 : tensor<1x?x64xf32>
}

// A width-1 convolution carries an empty tail.
// CHECK-LABEL: func.func @causal_conv1d_width1
// CHECK: -> tensor<2x9x5xf32>, tensor<2x0x5xf32>
func.func @causal_conv1d_width1(%x: tensor<2x9x5xf32>, %w: tensor<1x5xf32>, %t_init: tensor<2x0x5xf32>, %y_out: tensor<2x9x5xf32>) -> tensor<2x9x5xf32> {
  %y, %t = hybrid.causal_conv1d x(%x : tensor<2x9x5xf32>) weight(%w : tensor<1x5xf32>) init(%t_init : tensor<2x0x5xf32>) outs(%y_out : tensor<2x9x5xf32>)
      -> tensor<2x9x5xf32>, tensor<2x0x5xf32>
  return %y : tensor<2x9x5xf32>
}

// CHECK-LABEL: func.func @windowed_attention
// CHECK: hybrid.windowed_attention q(%{{.*}} : tensor<1x?x8x64xf32>) k(%{{.*}} : tensor<1x?x2x64xf32>) v(%{{.*}} : tensor<1x?x2x32xf32>) window 512 qk_norm outs(%{{.*}} : tensor<1x?x8x32xf32>) -> tensor<1x?x8x32xf32>
// CHECK: hybrid.windowed_attention q(%{{.*}} : tensor<1x?x8x64xf32>) k(%{{.*}} : tensor<1x?x2x64xf32>) v(%{{.*}} : tensor<1x?x2x32xf32>) scale 1.250000e-01 outs(%{{.*}} : tensor<1x?x8x32xf32>) -> tensor<1x?x8x32xf32>
// GENERIC-LABEL: sym_name = "windowed_attention"
// GENERIC: "hybrid.windowed_attention"({{.*}}) <{qk_norm, window = 512 : i64}>
func.func @windowed_attention(%q: tensor<1x?x8x64xf32>, %k: tensor<1x?x2x64xf32>,
    %v: tensor<1x?x2x32xf32>, %o_out: tensor<1x?x8x32xf32>, %o2_out: tensor<1x?x8x32xf32>) -> tensor<1x?x8x32xf32> {
  %o = hybrid.windowed_attention q(%q : tensor<1x?x8x64xf32>) k(%k : tensor<1x?x2x64xf32>)
      v(%v : tensor<1x?x2x32xf32>) qk_norm window 512 outs(%o_out : tensor<1x?x8x32xf32>) -> tensor<1x?x8x32xf32>
  %o2 = hybrid.windowed_attention q(%q : tensor<1x?x8x64xf32>) k(%k : tensor<1x?x2x64xf32>)
      v(%v : tensor<1x?x2x32xf32>) scale 0.125 outs(%o2_out : tensor<1x?x8x32xf32>) -> tensor<1x?x8x32xf32>
  return %o2 : tensor<1x?x8x32xf32>
}

// Queries over a longer key sequence (a cached prefix of 12 keys).
// CHECK-LABEL: func.func @windowed_attention_prefix
// CHECK: hybrid.windowed_attention q(%{{.*}} : tensor<2x4x4x16xf32>) k(%{{.*}} : tensor<2x16x4x16xf32>) v(%{{.*}} : tensor<2x16x4x16xf32>) window 8 outs(%{{.*}} : tensor<2x4x4x16xf32>) -> tensor<2x4x4x16xf32>
func.func @windowed_attention_prefix(%q: tensor<2x4x4x16xf32>, %kv: tensor<2x16x4x16xf32>, %o_out: tensor<2x4x4x16xf32>) -> tensor<2x4x4x16xf32> {
  %o = hybrid.windowed_attention q(%q : tensor<2x4x4x16xf32>) k(%kv : tensor<2x16x4x16xf32>)
      v(%kv : tensor<2x16x4x16xf32>) window 8 outs(%o_out : tensor<2x4x4x16xf32>) -> tensor<2x4x4x16xf32>
  return %o : tensor<2x4x4x16xf32>
}

// A key mask (a partly filled cache, padded sequences).
// CHECK-LABEL: func.func @windowed_attention_mask
// CHECK: hybrid.windowed_attention q(%{{.*}} : tensor<2x4x4x16xf32>) k(%{{.*}} : tensor<2x16x4x16xf32>) v(%{{.*}} : tensor<2x16x4x16xf32>) key_mask(%{{.*}} : tensor<2x16xi1>) window 8 outs(%{{.*}} : tensor<2x4x4x16xf32>) -> tensor<2x4x4x16xf32>
func.func @windowed_attention_mask(%q: tensor<2x4x4x16xf32>, %kv: tensor<2x16x4x16xf32>, %m: tensor<2x16xi1>, %o_out: tensor<2x4x4x16xf32>) -> tensor<2x4x4x16xf32> {
  %o = hybrid.windowed_attention q(%q : tensor<2x4x4x16xf32>) k(%kv : tensor<2x16x4x16xf32>)
      v(%kv : tensor<2x16x4x16xf32>) key_mask(%m : tensor<2x16xi1>) window 8 outs(%o_out : tensor<2x4x4x16xf32>) -> tensor<2x4x4x16xf32>
  return %o : tensor<2x4x4x16xf32>
}

// CHECK-LABEL: func.func @layer_and_rms_norm
// CHECK: hybrid.layer_norm %{{.*}} weight(%{{.*}} : tensor<64xf32>) bias(%{{.*}} : tensor<64xf32>) outs(%{{.*}} : tensor<2x?x64xf32>) : tensor<2x?x64xf32> -> tensor<2x?x64xf32>
// CHECK: hybrid.layer_norm %{{.*}} epsilon 9.99999997E-7 outs(%{{.*}} : tensor<2x?x64xf32>) : tensor<2x?x64xf32> -> tensor<2x?x64xf32>
// CHECK: hybrid.rms_norm %{{.*}} weight(%{{.*}} : tensor<64xf32>) outs(%{{.*}} : tensor<2x?x64xf32>) : tensor<2x?x64xf32> -> tensor<2x?x64xf32>
// CHECK: hybrid.rms_norm %{{.*}} outs(%{{.*}} : tensor<64xbf16>) : tensor<64xbf16> -> tensor<64xbf16>
// GENERIC-LABEL: sym_name = "layer_and_rms_norm"
// GENERIC: "hybrid.layer_norm"({{.*}}) <{epsilon = 9.99999974E-6 : f32, operandSegmentSizes = array<i32: 1, 1, 1, 1>}>
func.func @layer_and_rms_norm(%x: tensor<2x?x64xf32>, %g: tensor<64xf32>, %b: tensor<64xf32>,
    %y: tensor<64xbf16>, %r0_out: tensor<2x?x64xf32>, %r1_out: tensor<2x?x64xf32>, %r2_out: tensor<2x?x64xf32>, %r3_out: tensor<64xbf16>) -> tensor<64xbf16> {
  %0 = hybrid.layer_norm %x weight(%g : tensor<64xf32>) bias(%b : tensor<64xf32>) outs(%r0_out : tensor<2x?x64xf32>)
      : tensor<2x?x64xf32> -> tensor<2x?x64xf32>
  %1 = hybrid.layer_norm %0 epsilon 1.0e-6 outs(%r1_out : tensor<2x?x64xf32>) : tensor<2x?x64xf32> -> tensor<2x?x64xf32>
  %2 = hybrid.rms_norm %1 weight(%g : tensor<64xf32>) outs(%r2_out : tensor<2x?x64xf32>) : tensor<2x?x64xf32> -> tensor<2x?x64xf32>
  %3 = hybrid.rms_norm %y outs(%r3_out : tensor<64xbf16>) : tensor<64xbf16> -> tensor<64xbf16>
  return %3 : tensor<64xbf16>
}

// A Hymba-style block whose backbone branch returns its final state too.
// CHECK-LABEL: func.func @gated_parallel
// CHECK: %{{.*}}:2 = hybrid.gated_parallel(%{{.*}}, %{{.*}}) : (tensor<1x?x16xf32>, tensor<1x?x16xf32>) -> (tensor<1x?x16xf32>, tensor<1x16xf32>) backbone {
// CHECK: ^bb0(%[[X:.*]]: tensor<1x?x16xf32>):
// CHECK: hybrid.gru
// CHECK: hybrid.yield %{{.*}}, %{{.*}} : tensor<1x?x16xf32>, tensor<1x16xf32>
// CHECK: } attention {
// CHECK: hybrid.windowed_attention
// CHECK: hybrid.yield %{{.*}} : tensor<1x?x16xf32>
// GENERIC-LABEL: sym_name = "gated_parallel"
// GENERIC: "hybrid.gated_parallel"(%{{.*}}, %{{.*}}) ({
// GENERIC: "hybrid.yield"
func.func @gated_parallel(%n: tensor<1x?x16xf32>, %g: tensor<1x?x16xf32>,
    %xg: tensor<1x?x48xf32>, %wh: tensor<16x48xf32>, %s_init: tensor<1x16xf32>, %h_out: tensor<1x?x16xf32>, %o_out: tensor<1x?x2x8xf32>)
    -> (tensor<1x?x16xf32>, tensor<1x16xf32>) {
  %out, %state = hybrid.gated_parallel(%n, %g)
      : (tensor<1x?x16xf32>, tensor<1x?x16xf32>) -> (tensor<1x?x16xf32>, tensor<1x16xf32>)
    backbone {
    ^bb0(%x: tensor<1x?x16xf32>):
      %h, %s = hybrid.gru input_gates(%xg : tensor<1x?x48xf32>)
          hidden_weight(%wh : tensor<16x48xf32>) init(%s_init : tensor<1x16xf32>) outs(%h_out : tensor<1x?x16xf32>) -> tensor<1x?x16xf32>, tensor<1x16xf32>
      hybrid.yield %h, %s : tensor<1x?x16xf32>, tensor<1x16xf32>
    } attention {
    ^bb0(%x: tensor<1x?x16xf32>):
      %c0 = arith.constant 0 : index
      %t = tensor.dim %x, %c0 : tensor<1x?x16xf32>
      %q = tensor.expand_shape %x [[0], [1], [2, 3]] output_shape [1, %t, 2, 8]
          : tensor<1x?x16xf32> into tensor<1x?x2x8xf32>
      %o = hybrid.windowed_attention q(%q : tensor<1x?x2x8xf32>) k(%q : tensor<1x?x2x8xf32>)
          v(%q : tensor<1x?x2x8xf32>) window 4 outs(%o_out : tensor<1x?x2x8xf32>) -> tensor<1x?x2x8xf32>
      %a = tensor.collapse_shape %o [[0], [1], [2, 3]] : tensor<1x?x2x8xf32> into tensor<1x?x16xf32>
      hybrid.yield %a : tensor<1x?x16xf32>
    }
  return %out, %state : tensor<1x?x16xf32>, tensor<1x16xf32>
}

// The memref form (what one-shot bufferization makes of the tensor form):
// the same ops on buffers, strided views included, with no results.
// CHECK-LABEL: func.func @memref_form
// CHECK: hybrid.ssm_scan u(%{{.*}} : memref<2x?x8xf32>) delta(%{{.*}} : memref<2x?x8xf32>) A(%{{.*}} : memref<8x4xf32>) B(%{{.*}} : memref<2x?x4xf32>) C(%{{.*}} : memref<2x?x4xf32>) init(%[[H:.*]] : memref<2x8x4xf32>) lengths(%{{.*}} : memref<2xi32>) delta_softplus outs(%{{.*}} : memref<2x?x8xf32>){{$}}
// CHECK: hybrid.delta_rule q(%{{.*}} : memref<1x?x2x4xf32, strided<[?, ?, ?, 1], offset: ?>>) {{.*}} init(%{{.*}} : memref<1x2x4x4xf32>) outs(%{{.*}} : memref<1x?x2x4xf32>){{$}}
// CHECK: hybrid.rms_norm %{{.*}} weight(%{{.*}} : memref<8xf32>) epsilon 9.99999997E-7 outs(%{{.*}} : memref<2x?x8xf32>) : memref<2x?x8xf32>{{$}}
// GENERIC-LABEL: sym_name = "memref_form"
// GENERIC: "hybrid.ssm_scan"({{.*}}) <{delta_softplus, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1>}> : (memref<2x?x8xf32>, {{.*}}) -> (){{$}}
func.func @memref_form(%u: memref<2x?x8xf32>, %A: memref<8x4xf32>, %B: memref<2x?x4xf32>,
    %h: memref<2x8x4xf32>, %len: memref<2xi32>, %y: memref<2x?x8xf32>,
    %q: memref<1x?x2x4xf32, strided<[?, ?, ?, 1], offset: ?>>, %v: memref<1x?x2x4xf32>,
    %beta: memref<1x?x2xf32>, %s: memref<1x2x4x4xf32>, %o: memref<1x?x2x4xf32>, %w: memref<8xf32>) {
  hybrid.ssm_scan u(%u : memref<2x?x8xf32>) delta(%u : memref<2x?x8xf32>) A(%A : memref<8x4xf32>)
      B(%B : memref<2x?x4xf32>) C(%B : memref<2x?x4xf32>) init(%h : memref<2x8x4xf32>)
      lengths(%len : memref<2xi32>) delta_softplus outs(%y : memref<2x?x8xf32>)
  hybrid.delta_rule q(%q : memref<1x?x2x4xf32, strided<[?, ?, ?, 1], offset: ?>>)
      k(%q : memref<1x?x2x4xf32, strided<[?, ?, ?, 1], offset: ?>>) v(%v : memref<1x?x2x4xf32>)
      beta(%beta : memref<1x?x2xf32>) init(%s : memref<1x2x4x4xf32>) outs(%o : memref<1x?x2x4xf32>)
  hybrid.rms_norm %y weight(%w : memref<8xf32>) epsilon 1.0e-6 outs(%y : memref<2x?x8xf32>) : memref<2x?x8xf32>
  return
}
