export { createLogger, silentLogger, type Logger } from './logger.js';
export { Metrics, type MetricsSummary, type Sample } from './metrics.js';
export { EventLoopWatchdog, type WatchdogOptions, type StallStatistics, type ScopeLabel } from './watchdog.js';
