// Every verifier branch of the hybrid dialect, fed bad IR.
// RUN: hybrid-opt %s -split-input-file -verify-diagnostics

//===----------------------------------------------------------------------===//
// Shared checks (shown on ssm_scan; every op goes through the same checker)
//===----------------------------------------------------------------------===//

func.func @rank(%u: tensor<2x8xf32>, %A: tensor<24x16xf32>, %B: tensor<2x8x1x16xf32>, %h_init: tensor<2x24x16xf32>, %y_out: tensor<2x8x24xf32>) {
  // expected-error @+1 {{'hybrid.ssm_scan' op 'u' must have rank 3 [batch, seq, d_inner], got 'tensor<2x8xf32>'}}
  %y, %h = hybrid.ssm_scan u(%u : tensor<2x8xf32>) delta(%u : tensor<2x8xf32>) A(%A : tensor<24x16xf32>)
      B(%B : tensor<2x8x1x16xf32>) C(%B : tensor<2x8x1x16xf32>) init(%h_init : tensor<2x24x16xf32>) outs(%y_out : tensor<2x8x24xf32>) -> tensor<2x8x24xf32>, tensor<2x24x16xf32>
  return
}

// -----

// A static 0 leaves nothing to compute (and no pass lowers it): refused,
// on any dimension, named or not.
func.func @zero_channels(%x: tensor<2x3x0xf32>, %w: tensor<0xf32>, %y_out: tensor<2x3x0xf32>) {
  // expected-error @+1 {{'hybrid.rms_norm' op 'input' dim 2 (features) is 0: hybrid ops need non-empty static dimensions}}
  %y = hybrid.rms_norm %x weight(%w : tensor<0xf32>) outs(%y_out : tensor<2x3x0xf32>) : tensor<2x3x0xf32> -> tensor<2x3x0xf32>
  return
}

// -----

func.func @zero_leading(%x: tensor<0x3x8xf32>, %y_out: tensor<0x3x8xf32>) {
  // expected-error @+1 {{'input' dim 0 is 0: hybrid ops need non-empty static dimensions}}
  %y = hybrid.layer_norm %x outs(%y_out : tensor<0x3x8xf32>) : tensor<0x3x8xf32> -> tensor<0x3x8xf32>
  return
}

// -----

func.func @zero_batch(%x: tensor<0x5x8xf32>, %w: tensor<3x8xf32>, %l: tensor<0xi64>, %s_init: tensor<0x2x8xf32>, %y_out: tensor<0x5x8xf32>) {
  // expected-error @+1 {{'x' dim 0 (batch) is 0: hybrid ops need non-empty static dimensions}}
  %y, %s = hybrid.causal_conv1d x(%x : tensor<0x5x8xf32>) weight(%w : tensor<3x8xf32>) init(%s_init : tensor<0x2x8xf32>) lengths(%l : tensor<0xi64>) outs(%y_out : tensor<0x5x8xf32>)
      -> tensor<0x5x8xf32>, tensor<0x2x8xf32>
  return
}

// -----

func.func @zero_lengths(%x: tensor<2x5x8xf32>, %w: tensor<3x8xf32>, %l: tensor<0xi64>, %s_init: tensor<2x2x8xf32>, %y_out: tensor<2x5x8xf32>) {
  // expected-error @+1 {{'lengths' dim 0 (batch) is 0: hybrid ops need non-empty static dimensions}}
  %y, %s = hybrid.causal_conv1d x(%x : tensor<2x5x8xf32>) weight(%w : tensor<3x8xf32>) init(%s_init : tensor<2x2x8xf32>) lengths(%l : tensor<0xi64>) outs(%y_out : tensor<2x5x8xf32>)
      -> tensor<2x5x8xf32>, tensor<2x2x8xf32>
  return
}

// -----

func.func @dim_mismatch(%u: tensor<2x8x24xf32>, %A: tensor<20x16xf32>, %B: tensor<2x8x1x16xf32>, %h_init: tensor<2x24x16xf32>, %y_out: tensor<2x8x24xf32>) {
  // expected-error @+1 {{'A' dim 0 (d_inner) is 20, but 'u' dim 2 (d_inner) is 24}}
  %y, %h = hybrid.ssm_scan u(%u : tensor<2x8x24xf32>) delta(%u : tensor<2x8x24xf32>) A(%A : tensor<20x16xf32>)
      B(%B : tensor<2x8x1x16xf32>) C(%B : tensor<2x8x1x16xf32>) init(%h_init : tensor<2x24x16xf32>) outs(%y_out : tensor<2x8x24xf32>) -> tensor<2x8x24xf32>, tensor<2x24x16xf32>
  return
}

// -----

func.func @result_dim_mismatch(%u: tensor<2x8x24xf32>, %A: tensor<24x16xf32>, %B: tensor<2x8x1x16xf32>, %h_init: tensor<2x24x8xf32>, %y_out: tensor<2x8x24xf32>) {
  // expected-error @+1 {{'initial_state' dim 2 (d_state) is 8, but 'A' dim 1 (d_state) is 16}}
  %y, %h = hybrid.ssm_scan u(%u : tensor<2x8x24xf32>) delta(%u : tensor<2x8x24xf32>) A(%A : tensor<24x16xf32>)
      B(%B : tensor<2x8x1x16xf32>) C(%B : tensor<2x8x1x16xf32>) init(%h_init : tensor<2x24x8xf32>) outs(%y_out : tensor<2x8x24xf32>) -> tensor<2x8x24xf32>, tensor<2x24x8xf32>
  return
}

// -----

func.func @activation_not_float(%u: tensor<2x8x24xi32>, %A: tensor<24x16xf32>, %B: tensor<2x8x1x16xf32>, %h_init: tensor<2x24x16xf32>, %y_out: tensor<2x8x24xi32>) {
  // expected-error @+1 {{'u' must have an f32, f16 or bf16 element type, got 'i32'}}
  %y, %h = hybrid.ssm_scan u(%u : tensor<2x8x24xi32>) delta(%u : tensor<2x8x24xi32>) A(%A : tensor<24x16xf32>)
      B(%B : tensor<2x8x1x16xf32>) C(%B : tensor<2x8x1x16xf32>) init(%h_init : tensor<2x24x16xf32>) outs(%y_out : tensor<2x8x24xi32>) -> tensor<2x8x24xi32>, tensor<2x24x16xf32>
  return
}

// -----

func.func @activation_types_differ(%u: tensor<2x8x24xf32>, %dt: tensor<2x8x24xf16>, %A: tensor<24x16xf32>, %B: tensor<2x8x1x16xf32>, %h_init: tensor<2x24x16xf32>, %y_out: tensor<2x8x24xf32>) {
  // expected-error @+1 {{'delta' has element type 'f16', but 'u' has 'f32' (all activations of the op share one element type)}}
  %y, %h = hybrid.ssm_scan u(%u : tensor<2x8x24xf32>) delta(%dt : tensor<2x8x24xf16>) A(%A : tensor<24x16xf32>)
      B(%B : tensor<2x8x1x16xf32>) C(%B : tensor<2x8x1x16xf32>) init(%h_init : tensor<2x24x16xf32>) outs(%y_out : tensor<2x8x24xf32>) -> tensor<2x8x24xf32>, tensor<2x24x16xf32>
  return
}

// -----

func.func @param_not_float(%u: tensor<2x8x24xf32>, %A: tensor<24x16xi8>, %B: tensor<2x8x1x16xf32>, %h_init: tensor<2x24x16xf32>, %y_out: tensor<2x8x24xf32>) {
  // expected-error @+1 {{'A' must have an f32, f16 or bf16 element type, got 'i8'}}
  %y, %h = hybrid.ssm_scan u(%u : tensor<2x8x24xf32>) delta(%u : tensor<2x8x24xf32>) A(%A : tensor<24x16xi8>)
      B(%B : tensor<2x8x1x16xf32>) C(%B : tensor<2x8x1x16xf32>) init(%h_init : tensor<2x24x16xf32>) outs(%y_out : tensor<2x8x24xf32>) -> tensor<2x8x24xf32>, tensor<2x24x16xf32>
  return
}

// -----

func.func @state_not_f32(%u: tensor<2x8x24xbf16>, %A: tensor<24x16xf32>, %B: tensor<2x8x1x16xbf16>, %h_init: tensor<2x24x16xbf16>, %y_out: tensor<2x8x24xbf16>) {
  // expected-error @+1 {{'initial_state' must have element type f32 (states are f32), got 'bf16'}}
  %y, %h = hybrid.ssm_scan u(%u : tensor<2x8x24xbf16>) delta(%u : tensor<2x8x24xbf16>) A(%A : tensor<24x16xf32>)
      B(%B : tensor<2x8x1x16xbf16>) C(%B : tensor<2x8x1x16xbf16>) init(%h_init : tensor<2x24x16xbf16>) outs(%y_out : tensor<2x8x24xbf16>) -> tensor<2x8x24xbf16>, tensor<2x24x16xbf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// ssm_scan
//===----------------------------------------------------------------------===//

func.func @ssm_zero_groups(%u: tensor<2x8x24xf32>, %A: tensor<24x16xf32>, %B: tensor<2x8x0x16xf32>, %h_init: tensor<2x24x16xf32>, %y_out: tensor<2x8x24xf32>) {
  // expected-error @+1 {{'B' dim 2 (groups) is 0: hybrid ops need non-empty static dimensions}}
  %y, %h = hybrid.ssm_scan u(%u : tensor<2x8x24xf32>) delta(%u : tensor<2x8x24xf32>) A(%A : tensor<24x16xf32>)
      B(%B : tensor<2x8x0x16xf32>) C(%B : tensor<2x8x0x16xf32>) init(%h_init : tensor<2x24x16xf32>) outs(%y_out : tensor<2x8x24xf32>) -> tensor<2x8x24xf32>, tensor<2x24x16xf32>
  return
}

// -----

func.func @ssm_groups_do_not_divide(%u: tensor<2x8x24xf32>, %A: tensor<24x16xf32>, %B: tensor<2x8x5x16xf32>, %h_init: tensor<2x24x16xf32>, %y_out: tensor<2x8x24xf32>) {
  // expected-error @+1 {{the 5 groups of 'B' and 'C' must divide the 24 channels of 'u'}}
  %y, %h = hybrid.ssm_scan u(%u : tensor<2x8x24xf32>) delta(%u : tensor<2x8x24xf32>) A(%A : tensor<24x16xf32>)
      B(%B : tensor<2x8x5x16xf32>) C(%B : tensor<2x8x5x16xf32>) init(%h_init : tensor<2x24x16xf32>) outs(%y_out : tensor<2x8x24xf32>) -> tensor<2x8x24xf32>, tensor<2x24x16xf32>
  return
}

// -----

func.func @ssm_bad_skip(%u: tensor<2x8x24xf32>, %A: tensor<24x16xf32>, %B: tensor<2x8x1x16xf32>, %D: tensor<16xf32>, %h_init: tensor<2x24x16xf32>, %y_out: tensor<2x8x24xf32>) {
  // expected-error @+1 {{'D' dim 0 (d_inner) is 16, but 'u' dim 2 (d_inner) is 24}}
  %y, %h = hybrid.ssm_scan u(%u : tensor<2x8x24xf32>) delta(%u : tensor<2x8x24xf32>) A(%A : tensor<24x16xf32>)
      B(%B : tensor<2x8x1x16xf32>) C(%B : tensor<2x8x1x16xf32>) D(%D : tensor<16xf32>) init(%h_init : tensor<2x24x16xf32>) outs(%y_out : tensor<2x8x24xf32>) -> tensor<2x8x24xf32>, tensor<2x24x16xf32>
  return
}

// -----

func.func @ssm_bad_init(%u: tensor<2x8x24xf32>, %A: tensor<24x16xf32>, %B: tensor<2x8x1x16xf32>, %h0: tensor<3x24x16xf32>, %y_out: tensor<2x8x24xf32>) {
  // expected-error @+1 {{'initial_state' dim 0 (batch) is 3, but 'u' dim 0 (batch) is 2}}
  %y, %h = hybrid.ssm_scan u(%u : tensor<2x8x24xf32>) delta(%u : tensor<2x8x24xf32>) A(%A : tensor<24x16xf32>)
      B(%B : tensor<2x8x1x16xf32>) C(%B : tensor<2x8x1x16xf32>) init(%h0 : tensor<3x24x16xf32>) outs(%y_out : tensor<2x8x24xf32>) -> tensor<2x8x24xf32>, tensor<2x24x16xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// wkv
//===----------------------------------------------------------------------===//

func.func @wkv6_needs_bonus(%x: tensor<1x4x2x8xf32>, %s_init: tensor<1x2x8x8xf32>, %o_out: tensor<1x4x2x8xf32>) {
  // expected-error @+1 {{variant rwkv6 requires 'bonus' (u, [heads, key_dim])}}
  %o, %s = hybrid.wkv rwkv6 r(%x : tensor<1x4x2x8xf32>) k(%x : tensor<1x4x2x8xf32>) v(%x : tensor<1x4x2x8xf32>)
      log_decay(%x : tensor<1x4x2x8xf32>) init(%s_init : tensor<1x2x8x8xf32>) outs(%o_out : tensor<1x4x2x8xf32>) -> tensor<1x4x2x8xf32>, tensor<1x2x8x8xf32>
  return
}

// -----

func.func @wkv6_takes_no_a(%x: tensor<1x4x2x8xf32>, %u: tensor<2x8xf32>, %s_init: tensor<1x2x8x8xf32>, %o_out: tensor<1x4x2x8xf32>) {
  // expected-error @+1 {{variant rwkv6 does not take 'a' or 'b' (they belong to rwkv7)}}
  %o, %s = hybrid.wkv rwkv6 r(%x : tensor<1x4x2x8xf32>) k(%x : tensor<1x4x2x8xf32>) v(%x : tensor<1x4x2x8xf32>)
      log_decay(%x : tensor<1x4x2x8xf32>) bonus(%u : tensor<2x8xf32>) a(%x : tensor<1x4x2x8xf32>) init(%s_init : tensor<1x2x8x8xf32>) outs(%o_out : tensor<1x4x2x8xf32>)
      -> tensor<1x4x2x8xf32>, tensor<1x2x8x8xf32>
  return
}

// -----

func.func @wkv7_needs_a_and_b(%x: tensor<1x4x2x8xf32>, %s_init: tensor<1x2x8x8xf32>, %o_out: tensor<1x4x2x8xf32>) {
  // expected-error @+1 {{variant rwkv7 requires both 'a' and 'b'}}
  %o, %s = hybrid.wkv rwkv7 r(%x : tensor<1x4x2x8xf32>) k(%x : tensor<1x4x2x8xf32>) v(%x : tensor<1x4x2x8xf32>)
      log_decay(%x : tensor<1x4x2x8xf32>) a(%x : tensor<1x4x2x8xf32>) init(%s_init : tensor<1x2x8x8xf32>) outs(%o_out : tensor<1x4x2x8xf32>) -> tensor<1x4x2x8xf32>, tensor<1x2x8x8xf32>
  return
}

// -----

func.func @wkv7_takes_no_bonus(%x: tensor<1x4x2x8xf32>, %u: tensor<2x8xf32>, %s_init: tensor<1x2x8x8xf32>, %o_out: tensor<1x4x2x8xf32>) {
  // expected-error @+1 {{variant rwkv7 does not take 'bonus' (it belongs to rwkv6)}}
  %o, %s = hybrid.wkv rwkv7 r(%x : tensor<1x4x2x8xf32>) k(%x : tensor<1x4x2x8xf32>) v(%x : tensor<1x4x2x8xf32>)
      log_decay(%x : tensor<1x4x2x8xf32>) bonus(%u : tensor<2x8xf32>) a(%x : tensor<1x4x2x8xf32>)
      b(%x : tensor<1x4x2x8xf32>) init(%s_init : tensor<1x2x8x8xf32>) outs(%o_out : tensor<1x4x2x8xf32>) -> tensor<1x4x2x8xf32>, tensor<1x2x8x8xf32>
  return
}

// -----

func.func @wkv_bad_scale(%x: tensor<1x4x2x8xf32>, %u: tensor<2x8xf32>, %s_init: tensor<1x2x8x8xf32>, %o_out: tensor<1x4x2x8xf32>) {
  // expected-error @+1 {{'scale' must be finite and positive, got 0}}
  %o, %s = hybrid.wkv rwkv6 r(%x : tensor<1x4x2x8xf32>) k(%x : tensor<1x4x2x8xf32>) v(%x : tensor<1x4x2x8xf32>)
      log_decay(%x : tensor<1x4x2x8xf32>) bonus(%u : tensor<2x8xf32>) init(%s_init : tensor<1x2x8x8xf32>) scale 0.0 outs(%o_out : tensor<1x4x2x8xf32>)
      -> tensor<1x4x2x8xf32>, tensor<1x2x8x8xf32>
  return
}

// -----

func.func @wkv_state_layout(%x: tensor<1x4x2x8xf32>, %v: tensor<1x4x2x4xf32>, %u: tensor<2x8xf32>, %s_init: tensor<1x2x8x4xf32>, %o_out: tensor<1x4x2x4xf32>) {
  // expected-error @+1 {{'initial_state' dim 2 (value_dim) is 8, but 'v' dim 3 (value_dim) is 4}}
  %o, %s = hybrid.wkv rwkv6 r(%x : tensor<1x4x2x8xf32>) k(%x : tensor<1x4x2x8xf32>) v(%v : tensor<1x4x2x4xf32>)
      log_decay(%x : tensor<1x4x2x8xf32>) bonus(%u : tensor<2x8xf32>) init(%s_init : tensor<1x2x8x4xf32>) outs(%o_out : tensor<1x4x2x4xf32>) -> tensor<1x4x2x4xf32>, tensor<1x2x8x4xf32>
  return
}

// -----

func.func @wkv_unknown_variant(%x: tensor<1x4x2x8xf32>, %s_init: tensor<1x2x8x8xf32>, %o_out: tensor<1x4x2x8xf32>) {
  // expected-error @+1 {{unknown wkv variant (expected rwkv6 or rwkv7) 'rwkv5'}}
  %o, %s = hybrid.wkv rwkv5 r(%x : tensor<1x4x2x8xf32>) k(%x : tensor<1x4x2x8xf32>) v(%x : tensor<1x4x2x8xf32>)
      log_decay(%x : tensor<1x4x2x8xf32>) init(%s_init : tensor<1x2x8x8xf32>) outs(%o_out : tensor<1x4x2x8xf32>) -> tensor<1x4x2x8xf32>, tensor<1x2x8x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// delta_rule
//===----------------------------------------------------------------------===//

func.func @delta_beta_rank(%q: tensor<1x4x2x8xf32>, %beta: tensor<1x4xf32>, %s_init: tensor<1x2x8x8xf32>, %o_out: tensor<1x4x2x8xf32>) {
  // expected-error @+1 {{'beta' must have rank 3 [batch, seq, v_heads] (one value per head) or rank 4 [batch, seq, v_heads, value_dim] (one per value channel), got 'tensor<1x4xf32>'}}
  %o, %s = hybrid.delta_rule q(%q : tensor<1x4x2x8xf32>) k(%q : tensor<1x4x2x8xf32>) v(%q : tensor<1x4x2x8xf32>)
      beta(%beta : tensor<1x4xf32>) init(%s_init : tensor<1x2x8x8xf32>) outs(%o_out : tensor<1x4x2x8xf32>) -> tensor<1x4x2x8xf32>, tensor<1x2x8x8xf32>
  return
}

// -----

func.func @delta_beta_channels(%q: tensor<1x4x2x8xf32>, %beta: tensor<1x4x2x6xf32>, %s_init: tensor<1x2x8x8xf32>, %o_out: tensor<1x4x2x8xf32>) {
  // expected-error @+1 {{'beta' dim 3 (value_dim) is 6, but 'v' dim 3 (value_dim) is 8}}
  %o, %s = hybrid.delta_rule q(%q : tensor<1x4x2x8xf32>) k(%q : tensor<1x4x2x8xf32>) v(%q : tensor<1x4x2x8xf32>)
      beta(%beta : tensor<1x4x2x6xf32>) init(%s_init : tensor<1x2x8x8xf32>) outs(%o_out : tensor<1x4x2x8xf32>) -> tensor<1x4x2x8xf32>, tensor<1x2x8x8xf32>
  return
}

// -----

func.func @delta_zero_heads(%q: tensor<1x4x0x8xf32>, %beta: tensor<1x4x0xf32>, %s_init: tensor<1x0x8x8xf32>, %o_out: tensor<1x4x0x8xf32>) {
  // expected-error @+1 {{'q' dim 2 (qk_heads) is 0: hybrid ops need non-empty static dimensions}}
  %o, %s = hybrid.delta_rule q(%q : tensor<1x4x0x8xf32>) k(%q : tensor<1x4x0x8xf32>) v(%q : tensor<1x4x0x8xf32>)
      beta(%beta : tensor<1x4x0xf32>) init(%s_init : tensor<1x0x8x8xf32>) outs(%o_out : tensor<1x4x0x8xf32>) -> tensor<1x4x0x8xf32>, tensor<1x0x8x8xf32>
  return
}

// -----

func.func @delta_value_heads(%q: tensor<1x4x4x8xf32>, %v: tensor<1x4x6x8xf32>, %beta: tensor<1x4x6xf32>, %s_init: tensor<1x6x8x8xf32>, %o_out: tensor<1x4x6x8xf32>) {
  // expected-error @+1 {{the 6 value heads must be a multiple of the 4 q/k heads}}
  %o, %s = hybrid.delta_rule q(%q : tensor<1x4x4x8xf32>) k(%q : tensor<1x4x4x8xf32>) v(%v : tensor<1x4x6x8xf32>)
      beta(%beta : tensor<1x4x6xf32>) init(%s_init : tensor<1x6x8x8xf32>) outs(%o_out : tensor<1x4x6x8xf32>) -> tensor<1x4x6x8xf32>, tensor<1x6x8x8xf32>
  return
}

// -----

func.func @delta_gate_shape(%q: tensor<1x4x2x8xf32>, %beta: tensor<1x4x2xf32>, %g: tensor<1x4x3xf32>, %s_init: tensor<1x2x8x8xf32>, %o_out: tensor<1x4x2x8xf32>) {
  // expected-error @+1 {{'log_decay' dim 2 (v_heads) is 3, but 'v' dim 2 (v_heads) is 2}}
  %o, %s = hybrid.delta_rule q(%q : tensor<1x4x2x8xf32>) k(%q : tensor<1x4x2x8xf32>) v(%q : tensor<1x4x2x8xf32>)
      beta(%beta : tensor<1x4x2xf32>) log_decay(%g : tensor<1x4x3xf32>) init(%s_init : tensor<1x2x8x8xf32>) outs(%o_out : tensor<1x4x2x8xf32>) -> tensor<1x4x2x8xf32>, tensor<1x2x8x8xf32>
  return
}

// -----

func.func @delta_dynamic_key_needs_scale(%q: tensor<1x4x2x?xf32>, %v: tensor<1x4x2x8xf32>, %beta: tensor<1x4x2xf32>, %s_init: tensor<1x2x8x?xf32>, %o_out: tensor<1x4x2x8xf32>) {
  // expected-error @+1 {{needs an explicit 'scale' when the key dimension is dynamic (the default is 1/sqrt(key_dim))}}
  %o, %s = hybrid.delta_rule q(%q : tensor<1x4x2x?xf32>) k(%q : tensor<1x4x2x?xf32>) v(%v : tensor<1x4x2x8xf32>)
      beta(%beta : tensor<1x4x2xf32>) init(%s_init : tensor<1x2x8x?xf32>) outs(%o_out : tensor<1x4x2x8xf32>) -> tensor<1x4x2x8xf32>, tensor<1x2x8x?xf32>
  return
}

// -----

func.func @delta_bad_scale(%q: tensor<1x4x2x8xf32>, %beta: tensor<1x4x2xf32>, %s_init: tensor<1x2x8x8xf32>, %o_out: tensor<1x4x2x8xf32>) {
  // expected-error @+1 {{'scale' must be finite and positive, got -1}}
  %o, %s = hybrid.delta_rule q(%q : tensor<1x4x2x8xf32>) k(%q : tensor<1x4x2x8xf32>) v(%q : tensor<1x4x2x8xf32>)
      beta(%beta : tensor<1x4x2xf32>) init(%s_init : tensor<1x2x8x8xf32>) scale -1.0 outs(%o_out : tensor<1x4x2x8xf32>) -> tensor<1x4x2x8xf32>, tensor<1x2x8x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// rg_lru
//===----------------------------------------------------------------------===//

func.func @rg_lru_reset_type(%x: tensor<2x5x8xf32>, %l: tensor<8xf32>, %r: tensor<2x5xf32>, %s_init: tensor<2x8xf32>, %h_out: tensor<2x5x8xf32>) {
  // expected-error @+1 {{'reset' must have element type i1, got 'f32'}}
  %h, %s = hybrid.rg_lru x(%x : tensor<2x5x8xf32>) gate_x(%x : tensor<2x5x8xf32>) gate_a(%x : tensor<2x5x8xf32>)
      a_param(%l : tensor<8xf32>) reset(%r : tensor<2x5xf32>) init(%s_init : tensor<2x8xf32>) outs(%h_out : tensor<2x5x8xf32>) -> tensor<2x5x8xf32>, tensor<2x8xf32>
  return
}

// -----

func.func @rg_lru_reset_shape(%x: tensor<2x5x8xf32>, %l: tensor<8xf32>, %r: tensor<2x4xi1>, %s_init: tensor<2x8xf32>, %h_out: tensor<2x5x8xf32>) {
  // expected-error @+1 {{'reset' dim 1 (seq) is 4, but 'x' dim 1 (seq) is 5}}
  %h, %s = hybrid.rg_lru x(%x : tensor<2x5x8xf32>) gate_x(%x : tensor<2x5x8xf32>) gate_a(%x : tensor<2x5x8xf32>)
      a_param(%l : tensor<8xf32>) reset(%r : tensor<2x4xi1>) init(%s_init : tensor<2x8xf32>) outs(%h_out : tensor<2x5x8xf32>) -> tensor<2x5x8xf32>, tensor<2x8xf32>
  return
}

// -----

func.func @rg_lru_bad_c(%x: tensor<2x5x8xf32>, %l: tensor<8xf32>, %s_init: tensor<2x8xf32>, %h_out: tensor<2x5x8xf32>) {
  // expected-error @+1 {{'c' must be finite and positive, got -8}}
  %h, %s = hybrid.rg_lru x(%x : tensor<2x5x8xf32>) gate_x(%x : tensor<2x5x8xf32>) gate_a(%x : tensor<2x5x8xf32>)
      a_param(%l : tensor<8xf32>) init(%s_init : tensor<2x8xf32>) c -8.0 outs(%h_out : tensor<2x5x8xf32>) -> tensor<2x5x8xf32>, tensor<2x8xf32>
  return
}

// -----

func.func @rg_lru_a_param(%x: tensor<2x5x8xf32>, %l: tensor<7xf32>, %s_init: tensor<2x8xf32>, %h_out: tensor<2x5x8xf32>) {
  // expected-error @+1 {{'a_param' dim 0 (width) is 7, but 'x' dim 2 (width) is 8}}
  %h, %s = hybrid.rg_lru x(%x : tensor<2x5x8xf32>) gate_x(%x : tensor<2x5x8xf32>) gate_a(%x : tensor<2x5x8xf32>)
      a_param(%l : tensor<7xf32>) init(%s_init : tensor<2x8xf32>) outs(%h_out : tensor<2x5x8xf32>) -> tensor<2x5x8xf32>, tensor<2x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// gru
//===----------------------------------------------------------------------===//

func.func @gru_gates_not_multiple_of_3(%xg: tensor<2x5x47xf32>, %wh: tensor<?x47xf32>, %s_init: tensor<2x?xf32>, %h_out: tensor<2x5x?xf32>) {
  // expected-error @+1 {{'input_gates' dim 2 (gates) is 47, which is not 3 x hidden (gate order r, z, n)}}
  %h, %s = hybrid.gru input_gates(%xg : tensor<2x5x47xf32>) hidden_weight(%wh : tensor<?x47xf32>) init(%s_init : tensor<2x?xf32>) outs(%h_out : tensor<2x5x?xf32>)
      -> tensor<2x5x?xf32>, tensor<2x?xf32>
  return
}

// -----

func.func @gru_gates_vs_hidden(%xg: tensor<2x5x48xf32>, %wh: tensor<15x48xf32>, %s_init: tensor<2x15xf32>, %h_out: tensor<2x5x15xf32>) {
  // expected-error @+1 {{'input_gates' dim 2 (gates) is 48, expected 3 x hidden = 45 (gate order r, z, n)}}
  %h, %s = hybrid.gru input_gates(%xg : tensor<2x5x48xf32>) hidden_weight(%wh : tensor<15x48xf32>) init(%s_init : tensor<2x15xf32>) outs(%h_out : tensor<2x5x15xf32>)
      -> tensor<2x5x15xf32>, tensor<2x15xf32>
  return
}

// -----

func.func @gru_hidden_bias(%xg: tensor<2x5x48xf32>, %wh: tensor<16x48xf32>, %bh: tensor<16xf32>, %s_init: tensor<2x16xf32>, %h_out: tensor<2x5x16xf32>) {
  // expected-error @+1 {{'hidden_bias' dim 0 (gates) is 16, but 'input_gates' dim 2 (gates) is 48}}
  %h, %s = hybrid.gru input_gates(%xg : tensor<2x5x48xf32>) hidden_weight(%wh : tensor<16x48xf32>)
      hidden_bias(%bh : tensor<16xf32>) init(%s_init : tensor<2x16xf32>) outs(%h_out : tensor<2x5x16xf32>) -> tensor<2x5x16xf32>, tensor<2x16xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// causal_conv1d
//===----------------------------------------------------------------------===//

func.func @conv_no_taps(%x: tensor<1x5x8xf32>, %w: tensor<0x8xf32>, %t_init: tensor<1x0x8xf32>, %y_out: tensor<1x5x8xf32>) {
  // expected-error @+1 {{'weight' dim 0 (width) is 0: hybrid ops need non-empty static dimensions}}
  %y, %t = hybrid.causal_conv1d x(%x : tensor<1x5x8xf32>) weight(%w : tensor<0x8xf32>) init(%t_init : tensor<1x0x8xf32>) outs(%y_out : tensor<1x5x8xf32>)
      -> tensor<1x5x8xf32>, tensor<1x0x8xf32>
  return
}

// -----

func.func @conv_tail(%x: tensor<1x5x8xf32>, %w: tensor<4x8xf32>, %t_init: tensor<1x4x8xf32>, %y_out: tensor<1x5x8xf32>) {
  // expected-error @+1 {{'initial_state' dim 1 is 4, expected width - 1 = 3 (the state holds the last width - 1 inputs)}}
  %y, %t = hybrid.causal_conv1d x(%x : tensor<1x5x8xf32>) weight(%w : tensor<4x8xf32>) init(%t_init : tensor<1x4x8xf32>) outs(%y_out : tensor<1x5x8xf32>)
      -> tensor<1x5x8xf32>, tensor<1x4x8xf32>
  return
}

// -----

func.func @conv_channels(%x: tensor<1x5x8xf32>, %w: tensor<4x8xf32>, %b: tensor<9xf32>, %t_init: tensor<1x3x8xf32>, %y_out: tensor<1x5x8xf32>) {
  // expected-error @+1 {{'bias' dim 0 (channels) is 9, but 'x' dim 2 (channels) is 8}}
  %y, %t = hybrid.causal_conv1d x(%x : tensor<1x5x8xf32>) weight(%w : tensor<4x8xf32>) bias(%b : tensor<9xf32>) init(%t_init : tensor<1x3x8xf32>) outs(%y_out : tensor<1x5x8xf32>)
      -> tensor<1x5x8xf32>, tensor<1x3x8xf32>
  return
}

// -----

func.func @conv_unknown_activation(%x: tensor<1x5x8xf32>, %w: tensor<4x8xf32>, %t_init: tensor<1x3x8xf32>, %y_out: tensor<1x5x8xf32>) {
  // expected-error @+1 {{unknown activation (expected none or silu) 'gelu'}}
  %y, %t = hybrid.causal_conv1d x(%x : tensor<1x5x8xf32>) weight(%w : tensor<4x8xf32>) init(%t_init : tensor<1x3x8xf32>) activation gelu outs(%y_out : tensor<1x5x8xf32>)
      -> tensor<1x5x8xf32>, tensor<1x3x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// windowed_attention
//===----------------------------------------------------------------------===//

func.func @attn_zero_kv_heads(%q: tensor<1x4x2x8xf32>, %k: tensor<1x4x0x8xf32>, %o_out: tensor<1x4x2x8xf32>) {
  // expected-error @+1 {{'k' dim 2 (kv_heads) is 0: hybrid ops need non-empty static dimensions}}
  %o = hybrid.windowed_attention q(%q : tensor<1x4x2x8xf32>) k(%k : tensor<1x4x0x8xf32>) v(%k : tensor<1x4x0x8xf32>) outs(%o_out : tensor<1x4x2x8xf32>)
      -> tensor<1x4x2x8xf32>
  return
}

// -----

func.func @attn_gqa(%q: tensor<1x4x6x8xf32>, %k: tensor<1x4x4x8xf32>, %o_out: tensor<1x4x6x8xf32>) {
  // expected-error @+1 {{the 6 query heads must be a multiple of the 4 key/value heads}}
  %o = hybrid.windowed_attention q(%q : tensor<1x4x6x8xf32>) k(%k : tensor<1x4x4x8xf32>) v(%k : tensor<1x4x4x8xf32>) outs(%o_out : tensor<1x4x6x8xf32>)
      -> tensor<1x4x6x8xf32>
  return
}

// -----

func.func @attn_more_queries_than_keys(%q: tensor<1x8x2x8xf32>, %k: tensor<1x4x2x8xf32>, %o_out: tensor<1x8x2x8xf32>) {
  // expected-error @+1 {{'q' has 8 positions but 'k' only 4 (queries are aligned to the end of the keys, so kv_seq >= q_seq)}}
  %o = hybrid.windowed_attention q(%q : tensor<1x8x2x8xf32>) k(%k : tensor<1x4x2x8xf32>) v(%k : tensor<1x4x2x8xf32>) outs(%o_out : tensor<1x8x2x8xf32>)
      -> tensor<1x8x2x8xf32>
  return
}

// -----

func.func @attn_window(%q: tensor<1x4x2x8xf32>, %o_out: tensor<1x4x2x8xf32>) {
  // expected-error @+1 {{'window' must be at least 1 (the number of keys each query sees, itself included), got 0}}
  %o = hybrid.windowed_attention q(%q : tensor<1x4x2x8xf32>) k(%q : tensor<1x4x2x8xf32>) v(%q : tensor<1x4x2x8xf32>)
      window 0 outs(%o_out : tensor<1x4x2x8xf32>) -> tensor<1x4x2x8xf32>
  return
}

// -----

func.func @attn_dynamic_key_needs_scale(%q: tensor<1x4x2x?xf32>, %v: tensor<1x4x2x8xf32>, %o_out: tensor<1x4x2x8xf32>) {
  // expected-error @+1 {{needs an explicit 'scale' when the key dimension is dynamic (the default is 1/sqrt(key_dim))}}
  %o = hybrid.windowed_attention q(%q : tensor<1x4x2x?xf32>) k(%q : tensor<1x4x2x?xf32>) v(%v : tensor<1x4x2x8xf32>) outs(%o_out : tensor<1x4x2x8xf32>)
      -> tensor<1x4x2x8xf32>
  return
}

// -----

func.func @attn_bad_scale(%q: tensor<1x4x2x8xf32>, %o_out: tensor<1x4x2x8xf32>) {
  // expected-error @+1 {{'scale' must be finite and positive, got INF}}
  %o = hybrid.windowed_attention q(%q : tensor<1x4x2x8xf32>) k(%q : tensor<1x4x2x8xf32>) v(%q : tensor<1x4x2x8xf32>)
      scale 0x7F800000 outs(%o_out : tensor<1x4x2x8xf32>) -> tensor<1x4x2x8xf32>
  return
}

// -----

func.func @attn_value_dim(%q: tensor<1x4x2x8xf32>, %v: tensor<1x4x2x4xf32>, %o_out: tensor<1x4x2x8xf32>) {
  // expected-error @+1 {{'o' dim 3 (value_dim) is 8, but 'v' dim 3 (value_dim) is 4}}
  %o = hybrid.windowed_attention q(%q : tensor<1x4x2x8xf32>) k(%q : tensor<1x4x2x8xf32>) v(%v : tensor<1x4x2x4xf32>) outs(%o_out : tensor<1x4x2x8xf32>)
      -> tensor<1x4x2x8xf32>
  return
}

// -----

func.func @attn_mask_type(%q: tensor<1x4x2x8xf32>, %m: tensor<1x4xf32>, %o_out: tensor<1x4x2x8xf32>) {
  // expected-error @+1 {{'key_mask' must have element type i1, got 'f32'}}
  %o = hybrid.windowed_attention q(%q : tensor<1x4x2x8xf32>) k(%q : tensor<1x4x2x8xf32>) v(%q : tensor<1x4x2x8xf32>)
      key_mask(%m : tensor<1x4xf32>) outs(%o_out : tensor<1x4x2x8xf32>) -> tensor<1x4x2x8xf32>
  return
}

// -----

func.func @attn_mask_shape(%q: tensor<1x4x2x8xf32>, %m: tensor<1x5xi1>, %o_out: tensor<1x4x2x8xf32>) {
  // expected-error @+1 {{'key_mask' dim 1 (kv_seq) is 5, but 'k' dim 1 (kv_seq) is 4}}
  %o = hybrid.windowed_attention q(%q : tensor<1x4x2x8xf32>) k(%q : tensor<1x4x2x8xf32>) v(%q : tensor<1x4x2x8xf32>)
      key_mask(%m : tensor<1x5xi1>) outs(%o_out : tensor<1x4x2x8xf32>) -> tensor<1x4x2x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// gated_parallel
//===----------------------------------------------------------------------===//

func.func @parallel_no_results(%x: tensor<1x4x8xf32>) {
  // expected-error @+1 {{must have at least one result (the mixed output)}}
  "hybrid.gated_parallel"(%x, %x) ({
    ^bb0(%a: tensor<1x4x8xf32>):
      hybrid.yield %a : tensor<1x4x8xf32>
    }, {
    ^bb0(%a: tensor<1x4x8xf32>):
      hybrid.yield %a : tensor<1x4x8xf32>
    }) : (tensor<1x4x8xf32>, tensor<1x4x8xf32>) -> ()
  return
}

// -----

func.func @parallel_int_output(%x: tensor<1x4x8xi32>) {
  // expected-error @+1 {{result 0 must have an f32, f16 or bf16 element type, got 'i32'}}
  %o = hybrid.gated_parallel(%x, %x) : (tensor<1x4x8xi32>, tensor<1x4x8xi32>) -> (tensor<1x4x8xi32>)
    backbone {
    ^bb0(%a: tensor<1x4x8xi32>):
      hybrid.yield %a : tensor<1x4x8xi32>
    } attention {
    ^bb0(%a: tensor<1x4x8xi32>):
      hybrid.yield %a : tensor<1x4x8xi32>
    }
  return
}

// -----

func.func @parallel_gate_type(%x: tensor<1x4x8xf32>, %g: tensor<1x4x1xf32>) {
  // expected-error @+1 {{'gate' has type 'tensor<1x4x1xf32>', but the mixed output (result 0) has 'tensor<1x4x8xf32>'; they must match}}
  %o = hybrid.gated_parallel(%x, %g) : (tensor<1x4x8xf32>, tensor<1x4x1xf32>) -> (tensor<1x4x8xf32>)
    backbone {
    ^bb0(%a: tensor<1x4x8xf32>):
      hybrid.yield %a : tensor<1x4x8xf32>
    } attention {
    ^bb0(%a: tensor<1x4x8xf32>):
      hybrid.yield %a : tensor<1x4x8xf32>
    }
  return
}

// -----

func.func @parallel_int_input(%x: tensor<1x4x8xi32>, %g: tensor<1x4x8xf32>) {
  // expected-error @+1 {{'input' must have an f32, f16 or bf16 element type, got 'i32'}}
  %o = hybrid.gated_parallel(%x, %g) : (tensor<1x4x8xi32>, tensor<1x4x8xf32>) -> (tensor<1x4x8xf32>)
    backbone {
    ^bb0(%a: tensor<1x4x8xi32>):
      hybrid.yield %g : tensor<1x4x8xf32>
    } attention {
    ^bb0(%a: tensor<1x4x8xi32>):
      hybrid.yield %g : tensor<1x4x8xf32>
    }
  return
}

// -----

func.func @parallel_region_argument(%x: tensor<1x4x8xf32>) {
  // expected-error @+1 {{the attention region must take exactly one argument of the input type 'tensor<1x4x8xf32>'}}
  %o = hybrid.gated_parallel(%x, %x) : (tensor<1x4x8xf32>, tensor<1x4x8xf32>) -> (tensor<1x4x8xf32>)
    backbone {
    ^bb0(%a: tensor<1x4x8xf32>):
      hybrid.yield %a : tensor<1x4x8xf32>
    } attention {
    ^bb0(%a: tensor<1x4x8xf32>, %b: tensor<1x4x8xf32>):
      hybrid.yield %a : tensor<1x4x8xf32>
    }
  return
}

// -----

func.func @parallel_foreign_terminator(%x: tensor<1x4x8xf32>) {
  // expected-error @+1 {{the backbone region must end in 'hybrid.yield'}}
  %o = hybrid.gated_parallel(%x, %x) : (tensor<1x4x8xf32>, tensor<1x4x8xf32>) -> (tensor<1x4x8xf32>)
    backbone {
    ^bb0(%a: tensor<1x4x8xf32>):
      llvm.unreachable
    } attention {
    ^bb0(%a: tensor<1x4x8xf32>):
      hybrid.yield %a : tensor<1x4x8xf32>
    }
  return
}

// -----

func.func @parallel_empty_yield(%x: tensor<1x4x8xf32>) {
  %o = hybrid.gated_parallel(%x, %x) : (tensor<1x4x8xf32>, tensor<1x4x8xf32>) -> (tensor<1x4x8xf32>)
    backbone {
    ^bb0(%a: tensor<1x4x8xf32>):
      // expected-error @+1 {{must yield the backbone branch output first}}
      hybrid.yield
    } attention {
    ^bb0(%a: tensor<1x4x8xf32>):
      hybrid.yield %a : tensor<1x4x8xf32>
    }
  return
}

// -----

func.func @parallel_output_type(%x: tensor<1x4x8xf32>, %y: tensor<1x4x4xf32>) {
  %o = hybrid.gated_parallel(%x, %x) : (tensor<1x4x8xf32>, tensor<1x4x8xf32>) -> (tensor<1x4x8xf32>)
    backbone {
    ^bb0(%a: tensor<1x4x8xf32>):
      hybrid.yield %a : tensor<1x4x8xf32>
    } attention {
    ^bb0(%a: tensor<1x4x8xf32>):
      // expected-error @+1 {{yields a attention output of type 'tensor<1x4x4xf32>', but the mixed output (result 0) has type 'tensor<1x4x8xf32>'}}
      hybrid.yield %y : tensor<1x4x4xf32>
    }
  return
}

// -----

func.func @parallel_extra_type(%x: tensor<1x4x8xf32>, %s: tensor<1x8xf32>) {
  %o:2 = hybrid.gated_parallel(%x, %x) : (tensor<1x4x8xf32>, tensor<1x4x8xf32>) -> (tensor<1x4x8xf32>, tensor<1x4xf32>)
    backbone {
    ^bb0(%a: tensor<1x4x8xf32>):
      // expected-error @+1 {{yields an extra value of type 'tensor<1x8xf32>' for result 1 of type 'tensor<1x4xf32>'}}
      hybrid.yield %a, %s : tensor<1x4x8xf32>, tensor<1x8xf32>
    } attention {
    ^bb0(%a: tensor<1x4x8xf32>):
      hybrid.yield %a : tensor<1x4x8xf32>
    }
  return
}

// -----

func.func @parallel_too_many_extras(%x: tensor<1x4x8xf32>, %s: tensor<1x8xf32>) {
  // expected-error @+1 {{has 1 results, but its branches yield more extra values}}
  %o = hybrid.gated_parallel(%x, %x) : (tensor<1x4x8xf32>, tensor<1x4x8xf32>) -> (tensor<1x4x8xf32>)
    backbone {
    ^bb0(%a: tensor<1x4x8xf32>):
      hybrid.yield %a, %s : tensor<1x4x8xf32>, tensor<1x8xf32>
    } attention {
    ^bb0(%a: tensor<1x4x8xf32>):
      hybrid.yield %a : tensor<1x4x8xf32>
    }
  return
}

// -----

func.func @parallel_missing_extras(%x: tensor<1x4x8xf32>) {
  // expected-error @+1 {{has 2 results, but its branches yield 0 extra values (expected 1 + extras)}}
  %o:2 = hybrid.gated_parallel(%x, %x) : (tensor<1x4x8xf32>, tensor<1x4x8xf32>) -> (tensor<1x4x8xf32>, tensor<1x8xf32>)
    backbone {
    ^bb0(%a: tensor<1x4x8xf32>):
      hybrid.yield %a : tensor<1x4x8xf32>
    } attention {
    ^bb0(%a: tensor<1x4x8xf32>):
      hybrid.yield %a : tensor<1x4x8xf32>
    }
  return
}

// -----

func.func @yield_outside_parallel(%x: tensor<1x4x8xf32>) {
  // expected-error @+1 {{'hybrid.yield' op expects parent op 'hybrid.gated_parallel'}}
  hybrid.yield %x : tensor<1x4x8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// layer_norm / rms_norm
//===----------------------------------------------------------------------===//

func.func @norm_scalar(%x: tensor<f32>, %y_out: tensor<f32>) {
  // expected-error @+1 {{'input' must have rank >= 1 (the last dimension is normalised), got a 0-d tensor}}
  %y = hybrid.rms_norm %x outs(%y_out : tensor<f32>) : tensor<f32> -> tensor<f32>
  return
}

// -----

func.func @norm_weight(%x: tensor<2x8xf32>, %w: tensor<4xf32>, %y_out: tensor<2x8xf32>) {
  // expected-error @+1 {{'weight' dim 0 (features) is 4, but 'input' dim 1 (features) is 8}}
  %y = hybrid.layer_norm %x weight(%w : tensor<4xf32>) outs(%y_out : tensor<2x8xf32>) : tensor<2x8xf32> -> tensor<2x8xf32>
  return
}

// -----

func.func @norm_bias(%x: tensor<2x8xf32>, %b: tensor<4xf32>, %y_out: tensor<2x8xf32>) {
  // expected-error @+1 {{'bias' dim 0 (features) is 4, but 'input' dim 1 (features) is 8}}
  %y = hybrid.layer_norm %x bias(%b : tensor<4xf32>) outs(%y_out : tensor<2x8xf32>) : tensor<2x8xf32> -> tensor<2x8xf32>
  return
}

// -----

func.func @norm_result(%x: tensor<2x8xf32>, %y_out: tensor<2x8xf16>) {
  // expected-error @+1 {{destination ('outs') type 'tensor<2x8xf16>' must equal the input type 'tensor<2x8xf32>'}}
  %y = hybrid.rms_norm %x outs(%y_out : tensor<2x8xf16>) : tensor<2x8xf32> -> tensor<2x8xf16>
  return
}

// -----

func.func @norm_epsilon(%x: tensor<2x8xf32>, %y_out: tensor<2x8xf32>) {
  // expected-error @+1 {{'epsilon' must be finite and positive, got 0}}
  %y = hybrid.layer_norm %x epsilon 0.0 outs(%y_out : tensor<2x8xf32>) : tensor<2x8xf32> -> tensor<2x8xf32>
  return
}

// -----

func.func @lengths_batch(%x: tensor<2x5x8xf32>, %w: tensor<4x8xf32>, %n: tensor<3xi32>, %t_init: tensor<2x3x8xf32>, %y_out: tensor<2x5x8xf32>) {
  // expected-error @+1 {{'lengths' dim 0 (batch) is 3, but 'x' dim 0 (batch) is 2}}
  %y, %t = hybrid.causal_conv1d x(%x : tensor<2x5x8xf32>) weight(%w : tensor<4x8xf32>)
      init(%t_init : tensor<2x3x8xf32>) lengths(%n : tensor<3xi32>) outs(%y_out : tensor<2x5x8xf32>) -> tensor<2x5x8xf32>, tensor<2x3x8xf32>
  return
}

// -----

func.func @lengths_float(%xg: tensor<2x5x24xf32>, %wh: tensor<8x24xf32>, %n: tensor<2xf32>, %s_init: tensor<2x8xf32>, %h_out: tensor<2x5x8xf32>) {
  // expected-error @+1 {{operand #2 must be 1-D tensor or memref of integers}}
  %h, %s = hybrid.gru input_gates(%xg : tensor<2x5x24xf32>) hidden_weight(%wh : tensor<8x24xf32>)
      init(%s_init : tensor<2x8xf32>) lengths(%n : tensor<2xf32>) outs(%h_out : tensor<2x5x8xf32>) -> tensor<2x5x8xf32>, tensor<2x8xf32>
  return
}

// -----

// Keywords (attributes) come after the operands, in any order; a misplaced,
// unknown, repeated or valueless keyword is named.

func.func @keyword_unknown(%q: tensor<1x4x2x8xf32>, %o_out: tensor<1x4x2x8xf32>) {
  // expected-error @+2 {{unknown keyword 'windw'; expected 'window', 'scale' or 'qk_norm'}}
  %o = hybrid.windowed_attention q(%q : tensor<1x4x2x8xf32>) k(%q : tensor<1x4x2x8xf32>) v(%q : tensor<1x4x2x8xf32>)
      qk_norm windw 2 outs(%o_out : tensor<1x4x2x8xf32>) -> tensor<1x4x2x8xf32>
  return
}

// -----

func.func @keyword_twice(%q: tensor<1x4x2x8xf32>, %o_out: tensor<1x4x2x8xf32>) {
  // expected-error @+2 {{keyword 'window' appears twice}}
  %o = hybrid.windowed_attention q(%q : tensor<1x4x2x8xf32>) k(%q : tensor<1x4x2x8xf32>) v(%q : tensor<1x4x2x8xf32>)
      window 2 qk_norm window 3 outs(%o_out : tensor<1x4x2x8xf32>) -> tensor<1x4x2x8xf32>
  return
}

// -----

func.func @keyword_without_value(%x: tensor<2x8xf32>, %y_out: tensor<2x8xf32>) {
  // expected-error @+2 {{expected floating point literal}}
  // expected-error @+1 {{keyword 'epsilon' needs a number after it}}
  %y = hybrid.rms_norm %x epsilon outs(%y_out : tensor<2x8xf32>) : tensor<2x8xf32> -> tensor<2x8xf32>
  return
}

// -----

func.func @operand_after_keywords(%u: tensor<1x4x8xf32>, %A: tensor<8x4xf32>, %B: tensor<1x4x1x4xf32>, %D: tensor<8xf32>, %h_init: tensor<1x8x4xf32>, %y_out: tensor<1x4x8xf32>) {
  // expected-error @+2 {{operand 'D(...)' must come before the keywords ('delta_softplus')}}
  %y, %h = hybrid.ssm_scan u(%u : tensor<1x4x8xf32>) delta(%u : tensor<1x4x8xf32>) A(%A : tensor<8x4xf32>)
      B(%B : tensor<1x4x1x4xf32>) C(%B : tensor<1x4x1x4xf32>) init(%h_init : tensor<1x8x4xf32>) delta_softplus D(%D : tensor<8xf32>) outs(%y_out : tensor<1x4x8xf32>)
      -> tensor<1x4x8xf32>, tensor<1x8x4xf32>
  return
}


// -----

func.func @rg_lru_both_forms(%x: tensor<2x5x8xf32>, %l: tensor<8xf32>, %s_init: tensor<2x8xf32>, %h_out: tensor<2x5x8xf32>) {
  // expected-error @+1 {{takes either 'gate_x', 'gate_a' and 'a_param' (the gated form) or 'log_a' (the core form), but has both 'log_a' and 'gate_x'}}
  %h, %s = hybrid.rg_lru x(%x : tensor<2x5x8xf32>) gate_x(%x : tensor<2x5x8xf32>) log_a(%x : tensor<2x5x8xf32>) init(%s_init : tensor<2x8xf32>) outs(%h_out : tensor<2x5x8xf32>)
      -> tensor<2x5x8xf32>, tensor<2x8xf32>
  return
}

// -----

func.func @rg_lru_missing_gate(%x: tensor<2x5x8xf32>, %l: tensor<8xf32>, %s_init: tensor<2x8xf32>, %h_out: tensor<2x5x8xf32>) {
  // expected-error @+1 {{needs 'gate_x', 'gate_a' and 'a_param' (the gated form) or 'log_a' (the core form); 'gate_a' is missing}}
  %h, %s = hybrid.rg_lru x(%x : tensor<2x5x8xf32>) gate_x(%x : tensor<2x5x8xf32>) a_param(%l : tensor<8xf32>) init(%s_init : tensor<2x8xf32>) outs(%h_out : tensor<2x5x8xf32>)
      -> tensor<2x5x8xf32>, tensor<2x8xf32>
  return
}

// -----

func.func @rg_lru_log_a_shape(%x: tensor<2x5x8xf32>, %la: tensor<2x5x4xf32>, %s_init: tensor<2x8xf32>, %h_out: tensor<2x5x8xf32>) {
  // expected-error @+1 {{'log_a' dim 2 (width) is 4, but 'x' dim 2 (width) is 8}}
  %h, %s = hybrid.rg_lru x(%x : tensor<2x5x8xf32>) log_a(%la : tensor<2x5x4xf32>) init(%s_init : tensor<2x8xf32>) outs(%h_out : tensor<2x5x8xf32>)
      -> tensor<2x5x8xf32>, tensor<2x8xf32>
  return
}

// -----

func.func @delta_decay_half(%q: tensor<1x4x2x8xf32>, %beta: tensor<1x4x2xf32>, %a: tensor<2xf32>, %s_init: tensor<1x2x8x8xf32>, %o_out: tensor<1x4x2x8xf32>) {
  // expected-error @+1 {{'decay_a_log' and 'decay_bias' go together (Gated DeltaNet's decay activation); one is missing}}
  %o, %s = hybrid.delta_rule q(%q : tensor<1x4x2x8xf32>) k(%q : tensor<1x4x2x8xf32>) v(%q : tensor<1x4x2x8xf32>)
      beta(%beta : tensor<1x4x2xf32>) log_decay(%beta : tensor<1x4x2xf32>) decay_a_log(%a : tensor<2xf32>) init(%s_init : tensor<1x2x8x8xf32>) outs(%o_out : tensor<1x4x2x8xf32>)
      -> tensor<1x4x2x8xf32>, tensor<1x2x8x8xf32>
  return
}

// -----

func.func @delta_decay_without_log_decay(%q: tensor<1x4x2x8xf32>, %beta: tensor<1x4x2xf32>, %a: tensor<2xf32>, %s_init: tensor<1x2x8x8xf32>, %o_out: tensor<1x4x2x8xf32>) {
  // expected-error @+1 {{'decay_a_log' and 'decay_bias' need 'log_decay' (the raw decay input they activate)}}
  %o, %s = hybrid.delta_rule q(%q : tensor<1x4x2x8xf32>) k(%q : tensor<1x4x2x8xf32>) v(%q : tensor<1x4x2x8xf32>)
      beta(%beta : tensor<1x4x2xf32>) decay_a_log(%a : tensor<2xf32>) decay_bias(%a : tensor<2xf32>) init(%s_init : tensor<1x2x8x8xf32>) outs(%o_out : tensor<1x4x2x8xf32>)
      -> tensor<1x4x2x8xf32>, tensor<1x2x8x8xf32>
  return
}

// -----

func.func @delta_decay_heads(%q: tensor<1x4x2x8xf32>, %beta: tensor<1x4x2xf32>, %a: tensor<3xf32>, %s_init: tensor<1x2x8x8xf32>, %o_out: tensor<1x4x2x8xf32>) {
  // expected-error @+1 {{'decay_a_log' dim 0 (v_heads) is 3, but 'v' dim 2 (v_heads) is 2}}
  %o, %s = hybrid.delta_rule q(%q : tensor<1x4x2x8xf32>) k(%q : tensor<1x4x2x8xf32>) v(%q : tensor<1x4x2x8xf32>)
      beta(%beta : tensor<1x4x2xf32>) log_decay(%beta : tensor<1x4x2xf32>) decay_a_log(%a : tensor<3xf32>) decay_bias(%a : tensor<3xf32>) init(%s_init : tensor<1x2x8x8xf32>) outs(%o_out : tensor<1x4x2x8xf32>)
      -> tensor<1x4x2x8xf32>, tensor<1x2x8x8xf32>
  return
}

// -----

// Destinations: every op writes its result into `outs(...)`.
func.func @missing_outs(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{expected 'outs(%dest : type)', the destination of the result}}
  %y = hybrid.rms_norm %x epsilon 1.0e-6 : tensor<2x8xf32> -> tensor<2x8xf32>
  return
}

// -----

func.func @outs_twice(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{'outs' appears twice}}
  %y = hybrid.rms_norm %x outs(%x : tensor<2x8xf32>) outs(%x : tensor<2x8xf32>) : tensor<2x8xf32> -> tensor<2x8xf32>
  return
}

// -----

func.func @outs_type_differs(%x: tensor<2x8xf32>, %o: tensor<2x9xf32>) {
  // expected-error @+1 {{destination ('outs') type 'tensor<2x9xf32>' must equal the input type 'tensor<2x8xf32>'}}
  %y = hybrid.rms_norm %x outs(%o : tensor<2x9xf32>) : tensor<2x8xf32> -> tensor<2x8xf32>
  return
}

// -----

// A recurrence's initial state is its final state's destination: required.
func.func @missing_init(%xg: tensor<2x5x48xf32>, %wh: tensor<16x48xf32>, %o: tensor<2x5x16xf32>) {
  // expected-error @+2 {{expected 'init'}}
  %h, %s = hybrid.gru input_gates(%xg : tensor<2x5x48xf32>) hidden_weight(%wh : tensor<16x48xf32>)
      outs(%o : tensor<2x5x16xf32>) -> tensor<2x5x16xf32>, tensor<2x16xf32>
  return
}

// -----

func.func @state_destination_type_differs(%xg: tensor<2x5x48xf32>, %wh: tensor<16x48xf32>, %h0: tensor<2x16xf16>, %o: tensor<2x5x16xf32>) {
  // expected-error @+1 {{'initial_state' must have element type f32 (states are f32), got 'f16'}}
  %h, %s = hybrid.gru input_gates(%xg : tensor<2x5x48xf32>) hidden_weight(%wh : tensor<16x48xf32>)
      init(%h0 : tensor<2x16xf16>) outs(%o : tensor<2x5x16xf32>) -> tensor<2x5x16xf32>, tensor<2x16xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// The two forms: all tensors with results, or all memrefs without

func.func @mixed_forms(%x: tensor<2x8xf32>, %o: memref<2x8xf32>) {
  // expected-error @+1 {{mixes tensor and memref operands: either every operand is a tensor (the tensor form, with results) or every operand is a memref (the memref form, without results)}}
  hybrid.rms_norm %x outs(%o : memref<2x8xf32>) : tensor<2x8xf32>
  return
}

// -----

func.func @memref_form_with_results(%x: memref<1x4x8xf32>, %w: memref<4x8xf32>, %t: memref<1x3x8xf32>, %y: memref<1x4x8xf32>) {
  // expected-error @+1 {{has 2 results, but its memref form has none (its destinations are updated in place)}}
  %a, %b = hybrid.causal_conv1d x(%x : memref<1x4x8xf32>) weight(%w : memref<4x8xf32>)
      init(%t : memref<1x3x8xf32>) outs(%y : memref<1x4x8xf32>) -> tensor<1x4x8xf32>, tensor<1x3x8xf32>
  return
}

// -----

func.func @tensor_form_without_results(%x: tensor<1x4x8xf32>, %w: tensor<4x8xf32>, %t: tensor<1x3x8xf32>, %y: tensor<1x4x8xf32>) {
  // expected-error @+1 {{has 0 results, but its tensor form has 2 (one per destination)}}
  hybrid.causal_conv1d x(%x : tensor<1x4x8xf32>) weight(%w : tensor<4x8xf32>)
      init(%t : tensor<1x3x8xf32>) outs(%y : tensor<1x4x8xf32>)
  return
}

// -----

func.func @memref_state_shape(%x: memref<1x4x8xf32>, %w: memref<4x8xf32>, %t: memref<1x2x8xf32>, %y: memref<1x4x8xf32>) {
  // expected-error @+1 {{'initial_state' dim 1 is 2, expected width - 1 = 3 (the state holds the last width - 1 inputs)}}
  hybrid.causal_conv1d x(%x : memref<1x4x8xf32>) weight(%w : memref<4x8xf32>)
      init(%t : memref<1x2x8xf32>) outs(%y : memref<1x4x8xf32>)
  return
}
