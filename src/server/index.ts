export { startServer, type RunningServer } from './server.js';
export { loadSettings, type Settings } from './settings.js';
export { VERSION } from './version.js';
