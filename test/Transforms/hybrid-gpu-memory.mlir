// RUN: hybrid-opt %s --hybrid-gpu-memory -split-input-file -verify-diagnostics | FileCheck %s

// Host allocations, copies and deallocations become device ones; a
// kernel's own buffer becomes thread-private (alloca, no dealloc).
// CHECK-LABEL: func.func @f
// CHECK-SAME: %[[X:[a-z0-9]+]]: memref<2x?xf32>, %[[H:[a-z0-9]+]]: memref<2x16xf32>
// CHECK: %[[N:.*]] = memref.dim %[[X]]
// CHECK: %[[Y:.*]] = gpu.alloc (%[[N]]) : memref<2x?xf32>
// CHECK: %[[HC:.*]] = gpu.alloc () : memref<2x16xf32>
// CHECK: gpu.memcpy %[[HC]], %[[H]] : memref<2x16xf32>, memref<2x16xf32>
// CHECK: gpu.launch
// CHECK:   %[[S:.*]] = memref.alloca() : memref<16xf32>
// CHECK:   %[[V:.*]] = memref.load %[[HC]]
// CHECK:   memref.store %[[V]], %[[S]]
// CHECK-NOT: memref.dealloc
// CHECK:   gpu.terminator
// CHECK: gpu.dealloc %[[HC]] : memref<2x16xf32>
// CHECK: return %[[Y]]
func.func @f(%x: memref<2x?xf32>, %h: memref<2x16xf32>) -> memref<2x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %n = memref.dim %x, %c1 : memref<2x?xf32>
  %y = memref.alloc(%n) : memref<2x?xf32>
  %hc = memref.alloc() : memref<2x16xf32>
  memref.copy %h, %hc : memref<2x16xf32> to memref<2x16xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c2, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    %s = memref.alloc() : memref<16xf32>
    %v = memref.load %hc[%bx, %c0] : memref<2x16xf32>
    memref.store %v, %s[%c0] : memref<16xf32>
    %w = memref.load %s[%c0] : memref<16xf32>
    memref.store %w, %y[%bx, %c0] : memref<2x?xf32>
    memref.dealloc %s : memref<16xf32>
    gpu.terminator
  }
  memref.dealloc %hc : memref<2x16xf32>
  return %y : memref<2x?xf32>
}

// -----

func.func @dynamic_in_kernel(%n: index) {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    // expected-error @+1 {{allocates a dynamically sized buffer inside a GPU kernel; its size must be static}}
    %s = memref.alloc(%n) : memref<?xf32>
    gpu.terminator
  }
  return
}

// -----

func.func @host_load(%x: memref<4xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  // expected-error @+1 {{would run on the host and access device memory: a loop was not mapped to the GPU}}
  %v = memref.load %x[%c0] : memref<4xf32>
  return %v : f32
}

// -----

func.func @host_strided_copy(%x: memref<4x8xf32>, %y: memref<4x4xf32, strided<[8, 1]>>) {
  %s = memref.subview %x[0, 0] [4, 4] [1, 1] : memref<4x8xf32> to memref<4x4xf32, strided<[8, 1]>>
  // expected-error @+1 {{copies a strided buffer on the host side of a GPU program}}
  memref.copy %s, %y : memref<4x4xf32, strided<[8, 1]>> to memref<4x4xf32, strided<[8, 1]>>
  return
}
