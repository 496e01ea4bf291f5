export { createLogger, silentLogger, type Logger } from './logger.js';
export { Metrics, type Sample } from './metrics.js';
