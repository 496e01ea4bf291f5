export { createLogger, silentLogger, type Logger } from './logger.js';
export { Metrics, type MetricsSummary, type Sample } from './metrics.js';
