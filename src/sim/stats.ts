/** Counters the simulator exposes through Simulator.stats() and GET /admin/stats. */

export interface SimStatsSnapshot {
  connections: number;
  connectionsTotal: number;
  symbols: number;
  /** Data frames (trade, aggTrade, bookTicker) sent, summed over connections. */
  framesSent: number;
  bytesSent: number;
  garbageFramesSent: number;
  /** Trades generated and meant for sockets (withheld trades excluded). */
  tradesGenerated: number;
  messagesReceived: number;
  refusedUpgrades: number;
  /** Auto-created symbols refused because maxSymbols was reached. */
  symbolsRefused: number;
  /** Ticks skipped because a reader was behind (paceBytes on). */
  ticksPaced: number;
  disconnects: { rateLimit: number; pongTimeout: number; lifetime: number; dropped: number };
  rest: { requests: number; status429: number; status418: number; status500: number; status400: number };
}

export class SimStats {
  connectionsTotal = 0;
  framesSent = 0;
  bytesSent = 0;
  garbageFramesSent = 0;
  tradesGenerated = 0;
  messagesReceived = 0;
  refusedUpgrades = 0;
  symbolsRefused = 0;
  ticksPaced = 0;
  readonly disconnects = { rateLimit: 0, pongTimeout: 0, lifetime: 0, dropped: 0 };
  readonly rest = { requests: 0, status429: 0, status418: 0, status500: 0, status400: 0 };

  countRest(status: number): void {
    this.rest.requests++;
    if (status === 429) this.rest.status429++;
    else if (status === 418) this.rest.status418++;
    else if (status === 500) this.rest.status500++;
    else if (status === 400) this.rest.status400++;
  }

  snapshot(connections: number, symbols: number): SimStatsSnapshot {
    return {
      connections,
      connectionsTotal: this.connectionsTotal,
      symbols,
      framesSent: this.framesSent,
      bytesSent: this.bytesSent,
      garbageFramesSent: this.garbageFramesSent,
      tradesGenerated: this.tradesGenerated,
      messagesReceived: this.messagesReceived,
      refusedUpgrades: this.refusedUpgrades,
      symbolsRefused: this.symbolsRefused,
      ticksPaced: this.ticksPaced,
      disconnects: { ...this.disconnects },
      rest: { ...this.rest },
    };
  }
}
