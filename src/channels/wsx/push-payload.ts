/**
 * A message the server pushes (send, broadcast), with its JSON text computed at most once however many
 * connections it goes to: a broadcast to N clients stringifies its data once, not N times.
 */
export class PushPayload {
  readonly data: unknown;
  #json: string | undefined;
  #encoded = false;

  constructor(data: unknown) {
    this.data = data;
  }

  /** `JSON.stringify(data)` (undefined for what JSON leaves out); throws, each time, for what JSON cannot hold. */
  get json(): string | undefined {
    if (!this.#encoded) {
      this.#json = JSON.stringify(this.data) as string | undefined;
      this.#encoded = true;
    }
    return this.#json;
  }
}
