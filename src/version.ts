/** The tool's version (kept equal to package.json's by a test). */
export const VERSION = '0.1.0';
export const TOOL_NAME = 'gitlab-aws-oidc';
