func.func @f(%u: memref<1x4x8xf32>, %A: memref<8x4xf32>, %B: memref<1x4x4xf32>, %h: memref<1x8x4xf32>, %y: memref<1x4x8xf32>, %g: memref<1x4x24xf32>, %w: memref<8x24xf32>, %s: memref<1x8xf32>) {
  hybrid.ssm_scan u(%u : memref<1x4x8xf32>) delta(%u : memref<1x4x8xf32>) A(%A : memref<8x4xf32>) B(%B : memref<1x4x4xf32>) C(%B : memref<1x4x4xf32>) init(%h : memref<1x8x4xf32>) delta_softplus outs(%y : memref<1x4x8xf32>)
  hybrid.gru input_gates(%g : memref<1x4x24xf32>) hidden_weight(%w : memref<8x24xf32>) init(%s : memref<1x8xf32>) outs(%y : memref<1x4x8xf32>)
  hybrid.rms_norm %y outs(%y : memref<1x4x8xf32>) : memref<1x4x8xf32>
  return
}
