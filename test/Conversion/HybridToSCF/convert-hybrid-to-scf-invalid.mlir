// RUN: hybrid-opt %s --convert-hybrid-to-scf --split-input-file -verify-diagnostics

func.func @dynamic_state(%u: tensor<2x?x24xf32>, %A: tensor<24x?xf32>, %B: tensor<2x?x1x?xf32>, %h_init: tensor<2x24x?xf32>, %y_out: tensor<2x?x24xf32>) {
  // expected-error @+1 {{cannot be lowered: d_state (dimension 1 of 'A') must be static (it sizes the vector registers that hold the state)}}
  %y, %h = hybrid.ssm_scan u(%u : tensor<2x?x24xf32>) delta(%u : tensor<2x?x24xf32>)
      A(%A : tensor<24x?xf32>) B(%B : tensor<2x?x1x?xf32>) C(%B : tensor<2x?x1x?xf32>) init(%h_init : tensor<2x24x?xf32>) outs(%y_out : tensor<2x?x24xf32>)
      -> tensor<2x?x24xf32>, tensor<2x24x?xf32>
  return
}

// -----

func.func @dynamic_head(%q: tensor<1x4x2x?xf32>, %v: tensor<1x4x2x8xf32>, %o_out: tensor<1x4x2x8xf32>) {
  // expected-error @+1 {{cannot be lowered: the key width (dimension 3 of 'q') must be static}}
  %o = hybrid.windowed_attention q(%q : tensor<1x4x2x?xf32>) k(%q : tensor<1x4x2x?xf32>)
      v(%v : tensor<1x4x2x8xf32>) scale 0.125 outs(%o_out : tensor<1x4x2x8xf32>) -> tensor<1x4x2x8xf32>
  return
}

// -----

func.func @dynamic_key(%r: tensor<1x4x2x?xf32>, %v: tensor<1x4x2x8xf32>, %u: tensor<2x?xf32>, %s_init: tensor<1x2x8x?xf32>, %o_out: tensor<1x4x2x8xf32>) {
  // expected-error @+1 {{cannot be lowered: the key width (dimension 3 of 'r') must be static}}
  %o, %s = hybrid.wkv rwkv6 r(%r : tensor<1x4x2x?xf32>) k(%r : tensor<1x4x2x?xf32>) v(%v : tensor<1x4x2x8xf32>)
      log_decay(%r : tensor<1x4x2x?xf32>) bonus(%u : tensor<2x?xf32>) init(%s_init : tensor<1x2x8x?xf32>) outs(%o_out : tensor<1x4x2x8xf32>) -> tensor<1x4x2x8xf32>, tensor<1x2x8x?xf32>
  return
}
