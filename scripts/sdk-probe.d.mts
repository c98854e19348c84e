/** Written to stderr by a process started with `sdkProbeArgs` when it loads @aws-sdk/*. */
export declare const SDK_LOADED: string;
/** Node arguments, before the script, that install the probe. */
export declare const sdkProbeArgs: string[];
