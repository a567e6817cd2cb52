"""Where the package's compiler and runtime are, and running the compiler."""

import functools
import hashlib
import json
import os
import pathlib
import subprocess

from . import errors

_PACKAGE = pathlib.Path(__file__).resolve().parent


def prefix():
    """The Hybrid installation the package uses: $HYBRID_PREFIX (an install
    prefix, for development), else the one inside the package."""
    env = os.environ.get("HYBRID_PREFIX")
    path = pathlib.Path(env) if env else _PACKAGE / "_prefix"
    if not (path / "bin" / "hybrid-compile").exists():
        raise errors.HybridError(
            f"no hybrid-compile under {path}: install the package with "
            "`pip install ./python`, or set HYBRID_PREFIX to a prefix from "
            "`cmake --install`")
    return path


def compiler():
    return prefix() / "bin" / "hybrid-compile"


def runtime_library():
    return prefix() / "lib" / "libhybrid_runtime.so"


@functools.lru_cache(maxsize=None)
def compiler_identity():
    """`hybrid-compile --version` and a hash of the binary: what a cached
    library depends on besides its spec."""
    path = compiler()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    version = run(["--version"]).strip()
    return f"{version}; sha256 {digest}"


def run(args, input_file=None):
    """Runs hybrid-compile with `args`; its stdout, or a HybridError made of
    its messages."""
    cmd = [str(compiler())] + ([str(input_file)] if input_file else []) + \
        list(args)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise errors.from_compiler(proc.stderr or proc.stdout)
    return proc.stdout


def set_args(options):
    """--set key=value for each option; values as JSON (a tuple is an array:
    the seed's `ratio: {9, 1}`)."""
    args = []
    for key, value in options.items():
        if value is None:
            continue
        if isinstance(value, tuple):
            value = list(value)
        if isinstance(value, list):
            value = [v.lstrip(":") if isinstance(v, str) else v
                     for v in value]
        if isinstance(value, str):
            value = value.lstrip(":")
        args += ["--set", f"{key}={json.dumps(value)}"]
    return args


def spec_args(spec):
    """(input file or None, args) for a spec given as a path or a dict of
    options."""
    if isinstance(spec, (str, os.PathLike)):
        path = pathlib.Path(spec)
        if not path.exists():
            raise errors.SpecError(f"spec file '{path}' does not exist")
        return path, []
    if isinstance(spec, dict):
        options = dict(spec)
        args = []
        preset = options.pop("preset", None)
        if preset is not None:
            args.append(f"--preset={str(preset).lstrip(':')}")
        return None, args + set_args(options)
    raise TypeError("a spec is a dict of options or a path to a spec file, "
                    f"got {type(spec).__name__}")
