#!/bin/sh
# Runs a batch job (`bun run backfill`, `make bench-backfill`) with Bun's allocator keeping the
# pages it frees (MIMALLOC_PURGE_DELAY=-1): backfill's stage threads reuse the same buffers, and
# returning them to the kernel 100 ms after each free made them fault in again and again
# (1.6x the rows/s with it: native-bench/README.md "backfill", fourth pass). Not for the
# service: a process that never returns pages stays at its peak. mimalloc reads the setting only
# at process start, so it has to be set by the launcher; this file is its one place.
MIMALLOC_PURGE_DELAY=-1 exec "$@"
