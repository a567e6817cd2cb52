// RUN: hybrid-opt %s --hybrid-tile -split-input-file -verify-diagnostics

// 8 channels per tile over B/C groups of 12: a tile would straddle groups.
func.func @straddles_groups(%u: tensor<1x8x24xf32>, %A: tensor<24x4xf32>, %B: tensor<1x8x2x4xf32>, %h_init: tensor<1x24x4xf32>, %y_out: tensor<1x8x24xf32>) -> tensor<1x8x24xf32> {
  // expected-error @+1 {{tile size 8 of loop 1 straddles groups of 12 (it must divide the group size or be a multiple of it)}}
  %y, %h = hybrid.ssm_scan u(%u : tensor<1x8x24xf32>) delta(%u : tensor<1x8x24xf32>)
      A(%A : tensor<24x4xf32>) B(%B : tensor<1x8x2x4xf32>) C(%B : tensor<1x8x2x4xf32>) init(%h_init : tensor<1x24x4xf32>)
      outs(%y_out : tensor<1x8x24xf32>) {hybrid.tile_sizes = array<i64: 1, 8>} -> tensor<1x8x24xf32>, tensor<1x24x4xf32>
  return %y : tensor<1x8x24xf32>
}

// -----

// gru has one parallel loop (batch): the hidden mat-vec couples channels.
func.func @too_many_sizes(%xg: tensor<4x8x48xf32>, %wh: tensor<16x48xf32>, %s_init: tensor<4x16xf32>, %h_out: tensor<4x8x16xf32>) -> tensor<4x8x16xf32> {
  // expected-error @+1 {{has 1 parallel loops, but 2 tile sizes were given}}
  %h, %s = hybrid.gru input_gates(%xg : tensor<4x8x48xf32>) hidden_weight(%wh : tensor<16x48xf32>) init(%s_init : tensor<4x16xf32>)
      outs(%h_out : tensor<4x8x16xf32>) {hybrid.tile_sizes = array<i64: 1, 8>} -> tensor<4x8x16xf32>, tensor<4x16xf32>
  return %h : tensor<4x8x16xf32>
}

// -----

func.func @negative(%x: tensor<1x8x16xf32>, %a: tensor<16xf32>, %s_init: tensor<1x16xf32>, %h_out: tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  // expected-error @+1 {{tile size -2 of loop 1 is negative}}
  %h, %s = hybrid.rg_lru x(%x : tensor<1x8x16xf32>) gate_x(%x : tensor<1x8x16xf32>) gate_a(%x : tensor<1x8x16xf32>)
      a_param(%a : tensor<16xf32>) init(%s_init : tensor<1x16xf32>) outs(%h_out : tensor<1x8x16xf32>) {hybrid.tile_sizes = array<i64: 1, -2>} -> tensor<1x8x16xf32>, tensor<1x16xf32>
  return %h : tensor<1x8x16xf32>
}
