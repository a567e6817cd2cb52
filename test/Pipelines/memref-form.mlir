// IR written in the memref form (the ops on buffers, no results) compiles
// with the CPU pipeline as it is: convert-hybrid-to-scf leaves it alone and
// hybrid-lower-to-loops lowers it after bufferization.
// RUN: hybrid-opt %s --hybrid-cpu-pipeline | FileCheck %s
// RUN: hybrid-opt %s --hybrid-cpu-pipeline="openmp=false tile=false fuse=false" | FileCheck %s

// CHECK: llvm.func @step
// CHECK-NOT: hybrid.
// CHECK: llvm.return
func.func @step(%u: memref<1x1x8xf32>, %A: memref<8x4xf32>, %B: memref<1x1x4xf32>,
    %h: memref<1x8x4xf32>, %y: memref<1x1x8xf32>) {
  hybrid.ssm_scan u(%u : memref<1x1x8xf32>) delta(%u : memref<1x1x8xf32>) A(%A : memref<8x4xf32>)
      B(%B : memref<1x1x4xf32>) C(%B : memref<1x1x4xf32>) init(%h : memref<1x8x4xf32>)
      delta_softplus outs(%y : memref<1x1x8xf32>)
  hybrid.rms_norm %y outs(%y : memref<1x1x8xf32>) : memref<1x1x8xf32>
  return
}
