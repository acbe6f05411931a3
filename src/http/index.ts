export { apiOptionsOf } from "./api-options.ts";
export { type App, type AppDeps, createApp } from "./app.ts";
export { clientAddress, withClient } from "./client-address.ts";
export { HttpError, mapError } from "./errors.ts";
export { endLiveStreams } from "./page/index.ts";
