import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { HttpClient } from '@angular/common/http';
import { Subject, map } from 'rxjs';
import { boundedBuffer, mergeWorkers } from 'rxjs-backpressure';

export interface Hit {
  readonly id: number;
  readonly title: string;
}

export interface SearchResult {
  readonly term: string;
  readonly hits: readonly Hit[];
}

/**
 * A search box. Every keystroke is a query; at most `concurrency` requests run at once, and
 * while they do only the newest query waits (a one-slot buffer, drop-oldest): queries typed in
 * between are never sent. Destroying the component cancels the requests in flight.
 */
@Component({
  selector: 'app-search',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <label>
      Search
      <input type="search" [value]="term()" (input)="onInput($event)" />
    </label>
    <p class="status">
      @if (latest(); as result) {
        {{ result.hits.length }} hits for "{{ result.term }}"
      } @else {
        Type to search
      }
    </p>
    <ul>
      @for (hit of latest()?.hits ?? []; track hit.id) {
        <li>{{ hit.title }}</li>
      }
    </ul>
  `,
})
export class SearchComponent {
  static readonly concurrency = 2;

  readonly term = signal('');
  readonly latest = signal<SearchResult | undefined>(undefined);
  /** The last query whose request failed: shown, and the search goes on. */
  readonly failed = signal<string | undefined>(undefined);
  private readonly http = inject(HttpClient);
  private readonly queries = new Subject<string>();

  constructor() {
    this.queries
      .pipe(
        boundedBuffer({ capacity: 1, overflow: 'drop-oldest' }),
        // HttpClient's Observable is the work: its type flows through (SearchResult), and
        // unsubscribing it (on destroy) aborts the request.
        mergeWorkers(
          (term: string) =>
            this.http
              .get<readonly Hit[]>('/api/search', { params: { q: term } })
              .pipe(map((hits): SearchResult => ({ term, hits }))),
          {
            concurrency: SearchComponent.concurrency,
            errors: 'continue',
            onError: (_err, term) => this.failed.set(term),
          },
        ),
        takeUntilDestroyed(),
      )
      .subscribe((result) => {
        // Requests run concurrently: an answer to an older query must not replace a newer one.
        if (result.term === this.term()) this.latest.set(result);
      });
  }

  onInput(event: Event): void {
    const term = (event.target as HTMLInputElement).value;
    this.term.set(term);
    this.queries.next(term);
  }
}
