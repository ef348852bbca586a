"""Replaying recorded mentions: reading files (JSONL, CSV, gzip) and producing them with backpressure."""
