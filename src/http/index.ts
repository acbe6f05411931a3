export { type App, type AppDeps, createApp } from "./app.ts";
export { HttpError, mapError } from "./errors.ts";
