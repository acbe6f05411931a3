export {
  DEAD_LETTER_MAX_BYTES_DEFAULT,
  DEAD_LETTER_MAX_ENTRIES_DEFAULT,
  DEAD_LETTER_MAX_STATUS,
  DeadLetterBuffer,
  type DeadLetterEntry,
  type DeadLetterOptions,
} from "./dead-letter.ts";
export { RING_MAX_CAPACITY, Ring, type RingStats, validateRingCapacity } from "./ring.ts";
