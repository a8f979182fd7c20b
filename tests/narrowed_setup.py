"""A driver script that runs the real setup.py with its build narrowed to one extension, for the
tests of setup.py's build switches (test_build_lld.py, test_build_pgo.py): their flags, checks and
build steps are the ones under test, on a scratch copy of the sources, in seconds rather than
minutes. The built extension lands in ./lib, the objects in ./tmp."""

from __future__ import annotations

import textwrap


def driver_source(extension: str) -> str:
    """The text of driver.py, building only ``extension`` (e.g. "ottl._limits")."""
    return textwrap.dedent(
        f"""
        import runpy
        import Cython.Build
        import setuptools

        real_cythonize, real_setup = Cython.Build.cythonize, setuptools.setup

        def cythonize(extensions, **kw):
            return real_cythonize([e for e in extensions if e.name == {extension!r}], **kw)

        def setup(**kw):
            assert [e.name for e in kw["ext_modules"]] == [{extension!r}], kw["ext_modules"]
            real_setup(cmdclass=kw.get("cmdclass", {{}}), ext_modules=kw["ext_modules"],
                       script_args=["build_ext", "--build-lib", "lib", "--build-temp", "tmp"])

        Cython.Build.cythonize, setuptools.setup = cythonize, setup
        runpy.run_path("setup.py", run_name="__main__")
        """
    )
