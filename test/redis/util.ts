import type { RedisCommander, RedisConnection, RedisStreamClient } from '../../redis/index.js';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every 10 ms; fails with `what` after `timeout` ms. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeout = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * The real client, except that every command its reading connections (`duplicate()`) send is
 * shown to `onCommand` first: a spy on what the source asks Redis for, not a mock.
 */
export function spyOnReads(client: RedisStreamClient, onCommand: (args: readonly string[]) => void): RedisStreamClient {
  return {
    sendCommand: (args) => client.sendCommand(args),
    duplicate(): RedisConnection {
      const connection = client.duplicate();
      const send = connection.sendCommand.bind(connection);
      connection.sendCommand = (args: string[]) => {
        onCommand(args);
        return send(args);
      };
      return connection;
    },
  };
}

/** The ids in `consumer`'s pending list (all consumers' without it). */
export async function pendingIds(
  client: RedisStreamClient,
  stream: string,
  group: string,
  consumer?: string,
): Promise<string[]> {
  const args = ['XPENDING', stream, group, '-', '+', '100000'];
  if (consumer !== undefined) args.push(consumer);
  const rows = (await client.sendCommand(args)) as [string, string, number, number][];
  return rows.map((row) => row[0]);
}

export async function addEntries(
  client: RedisStreamClient,
  stream: string,
  n: number,
  fields: (i: number) => Record<string, string> = (i) => ({ n: String(i) }),
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const args = ['XADD', stream, '*'];
    for (const [k, v] of Object.entries(fields(i))) args.push(k, v);
    ids.push(String(await client.sendCommand(args)));
  }
  return ids;
}

export const sorted = (ids: readonly string[]): string[] => [...ids].sort(compareIds);

export function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  return am === bm ? Number(as - bs) : am < bm ? -1 : 1;
}

/** XRANGE key - +, as [id, fields] pairs. */
export async function xrange(client: RedisCommander, key: string): Promise<[string, Record<string, string>][]> {
  const rows = (await client.sendCommand(['XRANGE', key, '-', '+'])) as [string, string[]][];
  return rows.map(([id, pairs]) => {
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < pairs.length; i += 2) fields[pairs[i]!] = pairs[i + 1]!;
    return [id, fields];
  });
}
