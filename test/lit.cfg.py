# -*- Python -*-
# lit configuration of the Hybrid regression tests (test/).
import os
import shutil

import lit.formats
from lit.llvm import llvm_config

config.name = "HYBRID"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.hybrid_obj_root, "test")
config.excludes = ["Inputs", "Fuzz", "__pycache__", "CMakeLists.txt", "README.md", "lit.cfg.py",
                   "lit.site.cfg.py"]

config.substitutions.append(("%hybrid_src_root", config.hybrid_src_root))
config.substitutions.append(("%hybrid_obj_root", config.hybrid_obj_root))

# FileCheck, not, count, split-file from LLVM 22 (never /usr/bin's LLVM 14).
llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.add_tool_substitutions(
    ["hybrid-opt", "hybrid-compile", "hybrid-run", "hybrid-bench"],
    [config.hybrid_tools_dir])
llvm_config.add_tool_substitutions(["mlir-translate"], [config.llvm_tools_dir])

# Building applications against compiled models.
config.substitutions.append(("%host_cc", (config.host_cc + " " + config.host_sanitizer_flags).strip()))
if config.host_sanitizer_flags:
    config.available_features.add("sanitizer")
    # Debian's LLVM is not instrumented: its allocators poison memory that
    # ASan would then report (docs/Testing.md, "Sanitizers").
    config.environment["ASAN_OPTIONS"] = "allow_user_poisoning=0:allocator_may_return_null=1:detect_leaks=0"
    config.environment["UBSAN_OPTIONS"] = "print_stacktrace=1"
config.substitutions.append(("%hybrid_include", os.path.join(config.hybrid_src_root, "include")))
config.substitutions.append(("%hybrid_runtime", os.path.join(config.hybrid_obj_root, "lib", "Runtime", "libhybrid_runtime.a")))
config.substitutions.append(("%llvm_lib_dir", config.llvm_lib_dir))
config.substitutions.append(("%python", "python3"))
config.substitutions.append(("%host_cxx", (config.host_cxx + " " + config.host_sanitizer_flags).strip()))
# C++ programs built on Hybrid's libraries (examples/build_ops.cpp).
import subprocess
_llvm_config = os.path.join(config.llvm_tools_dir, "llvm-config")
if os.path.exists(_llvm_config):
    config.substitutions.append(("%llvm_cxxflags", subprocess.run(
        [_llvm_config, "--cxxflags"], capture_output=True, text=True).stdout.strip()))
# Application projects built against an installed prefix (test/Install).
config.substitutions.append(("%host_c_compiler", config.host_cc))
config.substitutions.append(("%cmake", shutil.which("cmake") or "cmake"))
if shutil.which("pkg-config"):
    config.available_features.add("pkg-config")

# Optional features: what a GPU-less machine can still check.
_cuda_root = next((os.environ[v] for v in ("CUDA_HOME", "CUDA_ROOT", "CUDA_PATH")
                   if v in os.environ), "/usr/local/cuda")
_ptxas = shutil.which("ptxas") or os.path.join(_cuda_root, "bin", "ptxas")
# The device math library the GPU pipeline links (hybrid-gpu-pipeline's
# default toolkit is /usr/local/cuda; lit passes no CUDA_* variables).
if os.path.exists(os.path.join(_cuda_root, "nvvm", "libdevice", "libdevice.10.bc")):
    config.available_features.add("libdevice")
    config.environment["CUDA_ROOT"] = _cuda_root
if os.path.exists(_ptxas):
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", _ptxas))
if os.path.exists(os.path.join(config.llvm_lib_dir, "libomp.so")):
    config.available_features.add("libomp")
