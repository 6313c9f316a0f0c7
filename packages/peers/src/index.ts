export * from './errors.js';
export * from './constants.js';
export * from './peer-id.js';
export * from './ip.js';
export * from './multiaddr.js';
export * from './access-list.js';
export * from './connection-state.js';
