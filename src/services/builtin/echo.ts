import { Service } from '../service.js';

/** Returns its request unchanged (Zato's `zato.helpers.echo`). */
export class Echo extends Service {
  static override serviceName = 'zato.helpers.echo';
  static override aliases = ['helpers.echo'];
  handle(): void {
    this.response.payload = this.request.rawRequest;
  }
}
