import type { Store } from '../store/index.js';
import type { ChannelDefinitions } from '../channels/wsx/index.js';

/** The demo channels a new database gets (DESIGN.md §9). */
export function demoChannels(port: number) {
  return [
    { name: 'demo', address: `ws://127.0.0.1:${port}/demo`, service: 'helpers.web-sockets-gateway', protocol: 'zato' as const },
    { name: 'demo.plain', address: `ws://127.0.0.1:${port}/plain`, service: 'zato.helpers.echo', protocol: 'plain' as const },
  ];
}

/** Seeds a new, empty database once; resolves with whether it did. */
export async function seedOnce(
  store: Store,
  channels: ChannelDefinitions,
  options: { demo: boolean; demoPort: number },
): Promise<boolean> {
  if (await store.getMeta('seeded')) return false;
  if (options.demo && (await channels.list()).length === 0) {
    for (const channel of demoChannels(options.demoPort)) await channels.create(channel);
  }
  await store.setMeta('seeded', new Date().toISOString());
  return options.demo;
}
