import { BadRequestError, ForbiddenError, ValidationError } from '../errors/index.js';
import type { ChannelManager } from '../channels/wsx/index.js';
import { Service, bool, int, opaque, text, list, type ServiceClass } from '../services/index.js';
import type { Caller, PubSub } from './pubsub.js';
import type { AckMode } from './subscription.js';

function callerOf(service: Service): Caller {
  const { pubClientId, extClientId } = service.wsx;
  if (service.channel.type !== 'wsx' || !pubClientId) {
    throw new BadRequestError('wsx_client_required', 'This service must be invoked by a WebSocket client');
  }
  return { channelName: service.channel.name, pubClientId, extClientId };
}

function optionalCaller(service: Service): Caller | undefined {
  return service.channel.type === 'wsx' && service.wsx.pubClientId ? callerOf(service) : undefined;
}

/** Longest text element (names, ids, keys) the pub/sub services accept, as for WSX meta fields. */
const MAX_TEXT_LENGTH = 256;
/** Most topics one subscribe call may name. */
const MAX_TOPIC_LIST = 1000;

/** Refuses text elements longer than `MAX_TEXT_LENGTH` (400 `invalid_input` naming the element). */
function checkTextLengths(input: Record<string, unknown>, names: readonly string[]): void {
  for (const name of names) {
    const v = input[name];
    if (typeof v === 'string' && v.length > MAX_TEXT_LENGTH)
      throw new ValidationError('invalid_input', `Element ${name} must be at most ${MAX_TEXT_LENGTH} characters`, {
        field: name,
      });
  }
}

/** The topics a subscribe call names: `topic_name_list` (non-empty strings only) or `topic_name`. */
function topicNames(input: Record<string, unknown>): string[] {
  const list = input.topic_name_list as unknown[] | undefined;
  if (list === undefined) return typeof input.topic_name === 'string' && input.topic_name !== '' ? [input.topic_name] : [];
  if (list.length > MAX_TOPIC_LIST)
    throw new ValidationError('invalid_input', `Element topic_name_list may name at most ${MAX_TOPIC_LIST} topics`, {
      field: 'topic_name_list',
    });
  for (const name of list) {
    if (typeof name !== 'string' || name === '' || name.length > MAX_TEXT_LENGTH) {
      throw new ValidationError(
        'invalid_input',
        `Element topic_name_list must be a list of topic names (strings of 1-${MAX_TEXT_LENGTH} characters)`,
        { field: 'topic_name_list' },
      );
    }
  }
  return list as string[];
}

/** Where the callers' channels are: their pub/sub permissions (`topicAccess`). */
type CallerChannels = Pick<ChannelManager, 'localChannel'>;

/**
 * Refuses (403 `forbidden`, before anything is written) when the caller's channel or security definition has no
 * pattern allowing `op` on every one of `topics` (docs/security.md, "Pub/sub permissions").
 */
function checkAccess(channels: CallerChannels, caller: Caller, op: 'pub' | 'sub', topics: readonly string[]): void {
  // A caller's socket is always on this server: the service runs where the frame arrived.
  const access = channels.localChannel(caller.channelName).topicAccess;
  if (access.open) return;
  for (const topic of topics) {
    if (access.allows(op, topic)) continue;
    const verb = op === 'pub' ? 'publish to' : 'subscribe to';
    throw new ForbiddenError('forbidden', `This client may not ${verb} topic ${topic}`, { field: 'topic_name' });
  }
}

/** The WSX pub/sub API as services, with Zato's names (DESIGN.md §4), bound to one `PubSub`. */
export function pubsubServices(pubsub: PubSub, channels: CallerChannels): ServiceClass[] {
  class PublishMessage extends Service {
    static override serviceName = 'zato.pubsub.pubapi.publish-message';
    static override io = {
      inputRequired: [text('topic_name')],
      inputOptional: [
        opaque('data'),
        bool('has_gd'),
        int('priority'),
        int('expiration'),
        text('correl_id'),
        text('in_reply_to'),
        text('mime_type'),
        text('ext_client_id'),
      ],
      outputRequired: [text('msg_id')],
    };
    async handle(): Promise<void> {
      const i = this.request.input;
      checkTextLengths(i, ['topic_name', 'correl_id', 'in_reply_to', 'mime_type', 'ext_client_id']);
      const caller = optionalCaller(this);
      if (caller) checkAccess(channels, caller, 'pub', [i.topic_name as string]);
      const msgId = await pubsub.publish(i.topic_name as string, {
        data: i.data,
        hasGd: i.has_gd as boolean | undefined,
        priority: i.priority as number | undefined,
        expiration: i.expiration as number | undefined,
        correlId: i.correl_id as string | undefined,
        inReplyTo: i.in_reply_to as string | undefined,
        mimeType: i.mime_type as string | undefined,
        extClientId: (i.ext_client_id as string | undefined) ?? this.wsx.extClientId,
      });
      this.response.payload = { msg_id: msgId };
    }
  }

  const subscribeInput = {
    inputOptional: [
      text('topic_name'),
      list('topic_name_list'),
      bool('unsub_on_wsx_close'),
      int('delivery_batch_size'),
      bool('wrap_one_msg_in_list'),
      text('ack_mode'),
      int('sub_max_depth_gd'),
    ],
  };

  async function subscribeAll(service: Service): Promise<Array<{ sub_key: string; current_depth: number; topic_name: string }>> {
    const i = service.request.input;
    checkTextLengths(i, ['topic_name', 'ack_mode']);
    const names = topicNames(i);
    if (names.length === 0)
      throw new BadRequestError('invalid_input', 'topic_name (or topic_name_list) is required', { field: 'topic_name' });
    const caller = callerOf(service);
    checkAccess(channels, caller, 'sub', names);
    const out = [];
    for (const name of names) {
      const { subKey, currentDepth } = await pubsub.subscribe(name, caller, {
        unsubOnWsxClose: i.unsub_on_wsx_close as boolean | undefined,
        deliveryBatchSize: i.delivery_batch_size as number | undefined,
        wrapOneMsgInList: i.wrap_one_msg_in_list as boolean | undefined,
        ackMode: i.ack_mode as AckMode | undefined,
        subMaxDepthGd: i.sub_max_depth_gd as number | undefined,
      });
      out.push({ sub_key: subKey, current_depth: currentDepth, topic_name: name });
    }
    return out;
  }

  // What subscribing answers, declared so that documents of the API (AsyncAPI) show it.
  const subscribed = [text('sub_key'), int('current_depth')];

  class SubscribeWsx extends Service {
    static override serviceName = 'zato.pubsub.pubapi.subscribe-wsx';
    static override io = { ...subscribeInput, outputRequired: subscribed };
    async handle(): Promise<void> {
      const [first] = await subscribeAll(this);
      this.response.payload = { sub_key: first!.sub_key, current_depth: first!.current_depth };
    }
  }

  class CreateWsxSubscription extends Service {
    static override serviceName = 'zato.pubsub.subscription.create-wsx-subscription';
    // One topic: sub_key and current_depth; topic_name_list: sub_data, one of those per topic.
    static override io = { ...subscribeInput, outputOptional: [...subscribed, list('sub_data')] };
    async handle(): Promise<void> {
      const subs = await subscribeAll(this);
      this.response.payload = this.request.input.topic_name_list
        ? { sub_data: subs }
        : { sub_key: subs[0]!.sub_key, current_depth: subs[0]!.current_depth };
    }
  }

  class Unsubscribe extends Service {
    static override serviceName = 'zato.pubsub.pubapi.unsubscribe';
    static override io = { inputRequired: [text('sub_key')], inputOptional: [text('topic_name')] };
    async handle(): Promise<void> {
      checkTextLengths(this.request.input, ['sub_key', 'topic_name']);
      await pubsub.unsubscribe(this.request.input.sub_key as string, optionalCaller(this));
    }
  }

  class ResumeWsxSubscription extends Service {
    static override serviceName = 'zato.pubsub.resume-wsx-subscription';
    static override io = { inputRequired: [text('sub_key')], outputRequired: subscribed };
    async handle(): Promise<void> {
      checkTextLengths(this.request.input, ['sub_key']);
      const caller = callerOf(this);
      const mayHold = (topic: string) => checkAccess(channels, caller, 'sub', [topic]);
      const { subKey, currentDepth } = await pubsub.resume(this.request.input.sub_key as string, { ...caller, mayHold });
      this.response.payload = { sub_key: subKey, current_depth: currentDepth };
    }
  }

  return [PublishMessage, SubscribeWsx, CreateWsxSubscription, Unsubscribe, ResumeWsxSubscription];
}
