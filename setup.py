"""Build of the compiled parts: Cython faces over the hand-written C in csrc/.

Switches, read from the environment (see docs/building.md):
  OTTL_DEBUG=1     -O0 -g, assertions on (NDEBUG undefined), Cython bounds checks on
  OTTL_SANITIZE=1  AddressSanitizer + UndefinedBehaviorSanitizer (implies the debug flags)
  OTTL_LINKER=lld  link with lld instead of the default linker
  OTTL_PGO=0       no profile-guided build of the codec (on by default with GCC, off for the
                   debug and sanitizer builds; see ProfiledBuildExt and docs/building.md)
"""

import glob
import os
import sys

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


DEBUG = _flag("OTTL_DEBUG")
SANITIZE = _flag("OTTL_SANITIZE")
PGO = not (DEBUG or SANITIZE) and os.environ.get("OTTL_PGO", "1").strip().lower() not in (
    "0", "false", "no", "off")
LINKER = os.environ.get("OTTL_LINKER", "").strip()

# -pthread: the decoder starts threads of its own for large payloads (csrc/otlp_decode_parallel.c).
compile_args = ["-std=c11", "-pthread", "-Wall", "-Wextra", "-Wno-unused-function",
                "-Wno-unused-parameter"]
link_args = ["-pthread"]
macros = []
directives = {"language_level": "3", "embedsignature": True}

if DEBUG or SANITIZE:
    compile_args += ["-O0", "-g3", "-UNDEBUG"]
    macros.append(("OTTL_DEBUG", "1"))
    directives.update(boundscheck=True, wraparound=True, initializedcheck=True)
else:
    compile_args += ["-O3"]
    macros.append(("NDEBUG", "1"))
    directives.update(boundscheck=False, wraparound=False, initializedcheck=False)

if SANITIZE:
    san = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=undefined"]
    compile_args += san
    link_args += san

if LINKER:
    # -fuse-ld=NAME makes the compiler driver run ld.NAME. Ask the command that will link
    # (LDSHARED, else CC, else Python's own) to run that linker's --version now, so a missing
    # linker stops the build here with a clear message rather than at the first link.
    import shlex
    import subprocess
    import sysconfig

    _ld = shlex.split(
        os.environ.get("LDSHARED") or os.environ.get("CC") or sysconfig.get_config_var("LDSHARED") or "cc"
    )
    try:
        _probe = subprocess.run(
            _ld + [f"-fuse-ld={LINKER}", "-Wl,--version"], capture_output=True, text=True, check=False
        )
        _lines = _probe.stderr.strip().splitlines() or [f"exit status {_probe.returncode}"]
        _why = ([ln for ln in _lines if "error" in ln] or _lines)[-1] if _probe.returncode else ""
    except OSError as e:
        _why = str(e)
    if _why:
        _hint = "install the `lld` package (apt-get install lld)" if LINKER == "lld" else f"install ld.{LINKER}"
        sys.exit(f"setup.py: OTTL_LINKER={LINKER}, but `{_ld[0]} -fuse-ld={LINKER}` cannot link: {_hint} ({_why})")
    link_args.append(f"-fuse-ld={LINKER}")

if sys.platform == "darwin":
    compile_args.remove("-std=c11")


def ext(name: str, sources: list) -> Extension:
    return Extension(
        name,
        sources,
        include_dirs=["csrc", numpy.get_include()],
        # Inline fast paths live in the headers: editing one must rebuild what includes it.
        depends=sorted(glob.glob("csrc/*.h")),
        define_macros=macros,
        extra_compile_args=compile_args,
        extra_link_args=link_args,
    )


# The codec is every csrc/otlp_*.c plus the string table and UTF-8 check it uses, so a new codec
# file needs no edit here.
CODEC_SOURCES = ["csrc/strtab.c", "csrc/utf8.c"] + sorted(glob.glob("csrc/otlp_*.c"))

extensions = [
    ext("ottl._limits", ["ottl/_limits.pyx", "csrc/limits.c"]),
    ext("ottl._batch", ["ottl/_batch.pyx"] + CODEC_SOURCES),
    # The VM reads and writes batches through their header; it links its own copy of the
    # string table and the batch's table helpers.
    ext("ottl._vm", ["ottl/_vm.pyx", "csrc/strtab.c", "csrc/otlp_batch.c"]
        + sorted(glob.glob("csrc/vm*.c"))),
]
# Any other ottl/_*.pyx is pure Cython: an extension of its own with no C sources.
_listed = {e.sources[0] for e in extensions}
for pyx in sorted(glob.glob("ottl/_*.pyx")):
    if pyx not in _listed:
        extensions.append(ext("ottl." + os.path.basename(pyx)[:-4], [pyx]))


class ProfiledBuildExt(build_ext):
    """Builds the codec (ottl._batch) with GCC's profile-guided optimization: its C sources are
    compiled with -fprofile-generate and linked with csrc/pgo_train.c, which decodes and encodes
    realistic payloads; then the extension is compiled with the profile that run wrote. A
    projected decode took 11-23% less time, a whole decode 7-8% (benchmarks/README.md). Any
    failure (another compiler, no toolchain for executables) builds without a profile and says
    why."""

    PROFILED = "ottl._batch"
    # GCC on x86 expands a memcpy of unknown size inline as `rep movsq`, whose start-up cost
    # exceeds the copy at the sizes the codec and the VM copy (strings, attributes, records);
    # the C library's memcpy picks its method per CPU. Whole decode, transform and filter
    # paths took about 7% less time (benchmarks/README.md).
    COPY_FLAGS = ["-mstringop-strategy=libcall"]

    def build_extension(self, ext):
        if not (DEBUG or SANITIZE) and self._gcc_x86() and \
                not set(self.COPY_FLAGS) <= set(ext.extra_compile_args):
            ext.extra_compile_args = list(ext.extra_compile_args) + self.COPY_FLAGS
        if PGO and ext.name == self.PROFILED and self._stale(ext):
            flags = self._profile(ext)
            if flags:
                ext.extra_compile_args = list(ext.extra_compile_args) + flags
        super().build_extension(ext)

    def _is_gcc(self) -> bool:
        import subprocess

        try:
            version = subprocess.run([self.compiler.compiler_so[0], "--version"],
                                     capture_output=True, text=True, check=False).stdout.lower()
        except OSError:
            return False
        return "clang" not in version and ("gcc" in version or "free software" in version)

    def _gcc_x86(self) -> bool:
        import platform

        if not hasattr(self, "_gcc_x86_seen"):
            self._gcc_x86_seen = platform.machine().lower() in ("x86_64", "amd64", "i386",
                                                                "i686") and self._is_gcc()
        return self._gcc_x86_seen

    def _stale(self, ext) -> bool:
        from setuptools.modified import newer_group

        target = self.get_ext_fullpath(ext.name)
        return self.force or newer_group(list(ext.sources) + list(ext.depends), target, "newer")

    def _profile(self, ext) -> list:
        import subprocess

        cc = self.compiler
        objects = []
        try:
            if not self._is_gcc():
                raise RuntimeError(f"{cc.compiler_so[0]} is not GCC")
            generate = ["-fprofile-generate", "-fprofile-update=single"]
            sources = [s for s in ext.sources if s.replace(os.sep, "/").startswith("csrc/")]
            # A profile of older code would be merged with the new run's (or refused): start afresh.
            for old in glob.glob(os.path.join(self.build_temp, "csrc", "*.gcda")):
                os.remove(old)
            objects = cc.compile(sources + ["csrc/pgo_train.c"], output_dir=self.build_temp,
                                 macros=ext.define_macros, include_dirs=ext.include_dirs,
                                 extra_postargs=list(ext.extra_compile_args) + generate)
            cc.link_executable(objects, "pgo_train", output_dir=self.build_temp,
                               extra_postargs=generate + ["-pthread"])
            exe = os.path.join(self.build_temp, "pgo_train")
            subprocess.run([exe, "40"], check=True, timeout=600, capture_output=True)
        except Exception as exc:  # noqa: BLE001 - any failure means a build without a profile
            print(f"setup.py: building {ext.name} without a profile ({exc})", file=sys.stderr)
            return []
        finally:
            # The extension's own compile must not pick up instrumented objects; it reads the
            # .gcda files the run left beside them.
            for obj in objects:
                if os.path.exists(obj):
                    os.remove(obj)
        return ["-fprofile-use", "-fprofile-partial-training", "-Wno-missing-profile"]


setup(
    cmdclass={"build_ext": ProfiledBuildExt},
    ext_modules=cythonize(
        extensions,
        compiler_directives=directives,
        build_dir="build/cython",
        force=DEBUG or SANITIZE,
    ),
)
