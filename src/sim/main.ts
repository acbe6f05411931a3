/**
 * Standalone simulator: `bun run src/sim/main.ts --help`. Prints one JSON line with the URLs once
 * listening, so scripts can wait for it; stops cleanly on SIGINT/SIGTERM.
 */
import { parseSimArgs, SIM_HELP, SimOptionError, startSimulator } from "./index.ts";

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseSimArgs>;
  try {
    parsed = parseSimArgs(argv);
  } catch (e) {
    if (!(e instanceof SimOptionError)) throw e;
    process.stderr.write(`k2-sim: ${e.message}\n`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(SIM_HELP);
    return 0;
  }
  const sim = await startSimulator(parsed.options);
  process.stdout.write(
    `${JSON.stringify({ msg: "k2-sim listening", wsUrl: sim.wsUrl, restUrl: sim.restUrl, adminUrl: sim.adminUrl, symbols: parsed.options.symbols })}\n`,
  );
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await sim.stop();
  return 0;
}

process.exitCode = await main(Bun.argv.slice(2));
