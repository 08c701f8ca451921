export function validateOptions(options: Object | undefined, allowedOptionNames: string[], objectName: string): Object | undefined;
export const workerOptsNames: string[];
export const forkOptsNames: string[];
export const workerThreadOptsNames: string[];
