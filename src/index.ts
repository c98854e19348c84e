export * from './errors.js';
export type * from './core/types.js';
