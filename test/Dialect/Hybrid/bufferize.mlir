// One-shot bufferization of hybrid ops through their BufferizableOpInterface
// models: the tensor form becomes the memref form on the same buffers. The
// final state is written over the initial state's buffer (in place when
// nothing reads the initial state later, else into a copy); the sequence
// destination is only written, so a fresh buffer for it needs no copy.
// RUN: hybrid-opt %s --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" -split-input-file | FileCheck %s

// A decode step: the state argument is updated in place and returned.
// CHECK-LABEL: func.func @step_in_place
// CHECK-SAME: %[[U:[a-z0-9]+]]: memref<1x1x8xf32>, %{{.*}}: memref<8x4xf32>, %{{.*}}: memref<1x1x4xf32>, %[[H0:[a-z0-9]+]]: memref<1x8x4xf32>
// CHECK-NOT: memref.copy
// CHECK: %[[Y:.*]] = memref.alloc() {{.*}} : memref<1x1x8xf32>
// CHECK-NOT: memref.copy
// CHECK: hybrid.ssm_scan u(%[[U]] : memref<1x1x8xf32>) {{.*}} init(%[[H0]] : memref<1x8x4xf32>) outs(%[[Y]] : memref<1x1x8xf32>){{$}}
// CHECK: return %[[Y]], %[[H0]]
func.func @step_in_place(%u: tensor<1x1x8xf32>, %A: tensor<8x4xf32>, %B: tensor<1x1x4xf32>,
    %h0: tensor<1x8x4xf32>) -> (tensor<1x1x8xf32>, tensor<1x8x4xf32>) {
  %e = tensor.empty() : tensor<1x1x8xf32>
  %y, %h = hybrid.ssm_scan u(%u : tensor<1x1x8xf32>) delta(%u : tensor<1x1x8xf32>) A(%A : tensor<8x4xf32>)
      B(%B : tensor<1x1x4xf32>) C(%B : tensor<1x1x4xf32>) init(%h0 : tensor<1x8x4xf32>)
      outs(%e : tensor<1x1x8xf32>) -> tensor<1x1x8xf32>, tensor<1x8x4xf32>
  return %y, %h : tensor<1x1x8xf32>, tensor<1x8x4xf32>
}

// -----

// The initial state is returned too: the op updates a copy of it.
// CHECK-LABEL: func.func @state_read_later
// CHECK-SAME: %[[X:[a-z0-9]+]]: memref<1x5x8xf32>, %[[W:[a-z0-9]+]]: memref<4x8xf32>, %[[T0:[a-z0-9]+]]: memref<1x3x8xf32>
// CHECK: %[[Y:.*]] = memref.alloc() {{.*}} : memref<1x5x8xf32>
// CHECK: %[[T:.*]] = memref.alloc() {{.*}} : memref<1x3x8xf32>
// CHECK: memref.copy %[[T0]], %[[T]]
// CHECK: hybrid.causal_conv1d x(%[[X]] : memref<1x5x8xf32>) weight(%[[W]] : memref<4x8xf32>) init(%[[T]] : memref<1x3x8xf32>) outs(%[[Y]] : memref<1x5x8xf32>){{$}}
// CHECK: return %[[Y]], %[[T]], %[[T0]]
func.func @state_read_later(%x: tensor<1x5x8xf32>, %w: tensor<4x8xf32>, %t0: tensor<1x3x8xf32>)
    -> (tensor<1x5x8xf32>, tensor<1x3x8xf32>, tensor<1x3x8xf32>) {
  %e = tensor.empty() : tensor<1x5x8xf32>
  %y, %t = hybrid.causal_conv1d x(%x : tensor<1x5x8xf32>) weight(%w : tensor<4x8xf32>)
      init(%t0 : tensor<1x3x8xf32>) outs(%e : tensor<1x5x8xf32>) -> tensor<1x5x8xf32>, tensor<1x3x8xf32>
  return %y, %t, %t0 : tensor<1x5x8xf32>, tensor<1x3x8xf32>, tensor<1x3x8xf32>
}

// -----

// `outs` is the input, which is read again later: the result gets a fresh
// buffer, and since the op never reads its destination, nothing is copied
// into it.
// CHECK-LABEL: func.func @outs_is_an_input
// CHECK-SAME: %[[X:[a-z0-9]+]]: memref<2x8xf32>, %[[W:[a-z0-9]+]]: memref<8xf32>
// CHECK: %[[R:.*]] = memref.alloc() {{.*}} : memref<2x8xf32>
// CHECK-NOT: memref.copy
// CHECK: hybrid.rms_norm %[[X]] weight(%[[W]] : memref<8xf32>) outs(%[[R]] : memref<2x8xf32>) : memref<2x8xf32>
// CHECK: return %[[R]], %[[X]]
func.func @outs_is_an_input(%x: tensor<2x8xf32>, %w: tensor<8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>) {
  %r = hybrid.rms_norm %x weight(%w : tensor<8xf32>) outs(%x : tensor<2x8xf32>) : tensor<2x8xf32> -> tensor<2x8xf32>
  return %r, %x : tensor<2x8xf32>, tensor<2x8xf32>
}

// -----

// Inside a tile: hybrid-tile's slices become subviews, and the tiled op
// updates its slice of the state in place.
// CHECK-LABEL: func.func @tiled
// CHECK-SAME: %{{.*}}: memref<2x?x8xf32>, %{{.*}}: memref<2x?x8xf32>, %{{.*}}: memref<2x?x8xf32>, %[[H0:[a-z0-9]+]]: memref<2x8xf32>
// CHECK: scf.forall (%[[B:.*]]) in (2)
// CHECK: %[[HS:.*]] = memref.subview %[[H0]][%[[B]], 0] [1, 8] [1, 1]
// CHECK: hybrid.rg_lru x({{.*}}) log_a({{.*}}) init(%[[HS]] : memref<1x8xf32, strided<[8, 1], offset: ?>>) outs(%{{.*}} : memref<1x?x8xf32, strided<[?, 8, 1], offset: ?>>){{$}}
// CHECK: return
func.func @tiled(%x: tensor<2x?x8xf32>, %la: tensor<2x?x8xf32>, %out: tensor<2x?x8xf32>, %h0: tensor<2x8xf32>)
    -> (tensor<2x?x8xf32>, tensor<2x8xf32>) {
  %r:2 = scf.forall (%b) in (2) shared_outs(%o = %out, %s = %h0) -> (tensor<2x?x8xf32>, tensor<2x8xf32>) {
    %c1 = arith.constant 1 : index
    %t = tensor.dim %x, %c1 : tensor<2x?x8xf32>
    %xs = tensor.extract_slice %x[%b, 0, 0] [1, %t, 8] [1, 1, 1] : tensor<2x?x8xf32> to tensor<1x?x8xf32>
    %ls = tensor.extract_slice %la[%b, 0, 0] [1, %t, 8] [1, 1, 1] : tensor<2x?x8xf32> to tensor<1x?x8xf32>
    %os = tensor.extract_slice %o[%b, 0, 0] [1, %t, 8] [1, 1, 1] : tensor<2x?x8xf32> to tensor<1x?x8xf32>
    %hs = tensor.extract_slice %s[%b, 0] [1, 8] [1, 1] : tensor<2x8xf32> to tensor<1x8xf32>
    %y, %h = hybrid.rg_lru x(%xs : tensor<1x?x8xf32>) log_a(%ls : tensor<1x?x8xf32>) init(%hs : tensor<1x8xf32>)
        outs(%os : tensor<1x?x8xf32>) -> tensor<1x?x8xf32>, tensor<1x8xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %y into %o[%b, 0, 0] [1, %t, 8] [1, 1, 1] : tensor<1x?x8xf32> into tensor<2x?x8xf32>
      tensor.parallel_insert_slice %h into %s[%b, 0] [1, 8] [1, 1] : tensor<1x8xf32> into tensor<2x8xf32>
    }
  }
  return %r#0, %r#1 : tensor<2x?x8xf32>, tensor<2x8xf32>
}
