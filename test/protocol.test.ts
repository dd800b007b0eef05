import { describe, expect, it } from 'vitest';
import { Observable, map, take, toArray, firstValueFrom } from 'rxjs';
import { DEMAND, PROTOCOL_VERSION, ProtocolError, fromPull, isDemandAware } from '../index.js';
import { demandProtocolOf } from '../lib/core/protocol.js';
import { countingIterable, probe } from './helpers.js';

describe('demand handshake', () => {
  it('is keyed by a registered symbol so separate copies of the package find each other', () => {
    expect(DEMAND).toBe(Symbol.for('rxjs-backpressure.demand'));
    expect(isDemandAware(fromPull([1]))).toBe(true);
    expect(isDemandAware(fromPull([1]).pipe(map((x) => x)))).toBe(false);
  });

  it('refuses a protocol version it cannot speak, loudly', () => {
    const alien = new Observable<number>();
    Object.defineProperty(alien, DEMAND, { value: { version: PROTOCOL_VERSION + 1, subscribe: () => undefined } });
    expect(() => demandProtocolOf(alien)).toThrow(ProtocolError);
    expect(() => demandProtocolOf(alien)).toThrow(/version 2.*speaks 1/);
  });

  it('never emits more than was requested (rule 1.1) and requests are additive', () => {
    const src = countingIterable();
    const p = probe(fromPull(src.iterable));
    expect(p.values).toEqual([]);
    expect(src.pulled()).toBe(0);
    p.request(2);
    expect(p.values).toEqual([0, 1]);
    p.request(1);
    p.request(2);
    expect(p.values).toEqual([0, 1, 2, 3, 4]);
    expect(src.pulled()).toBe(5);
    p.cancel();
    expect(src.returned()).toBe(true);
  });

  it('signals request(0), request(-1), NaN and non-numbers as ProtocolError (rule 3.9) and cancels upstream', () => {
    for (const bad of [0, -1, NaN, 1.5, '1' as unknown as number]) {
      const src = countingIterable();
      const p = probe(fromPull(src.iterable));
      p.request(1);
      p.request(bad);
      expect(p.errors).toHaveLength(1);
      expect(p.errors[0]).toBeInstanceOf(ProtocolError);
      expect(String(p.errors[0])).toMatch(/request\(n\) needs a whole n > 0 or Infinity/);
      expect(src.returned()).toBe(true);
      p.request(5);
      expect(p.values).toEqual([0]);
    }
  });

  it('allows request() from inside next without growing the stack (rules 3.2, 3.3)', () => {
    let maxDepth = 0;
    let depth = 0;
    const p = probe(fromPull(countingIterable(100_000).iterable), (_v, self) => {
      depth++;
      maxDepth = Math.max(maxDepth, depth);
      self.request(1);
      depth--;
    });
    p.request(1);
    expect(p.values).toHaveLength(100_000);
    expect(p.completions).toBe(1);
    expect(maxDepth).toBe(1);
  });

  it('delivers completion with zero outstanding demand', () => {
    // An array knows its end: completion follows the last element with no demand left.
    const p = probe(fromPull([1, 2]));
    p.request(2);
    expect(p.values).toEqual([1, 2]);
    expect(p.completions).toBe(1);
    // A generator says it is done only when asked once more; the completion needs no value.
    const g = probe(fromPull(countingIterable(2).iterable));
    g.request(2);
    expect(g.completions).toBe(0);
    g.request(1);
    expect(g.values).toEqual([0, 1]);
    expect(g.completions).toBe(1);
    const empty = probe(fromPull([]));
    empty.request(1);
    expect(empty.completions).toBe(1);
  });

  it('cancel is idempotent and nothing is signalled after it', () => {
    const p = probe(fromPull([1, 2, 3]));
    p.request(1);
    p.cancel();
    p.cancel();
    p.request(5);
    expect(p.values).toEqual([1]);
    expect(p.completions).toBe(0);
    expect(p.afterTerminal).toBe(0);
  });

  it('gives an ordinary subscriber unbounded demand and stops a synchronous source at take(n)', async () => {
    const src = countingIterable(); // endless
    const got = await firstValueFrom(fromPull(src.iterable).pipe(take(3), toArray()));
    expect(got).toEqual([0, 1, 2]);
    expect(src.pulled()).toBe(3);
    expect(src.returned()).toBe(true);
  });
});
