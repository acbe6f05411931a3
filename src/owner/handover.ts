/**
 * The hand-over between two K2 processes on one data dir and one port (the one-command upgrade):
 * "blue" owns the folder and serves; "green" is started the ordinary way. JSON lines over the
 * owner's control channel (lock.ts), one connection for the whole conversation:
 *
 *   green → blue  {op:"handover", pid, version, host, port}   blue pauses compaction/retention
 *   green         opens its WebSocket sessions; frames are staged (make-before-break)
 *   green → blue  {op:"cut", first:{"table:SYMBOL": id}}      blue waits until it has itself
 *                 received each of green's first ids (the two overlap), stops ingesting, makes
 *                 every row visible in Parquet, empties its WAL and gives up the lock; answers
 *                 {last:{…}, openGaps:[…]}
 *   green         takes the lock, opens storage, ingests the staged frames (its sequencer, seeded
 *                 from the files, drops what blue stored), repairs blue's open gaps, serves on
 *                 the port beside blue (SO_REUSEPORT)
 *   green → blue  {op:"serving", url}                         blue stops accepting, finishes the
 *                 requests in flight and exits 0
 *
 * Faults: green gone before the cut → blue resumes maintenance, nothing else changed; green
 * gone after it → blue takes the lock back and restarts its pipeline in-process. Blue gone at
 * any point → green takes the free lock and starts as after a crash (blue's WAL is replayed).
 * Blue silent past K2_HANDOVER_TIMEOUT_MS → green exits 2 and blue is untouched.
 */

export { type BlueDeps, BlueSide } from "./blue.ts";
export { GreenSide, type GreenSummary } from "./green.ts";
export { HandoverError, OVERLAP_MIN_MS } from "./protocol.ts";
