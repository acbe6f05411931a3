/** Binance market-stream frames → rows (decode/ imports only model/). */
export { decodeAggTradeObject } from "./agg-trade.ts";
export { decodeBookTickerObject } from "./book-ticker.ts";
export { DepthDecoder } from "./depth.ts";
export {
  DEPTH_DIFF,
  DEPTH_INITIAL_LEVELS,
  DEPTH_MAX_FRAME_LENGTH,
  DEPTH_MAX_LEVELS_PER_SIDE,
  DEPTH_PARTIAL,
  DEPTH_SNAPSHOT,
  DepthFrame,
  DepthSide,
  describeDepthReject,
  REJECT_ASKS,
  REJECT_BIDS,
  REJECT_FRAME,
} from "./depth-frame.ts";
export { decodeFrame } from "./dispatch.ts";
export { decodeFastRange } from "./fast-bytes.ts";
export { decodeKlineFrame, decodeKlineObject } from "./kline.ts";
export {
  ALL_STATUSES,
  DecodeStatus,
  type DecodeStatusName,
  MAX_DEPTH,
  MAX_FRAME_LENGTH,
  statusName,
} from "./status.ts";
export { SymbolLookup } from "./symbol-lookup.ts";
export { decodeTradeObject } from "./trade.ts";
