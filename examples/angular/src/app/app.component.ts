import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { AnalyticsService } from './analytics.service';
import { FeedComponent } from './feed.component';
import { SearchComponent } from './search.component';

@Component({
  selector: 'app-root',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [SearchComponent, FeedComponent],
  template: `
    <h1>rxjs-backpressure in Angular</h1>
    <app-search (focusin)="analytics.track('search-focus')" />
    <button type="button" (click)="analytics.track('refresh')">Refresh</button>
    <app-feed />
  `,
})
export class AppComponent {
  protected readonly analytics = inject(AnalyticsService);
}
