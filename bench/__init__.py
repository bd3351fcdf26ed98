"""Throughput benchmarks: `python -m bench` (see bench/README.md).

Every measurement is one JSON line on stdout, printed next to a bare-ASGI
"hello" ceiling measured in the same run, on the same server setup, by the
same load generator. Progress goes to stderr.
"""
