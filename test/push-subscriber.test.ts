import { describe, expect, it } from 'vitest';
import { Observable, Subject, config, finalize, map, of, type Observer, type Subscriber } from 'rxjs';
import { PushSubscriber } from '../lib/core/push-subscriber.js';

/** An observer that logs every signal it gets. */
function recorder(log: string[]): Observer<number> {
  return {
    next: (v) => log.push(`next ${v}`),
    error: (err: unknown) => log.push(`error ${(err as Error).message}`),
    complete: () => log.push('complete'),
  };
}

/** A synchronous source that logs its own teardown. */
function syncSource(log: string[], values: number[], end: 'complete' | Error): Observable<number> {
  return new Observable<number>((subscriber) => {
    for (const v of values) subscriber.next(v);
    if (end === 'complete') subscriber.complete();
    else subscriber.error(end);
    return () => log.push('source teardown');
  });
}

describe('PushSubscriber: the subscriber a stage hands a push source', () => {
  it('is the subscriber the source itself sees: RxJS puts nothing between', () => {
    let seen: Subscriber<number> | undefined;
    const sub = new PushSubscriber<number>(recorder([]));
    sub.subscribeTo(new Observable<number>((subscriber) => void (seen = subscriber)));
    expect(seen).toBe(sub);
    // Through an operator, the operator's subscriber is added to it, as to any Subscriber.
    let inner: Subscriber<number> | undefined;
    const log: string[] = [];
    const sub2 = new PushSubscriber<number>(recorder(log));
    sub2.subscribeTo(new Observable<number>((subscriber) => void (inner = subscriber)).pipe(map((v) => v * 10)));
    inner!.next(1);
    sub2.unsubscribe();
    expect(inner!.closed).toBe(true);
    expect(log).toEqual(['next 10']);
  });

  for (const end of ['complete', new Error('boom')] as const) {
    const label = end === 'complete' ? 'completion' : 'error';
    it(`passes a synchronous source's ${label} on after the source's teardown`, () => {
      const log: string[] = [];
      new PushSubscriber<number>(recorder(log)).subscribeTo(syncSource(log, [1, 2], end));
      expect(log).toEqual(['next 1', 'next 2', 'source teardown', end === 'complete' ? 'complete' : 'error boom']);
    });

    it(`passes an asynchronous source's ${label} on after the source's teardown, upstream finalizers first`, () => {
      const log: string[] = [];
      const subject = new Subject<number>();
      const source = subject.pipe(finalize(() => log.push('source teardown')));
      const sub = new PushSubscriber<number>(recorder(log));
      sub.subscribeTo(source);
      subject.next(1);
      if (end === 'complete') subject.complete();
      else subject.error(end);
      expect(log).toEqual(['next 1', 'source teardown', end === 'complete' ? 'complete' : 'error boom']);
      expect(sub.closed).toBe(true);
    });
  }

  it('keeps the terminal signal when the source teardown unsubscribes the subscriber it was given', () => {
    const log: string[] = [];
    const source = new Observable<number>((subscriber) => {
      const own = of(1, 2).subscribe(subscriber); // returns `subscriber` itself
      return () => {
        log.push('source teardown');
        own.unsubscribe();
      };
    });
    new PushSubscriber<number>(recorder(log)).subscribeTo(source);
    expect(log).toEqual(['next 1', 'next 2', 'source teardown', 'complete']);
  });

  it('stops an endless synchronous source when cancelled mid-burst, and passes nothing on after', () => {
    const log: string[] = [];
    let emitted = 0;
    const endless = new Observable<number>((subscriber) => {
      while (!subscriber.closed) subscriber.next(emitted++);
      subscriber.complete(); // ignored: the subscriber is closed
      return () => log.push('source teardown');
    });
    let sub: PushSubscriber<number>;
    const target: Observer<number> = {
      next: (v) => {
        log.push(`next ${v}`);
        if (v === 2) sub.cancel();
      },
      error: () => log.push('error'),
      complete: () => log.push('complete'),
    };
    sub = new PushSubscriber<number>(target);
    sub.subscribeTo(endless);
    expect(emitted).toBe(3);
    expect(log).toEqual(['next 0', 'next 1', 'next 2', 'source teardown']);
  });

  it('passes nothing on when the stage cancels during the source teardown that follows a terminal signal', () => {
    const log: string[] = [];
    let sub: PushSubscriber<number>;
    const source = new Observable<number>((subscriber) => {
      subscriber.next(1);
      subscriber.complete();
      return () => {
        log.push('source teardown');
        sub.cancel();
      };
    });
    sub = new PushSubscriber<number>(recorder(log));
    sub.subscribeTo(source);
    expect(log).toEqual(['next 1', 'source teardown']);
  });

  it('ignores what a source signals after its terminal signal', () => {
    const log: string[] = [];
    const rude = new Observable<number>((subscriber) => {
      subscriber.next(1);
      subscriber.complete();
      subscriber.next(2);
      subscriber.error(new Error('late'));
      subscriber.complete();
    });
    new PushSubscriber<number>(recorder(log)).subscribeTo(rude);
    expect(log).toEqual(['next 1', 'complete']);
  });

  it("reports a throw from the target's next as RxJS does, and the values go on", () => {
    const reported: unknown[] = [];
    const previous = config.onUnhandledError;
    config.onUnhandledError = (err) => reported.push(err);
    try {
      const log: string[] = [];
      const oops = new Error('consumer bug');
      const target: Observer<number> = {
        next: (v) => {
          log.push(`next ${v}`);
          if (v === 1) throw oops;
        },
        error: () => log.push('error'),
        complete: () => log.push('complete'),
      };
      new PushSubscriber<number>(target).subscribeTo(of(1, 2));
      expect(log).toEqual(['next 1', 'next 2', 'complete']);
      expect(reported).toEqual([oops]);
    } finally {
      config.onUnhandledError = previous;
    }
  });

  it('delivers an error thrown by the subscribe function, after the teardown registered so far', () => {
    const log: string[] = [];
    const source = new Observable<number>((subscriber) => {
      subscriber.add(() => log.push('added teardown'));
      subscriber.next(1);
      throw new Error('thrown');
    });
    new PushSubscriber<number>(recorder(log)).subscribeTo(source);
    expect(log).toEqual(['next 1', 'added teardown', 'error thrown']);
  });

  it('still passes the terminal signal on when a finalizer throws', () => {
    const log: string[] = [];
    const subject = new Subject<number>();
    const source = subject.pipe(
      finalize(() => {
        throw new Error('finalizer');
      }),
    );
    new PushSubscriber<number>(recorder(log)).subscribeTo(source);
    // RxJS gathers the finalizer's throw into an UnsubscriptionError and throws it at the source.
    expect(() => subject.complete()).toThrow(/finalizer/);
    expect(log).toEqual(['complete']);
  });

  it('holds no reference to its target once the source has ended or it was cancelled', () => {
    const ended = new PushSubscriber<number>(recorder([]));
    ended.subscribeTo(of(1));
    const cancelled = new PushSubscriber<number>(recorder([]));
    cancelled.subscribeTo(new Subject<number>());
    cancelled.cancel();
    for (const sub of [ended, cancelled]) {
      expect((sub as unknown as { target: unknown }).target).toBeUndefined();
      expect(sub.closed).toBe(true);
    }
  });
});
