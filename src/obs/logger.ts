/**
 * pino: JSON lines by default; pretty when stdout is a terminal (pino-pretty, a dev dependency,
 * loaded only then). Each pipeline stage takes a child logger: logger.child({ stage: "source" }).
 */
import pino, { type Logger } from "pino";

export type { Logger };

export function createLogger(
  level: string,
  opts: { pretty?: boolean; destination?: pino.DestinationStream } = {},
) {
  const pretty = opts.pretty ?? Boolean(process.stdout.isTTY);
  if (pretty && !opts.destination) {
    try {
      return pino({ level, transport: { target: "pino-pretty", options: { colorize: true } } });
    } catch {
      // pino-pretty is a dev dependency: a production install falls back to JSON lines.
    }
  }
  const base = { level, base: { service: "k2" }, timestamp: pino.stdTimeFunctions.isoTime };
  return opts.destination ? pino(base, opts.destination) : pino(base);
}

export function stageLogger(root: Logger, stage: string): Logger {
  return root.child({ stage });
}
