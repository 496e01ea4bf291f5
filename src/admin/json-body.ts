import type { FastifyInstance } from 'fastify';
import { BadRequestError } from '../errors/index.js';

/**
 * How deeply arrays and objects may nest in an admin API body. JSON.parse copes with any depth, but what is
 * done with the value later (JSON.stringify to store a publication, to answer an invoke, to log it) recurses and
 * would fail with a stack overflow, a 500; no configuration object comes anywhere near this depth.
 */
export const MAX_JSON_DEPTH = 100;

/** True when `text` nests arrays/objects deeper than `max` (brackets inside strings do not count). */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash: skip the escaped character, which may be a quote
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/**
 * Replaces fastify's JSON body parser with one that first refuses bodies nested deeper than
 * {@link MAX_JSON_DEPTH} (400 `invalid_json`), then parses as fastify does (`__proto__` and `constructor`
 * keys refused).
 */
export function registerJsonParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
      done(new BadRequestError(`The request body nests deeper than ${MAX_JSON_DEPTH} levels`, 'invalid_json'), undefined);
      return;
    }
    parse(req, text, done);
  });
}
