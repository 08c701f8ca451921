export const platform: "node" | "browser";
export const isMainThread: boolean;
export const cpus: number;
export function isNode(nodeProcess: any): boolean;
