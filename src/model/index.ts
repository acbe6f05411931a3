export * from "./book-rows.ts";
export * from "./decimal.ts";
export * from "./gaps.ts";
export * from "./kline.ts";
export * from "./row.ts";
export * from "./symbols.ts";
export * from "./tables.ts";
