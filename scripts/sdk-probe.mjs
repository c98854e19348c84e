// The AWS SDK load probe shared by `npm run bench` and test/e2e/cli.test.ts: node arguments that
// install a resolve hook writing SDK_LOADED to stderr the first time anything imports @aws-sdk/*.
// Usage: spawn(process.execPath, [...sdkProbeArgs, bin, ...args]), then look for SDK_LOADED in stderr.

export const SDK_LOADED = 'AWS_SDK_LOADED';

const hooks = `import { writeSync } from 'node:fs';
  let said = false;
  export async function resolve(spec, ctx, next) {
    if (!said && spec.includes('@aws-sdk')) { said = true; writeSync(2, '${SDK_LOADED}\\n'); }
    return next(spec, ctx);
  }`;
const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`;

export const sdkProbeArgs = ['--import', `data:text/javascript,${encodeURIComponent(register)}`];
