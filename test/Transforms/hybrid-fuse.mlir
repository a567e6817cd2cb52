// RUN: hybrid-opt %s --hybrid-fuse -split-input-file | FileCheck %s

#id = affine_map<(b, t, c) -> (b, t, c)>
#ch = affine_map<(b, t, c) -> (c)>

// The Mamba discretisation softplus(dt + bias), written in two element-wise
// ops (merged first), becomes delta(dt) delta_bias(bias) delta_softplus.
// CHECK-LABEL: func.func @discretisation
// CHECK-SAME: %[[U:[a-z0-9]+]]: tensor<1x8x16xf32>, %[[DT:[a-z0-9]+]]: tensor<1x8x16xf32>, %[[BIAS:[a-z0-9]+]]: tensor<16xf32>
// CHECK-NOT: linalg.generic
// CHECK: %[[Y:.*]], %{{.*}} = hybrid.ssm_scan u(%[[U]] : {{.*}}) delta(%[[DT]] : {{.*}}) {{.*}} delta_bias(%[[BIAS]] : tensor<16xf32>) init(%{{.*}}) delta_softplus outs(%{{.*}})
// CHECK: return %[[Y]]
func.func @discretisation(%u: tensor<1x8x16xf32>, %dt: tensor<1x8x16xf32>, %bias: tensor<16xf32>,
    %A: tensor<16x4xf32>, %B: tensor<1x8x1x4xf32>, %C: tensor<1x8x1x4xf32>, %h_init: tensor<1x16x4xf32>, %y_out: tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  %e = tensor.empty() : tensor<1x8x16xf32>
  %s = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%dt, %bias : tensor<1x8x16xf32>, tensor<16xf32>) outs(%e : tensor<1x8x16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x8x16xf32>
  %delta = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s : tensor<1x8x16xf32>) outs(%e : tensor<1x8x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %ex = math.exp %a : f32
    %l = math.log1p %ex : f32
    linalg.yield %l : f32
  } -> tensor<1x8x16xf32>
  %y, %h = hybrid.ssm_scan u(%u : tensor<1x8x16xf32>) delta(%delta : tensor<1x8x16xf32>)
      A(%A : tensor<16x4xf32>) B(%B : tensor<1x8x1x4xf32>) C(%C : tensor<1x8x1x4xf32>) init(%h_init : tensor<1x16x4xf32>) outs(%y_out : tensor<1x8x16xf32>)
      -> tensor<1x8x16xf32>, tensor<1x16x4xf32>
  return %y : tensor<1x8x16xf32>
}

// -----

#id = affine_map<(b, t, c) -> (b, t, c)>

// The stable softplus max(x, 0) + log1p(exp(-|x|)) without a bias.
// CHECK-LABEL: func.func @stable_softplus
// CHECK-SAME: %{{[a-z0-9]+}}: tensor<1x8x16xf32>, %[[DT:[a-z0-9]+]]: tensor<1x8x16xf32>
// CHECK: hybrid.ssm_scan {{.*}} delta(%[[DT]] : {{.*}}) {{.*}}delta_softplus
// CHECK-NOT: delta_bias
func.func @stable_softplus(%u: tensor<1x8x16xf32>, %dt: tensor<1x8x16xf32>,
    %A: tensor<16x4xf32>, %B: tensor<1x8x1x4xf32>, %C: tensor<1x8x1x4xf32>, %h_init: tensor<1x16x4xf32>, %y_out: tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x8x16xf32>
  %delta = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%dt : tensor<1x8x16xf32>) outs(%e : tensor<1x8x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.maximumf %a, %zero : f32
    %ab = math.absf %a : f32
    %n = arith.negf %ab : f32
    %ex = math.exp %n : f32
    %l = math.log1p %ex : f32
    %r = arith.addf %m, %l : f32
    linalg.yield %r : f32
  } -> tensor<1x8x16xf32>
  %y, %h = hybrid.ssm_scan u(%u : tensor<1x8x16xf32>) delta(%delta : tensor<1x8x16xf32>)
      A(%A : tensor<16x4xf32>) B(%B : tensor<1x8x1x4xf32>) C(%C : tensor<1x8x1x4xf32>) init(%h_init : tensor<1x16x4xf32>) outs(%y_out : tensor<1x8x16xf32>)
      -> tensor<1x8x16xf32>, tensor<1x16x4xf32>
  return %y : tensor<1x8x16xf32>
}

// -----

#id = affine_map<(b, t, c) -> (b, t, c)>
#ch = affine_map<(b, t, c) -> (c)>

// y + D * u, then y * silu(z) (merged into one body first): the scan gets
// D(%D) and z(%Z), and its y replaces the gated value.
// CHECK-LABEL: func.func @skip_and_gate
// CHECK-SAME: %[[U:[a-z0-9]+]]: tensor<2x8x16xf32>, %[[DT:[a-z0-9]+]]: tensor<2x8x16xf32>, %[[D:[a-z0-9]+]]: tensor<16xf32>, %[[Z:[a-z0-9]+]]: tensor<2x8x16xf32>
// CHECK-NOT: linalg.generic
// CHECK: %[[Y:.*]], %[[H:.*]] = hybrid.ssm_scan u(%[[U]] : {{.*}}) delta(%[[DT]] : {{.*}}) {{.*}} D(%[[D]] : tensor<16xf32>) z(%[[Z]] : tensor<2x8x16xf32>)
// CHECK: return %[[Y]], %[[H]]
func.func @skip_and_gate(%u: tensor<2x8x16xf32>, %dt: tensor<2x8x16xf32>, %D: tensor<16xf32>, %z: tensor<2x8x16xf32>,
    %A: tensor<16x4xf32>, %B: tensor<2x8x1x4xf32>, %C: tensor<2x8x1x4xf32>, %h_init: tensor<2x16x4xf32>, %y_out: tensor<2x8x16xf32>) -> (tensor<2x8x16xf32>, tensor<2x16x4xf32>) {
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<2x8x16xf32>
  %y, %h = hybrid.ssm_scan u(%u : tensor<2x8x16xf32>) delta(%dt : tensor<2x8x16xf32>)
      A(%A : tensor<16x4xf32>) B(%B : tensor<2x8x1x4xf32>) C(%C : tensor<2x8x1x4xf32>) init(%h_init : tensor<2x16x4xf32>) outs(%y_out : tensor<2x8x16xf32>)
      -> tensor<2x8x16xf32>, tensor<2x16x4xf32>
  %yd = linalg.generic {indexing_maps = [#id, #ch, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%y, %D, %u : tensor<2x8x16xf32>, tensor<16xf32>, tensor<2x8x16xf32>) outs(%e : tensor<2x8x16xf32>) {
  ^bb0(%a: f32, %d: f32, %x: f32, %o: f32):
    %m = arith.mulf %x, %d : f32
    %s = arith.addf %m, %a : f32
    linalg.yield %s : f32
  } -> tensor<2x8x16xf32>
  %g = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%yd, %z : tensor<2x8x16xf32>, tensor<2x8x16xf32>) outs(%e : tensor<2x8x16xf32>) {
  ^bb0(%a: f32, %zz: f32, %o: f32):
    %n = arith.negf %zz : f32
    %ex = math.exp %n : f32
    %d = arith.addf %ex, %one : f32
    %sl = arith.divf %zz, %d : f32
    %r = arith.mulf %a, %sl : f32
    linalg.yield %r : f32
  } -> tensor<2x8x16xf32>
  return %g, %h : tensor<2x8x16xf32>, tensor<2x16x4xf32>
}

// -----

#id = affine_map<(b, t, c) -> (b, t, c)>

// silu(conv(x)) becomes the conv's activation; the tail is untouched.
// CHECK-LABEL: func.func @conv_silu
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<1x8x16xf32>, %[[W:[a-z0-9]+]]: tensor<4x16xf32>
// CHECK-NOT: linalg.generic
// CHECK: %[[Y:.*]], %[[T:.*]] = hybrid.causal_conv1d x(%[[X]] : {{.*}}) weight(%[[W]] : {{.*}}) activation silu
// CHECK: return %[[Y]], %[[T]]
func.func @conv_silu(%x: tensor<1x8x16xf32>, %w: tensor<4x16xf32>, %tail_init: tensor<1x3x16xf32>, %y_out: tensor<1x8x16xf32>) -> (tensor<1x8x16xf32>, tensor<1x3x16xf32>) {
  %one = arith.constant 1.0 : f32
  %y, %tail = hybrid.causal_conv1d x(%x : tensor<1x8x16xf32>) weight(%w : tensor<4x16xf32>) init(%tail_init : tensor<1x3x16xf32>) outs(%y_out : tensor<1x8x16xf32>)
      -> tensor<1x8x16xf32>, tensor<1x3x16xf32>
  %e = tensor.empty() : tensor<1x8x16xf32>
  %s = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%y : tensor<1x8x16xf32>) outs(%e : tensor<1x8x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %n = arith.negf %a : f32
    %ex = math.exp %n : f32
    %d = arith.addf %one, %ex : f32
    %sg = arith.divf %one, %d : f32
    %r = arith.mulf %sg, %a : f32
    linalg.yield %r : f32
  } -> tensor<1x8x16xf32>
  return %s, %tail : tensor<1x8x16xf32>, tensor<1x3x16xf32>
}

// -----

#id = affine_map<(b, t, c) -> (b, t, c)>

// The discretised delta is also a function result: folding it would lose
// it, so nothing changes.
// CHECK-LABEL: func.func @do_not_fuse_delta_with_other_use
// CHECK: %[[DELTA:.*]] = linalg.generic
// CHECK: hybrid.ssm_scan {{.*}} delta(%[[DELTA]] : {{.*}})
// CHECK-NOT: delta_softplus
// CHECK: return {{.*}}, %[[DELTA]]
func.func @do_not_fuse_delta_with_other_use(%u: tensor<1x8x16xf32>, %dt: tensor<1x8x16xf32>,
    %A: tensor<16x4xf32>, %B: tensor<1x8x1x4xf32>, %C: tensor<1x8x1x4xf32>, %h_init: tensor<1x16x4xf32>, %y_out: tensor<1x8x16xf32>) -> (tensor<1x8x16xf32>, tensor<1x8x16xf32>) {
  %e = tensor.empty() : tensor<1x8x16xf32>
  %delta = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%dt : tensor<1x8x16xf32>) outs(%e : tensor<1x8x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %ex = math.exp %a : f32
    %l = math.log1p %ex : f32
    linalg.yield %l : f32
  } -> tensor<1x8x16xf32>
  %y, %h = hybrid.ssm_scan u(%u : tensor<1x8x16xf32>) delta(%delta : tensor<1x8x16xf32>)
      A(%A : tensor<16x4xf32>) B(%B : tensor<1x8x1x4xf32>) C(%C : tensor<1x8x1x4xf32>) init(%h_init : tensor<1x16x4xf32>) outs(%y_out : tensor<1x8x16xf32>)
      -> tensor<1x8x16xf32>, tensor<1x16x4xf32>
  return %y, %delta : tensor<1x8x16xf32>, tensor<1x8x16xf32>
}

// -----

#id = affine_map<(b, t, c) -> (b, t, c)>
#pos = affine_map<(b, t, c) -> (t)>

// A bias per position (t), not per channel: not the op's delta_bias.
// CHECK-LABEL: func.func @do_not_fuse_bias_per_position
// CHECK: linalg.generic
// CHECK-NOT: delta_softplus
func.func @do_not_fuse_bias_per_position(%u: tensor<1x16x16xf32>, %dt: tensor<1x16x16xf32>, %bias: tensor<16xf32>,
    %A: tensor<16x4xf32>, %B: tensor<1x16x1x4xf32>, %C: tensor<1x16x1x4xf32>, %h_init: tensor<1x16x4xf32>, %y_out: tensor<1x16x16xf32>) -> tensor<1x16x16xf32> {
  %e = tensor.empty() : tensor<1x16x16xf32>
  %delta = linalg.generic {indexing_maps = [#id, #pos, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%dt, %bias : tensor<1x16x16xf32>, tensor<16xf32>) outs(%e : tensor<1x16x16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    %ex = math.exp %s : f32
    %l = math.log1p %ex : f32
    linalg.yield %l : f32
  } -> tensor<1x16x16xf32>
  %y, %h = hybrid.ssm_scan u(%u : tensor<1x16x16xf32>) delta(%delta : tensor<1x16x16xf32>)
      A(%A : tensor<16x4xf32>) B(%B : tensor<1x16x1x4xf32>) C(%C : tensor<1x16x1x4xf32>) init(%h_init : tensor<1x16x4xf32>) outs(%y_out : tensor<1x16x16xf32>)
      -> tensor<1x16x16xf32>, tensor<1x16x4xf32>
  return %y : tensor<1x16x16xf32>
}

// -----

#id = affine_map<(b, t, c) -> (b, t, c)>
#ch = affine_map<(b, t, c) -> (c)>

// D times another tensor than the scan's u is not the D skip; and y is also
// returned, so the gate cannot be folded either.
// CHECK-LABEL: func.func @do_not_fuse_skip_of_other_input
// CHECK: %[[Y:.*]], %{{.*}} = hybrid.ssm_scan
// CHECK-NOT: D(
// CHECK: linalg.generic
// CHECK-LABEL: func.func @do_not_fuse_gate_of_returned_y
// CHECK: %[[Y2:.*]], %{{.*}} = hybrid.ssm_scan
// CHECK-NOT: z(
// CHECK: %[[G:.*]] = linalg.generic
// CHECK: return %[[G]], %[[Y2]]
func.func @do_not_fuse_skip_of_other_input(%u: tensor<1x8x16xf32>, %dt: tensor<1x8x16xf32>, %D: tensor<16xf32>, %v: tensor<1x8x16xf32>,
    %A: tensor<16x4xf32>, %B: tensor<1x8x1x4xf32>, %C: tensor<1x8x1x4xf32>, %h_init: tensor<1x16x4xf32>, %y_out: tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  %e = tensor.empty() : tensor<1x8x16xf32>
  %y, %h = hybrid.ssm_scan u(%u : tensor<1x8x16xf32>) delta(%dt : tensor<1x8x16xf32>)
      A(%A : tensor<16x4xf32>) B(%B : tensor<1x8x1x4xf32>) C(%C : tensor<1x8x1x4xf32>) init(%h_init : tensor<1x16x4xf32>) outs(%y_out : tensor<1x8x16xf32>)
      -> tensor<1x8x16xf32>, tensor<1x16x4xf32>
  %yd = linalg.generic {indexing_maps = [#id, #ch, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%y, %D, %v : tensor<1x8x16xf32>, tensor<16xf32>, tensor<1x8x16xf32>) outs(%e : tensor<1x8x16xf32>) {
  ^bb0(%a: f32, %d: f32, %x: f32, %o: f32):
    %m = arith.mulf %d, %x : f32
    %s = arith.addf %a, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x8x16xf32>
  return %yd : tensor<1x8x16xf32>
}
func.func @do_not_fuse_gate_of_returned_y(%u: tensor<1x8x16xf32>, %dt: tensor<1x8x16xf32>, %z: tensor<1x8x16xf32>,
    %A: tensor<16x4xf32>, %B: tensor<1x8x1x4xf32>, %C: tensor<1x8x1x4xf32>, %h_init: tensor<1x16x4xf32>, %y_out: tensor<1x8x16xf32>) -> (tensor<1x8x16xf32>, tensor<1x8x16xf32>) {
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<1x8x16xf32>
  %y, %h = hybrid.ssm_scan u(%u : tensor<1x8x16xf32>) delta(%dt : tensor<1x8x16xf32>)
      A(%A : tensor<16x4xf32>) B(%B : tensor<1x8x1x4xf32>) C(%C : tensor<1x8x1x4xf32>) init(%h_init : tensor<1x16x4xf32>) outs(%y_out : tensor<1x8x16xf32>)
      -> tensor<1x8x16xf32>, tensor<1x16x4xf32>
  %g = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%y, %z : tensor<1x8x16xf32>, tensor<1x8x16xf32>) outs(%e : tensor<1x8x16xf32>) {
  ^bb0(%a: f32, %zz: f32, %o: f32):
    %n = arith.negf %zz : f32
    %ex = math.exp %n : f32
    %d = arith.addf %ex, %one : f32
    %sl = arith.divf %zz, %d : f32
    %r = arith.mulf %a, %sl : f32
    linalg.yield %r : f32
  } -> tensor<1x8x16xf32>
  return %g, %y : tensor<1x8x16xf32>, tensor<1x8x16xf32>
}

// -----

#id = affine_map<(b, t, c) -> (b, t, c)>

// A conv that already has its activation, and a generic that is not SiLU
// (x * tanh(x)) after another conv: neither changes.
// CHECK-LABEL: func.func @do_not_fuse_conv
// CHECK: hybrid.causal_conv1d {{.*}} activation silu
// CHECK: linalg.generic
// CHECK: hybrid.causal_conv1d
// CHECK-NOT: activation
// CHECK: linalg.generic
func.func @do_not_fuse_conv(%x: tensor<1x8x16xf32>, %w: tensor<4x16xf32>, %tail_init: tensor<1x3x16xf32>, %y_out: tensor<1x8x16xf32>, %tail2_init: tensor<1x3x16xf32>, %y2_out: tensor<1x8x16xf32>) -> (tensor<1x8x16xf32>, tensor<1x8x16xf32>) {
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<1x8x16xf32>
  %y, %tail = hybrid.causal_conv1d x(%x : tensor<1x8x16xf32>) weight(%w : tensor<4x16xf32>) init(%tail_init : tensor<1x3x16xf32>) activation silu outs(%y_out : tensor<1x8x16xf32>)
      -> tensor<1x8x16xf32>, tensor<1x3x16xf32>
  %s = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%y : tensor<1x8x16xf32>) outs(%e : tensor<1x8x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %n = arith.negf %a : f32
    %ex = math.exp %n : f32
    %d = arith.addf %one, %ex : f32
    %r = arith.divf %a, %d : f32
    linalg.yield %r : f32
  } -> tensor<1x8x16xf32>
  %y2, %tail2 = hybrid.causal_conv1d x(%x : tensor<1x8x16xf32>) weight(%w : tensor<4x16xf32>) init(%tail2_init : tensor<1x3x16xf32>) outs(%y2_out : tensor<1x8x16xf32>)
      -> tensor<1x8x16xf32>, tensor<1x3x16xf32>
  %t = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%y2 : tensor<1x8x16xf32>) outs(%e : tensor<1x8x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %th = math.tanh %a : f32
    %r = arith.mulf %a, %th : f32
    linalg.yield %r : f32
  } -> tensor<1x8x16xf32>
  return %s, %t : tensor<1x8x16xf32>, tensor<1x8x16xf32>
}

// -----

#id = affine_map<(b, t, c) -> (b, t, c)>
#ch = affine_map<(b, t, c) -> (c)>

// RG-LRU's gate math around the core form (x already gated, log_a given)
// folds into the gated form: x(x) gate_x(gx) gate_a(ga) a_param(lam) c 6.
// CHECK-LABEL: func.func @lru_gates
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<1x8x16xf32>, %[[GX:[a-z0-9]+]]: tensor<1x8x16xf32>, %[[GA:[a-z0-9]+]]: tensor<1x8x16xf32>, %[[LAM:[a-z0-9]+]]: tensor<16xf32>
// CHECK-NOT: linalg.generic
// CHECK: %[[H:.*]], %[[S:.*]] = hybrid.rg_lru x(%[[X]] : {{.*}}) gate_x(%[[GX]] : {{.*}}) gate_a(%[[GA]] : {{.*}}) a_param(%[[LAM]] : tensor<16xf32>) init(%{{.*}}) c 6.000000e+00 outs(%{{.*}})
// CHECK-NOT: log_a
func.func @lru_gates(%x: tensor<1x8x16xf32>, %gx: tensor<1x8x16xf32>, %ga: tensor<1x8x16xf32>, %lam: tensor<16xf32>, %s_init: tensor<1x16xf32>, %h_out: tensor<1x8x16xf32>)
    -> (tensor<1x8x16xf32>, tensor<1x16xf32>) {
  %one = arith.constant 1.0 : f32
  %m6 = arith.constant -6.0 : f32
  %e = tensor.empty() : tensor<1x8x16xf32>
  %xg = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%gx, %x : tensor<1x8x16xf32>, tensor<1x8x16xf32>) outs(%e : tensor<1x8x16xf32>) {
  ^bb0(%g: f32, %v: f32, %o: f32):
    %n = arith.negf %g : f32
    %ex = math.exp %n : f32
    %d = arith.addf %one, %ex : f32
    %sg = arith.divf %one, %d : f32
    %r = arith.mulf %v, %sg : f32
    linalg.yield %r : f32
  } -> tensor<1x8x16xf32>
  %la = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%ga, %lam : tensor<1x8x16xf32>, tensor<16xf32>) outs(%e : tensor<1x8x16xf32>) {
  ^bb0(%g: f32, %l: f32, %o: f32):
    %n = arith.negf %g : f32
    %ex = math.exp %n : f32
    %d = arith.addf %one, %ex : f32
    %sg = arith.divf %one, %d : f32
    %el = math.exp %l : f32
    %sp = math.log1p %el : f32
    %p = arith.mulf %sg, %sp : f32
    %r = arith.mulf %m6, %p : f32
    linalg.yield %r : f32
  } -> tensor<1x8x16xf32>
  %h, %s = hybrid.rg_lru x(%xg : tensor<1x8x16xf32>) log_a(%la : tensor<1x8x16xf32>) init(%s_init : tensor<1x16xf32>) outs(%h_out : tensor<1x8x16xf32>) -> tensor<1x8x16xf32>, tensor<1x16xf32>
  return %h, %s : tensor<1x8x16xf32>, tensor<1x16xf32>
}

// -----

#id = affine_map<(b, t, c) -> (b, t, c)>

// log_a that is not -c sigmoid(gate_a) softplus(a_param) (here a plain
// negation) keeps the core form.
// CHECK-LABEL: func.func @do_not_fuse_lru_other_decay
// CHECK: %[[LA:.*]] = linalg.generic
// CHECK: hybrid.rg_lru x(%{{.*}}) log_a(%[[LA]] : tensor<1x8x16xf32>)
func.func @do_not_fuse_lru_other_decay(%x: tensor<1x8x16xf32>, %ga: tensor<1x8x16xf32>, %s_init: tensor<1x16xf32>, %h_out: tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  %e = tensor.empty() : tensor<1x8x16xf32>
  %la = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%ga : tensor<1x8x16xf32>) outs(%e : tensor<1x8x16xf32>) {
  ^bb0(%g: f32, %o: f32):
    %n = arith.negf %g : f32
    linalg.yield %n : f32
  } -> tensor<1x8x16xf32>
  %h, %s = hybrid.rg_lru x(%x : tensor<1x8x16xf32>) log_a(%la : tensor<1x8x16xf32>) init(%s_init : tensor<1x16xf32>) outs(%h_out : tensor<1x8x16xf32>) -> tensor<1x8x16xf32>, tensor<1x16xf32>
  return %h : tensor<1x8x16xf32>
}

// -----

#id = affine_map<(b, t, h) -> (b, t, h)>
#hd = affine_map<(b, t, h) -> (h)>

// Gated DeltaNet's beta = sigmoid(b) and log_decay = -exp(A_log) *
// softplus(a + dt_bias) (per head) become beta(b) beta_sigmoid and
// log_decay(a) decay_a_log(A_log) decay_bias(dt_bias).
// CHECK-LABEL: func.func @delta_activations
// CHECK-SAME: %{{[a-z0-9]+}}: tensor<1x8x2x16xf32>, %{{[a-z0-9]+}}: tensor<1x8x2x16xf32>, %[[B:[a-z0-9]+]]: tensor<1x8x2xf32>, %[[A:[a-z0-9]+]]: tensor<1x8x2xf32>, %[[ALOG:[a-z0-9]+]]: tensor<2xf32>, %[[DTB:[a-z0-9]+]]: tensor<2xf32>
// CHECK-NOT: linalg.generic
// CHECK: hybrid.delta_rule {{.*}} beta(%[[B]] : tensor<1x8x2xf32>) log_decay(%[[A]] : tensor<1x8x2xf32>) decay_a_log(%[[ALOG]] : tensor<2xf32>) decay_bias(%[[DTB]] : tensor<2xf32>) init(%{{.*}}) beta_sigmoid outs(%{{.*}})
func.func @delta_activations(%q: tensor<1x8x2x16xf32>, %v: tensor<1x8x2x16xf32>, %b: tensor<1x8x2xf32>,
    %a: tensor<1x8x2xf32>, %alog: tensor<2xf32>, %dtb: tensor<2xf32>, %st_init: tensor<1x2x16x16xf32>, %o_out: tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32> {
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<1x8x2xf32>
  %beta = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%b : tensor<1x8x2xf32>) outs(%e : tensor<1x8x2xf32>) {
  ^bb0(%x: f32, %o: f32):
    %n = arith.negf %x : f32
    %ex = math.exp %n : f32
    %d = arith.addf %one, %ex : f32
    %r = arith.divf %one, %d : f32
    linalg.yield %r : f32
  } -> tensor<1x8x2xf32>
  %g = linalg.generic {indexing_maps = [#id, #hd, #hd, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%a, %alog, %dtb : tensor<1x8x2xf32>, tensor<2xf32>, tensor<2xf32>) outs(%e : tensor<1x8x2xf32>) {
  ^bb0(%x: f32, %al: f32, %bb: f32, %o: f32):
    %s = arith.addf %x, %bb : f32
    %ex = math.exp %s : f32
    %sp = math.log1p %ex : f32
    %ea = math.exp %al : f32
    %m = arith.mulf %ea, %sp : f32
    %r = arith.negf %m : f32
    linalg.yield %r : f32
  } -> tensor<1x8x2xf32>
  %o, %st = hybrid.delta_rule q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%v : tensor<1x8x2x16xf32>)
      beta(%beta : tensor<1x8x2xf32>) log_decay(%g : tensor<1x8x2xf32>) init(%st_init : tensor<1x2x16x16xf32>) outs(%o_out : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>, tensor<1x2x16x16xf32>
  return %o : tensor<1x8x2x16xf32>
}

// -----

#id = affine_map<(b, t, h) -> (b, t, h)>

// A decay that is the plain negation of exp(a) (no softplus, no per-head
// parameters) is not Gated DeltaNet's activation: log_decay stays.
// CHECK-LABEL: func.func @do_not_fuse_other_decay
// CHECK: %[[G:.*]] = linalg.generic
// CHECK: hybrid.delta_rule {{.*}} log_decay(%[[G]] : tensor<1x8x2xf32>)
// CHECK-NOT: decay_a_log
func.func @do_not_fuse_other_decay(%q: tensor<1x8x2x16xf32>, %b: tensor<1x8x2xf32>, %a: tensor<1x8x2xf32>, %st_init: tensor<1x2x16x16xf32>, %o_out: tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32> {
  %e = tensor.empty() : tensor<1x8x2xf32>
  %g = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%a : tensor<1x8x2xf32>) outs(%e : tensor<1x8x2xf32>) {
  ^bb0(%x: f32, %o: f32):
    %ex = math.exp %x : f32
    %r = arith.negf %ex : f32
    linalg.yield %r : f32
  } -> tensor<1x8x2xf32>
  %o, %st = hybrid.delta_rule q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>)
      beta(%b : tensor<1x8x2xf32>) log_decay(%g : tensor<1x8x2xf32>) init(%st_init : tensor<1x2x16x16xf32>) outs(%o_out : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>, tensor<1x2x16x16xf32>
  return %o : tensor<1x8x2x16xf32>
}

// -----

#id = affine_map<(b, t, c) -> (b, t, c)>
#ch = affine_map<(b, t, c) -> (c)>

// A shape query is not a use: the destinations of the rg_lru take their
// batch size from the gated x (as the builders do), and the fold still
// happens; the query is answered from the generic's own destination.
// CHECK-LABEL: func.func @lru_gates_dim_query
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<?x8x16xf32>, %[[GX:[a-z0-9]+]]: tensor<?x8x16xf32>, %[[GA:[a-z0-9]+]]: tensor<?x8x16xf32>, %[[LAM:[a-z0-9]+]]: tensor<16xf32>, %[[N:[a-z0-9]+]]: index
// CHECK-NOT: linalg.generic
// CHECK: hybrid.rg_lru x(%[[X]] : {{.*}}) gate_x(%[[GX]] : {{.*}}) gate_a(%[[GA]] : {{.*}}) a_param(%[[LAM]] : tensor<16xf32>)
func.func @lru_gates_dim_query(%x: tensor<?x8x16xf32>, %gx: tensor<?x8x16xf32>, %ga: tensor<?x8x16xf32>, %lam: tensor<16xf32>, %n: index)
    -> (tensor<?x8x16xf32>, tensor<?x16xf32>) {
  %one = arith.constant 1.0 : f32
  %m6 = arith.constant -6.0 : f32
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %e = tensor.empty(%n) : tensor<?x8x16xf32>
  %xg = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%gx, %x : tensor<?x8x16xf32>, tensor<?x8x16xf32>) outs(%e : tensor<?x8x16xf32>) {
  ^bb0(%g: f32, %v: f32, %o: f32):
    %ng = arith.negf %g : f32
    %ex = math.exp %ng : f32
    %d = arith.addf %one, %ex : f32
    %sg = arith.divf %one, %d : f32
    %r = arith.mulf %v, %sg : f32
    linalg.yield %r : f32
  } -> tensor<?x8x16xf32>
  %la = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%ga, %lam : tensor<?x8x16xf32>, tensor<16xf32>) outs(%e : tensor<?x8x16xf32>) {
  ^bb0(%g: f32, %l: f32, %o: f32):
    %ng = arith.negf %g : f32
    %ex = math.exp %ng : f32
    %d = arith.addf %one, %ex : f32
    %sg = arith.divf %one, %d : f32
    %el = math.exp %l : f32
    %sp = math.log1p %el : f32
    %p = arith.mulf %sg, %sp : f32
    %r = arith.mulf %m6, %p : f32
    linalg.yield %r : f32
  } -> tensor<?x8x16xf32>
  %b = tensor.dim %xg, %c0 : tensor<?x8x16xf32>
  %es = tensor.empty(%b) : tensor<?x16xf32>
  %s0 = linalg.fill ins(%zero : f32) outs(%es : tensor<?x16xf32>) -> tensor<?x16xf32>
  %eo = tensor.empty(%b) : tensor<?x8x16xf32>
  %h, %s = hybrid.rg_lru x(%xg : tensor<?x8x16xf32>) log_a(%la : tensor<?x8x16xf32>) init(%s0 : tensor<?x16xf32>) outs(%eo : tensor<?x8x16xf32>) -> tensor<?x8x16xf32>, tensor<?x16xf32>
  return %h, %s : tensor<?x8x16xf32>, tensor<?x16xf32>
}

// -----

#id = affine_map<(b, t, h, k) -> (b, t, h, k)>
#row = affine_map<(b, t, h, k) -> (b, t, h)>

// q and k L2-normalised in linalg, x * rsqrt(Σx² + 1e-6) for q and
// x / sqrt(Σx² + 1e-6) for k, become q(xq) k(xk) qk_l2norm.
// CHECK-LABEL: func.func @delta_qk_l2norm_linalg
// CHECK-SAME: %[[XQ:[a-z0-9]+]]: tensor<1x8x2x16xf32>, %[[XK:[a-z0-9]+]]: tensor<1x8x2x16xf32>
// CHECK-NOT: linalg.generic
// CHECK: hybrid.delta_rule q(%[[XQ]] : tensor<1x8x2x16xf32>) k(%[[XK]] : tensor<1x8x2x16xf32>) {{.*}} qk_l2norm outs(%{{.*}})
func.func @delta_qk_l2norm_linalg(%xq: tensor<1x8x2x16xf32>, %xk: tensor<1x8x2x16xf32>, %v: tensor<1x8x2x16xf32>,
    %beta: tensor<1x8x2xf32>, %s_init: tensor<1x2x16x16xf32>, %o_out: tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32> {
  %zero = arith.constant 0.0 : f32
  %eps = arith.constant 1.0e-6 : f32
  %one = arith.constant 1.0 : f32
  %e3 = tensor.empty() : tensor<1x8x2xf32>
  %z3 = linalg.fill ins(%zero : f32) outs(%e3 : tensor<1x8x2xf32>) -> tensor<1x8x2xf32>
  %e4 = tensor.empty() : tensor<1x8x2x16xf32>
  %sq = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%xq : tensor<1x8x2x16xf32>) outs(%z3 : tensor<1x8x2xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %x2 = arith.mulf %x, %x : f32
    %s = arith.addf %acc, %x2 : f32
    linalg.yield %s : f32
  } -> tensor<1x8x2xf32>
  %q = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%xq, %sq : tensor<1x8x2x16xf32>, tensor<1x8x2xf32>) outs(%e4 : tensor<1x8x2x16xf32>) {
  ^bb0(%x: f32, %s: f32, %out: f32):
    %se = arith.addf %s, %eps : f32
    %r = math.rsqrt %se : f32
    %y = arith.mulf %x, %r : f32
    linalg.yield %y : f32
  } -> tensor<1x8x2x16xf32>
  %sk = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%xk : tensor<1x8x2x16xf32>) outs(%z3 : tensor<1x8x2xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %x2 = arith.mulf %x, %x : f32
    %s = arith.addf %x2, %acc : f32
    linalg.yield %s : f32
  } -> tensor<1x8x2xf32>
  %k = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%xk, %sk : tensor<1x8x2x16xf32>, tensor<1x8x2xf32>) outs(%e4 : tensor<1x8x2x16xf32>) {
  ^bb0(%x: f32, %s: f32, %out: f32):
    %se = arith.addf %eps, %s : f32
    %r = math.sqrt %se : f32
    %y = arith.divf %x, %r : f32
    linalg.yield %y : f32
  } -> tensor<1x8x2x16xf32>
  %o, %st = hybrid.delta_rule q(%q : tensor<1x8x2x16xf32>) k(%k : tensor<1x8x2x16xf32>) v(%v : tensor<1x8x2x16xf32>)
      beta(%beta : tensor<1x8x2xf32>) init(%s_init : tensor<1x2x16x16xf32>) outs(%o_out : tensor<1x8x2x16xf32>)
      -> tensor<1x8x2x16xf32>, tensor<1x2x16x16xf32>
  return %o : tensor<1x8x2x16xf32>
}

// -----

#id = affine_map<(b, t, h, k) -> (b, t, h, k)>

// The frontend's form, rms_norm(x, epsilon 1e-6 / 16) * 0.25, for q and k
// (here one value feeding both).
// CHECK-LABEL: func.func @delta_qk_l2norm_rms
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<1x8x2x16xf32>
// CHECK-NOT: hybrid.rms_norm
// CHECK: hybrid.delta_rule q(%[[X]] : tensor<1x8x2x16xf32>) k(%[[X]] : tensor<1x8x2x16xf32>) {{.*}} qk_l2norm outs(%{{.*}})
func.func @delta_qk_l2norm_rms(%x: tensor<1x8x2x16xf32>, %v: tensor<1x8x2x16xf32>,
    %beta: tensor<1x8x2xf32>, %s_init: tensor<1x2x16x16xf32>, %o_out: tensor<1x8x2x16xf32>, %r_out: tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32> {
  %c = arith.constant 0.25 : f32
  %e4 = tensor.empty() : tensor<1x8x2x16xf32>
  %r = hybrid.rms_norm %x epsilon 6.25e-8 outs(%r_out : tensor<1x8x2x16xf32>) : tensor<1x8x2x16xf32> -> tensor<1x8x2x16xf32>
  %n = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%r : tensor<1x8x2x16xf32>) outs(%e4 : tensor<1x8x2x16xf32>) {
  ^bb0(%a: f32, %out: f32):
    %y = arith.mulf %a, %c : f32
    linalg.yield %y : f32
  } -> tensor<1x8x2x16xf32>
  %o, %st = hybrid.delta_rule q(%n : tensor<1x8x2x16xf32>) k(%n : tensor<1x8x2x16xf32>) v(%v : tensor<1x8x2x16xf32>)
      beta(%beta : tensor<1x8x2xf32>) init(%s_init : tensor<1x2x16x16xf32>) outs(%o_out : tensor<1x8x2x16xf32>)
      -> tensor<1x8x2x16xf32>, tensor<1x2x16x16xf32>
  return %o : tensor<1x8x2x16xf32>
}

// -----

#id = affine_map<(b, t, h, k) -> (b, t, h, k)>

// Not folded: only q is normalised (the flag normalises both); and, in the
// second function, the epsilon is not the op's (1e-5 / 16).
// CHECK-LABEL: func.func @do_not_fuse_qk_l2norm_only_q
// CHECK: hybrid.rms_norm
// CHECK: linalg.generic
// CHECK: hybrid.delta_rule q(%{{.*}}) k(%[[K:[a-z0-9]+]] : tensor<1x8x2x16xf32>)
// CHECK-NOT: qk_l2norm
// CHECK-LABEL: func.func @do_not_fuse_qk_l2norm_epsilon
// CHECK: hybrid.rms_norm
// CHECK-NOT: qk_l2norm
func.func @do_not_fuse_qk_l2norm_only_q(%x: tensor<1x8x2x16xf32>, %k: tensor<1x8x2x16xf32>, %v: tensor<1x8x2x16xf32>,
    %beta: tensor<1x8x2xf32>, %s_init: tensor<1x2x16x16xf32>, %o_out: tensor<1x8x2x16xf32>, %r_out: tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32> {
  %c = arith.constant 0.25 : f32
  %e4 = tensor.empty() : tensor<1x8x2x16xf32>
  %r = hybrid.rms_norm %x epsilon 6.25e-8 outs(%r_out : tensor<1x8x2x16xf32>) : tensor<1x8x2x16xf32> -> tensor<1x8x2x16xf32>
  %n = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%r : tensor<1x8x2x16xf32>) outs(%e4 : tensor<1x8x2x16xf32>) {
  ^bb0(%a: f32, %out: f32):
    %y = arith.mulf %a, %c : f32
    linalg.yield %y : f32
  } -> tensor<1x8x2x16xf32>
  %o, %st = hybrid.delta_rule q(%n : tensor<1x8x2x16xf32>) k(%k : tensor<1x8x2x16xf32>) v(%v : tensor<1x8x2x16xf32>)
      beta(%beta : tensor<1x8x2xf32>) init(%s_init : tensor<1x2x16x16xf32>) outs(%o_out : tensor<1x8x2x16xf32>)
      -> tensor<1x8x2x16xf32>, tensor<1x2x16x16xf32>
  return %o : tensor<1x8x2x16xf32>
}
func.func @do_not_fuse_qk_l2norm_epsilon(%x: tensor<1x8x2x16xf32>, %v: tensor<1x8x2x16xf32>,
    %beta: tensor<1x8x2xf32>, %s_init: tensor<1x2x16x16xf32>, %o_out: tensor<1x8x2x16xf32>, %r_out: tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32> {
  %c = arith.constant 0.25 : f32
  %e4 = tensor.empty() : tensor<1x8x2x16xf32>
  %r = hybrid.rms_norm %x epsilon 6.25e-7 outs(%r_out : tensor<1x8x2x16xf32>) : tensor<1x8x2x16xf32> -> tensor<1x8x2x16xf32>
  %n = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%r : tensor<1x8x2x16xf32>) outs(%e4 : tensor<1x8x2x16xf32>) {
  ^bb0(%a: f32, %out: f32):
    %y = arith.mulf %a, %c : f32
    linalg.yield %y : f32
  } -> tensor<1x8x2x16xf32>
  %o, %st = hybrid.delta_rule q(%n : tensor<1x8x2x16xf32>) k(%n : tensor<1x8x2x16xf32>) v(%v : tensor<1x8x2x16xf32>)
      beta(%beta : tensor<1x8x2xf32>) init(%s_init : tensor<1x2x16x16xf32>) outs(%o_out : tensor<1x8x2x16xf32>)
      -> tensor<1x8x2x16xf32>, tensor<1x2x16x16xf32>
  return %o : tensor<1x8x2x16xf32>
}

// -----

#id = affine_map<(b, t, h, k) -> (b, t, h, k)>
#row = affine_map<(b, t, h, k) -> (b, t, h)>

// Not folded: the sum of squares is also returned.
// CHECK-LABEL: func.func @do_not_fuse_qk_l2norm_sum_used
// CHECK: linalg.generic
// CHECK: linalg.generic
// CHECK-NOT: qk_l2norm
func.func @do_not_fuse_qk_l2norm_sum_used(%xq: tensor<1x8x2x16xf32>, %v: tensor<1x8x2x16xf32>,
    %beta: tensor<1x8x2xf32>, %s_init: tensor<1x2x16x16xf32>, %o_out: tensor<1x8x2x16xf32>) -> (tensor<1x8x2x16xf32>, tensor<1x8x2xf32>) {
  %zero = arith.constant 0.0 : f32
  %eps = arith.constant 1.0e-6 : f32
  %e3 = tensor.empty() : tensor<1x8x2xf32>
  %z3 = linalg.fill ins(%zero : f32) outs(%e3 : tensor<1x8x2xf32>) -> tensor<1x8x2xf32>
  %e4 = tensor.empty() : tensor<1x8x2x16xf32>
  %sq = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%xq : tensor<1x8x2x16xf32>) outs(%z3 : tensor<1x8x2xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %x2 = arith.mulf %x, %x : f32
    %s = arith.addf %acc, %x2 : f32
    linalg.yield %s : f32
  } -> tensor<1x8x2xf32>
  %q = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%xq, %sq : tensor<1x8x2x16xf32>, tensor<1x8x2xf32>) outs(%e4 : tensor<1x8x2x16xf32>) {
  ^bb0(%x: f32, %s: f32, %out: f32):
    %se = arith.addf %s, %eps : f32
    %r = math.rsqrt %se : f32
    %y = arith.mulf %x, %r : f32
    linalg.yield %y : f32
  } -> tensor<1x8x2x16xf32>
  %o, %st = hybrid.delta_rule q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%v : tensor<1x8x2x16xf32>)
      beta(%beta : tensor<1x8x2xf32>) init(%s_init : tensor<1x2x16x16xf32>) outs(%o_out : tensor<1x8x2x16xf32>)
      -> tensor<1x8x2x16xf32>, tensor<1x2x16x16xf32>
  return %o, %sq : tensor<1x8x2x16xf32>, tensor<1x8x2xf32>
}

// -----

#id = affine_map<(b, t, c) -> (b, t, c)>

// A Hymba block written naturally: a backbone (rg_lru) and attention both
// read %n, and g * s + (1 - g) * a mixes them; the backbone's final state
// is also returned. -> hybrid.gated_parallel(%n, %g), the branches as its
// regions reading the region argument, the final state an extra result.
// CHECK-LABEL: func.func @hymba_mix
// CHECK-SAME: %[[N:[a-z0-9]+]]: tensor<1x8x16xf32>, %[[GRAW:[a-z0-9]+]]: tensor<1x8x16xf32>, %[[LA:[a-z0-9]+]]: tensor<1x8x16xf32>, %[[H0:[a-z0-9]+]]: tensor<1x16xf32>
// CHECK: %[[G:.*]] = linalg.generic {{.*}} ins(%[[GRAW]] :
// CHECK: %[[P:.*]]:2 = hybrid.gated_parallel(%[[N]], %[[G]]) : (tensor<1x8x16xf32>, tensor<1x8x16xf32>) -> (tensor<1x8x16xf32>, tensor<1x16xf32>) backbone {
// CHECK-NEXT: ^bb0(%[[XB:.*]]: tensor<1x8x16xf32>):
// CHECK-NEXT:   %[[S:.*]], %[[ST:.*]] = hybrid.rg_lru x(%[[XB]] : tensor<1x8x16xf32>) log_a(%[[LA]] : tensor<1x8x16xf32>) init(%[[H0]] : tensor<1x16xf32>)
// CHECK-NEXT:   hybrid.yield %[[S]], %[[ST]] : tensor<1x8x16xf32>, tensor<1x16xf32>
// CHECK-NEXT: } attention {
// CHECK-NEXT: ^bb0(%[[XA:.*]]: tensor<1x8x16xf32>):
// CHECK-NEXT:   %[[Q:.*]] = tensor.expand_shape %[[XA]]
// CHECK-NEXT:   %[[O:.*]] = hybrid.windowed_attention q(%[[Q]] : tensor<1x8x2x8xf32>) k(%[[Q]] : tensor<1x8x2x8xf32>) v(%[[Q]] : tensor<1x8x2x8xf32>) window 4
// CHECK-NEXT:   %[[A:.*]] = tensor.collapse_shape %[[O]]
// CHECK-NEXT:   hybrid.yield %[[A]] : tensor<1x8x16xf32>
// CHECK-NEXT: }
// CHECK-NEXT: return %[[P]]#0, %[[P]]#1
func.func @hymba_mix(%n: tensor<1x8x16xf32>, %graw: tensor<1x8x16xf32>, %la: tensor<1x8x16xf32>,
    %h0: tensor<1x16xf32>, %h_out: tensor<1x8x16xf32>, %o_out: tensor<1x8x2x8xf32>) -> (tensor<1x8x16xf32>, tensor<1x16xf32>) {
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<1x8x16xf32>
  %g = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%graw : tensor<1x8x16xf32>) outs(%e : tensor<1x8x16xf32>) {
  ^bb0(%x: f32, %o: f32):
    %nx = arith.negf %x : f32
    %ex = math.exp %nx : f32
    %d = arith.addf %one, %ex : f32
    %sg = arith.divf %one, %d : f32
    linalg.yield %sg : f32
  } -> tensor<1x8x16xf32>
  %s, %hT = hybrid.rg_lru x(%n : tensor<1x8x16xf32>) log_a(%la : tensor<1x8x16xf32>) init(%h0 : tensor<1x16xf32>)
      outs(%h_out : tensor<1x8x16xf32>) -> tensor<1x8x16xf32>, tensor<1x16xf32>
  %q = tensor.expand_shape %n [[0], [1], [2, 3]] output_shape [1, 8, 2, 8] : tensor<1x8x16xf32> into tensor<1x8x2x8xf32>
  %o = hybrid.windowed_attention q(%q : tensor<1x8x2x8xf32>) k(%q : tensor<1x8x2x8xf32>) v(%q : tensor<1x8x2x8xf32>)
      window 4 outs(%o_out : tensor<1x8x2x8xf32>) -> tensor<1x8x2x8xf32>
  %a = tensor.collapse_shape %o [[0], [1], [2, 3]] : tensor<1x8x2x8xf32> into tensor<1x8x16xf32>
  %mix = linalg.generic {indexing_maps = [#id, #id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%g, %s, %a : tensor<1x8x16xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>) outs(%e : tensor<1x8x16xf32>) {
  ^bb0(%gv: f32, %sv: f32, %av: f32, %out: f32):
    %gs = arith.mulf %gv, %sv : f32
    %omg = arith.subf %one, %gv : f32
    %ga = arith.mulf %omg, %av : f32
    %m = arith.addf %gs, %ga : f32
    linalg.yield %m : f32
  } -> tensor<1x8x16xf32>
  return %mix, %hT : tensor<1x8x16xf32>, tensor<1x16xf32>
}

// -----

#id = affine_map<(b, t, c) -> (b, t, c)>

// The mix as a + g * (s - a), the gate an argument.
// CHECK-LABEL: func.func @hymba_mix_lerp
// CHECK-SAME: %[[N:[a-z0-9]+]]: tensor<1x8x16xf32>, %[[G:[a-z0-9]+]]: tensor<1x8x16xf32>
// CHECK: %[[P:.*]] = hybrid.gated_parallel(%[[N]], %[[G]]) : (tensor<1x8x16xf32>, tensor<1x8x16xf32>) -> (tensor<1x8x16xf32>) backbone {
// CHECK: hybrid.rg_lru
// CHECK: } attention {
// CHECK: hybrid.rms_norm
// CHECK: return %[[P]]
func.func @hymba_mix_lerp(%n: tensor<1x8x16xf32>, %g: tensor<1x8x16xf32>, %la: tensor<1x8x16xf32>,
    %h0: tensor<1x16xf32>, %h_out: tensor<1x8x16xf32>, %r_out: tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  %e = tensor.empty() : tensor<1x8x16xf32>
  %s, %hT = hybrid.rg_lru x(%n : tensor<1x8x16xf32>) log_a(%la : tensor<1x8x16xf32>) init(%h0 : tensor<1x16xf32>)
      outs(%h_out : tensor<1x8x16xf32>) -> tensor<1x8x16xf32>, tensor<1x16xf32>
  %a = hybrid.rms_norm %n outs(%r_out : tensor<1x8x16xf32>) : tensor<1x8x16xf32> -> tensor<1x8x16xf32>
  %mix = linalg.generic {indexing_maps = [#id, #id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%g, %s, %a : tensor<1x8x16xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>) outs(%e : tensor<1x8x16xf32>) {
  ^bb0(%gv: f32, %sv: f32, %av: f32, %out: f32):
    %d = arith.subf %sv, %av : f32
    %gd = arith.mulf %gv, %d : f32
    %m = arith.addf %av, %gd : f32
    linalg.yield %m : f32
  } -> tensor<1x8x16xf32>
  return %mix : tensor<1x8x16xf32>
}

// -----

#id = affine_map<(b, t, c) -> (b, t, c)>

// Not folded: the backbone output is also returned (a branch output must
// feed only the mix); the state is used before the mix; the mix is not
// g * s + (1 - g) * a.
// CHECK-LABEL: func.func @do_not_fuse_mix_output_used
// CHECK-NOT: hybrid.gated_parallel
// CHECK-LABEL: func.func @do_not_fuse_mix_state_used_before
// CHECK-NOT: hybrid.gated_parallel
// CHECK-LABEL: func.func @do_not_fuse_not_a_mix
// CHECK-NOT: hybrid.gated_parallel
func.func @do_not_fuse_mix_output_used(%n: tensor<1x8x16xf32>, %g: tensor<1x8x16xf32>, %la: tensor<1x8x16xf32>,
    %h0: tensor<1x16xf32>, %h_out: tensor<1x8x16xf32>, %r_out: tensor<1x8x16xf32>) -> (tensor<1x8x16xf32>, tensor<1x8x16xf32>) {
  %e = tensor.empty() : tensor<1x8x16xf32>
  %s, %hT = hybrid.rg_lru x(%n : tensor<1x8x16xf32>) log_a(%la : tensor<1x8x16xf32>) init(%h0 : tensor<1x16xf32>)
      outs(%h_out : tensor<1x8x16xf32>) -> tensor<1x8x16xf32>, tensor<1x16xf32>
  %a = hybrid.rms_norm %n outs(%r_out : tensor<1x8x16xf32>) : tensor<1x8x16xf32> -> tensor<1x8x16xf32>
  %mix = linalg.generic {indexing_maps = [#id, #id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%g, %s, %a : tensor<1x8x16xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>) outs(%e : tensor<1x8x16xf32>) {
  ^bb0(%gv: f32, %sv: f32, %av: f32, %out: f32):
    %d = arith.subf %sv, %av : f32
    %gd = arith.mulf %gv, %d : f32
    %m = arith.addf %av, %gd : f32
    linalg.yield %m : f32
  } -> tensor<1x8x16xf32>
  return %mix, %s : tensor<1x8x16xf32>, tensor<1x8x16xf32>
}
func.func @do_not_fuse_mix_state_used_before(%n: tensor<1x8x16xf32>, %g: tensor<1x8x16xf32>, %la: tensor<1x8x16xf32>,
    %h0: tensor<1x16xf32>, %h_out: tensor<1x8x16xf32>, %r_out: tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  %e = tensor.empty() : tensor<1x8x16xf32>
  %s, %hT = hybrid.rg_lru x(%n : tensor<1x8x16xf32>) log_a(%la : tensor<1x8x16xf32>) init(%h0 : tensor<1x16xf32>)
      outs(%h_out : tensor<1x8x16xf32>) -> tensor<1x8x16xf32>, tensor<1x16xf32>
  %s2, %hT2 = hybrid.rg_lru x(%n : tensor<1x8x16xf32>) log_a(%la : tensor<1x8x16xf32>) init(%hT : tensor<1x16xf32>)
      outs(%h_out : tensor<1x8x16xf32>) -> tensor<1x8x16xf32>, tensor<1x16xf32>
  %a = hybrid.rms_norm %s2 outs(%r_out : tensor<1x8x16xf32>) : tensor<1x8x16xf32> -> tensor<1x8x16xf32>
  %mix = linalg.generic {indexing_maps = [#id, #id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%g, %s, %a : tensor<1x8x16xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>) outs(%e : tensor<1x8x16xf32>) {
  ^bb0(%gv: f32, %sv: f32, %av: f32, %out: f32):
    %d = arith.subf %sv, %av : f32
    %gd = arith.mulf %gv, %d : f32
    %m = arith.addf %av, %gd : f32
    linalg.yield %m : f32
  } -> tensor<1x8x16xf32>
  return %mix : tensor<1x8x16xf32>
}
func.func @do_not_fuse_not_a_mix(%n: tensor<1x8x16xf32>, %g: tensor<1x8x16xf32>, %la: tensor<1x8x16xf32>,
    %h0: tensor<1x16xf32>, %h_out: tensor<1x8x16xf32>, %r_out: tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  %e = tensor.empty() : tensor<1x8x16xf32>
  %s, %hT = hybrid.rg_lru x(%n : tensor<1x8x16xf32>) log_a(%la : tensor<1x8x16xf32>) init(%h0 : tensor<1x16xf32>)
      outs(%h_out : tensor<1x8x16xf32>) -> tensor<1x8x16xf32>, tensor<1x16xf32>
  %a = hybrid.rms_norm %n outs(%r_out : tensor<1x8x16xf32>) : tensor<1x8x16xf32> -> tensor<1x8x16xf32>
  %mix = linalg.generic {indexing_maps = [#id, #id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%g, %s, %a : tensor<1x8x16xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>) outs(%e : tensor<1x8x16xf32>) {
  ^bb0(%gv: f32, %sv: f32, %av: f32, %out: f32):
    %gs = arith.mulf %gv, %sv : f32
    %ga = arith.mulf %gv, %av : f32
    %m = arith.addf %gs, %ga : f32
    linalg.yield %m : f32
  } -> tensor<1x8x16xf32>
  return %mix : tensor<1x8x16xf32>
}
