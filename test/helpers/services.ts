import { Service, int, text, ServiceError } from '../../src/index.js';
import type { TestServer } from './server.js';

/** Adds `input.a + input.b`; SimpleIO requires both as integers. */
export class Add extends Service {
  static override serviceName = 'test.add';
  static override io = { inputRequired: [int('a'), int('b')], inputOptional: [text('label')] };
  handle(): void {
    this.response.payload = { sum: (this.request.input.a as number) + (this.request.input.b as number) };
  }
}

/** Always throws a plain Error (a bug in a service). */
export class Boom extends Service {
  static override serviceName = 'test.boom';
  handle(): void {
    throw new Error('kaboom: internal detail');
  }
}

/** Throws a typed error with its own status and code. */
export class Teapot extends Service {
  static override serviceName = 'test.teapot';
  handle(): void {
    throw new ServiceError('teapot', 'I am a teapot', { status: 418 });
  }
}

/** Waits `input.ms` then echoes `input.value` (to test ordering and concurrency). */
export class Slow extends Service {
  static override serviceName = 'test.slow';
  async handle(): Promise<void> {
    const req = this.request.payload as { ms?: number; value?: unknown };
    await new Promise((r) => setTimeout(r, req.ms ?? 0));
    this.response.payload = req.value ?? req;
  }
}

/** Asks the calling client a question over `zwsx.rqc` and returns its answer. */
export class AskClient extends Service {
  static override serviceName = 'test.ask-client';
  async handle(): Promise<void> {
    const timeout = (this.request.payload as { timeout?: number } | undefined)?.timeout ?? 2000;
    const answer = await this.wsx.invoke({ question: 'ready?' }, { timeout });
    this.response.payload = { answer, pubClientId: this.wsx.pubClientId };
  }
}

/** Returns nothing. */
export class Silent extends Service {
  static override serviceName = 'test.silent';
  handle(): void {}
}

/** Records hook calls in `HookRecorder.calls`. */
export class HookRecorder extends Service {
  static override serviceName = 'test.hook';
  static calls: Array<Record<string, unknown>> = [];
  handle(): void {
    HookRecorder.calls.push((this.request.payload as { ctx: Record<string, unknown> }).ctx);
  }
}

/** Deploys the test services above into a running server. */
export function deployTestServices(server: TestServer): void {
  server.registry.replaceSource(
    'test',
    [Add, Boom, Teapot, Slow, AskClient, Silent, HookRecorder].map((cls) => ({ name: cls.serviceName, cls })),
  );
}
