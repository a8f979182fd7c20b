"""Tests of ottl.compiler (a package, so test_golden.py does not clash with tests/lang's)."""
