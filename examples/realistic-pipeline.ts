/**
 * The realistic pipeline of the failure-mode catalog (ML-09): read lines, parse them, skip bad
 * records without killing the pipeline, and add up the rest in batches, with backpressure that
 * reaches the reader. Explained in docs/examples/realistic-pipeline.md.
 *
 * `npx tsx examples/realistic-pipeline.ts` runs it over 100,000 generated lines.
 */
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { batchFresh, fromPull, mergeWorkers, toAsyncIterable } from '../index.js';

export interface PipelineOptions {
  /** How many lines are parsed at once (default 4). */
  concurrency?: number;
  /** How many parsed records the sink gets at a time (default 100). */
  batchSize?: number;
  /** Parses one line; throws (or rejects) on a bad record. Default: an integer per line. */
  parse?: (line: string, signal: AbortSignal) => number | Promise<number>;
  /** Receives each batch; it is awaited, so a slow sink slows every stage up to the reader. */
  sink?: (batch: readonly number[]) => void | Promise<void>;
  /** Called with each bad line and why it was rejected. */
  onBadRecord?: (line: string, error: unknown) => void;
}

export interface PipelineReport {
  /** The sum of the good records. */
  readonly sum: number;
  /** Good records. */
  readonly records: number;
  /** Bad records, skipped. */
  readonly bad: number;
  /** Lines taken from the reader. */
  readonly linesRead: number;
  /** The most lines ever read but not yet handed to the sink: what the pipeline held. */
  readonly maxHeld: number;
}

/** Parses a line holding one integer; anything else is a bad record. */
export function parseInteger(line: string): number {
  const text = line.trim();
  if (!/^-?\d+$/.test(text)) throw new Error(`bad record: ${JSON.stringify(line)}`);
  return Number(text);
}

/** Runs the pipeline over a text stream and resolves with what it did. */
export async function sumRecords(input: Readable, options: PipelineOptions = {}): Promise<PipelineReport> {
  const { concurrency = 4, batchSize = 100, parse = parseInteger, sink, onBadRecord } = options;
  let linesRead = 0;
  let linesDone = 0; // handed to the sink as a record, or skipped as bad
  let maxHeld = 0;
  let bad = 0;

  // 1. Read: an async generator over readline, pulled by fromPull one line per request. Its
  //    `finally` closes readline and the file when the pipeline ends early (readline's iterator
  //    does neither by itself).
  const lines = createInterface({ input, crlfDelay: Infinity });
  async function* readLines(): AsyncGenerator<string> {
    try {
      for await (const line of lines) {
        linesRead++;
        maxHeld = Math.max(maxHeld, linesRead - linesDone);
        yield line;
      }
    } finally {
      lines.close();
      input.destroy();
    }
  }

  // 2. Parse with a pool that pulls: a line is read only when a parser is free, and a bad line is
  //    reported and skipped ('continue') instead of failing the stream. 3. Batch: fresh arrays,
  //    one at a time. No native operator sits between library stages, so demand crosses them all.
  const batches = fromPull(readLines()).pipe(
    mergeWorkers((line: string, { signal }) => Promise.resolve(parse(line, signal)), {
      concurrency,
      errors: 'continue',
      onError: (error, line) => {
        bad++;
        linesDone++;
        onBadRecord?.(line, error);
      },
    }),
    batchFresh<number>({ size: batchSize }),
  );

  // 4. Aggregate in a for-await loop that asks for the next batch only when it is done with this one.
  let sum = 0;
  let records = 0;
  for await (const batch of toAsyncIterable(batches)) {
    for (const n of batch) sum += n;
    records += batch.length;
    linesDone += batch.length;
    await sink?.(batch);
  }
  return { sum, records, bad, linesRead, maxHeld };
}

/** A text stream of `count` lines, every `badEvery`-th one not a number, made lazily in chunks. */
export function generatedText(count: number, badEvery = 1_000, linesPerChunk = 100): Readable & { chunks(): number } {
  let chunks = 0;
  function* text(): Generator<string> {
    for (let start = 1; start <= count; start += linesPerChunk) {
      chunks++;
      let chunk = '';
      for (let i = start; i < start + linesPerChunk && i <= count; i++) {
        chunk += i % badEvery === 0 ? `oops-${i}\n` : `${i}\n`;
      }
      yield chunk;
    }
  }
  return Object.assign(Readable.from(text()), { chunks: () => chunks });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const input = generatedText(100_000);
  const report = await sumRecords(input, { sink: () => new Promise((resolve) => setImmediate(resolve)) });
  console.log(report, `chunks generated: ${input.chunks()}`);
}
