import { afterEach, describe, expect, it } from 'vitest';
import { startService, type Service } from '../examples/graceful-shutdown.js';

/*
 * The SIGTERM example driven on loopback: jobs are queued over HTTP, the drain is started the way
 * the SIGTERM handler starts it, and the report must match what was queued. Job times are chosen
 * so the outcome does not depend on machine speed: short jobs finish long before the deadline,
 * and a job far longer than the deadline is always aborted.
 */

let service: Service | undefined;
afterEach(() => {
  service?.server.close();
  service = undefined;
});

async function post(port: number, ms: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/jobs?ms=${ms}`, { method: 'POST' });
  await res.text();
  return res.status;
}

describe('example: a web service that drains its queue on SIGTERM with a deadline', () => {
  it('finishes every queued job when they fit in the deadline, and refuses new ones while draining', async () => {
    service = startService({ port: 0, queueCapacity: 10, concurrency: 2, deadline: 5_000 });
    const port = await service.listening;
    const statuses = await Promise.all(Array.from({ length: 6 }, () => post(port, 20)));
    expect(statuses).toEqual([202, 202, 202, 202, 202, 202]);
    const report = await service.shutdown();
    expect(report).toMatchObject({
      outcome: 'drained',
      accepted: 6,
      completed: 6,
      dropped: 0,
      failed: 0,
      aborted: 0,
      neverStarted: 0,
      undelivered: 0,
      unaccounted: 0,
    });
  });

  it('answers 503 instead of blocking when the queue is full', async () => {
    service = startService({ port: 0, queueCapacity: 2, concurrency: 1, deadline: 50 });
    const port = await service.listening;
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push(await post(port, 60_000));
    // One job runs, two wait in the queue, the rest are refused at once.
    expect(statuses.filter((s) => s === 202)).toHaveLength(3);
    expect(statuses.filter((s) => s === 503)).toHaveLength(3);
    const report = await service.shutdown();
    expect(report.outcome).toBe('deadline');
    expect(report.aborted).toBe(1);
  });
});
