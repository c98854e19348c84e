/** Written to stderr by a process started with `sdkProbeArgs` when it loads @aws-sdk/*. */
export declare const SDK_LOADED: string;
/** Written to stderr by a process started with `sdkProbeArgs` when it loads undici (the GitLab client). */
export declare const GITLAB_CLIENT_LOADED: string;
/** Node arguments, before the script, that install the probe. */
export declare const sdkProbeArgs: string[];
