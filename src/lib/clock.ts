/** Time is injected so expiry and rotation are tested without sleeping. Epoch seconds throughout. */
export interface Clock {
  /** Current time in integer epoch seconds (a JWT NumericDate). */
  now(): number;
}

export const systemClock: Clock = { now: () => Math.floor(Date.now() / 1000) };

/** A clock a test moves by hand. */
export function fixedClock(start: number): Clock & { advance(seconds: number): void } {
  let t = start;
  return { now: () => t, advance: (s: number) => { t += s; } };
}
