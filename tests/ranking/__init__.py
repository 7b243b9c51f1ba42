"""Tests of utils/ranking/ and the two scripts built on it, show_result.py and python -m utils.benchmark_quality."""
