"""Throughput and memory benchmark of the JK500 audit on seeded synthetic visit logs (see README.md)."""
