import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../schema.js';
import { GroupCommit } from '../group-commit.js';
import type {
  ClaimedSubscription,
  OwnedState,
  OwnerlessSubscription,
  PubSubClusterStore,
  StoredTotals,
  SubscriptionRecord,
} from '../pubsub-repository.js';
import type { Publication } from '../pubsub-repository-base.js';
import { toStored, type SubscriptionRow } from '../pubsub-rows.js';
import { foldDepths, readDepths, type DepthDeltas } from './pubsub-depths.js';
import { deleteQueue } from './pubsub-writes.js';

type ClaimRow = SubscriptionRow & { sub_key: string; owner_epoch: string; queued: string };

// The owner column names the server only once it is registered (a server may take subscriptions a moment before it
// joins); until then the subscription is ownerless, which the epoch still fences.
const ME = (serverId: string) => sql`(select server_id from cluster_server where server_id = ${serverId})`;

/** The cluster's pub/sub SQL on PostgreSQL (cluster-notes §3.7); the logic is in src/pubsub/. */
export class PostgresPubSubCluster<S extends SubscriptionRecord> implements PubSubClusterStore<S> {
  readonly #db: Kysely<Database>;
  readonly #writes: GroupCommit<Publication>;
  readonly #depths: DepthDeltas;
  readonly #claims: GroupCommit<Claim<S>>;

  constructor(db: Kysely<Database>, writes: GroupCommit<Publication>, depths: DepthDeltas) {
    this.#db = db;
    this.#writes = writes;
    this.#depths = depths;
    this.#claims = new GroupCommit<Claim<S>>(db, (claims, trx) => claimAll(claims, trx));
  }

  async createOwned(subscription: S, serverId: string): Promise<void> {
    await sql`insert into pubsub_subscription (sub_key, topic_name, body, created_at, owner_server_id, owner_epoch)
      values (${subscription.subKey}, ${subscription.topicName}, ${JSON.stringify(subscription)}, ${subscription.createdAt},
        ${ME(serverId)}, 1)`.execute(this.#db);
  }

  // Claims commit in rounds of their own (a second GroupCommit), outside the write queue: a claim may wait for the
  // previous owner's round (the row lock), and this server's publications must not wait with it. A thousand
  // subscribers resuming at once are a few transactions, not a thousand (bench case (d)).
  async claim(subKey: string, serverId: string): Promise<ClaimedSubscription<S> | undefined> {
    const claim: Claim<S> = { subKey, serverId, result: undefined };
    await this.#claims.add(claim);
    return claim.result;
  }

  async adoptOwnerless(serverId: string): Promise<Array<ClaimedSubscription<S>>> {
    const { rows } = await sql<ClaimRow>`update pubsub_subscription s
      set owner_server_id = ${ME(serverId)}, owner_epoch = owner_epoch + 1
      where owner_server_id is null
      returning sub_key, body, suspended, dropped, detached_at, owner_epoch,
        (select count(*) from pubsub_queue q where q.sub_key = s.sub_key) as queued`.execute(this.#db);
    return rows.map((r) => claimed<S>(r));
  }

  async owned(subKeys: readonly string[]): Promise<OwnedState[]> {
    if (!subKeys.length) return [];
    const { rows } = await sql<{ sub_key: string; owner_epoch: string; queued: string; pending: boolean }>`
      select s.sub_key, s.owner_epoch,
        (select count(*) from pubsub_queue q where q.sub_key = s.sub_key) as queued,
        exists (select 1 from pubsub_queue q where q.sub_key = s.sub_key and q.delivered = 0) as pending
      from pubsub_subscription s where s.sub_key = any(${subKeys}::text[])`.execute(this.#db);
    return rows.map((r) => ({ subKey: r.sub_key, epoch: Number(r.owner_epoch), queued: Number(r.queued), pending: r.pending }));
  }

  depths(): Promise<Map<string, StoredTotals>> {
    return readDepths(this.#db);
  }

  foldDepths(): Promise<number> {
    return foldDepths(this.#db);
  }

  async ownerless(now: number): Promise<OwnerlessSubscription[]> {
    // Ownerless since `now` unless detached before: a subscriber gone before its server died keeps its own time.
    await sql`update pubsub_subscription set detached_at = ${now}
      where owner_server_id is null and detached_at is null`.execute(this.#db);
    const { rows } = await sql<{ sub_key: string; topic_name: string; detached_at: string; unsub: boolean }>`
      select sub_key, topic_name, detached_at, coalesce((body::jsonb ->> 'unsubOnWsxClose') = 'true', false) as unsub
      from pubsub_subscription where owner_server_id is null`.execute(this.#db);
    return rows.map((r) => ({
      subKey: r.sub_key,
      topicName: r.topic_name,
      detachedAt: Number(r.detached_at),
      unsubOnWsxClose: r.unsub,
    }));
  }

  deleteOwnerless(subKey: string): Promise<boolean> {
    return this.#deleteIfOwnerless(subKey);
  }

  async subscribedElsewhere(serverId: string): Promise<Set<string>> {
    const { rows } = await sql<{ topic_name: string }>`select distinct topic_name from pubsub_subscription
      where owner_server_id is distinct from ${serverId}`.execute(this.#db);
    return new Set(rows.map((r) => r.topic_name));
  }

  async peers(serverId: string): Promise<boolean> {
    const { rows } = await sql<{ any: boolean }>`select exists (select 1 from cluster_server
      where server_id <> ${serverId}) as any`.execute(this.#db);
    return rows[0]?.any === true;
  }

  async #deleteIfOwnerless(subKey: string): Promise<boolean> {
    let gone = false;
    await this.#writes.run(async (trx) => {
      const { rows } = await sql`delete from pubsub_subscription
        where sub_key = ${subKey} and owner_server_id is null returning sub_key`.execute(trx);
      gone = rows.length === 1;
      if (gone) await deleteQueue(trx, subKey, this.#depths.recorder(trx));
    });
    return gone;
  }
}

function claimed<S extends SubscriptionRecord>(row: ClaimRow): ClaimedSubscription<S> {
  return { ...toStored<S>(row), epoch: Number(row.owner_epoch), queued: Number(row.queued) };
}

/** One claim of a round: who claims which subscription, and what the round found. */
interface Claim<S extends SubscriptionRecord> {
  readonly subKey: string;
  readonly serverId: string;
  result: ClaimedSubscription<S> | undefined;
}

/**
 * A round's claims (cluster-notes §3.7): the rows locked in key order (two servers' rounds never deadlock on them),
 * each made its claimer's (epoch + 1, attached), and what was sent and not removed requeued: the previous owner's
 * frames may not have reached the subscriber, so they go again, their count raised, as after a reconnect to the
 * same server. A subscription claimed twice in one round is raised once; both claimers get that epoch.
 */
async function claimAll<S extends SubscriptionRecord>(
  claims: ReadonlyArray<Claim<S>>,
  trx: Transaction<Database>,
): Promise<void> {
  const keys = [...new Set(claims.map((c) => c.subKey))].sort();
  const by = new Map(claims.map((c) => [c.subKey, c.serverId]));
  await sql`select 1 from pubsub_subscription where sub_key = any(${keys}::text[]) order by sub_key for update`.execute(trx);
  const { rows } = await sql<ClaimRow>`update pubsub_subscription s
    set owner_server_id = (select server_id from cluster_server where server_id = d.owner),
      owner_epoch = s.owner_epoch + 1, detached_at = null
    from unnest(${keys}::text[], ${keys.map((k) => by.get(k)!)}::text[]) as d(k, owner)
    where s.sub_key = d.k
    returning s.sub_key, s.body, s.suspended, s.dropped, s.detached_at, s.owner_epoch,
      (select count(*) from pubsub_queue q where q.sub_key = s.sub_key) as queued`.execute(trx);
  await sql`update pubsub_queue set delivered = 0 where sub_key = any(${keys}::text[]) and delivered = 1`.execute(trx);
  const found = new Map(rows.map((r) => [r.sub_key, claimed<S>(r)]));
  // A round retried (group-commit.ts) runs this again: every result is set afresh.
  for (const c of claims) c.result = found.get(c.subKey);
}
