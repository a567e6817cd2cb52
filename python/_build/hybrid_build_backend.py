"""PEP 517 build backend of the hybrid Python package.

Builds Hybrid with its CMake (scripts/build.sh configures ../build the first
time; later builds are incremental), installs the tools and the runtime into
a staging prefix (`cmake --install`), and writes a wheel holding the Python
sources and that prefix under hybrid/_prefix. The wheel is specific to this
platform: hybrid-compile links the system's LLVM/MLIR 22 libraries.

Environment: HYBRID_BUILD_DIR (default: <repository>/build).
"""

import base64
import hashlib
import os
import pathlib
import platform
import shutil
import subprocess
import sys
import tempfile
import zipfile

NAME = "hybrid"
VERSION = "0.2.0"
PYTHON_DIR = pathlib.Path(__file__).resolve().parent.parent
REPO = PYTHON_DIR.parent


def _log(message):
    print(f"hybrid build: {message}", file=sys.stderr, flush=True)


def _build_dir():
    return pathlib.Path(os.environ.get("HYBRID_BUILD_DIR", REPO / "build"))


def _build_and_install(prefix):
    build = _build_dir()
    env = dict(os.environ, HYBRID_BUILD_DIR=str(build))
    targets = ["hybrid-compile", "hybrid-opt", "hybrid-run", "hybrid_runtime",
               "hybrid_runtime_shared"]
    if not (build / "build.ninja").exists():
        _log(f"configuring and building Hybrid in {build} (scripts/build.sh)")
    else:
        _log(f"building Hybrid in {build} (incremental)")
    cmd = [str(REPO / "scripts" / "build.sh"), "--target", *targets]
    subprocess.run(cmd, check=True, env=env, stdout=sys.stderr)
    for component in ("tools", "runtime"):
        subprocess.run(["cmake", "--install", str(build), "--prefix",
                        str(prefix), "--component", component],
                       check=True, stdout=sys.stderr)


def _platform_tag():
    machine = platform.machine().lower().replace("-", "_")
    return f"linux_{machine}" if sys.platform.startswith("linux") else \
        f"{sys.platform}_{machine}"


def _metadata():
    return (f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {VERSION}\n"
            "Summary: A compiler for hybrid sequence models\n"
            "Requires-Python: >=3.9\nRequires-Dist: numpy>=1.22\n")


def _wheel_file(tag):
    return (f"Wheel-Version: 1.0\nGenerator: hybrid_build_backend {VERSION}\n"
            f"Root-Is-Purelib: false\nTag: {tag}\n")


def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest())
    return f"{path},sha256={digest.rstrip(b'=').decode()},{len(data)}"


def _add(zf, records, arcname, data, mode=0o644):
    info = zipfile.ZipInfo(arcname, date_time=(2026, 1, 1, 0, 0, 0))
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)
    records.append(_record_line(arcname, data))


def build_wheel(wheel_directory, config_settings=None,
                metadata_directory=None):
    tag = f"py3-none-{_platform_tag()}"
    wheel_name = f"{NAME}-{VERSION}-{tag}.whl"
    dist_info = f"{NAME}-{VERSION}.dist-info"
    with tempfile.TemporaryDirectory() as tmp:
        prefix = pathlib.Path(tmp) / "prefix"
        _build_and_install(prefix)
        path = pathlib.Path(wheel_directory) / wheel_name
        records = []
        with zipfile.ZipFile(path, "w") as zf:
            for source in sorted((PYTHON_DIR / "hybrid").rglob("*.py")):
                arc = source.relative_to(PYTHON_DIR).as_posix()
                _add(zf, records, arc, source.read_bytes())
            for item in sorted(prefix.rglob("*")):
                if item.is_dir():
                    continue
                rel = item.relative_to(prefix).as_posix()
                # One copy of the shared runtime, under its unversioned name
                # (wheels hold no symlinks; ctypes loads it by path).
                if ".so." in item.name:
                    continue
                data = item.resolve().read_bytes()
                mode = 0o755 if os.access(item.resolve(), os.X_OK) else 0o644
                _add(zf, records, f"hybrid/_prefix/{rel}", data, mode)
            _add(zf, records, f"{dist_info}/METADATA", _metadata().encode())
            _add(zf, records, f"{dist_info}/WHEEL", _wheel_file(tag).encode())
            record_name = f"{dist_info}/RECORD"
            records.append(f"{record_name},,")
            _add_raw = "\n".join(records) + "\n"
            info = zipfile.ZipInfo(record_name, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = (0o100644) << 16
            zf.writestr(info, _add_raw)
    _log(f"wrote {wheel_name}")
    return wheel_name


def get_requires_for_build_wheel(config_settings=None):
    return []
