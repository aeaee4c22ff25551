"""Bulk batches: workers, resume state, the combined print file."""
