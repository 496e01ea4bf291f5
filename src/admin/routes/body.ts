import type { FastifyRequest } from 'fastify';

/**
 * A `preValidation` hook for routes whose body is all optional fields: a POST without any body (no content type)
 * means `{}`. A JSON `null`, array or other non-object is still a 400.
 */
export async function emptyBodyAsObject(req: FastifyRequest): Promise<void> {
  if (req.body === undefined) req.body = {};
}
