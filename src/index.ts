export { REQUIRED_PERMISSIONS } from './aws/permissions.js';
export type * from './core/types.js';
export { renderPermissionsSection, updateReadme } from './docs/permissions.js';
export * from './errors.js';
