/**
 * The ledger of what the outside world was told: every call the fake players recorded (with `at`),
 * folded into per-folder scan counts for the "nothing lost, nothing doubled" invariants.
 */
import type { FakeKodi } from '@metarr/testkit';

export interface LedgerEntry {
  player: string;
  method: string;
  directory: string | null;
  at: number;
}

export class Ledger {
  private readonly players: [string, FakeKodi][];
  constructor(players: Record<string, FakeKodi>) {
    this.players = Object.entries(players);
  }

  entries(): LedgerEntry[] {
    const out: LedgerEntry[] = [];
    for (const [player, kodi] of this.players) {
      for (const c of kodi.calls) {
        const params = c.params as { directory?: unknown } | unknown[] | null;
        const directory = Array.isArray(params)
          ? typeof params[0] === 'string'
            ? params[0]
            : null
          : typeof params?.directory === 'string'
            ? params.directory
            : null;
        out.push({ player, method: c.method, directory, at: c.at });
      }
    }
    return out.sort((a, b) => a.at - b.at);
  }

  /** Library scans only. */
  scans(player?: string): LedgerEntry[] {
    return this.entries().filter(
      (e) => e.method === 'VideoLibrary.Scan' && (player === undefined || e.player === player),
    );
  }

  /** Scans per `player|directory`. */
  scanCounts(): Map<string, number> {
    const m = new Map<string, number>();
    for (const e of this.scans()) {
      const k = `${e.player}|${e.directory}`;
      m.set(k, (m.get(k) ?? 0) + 1);
    }
    return m;
  }

  /** Scan times of one folder on one player. */
  scanTimes(player: string, directory: string): number[] {
    return this.scans(player)
      .filter((e) => e.directory === directory)
      .map((e) => e.at);
  }
}
