import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting, type TestRequest } from '@angular/common/http/testing';
import { provideZonelessChangeDetection } from '@angular/core';
import { TestBed, type ComponentFixture } from '@angular/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SearchComponent, type Hit } from './search.component';

describe('SearchComponent', () => {
  let fixture: ComponentFixture<SearchComponent>;
  let http: HttpTestingController;

  beforeEach(async () => {
    TestBed.configureTestingModule({
      imports: [SearchComponent],
      providers: [provideZonelessChangeDetection(), provideHttpClient(), provideHttpClientTesting()],
    });
    http = TestBed.inject(HttpTestingController);
    fixture = TestBed.createComponent(SearchComponent);
    await fixture.whenStable();
  });

  afterEach(() => http.verify());

  function type(text: string): void {
    const input = (fixture.nativeElement as HTMLElement).querySelector('input');
    if (input === null) throw new Error('no input');
    input.value = text;
    input.dispatchEvent(new Event('input'));
  }

  function open(): TestRequest[] {
    return http.match((req) => req.url === '/api/search');
  }

  const hits = (term: string): Hit[] => [{ id: 1, title: `first hit for ${term}` }];

  it('runs at most 2 requests at once; while they run only the newest query waits, the others are never sent', async () => {
    type('a');
    type('ab');
    type('abc');
    type('abcd');
    const first = open();
    expect(first.map((r) => r.request.params.get('q'))).toEqual(['a', 'ab']);
    first[0]?.flush(hits('a'));
    const next = open();
    // 'abc' was replaced by 'abcd' in the one-slot buffer (drop-oldest): it was never sent.
    expect(next.map((r) => r.request.params.get('q'))).toEqual(['abcd']);
    next[0]?.flush(hits('abcd'));
    first[1]?.flush(hits('ab')); // an older answer arriving last
    await fixture.whenStable();
    const text = (fixture.nativeElement as HTMLElement).textContent ?? '';
    expect(text).toContain('1 hits for "abcd"');
    expect(text).toContain('first hit for abcd');
    expect(text).not.toContain('first hit for ab\n');
  });

  it('destroying the component cancels the requests in flight', () => {
    type('x');
    type('xy');
    const running = open();
    expect(running).toHaveLength(2);
    fixture.destroy();
    expect(running.map((r) => r.cancelled)).toEqual([true, true]);
  });
});
