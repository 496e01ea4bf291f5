import { Service } from '../service.js';

/** Answers `{ "pong": "zato" }`, as Zato's `zato.ping` does. */
export class Ping extends Service {
  static override serviceName = 'zato.ping';
  handle(): void {
    this.response.payload = { pong: 'zato' };
  }
}
