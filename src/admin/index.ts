export { createAdminServer } from './admin-server.js';
export type { AdminContext } from './context.js';
export type { ApiErrorBody } from './errors.js';
