export * from './view.js';
export { standaloneCluster } from './standalone.js';
