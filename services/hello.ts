// An example service, hot-deployed by `npm start` from ./services. Edit and save it: the new version is
// live at once, with no restart.
import { Service, text } from 'switchboard';

/** Greets by name. Try: npx switchboard service invoke demo.hello --request '{"name":"Ada"}' */
export default class Hello extends Service {
  static override serviceName = 'demo.hello';
  static override io = { inputRequired: [text('name')] };

  async handle(): Promise<void> {
    const name = this.request.input.name as string;
    this.logger.info({ name }, 'Greeting');
    this.response.payload = { greeting: `Hello, ${name}!` };
  }
}
