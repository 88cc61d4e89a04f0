/**
 * The grants a revocation event named, each kept until `retention` seconds after it arrived: by
 * then every access token of the grant has expired (Grantor's access tokens live minutes) or the
 * status list, which is permanent for the grant's index, refuses it. At most `max` entries: past
 * that the oldest goes first (it is the one the status list has long caught up with).
 * A lookup is one Map get: verify() pays nothing more for it.
 */
export class RevokedGrants {
  readonly #until = new Map<string, number>();
  readonly #retention: number;
  readonly #max: number;
  #sweepAt = 1024;

  constructor(retention: number, max: number) {
    this.#retention = retention;
    this.#max = max;
  }

  add(grantId: string, now: number): void {
    if (this.#until.size >= this.#sweepAt) {
      for (const [id, until] of this.#until) if (until <= now) this.#until.delete(id);
      this.#sweepAt = Math.max(1024, this.#until.size * 2);
    }
    // Re-inserted at the end, so the Map stays in arrival order for the cap.
    this.#until.delete(grantId);
    while (this.#until.size >= this.#max) this.#until.delete(this.#until.keys().next().value as string);
    this.#until.set(grantId, now + this.#retention);
  }

  has(grantId: string, now: number): boolean {
    const until = this.#until.get(grantId);
    return until !== undefined && until > now;
  }

  get size(): number {
    return this.#until.size;
  }
}
