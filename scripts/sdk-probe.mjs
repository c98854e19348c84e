// The AWS SDK / GitLab client load probe shared by `npm run bench` and test/e2e/cli.test.ts: node
// arguments that install a resolve hook writing SDK_LOADED to stderr the first time anything imports
// @aws-sdk/*, and GITLAB_CLIENT_LOADED the first time anything imports undici (only the GitLab client
// does; the bundle keeps it external so the import is seen).
// Usage: spawn(process.execPath, [...sdkProbeArgs, bin, ...args]), then look for the markers in stderr.

export const SDK_LOADED = 'AWS_SDK_LOADED';
export const GITLAB_CLIENT_LOADED = 'GITLAB_CLIENT_LOADED';

const hooks = `import { writeSync } from 'node:fs';
  let said = false;
  let saidGitlab = false;
  export async function resolve(spec, ctx, next) {
    if (!said && spec.includes('@aws-sdk')) { said = true; writeSync(2, '${SDK_LOADED}\\n'); }
    if (!saidGitlab && (spec === 'undici' || spec.startsWith('undici/'))) { saidGitlab = true; writeSync(2, '${GITLAB_CLIENT_LOADED}\\n'); }
    return next(spec, ctx);
  }`;
const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`;

export const sdkProbeArgs = ['--import', `data:text/javascript,${encodeURIComponent(register)}`];
