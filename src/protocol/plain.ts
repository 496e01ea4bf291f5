import { parseJsonBounded } from './json.js';

/**
 * Decoding a message of the plain protocol (no envelope), the same way on the channel side and the outgoing
 * side. Browser-safe: bytes are a `Uint8Array` (a Node `Buffer` is one) and text is decoded with `TextDecoder`.
 */

/** How a plain message is read: as text (binary frames kept as bytes), or as JSON. */
export type PlainDataFormat = 'text' | 'json';

/** A decoded plain message, or why it is not valid JSON (with the text as read, for a caller that takes it as is). */
export type PlainDecoded =
  | { readonly ok: true; readonly value: unknown }
  | {
      readonly ok: false;
      readonly code: 'invalid_utf8' | 'invalid_json' | 'too_deep';
      readonly message: string;
      readonly text: string;
    };

const strict = new TextDecoder('utf-8', { fatal: true });
const lenient = new TextDecoder('utf-8');

/** Decodes UTF-8, or returns undefined when the bytes are not valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return strict.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Reads one plain message. Text format: a text frame as a string, a binary frame as its bytes (the same object).
 * JSON format: either kind of frame is UTF-8 JSON, parsed with its depth capped (services, logs and the reply's
 * JSON.stringify recurse). A text frame's UTF-8 was checked by the WebSocket layer already.
 */
export function decodePlain(bytes: Uint8Array, isBinary: boolean, format: PlainDataFormat): PlainDecoded {
  if (format !== 'json') return { ok: true, value: isBinary ? bytes : lenient.decode(bytes) };
  const text = isBinary ? decodeUtf8(bytes) : lenient.decode(bytes);
  if (text === undefined) return { ok: false, code: 'invalid_utf8', message: 'Invalid UTF-8 bytes', text: lenient.decode(bytes) };
  const json = parseJsonBounded(text);
  return json.ok ? { ok: true, value: json.value } : { ok: false, code: json.code, message: json.message, text };
}
