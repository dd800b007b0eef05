// The component tests run on ngc's output (AOT-compiled components, strict templates). Angular's
// own packages ship partially compiled; the JIT compiler links them at run time in tests.
import '@angular/compiler';
import { getTestBed } from '@angular/core/testing';
import { BrowserTestingModule, platformBrowserTesting } from '@angular/platform-browser/testing';
import { afterEach } from 'vitest';

getTestBed().initTestEnvironment(BrowserTestingModule, platformBrowserTesting(), {
  teardown: { destroyAfterEach: true },
});
// Jasmine and Jest get this hook from Angular itself; vitest without globals does not.
afterEach(() => getTestBed().resetTestingModule());
