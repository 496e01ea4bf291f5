// Reads a Server-Sent Events stream from fetch (not EventSource: that cannot show the API's error body, and
// reconnects by itself, which would start a new tap the user did not ask for).

/** One event: its `event:` type and its `data:` parsed as JSON. */
export interface StreamEvent {
  readonly type: string;
  readonly data: unknown;
}

/** Hands each chunk's complete events to `onEvents` until the stream ends (resolves) or fails (rejects). */
export async function readEvents(stream: ReadableStream<Uint8Array>, onEvents: (events: StreamEvent[]) => void): Promise<void> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    const blocks = buffer.split('\n\n');
    buffer = blocks.pop() ?? '';
    const events = blocks.map(parseBlock).filter((e): e is StreamEvent => e !== undefined);
    if (events.length) onEvents(events);
  }
}

// `event: frame\ndata: {...}`; a block of comments only (`: keep-alive`) is no event.
function parseBlock(block: string): StreamEvent | undefined {
  let type = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) type = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
  }
  if (!data.length) return undefined;
  try {
    return { type, data: JSON.parse(data.join('\n')) as unknown };
  } catch {
    return undefined;
  }
}
