"""Fetching untrusted URLs safely: errors, address policy, bounded decoding, the fetcher."""
