import type { FastifyInstance } from 'fastify';
import { BadRequestError } from '../errors/index.js';
import { exceedsJsonDepth, MAX_JSON_DEPTH } from '../protocol/index.js';

/**
 * Replaces fastify's JSON body parser with one that first refuses bodies nested deeper than the frames' limit,
 * {@link MAX_JSON_DEPTH} (400 `invalid_json`): JSON.parse copes with any depth, but what is done with the value
 * later (JSON.stringify to store a publication, to answer an invoke, to log it) recurses and would overflow the
 * stack, a 500. Then it parses as fastify does (`__proto__` and `constructor` keys refused).
 */
export function registerJsonParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (exceedsJsonDepth(text)) {
      done(new BadRequestError('invalid_json', `The request body nests deeper than ${MAX_JSON_DEPTH} levels`), undefined);
      return;
    }
    parse(req, text, done);
  });
}
