"""The peer benchmark's parts; `benchmarks/peers.py` runs them."""
