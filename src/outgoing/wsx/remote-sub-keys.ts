import type { Store } from '../../store/index.js';

/**
 * Where an outgoing connection keeps the sub_keys of its subscriptions on the remote (topic → sub_key), so that
 * after a restart it resumes them — and receives what was published meanwhile — instead of subscribing anew.
 */
export interface RemoteSubKeyStore {
  load(): Promise<Record<string, string>>;
  save(keys: Record<string, string>): Promise<void>;
}

/** Keeps one connection's remote sub_keys in the store's `meta` table. */
export function storedRemoteSubKeys(store: Store, connectionName: string): RemoteSubKeyStore {
  const key = `outgoing.remote-sub-keys.${connectionName}`;
  return {
    async load() {
      const text = await store.getMeta(key);
      if (!text) return {};
      const parsed = JSON.parse(text) as unknown;
      return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, string>) : {};
    },
    save: (keys) => store.setMeta(key, JSON.stringify(keys)),
  };
}
