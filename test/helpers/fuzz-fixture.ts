import { startFuzzTarget, type FuzzTarget } from './fuzz-target.js';
import { buildWorld, type FuzzWorld } from './fuzz-world.js';

export interface FuzzFixture {
  target: FuzzTarget;
  world: FuzzWorld;
}

/**
 * The fuzz suites' one set-up: a target (the app, reachable on the lean path and through koa) and
 * its world of named clients, tokens and sessions, made before the enclosing describe block's
 * tests and closed after them. Read `target` and `world` inside tests, not at declaration time.
 */
export function useFuzzFixture(): FuzzFixture {
  const fixture = {} as FuzzFixture;
  beforeAll(async () => {
    fixture.target = await startFuzzTarget();
    fixture.world = await buildWorld(fixture.target.app);
  }, 60_000);
  afterAll(() => fixture.target.close());
  return fixture;
}
